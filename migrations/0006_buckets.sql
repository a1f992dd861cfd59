-- Hot buckets: the hot events of each project counted per 15-minute UTC bucket and user.
-- Today's UTC offsets are all multiples of 15 minutes and change on 15-minute boundaries,
-- so a bucket lies within one local day, hour or week of any zone: distinct users per
-- local day read buckets, an order of magnitude fewer rows than events (a session's
-- events fall in one or two). Where a query's zone and range have another offset (local
-- mean time of old dates), readers count events instead.
-- Triggers on events keep them, in the statement that inserts or deletes events, so in
-- every snapshot they are exactly the counts of that snapshot's hot events, whatever
-- writes events. Events are never updated; a day's partitions are dropped together. Per event type they would cost ingestion a fifth
-- of its throughput and shrink the rows only a little (a session holds several event
-- types), so the hot store has none.
-- Partitioned by UTC day like events; the primary key leads with the project, as every
-- read is of one.
CREATE TABLE user_buckets (
    project_id bigint      NOT NULL,
    bucket     timestamptz NOT NULL,
    user_id    text        NOT NULL,
    events     bigint      NOT NULL CHECK (events > 0),
    PRIMARY KEY (project_id, bucket, user_id)
) PARTITION BY RANGE (bucket);

-- The bucket of an instant: the start of its 15-minute UTC interval, floored for instants
-- before 1970 too. (date_bin puts an instant on a bin's first microsecond before its
-- origin into the bin before.) Exact: the epoch is numeric, and whole seconds of the
-- storable years are exact as double precision.
CREATE FUNCTION event_bucket(instant timestamptz) RETURNS timestamptz
LANGUAGE sql IMMUTABLE PARALLEL SAFE
RETURN to_timestamp((floor(extract(epoch FROM instant) / 900) * 900)::float8);

-- Rows are upserted in key order, so two statements counting the same users take their
-- row locks in the same order and wait for each other instead of deadlocking.
CREATE FUNCTION count_event_buckets() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO user_buckets AS b (project_id, bucket, user_id, events)
        SELECT project_id, event_bucket(occurred_at), user_id, count(*) FROM stored_rows
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        ON CONFLICT (project_id, bucket, user_id) DO UPDATE SET events = b.events + excluded.events;
    ELSE
        WITH counted AS (
            SELECT project_id, event_bucket(occurred_at) AS bucket, user_id, count(*) AS n
            FROM removed_rows GROUP BY 1, 2, 3
        ), emptied AS (
            DELETE FROM user_buckets b USING counted c
            WHERE (b.project_id, b.bucket, b.user_id) = (c.project_id, c.bucket, c.user_id)
              AND b.events = c.n
        )
        UPDATE user_buckets b SET events = b.events - c.n FROM counted c
        WHERE (b.project_id, b.bucket, b.user_id) = (c.project_id, c.bucket, c.user_id)
          AND b.events > c.n;
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER events_counted AFTER INSERT ON events
    REFERENCING NEW TABLE AS stored_rows FOR EACH STATEMENT EXECUTE FUNCTION count_event_buckets();
CREATE TRIGGER events_uncounted AFTER DELETE ON events
    REFERENCING OLD TABLE AS removed_rows FOR EACH STATEMENT EXECUTE FUNCTION count_event_buckets();

-- Each UTC day of the given instants gets its partitions of events and user_buckets
-- (each created if missing). Concurrent callers are serialised by a
-- transaction-level advisory lock.
CREATE OR REPLACE FUNCTION ensure_event_partitions(instants timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    parent text;
    name text;
BEGIN
    FOR day IN
        SELECT DISTINCT (i AT TIME ZONE 'UTC')::date FROM unnest(instants) AS i
    LOOP
        FOREACH parent IN ARRAY ARRAY['events', 'user_buckets'] LOOP
            name := parent || '_' || to_char(day, 'YYYYMMDD');
            IF to_regclass(name) IS NULL THEN
                PERFORM pg_advisory_xact_lock(hashtext('eventide.partitions'));
                IF to_regclass(name) IS NULL THEN
                    EXECUTE format(
                        'CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (%L) TO (%L)',
                        name,
                        parent,
                        (day::timestamp AT TIME ZONE 'UTC'),
                        ((day + 1)::timestamp AT TIME ZONE 'UTC'));
                END IF;
            END IF;
        END LOOP;
    END LOOP;
END
$$;

-- The buckets of the events already stored.
SELECT ensure_event_partitions(array_agg(DISTINCT date_trunc('day', occurred_at, 'UTC')))
FROM events;
INSERT INTO user_buckets (project_id, bucket, user_id, events)
SELECT project_id, event_bucket(occurred_at), user_id, count(*)
FROM events GROUP BY 1, 2, 3;

-- Cold buckets (ClickHouse, by archive batch) exist for a batch's rows once `bucketed`.
-- The archiver buckets every batch before committing it; batches from before buckets
-- are bucketed by later passes, and until then readers count the cold rows themselves.
ALTER TABLE archive_batches ADD COLUMN bucketed boolean NOT NULL DEFAULT false;
ALTER TABLE archive_batches ALTER COLUMN bucketed SET DEFAULT true;
CREATE INDEX archive_batches_unbucketed_idx ON archive_batches (id)
    WHERE state = 'committed' AND NOT bucketed;
