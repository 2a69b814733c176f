"""Datasets: loading, profiling and the views the data tab plots."""
