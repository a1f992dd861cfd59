"""Live events: each accepted event published after its ingest call commits, and sent to
the subscribers of its project on every replica (Redis pub/sub, a channel per project)."""
