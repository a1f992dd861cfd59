"""The lifecycle of stored events beyond ingestion and archiving: end-user erasure."""
