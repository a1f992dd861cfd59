"""Budgets shared by every replica: rate limits kept in Redis."""
