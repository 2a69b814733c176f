"""The reading list: entries, store, query, BibTeX and arXiv."""
