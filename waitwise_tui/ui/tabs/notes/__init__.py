"""The notes tab."""
