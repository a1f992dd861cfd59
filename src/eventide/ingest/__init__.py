"""Event ingestion: per-event validation, idempotent storage and ledger pruning."""
