"""The tuner tab."""
