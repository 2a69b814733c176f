"""The alternatives (reading list) tab."""
