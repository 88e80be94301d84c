"""Evaluation metrics: density, anomaly, mode coverage and sample quality."""
