"""One module per panel or tab."""
