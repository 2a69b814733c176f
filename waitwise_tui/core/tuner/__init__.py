"""Hyperparameter tuning: search space, the ask/tell service and its runner."""
