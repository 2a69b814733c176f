"""Training runs: readers for the logs runs already write, tailing, series, health."""
