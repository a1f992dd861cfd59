"""Moving events from the PostgreSQL hot store to the ClickHouse cold store."""
