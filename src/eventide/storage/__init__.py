"""Adapters for the three engines: PostgreSQL (hot store), ClickHouse (cold store), Redis."""
