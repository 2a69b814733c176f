"""Notes: the Markdown store, the note document, run snapshots."""
