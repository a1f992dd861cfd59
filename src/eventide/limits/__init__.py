"""Limits on what one request may ask: document size and shape, cost, rate, time."""
