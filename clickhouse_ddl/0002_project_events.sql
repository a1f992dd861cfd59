-- Cold store by project: every query reads one project's events, so the project leads
-- the key and a small project's question reads only its own granules, however large the
-- others are. Partitions stay monthly and shared by every project: partitions per
-- project would multiply parts by the number of projects, most of them tiny.
-- ORDER BY (project, day, event_type, user_id, occurred_at, event_id): within a project,
-- the same reasons as the layout before it (0001).
CREATE TABLE IF NOT EXISTS project_events (
    project_id  UInt64,
    event_id    String,
    user_id     String,
    event_type  LowCardinality(String),
    occurred_at DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    properties  String CODEC(ZSTD(3)),
    batch_id    UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (project_id, toDate(occurred_at), event_type, user_id, occurred_at, event_id);

-- The layout from before projects holds project 1's events only. Readers read it beside
-- the new one (both have the same columns now) until the archiver has rewritten each of
-- its batches into project_events, then the archiver drops it.
ALTER TABLE events ADD COLUMN IF NOT EXISTS project_id UInt64 DEFAULT 1;
