-- Cold store: events moved out of the PostgreSQL hot store by the archiver.
--
-- PARTITION BY month: few, large partitions (a day per partition would mean thousands of
-- them after a few years); month ranges prune every date-bounded query.
-- ORDER BY (day, event_type, user_id, occurred_at, event_id):
--   * every analytics query is bounded by a date range, so the UTC day leads the key
--     (toDate is monotonic: instant bounds in any timezone still prune granules);
--   * dau and topEvents filter or group by event_type, retention and the events listing
--     filter by user_id: both come next, so those filters skip granules within a day;
--   * (occurred_at, event_id) last makes rows unique in the key and keeps a day's rows of
--     one user in time order.
-- batch_id is the archive batch (PostgreSQL archive_batches.id) that copied the row. A row
-- counts only if its batch is committed in the reader's PostgreSQL snapshot, so rows of an
-- interrupted copy are never seen, even before recovery deletes them.
-- properties holds the JSON text of the event's properties, '' when it has none.
CREATE TABLE IF NOT EXISTS events (
    event_id    String,
    user_id     String,
    event_type  LowCardinality(String),
    occurred_at DateTime64(6, 'UTC'),
    received_at DateTime64(6, 'UTC'),
    properties  String CODEC(ZSTD(3)),
    batch_id    UInt64
) ENGINE = MergeTree
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (toDate(occurred_at), event_type, user_id, occurred_at, event_id);
