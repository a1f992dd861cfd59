-- Cold buckets: the cold events of each archive batch counted per 15-minute UTC bucket and
-- user (project_user_buckets), and per bucket, event type and user (project_type_buckets).
-- The archiver writes a batch's buckets after its rows and before it commits the batch,
-- and deletes them with its rows, so they carry batch_id and count exactly when the
-- batch's rows do: readers filter them with the same batch visibility.
--
-- A bucket lies within one local day of any zone in use (offsets are multiples of 15
-- minutes), so distinct users per local day read buckets instead of events.
-- SummingMergeTree adds up the rows of one key as parts merge (the same user and bucket
-- from two inserts of one batch); readers sum `events` anyway.
-- ORDER BY (project, bucket, ...): every read is of one project and a range of instants.
CREATE TABLE IF NOT EXISTS project_user_buckets (
    project_id UInt64,
    bucket     DateTime64(6, 'UTC'),
    user_id    String,
    batch_id   UInt64,
    events     UInt64
) ENGINE = SummingMergeTree(events)
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, bucket, user_id, batch_id);

CREATE TABLE IF NOT EXISTS project_type_buckets (
    project_id UInt64,
    bucket     DateTime64(6, 'UTC'),
    event_type LowCardinality(String),
    user_id    String,
    batch_id   UInt64,
    events     UInt64
) ENGINE = SummingMergeTree(events)
PARTITION BY toYYYYMM(bucket)
ORDER BY (project_id, bucket, event_type, user_id, batch_id);
