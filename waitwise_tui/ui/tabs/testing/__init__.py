"""The tests tab."""
