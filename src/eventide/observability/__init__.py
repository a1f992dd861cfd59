"""Metrics, structured logs and request identity."""
