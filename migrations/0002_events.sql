-- Hot store: events of the last days, partitioned by calendar day (UTC) of occurred_at
-- so that the archiver can drop a whole day once it has moved it.
CREATE TABLE events (
    event_id    text        NOT NULL,
    user_id     text        NOT NULL,
    event_type  text        NOT NULL,
    occurred_at timestamptz NOT NULL,
    received_at timestamptz NOT NULL,
    properties  jsonb
) PARTITION BY RANGE (occurred_at);

-- The events listing pages by (occurred_at, event_id) in both directions.
CREATE INDEX events_occurred_idx ON events (occurred_at, event_id);
-- Per-user scans (retention, first-seen, the userId filter).
CREATE INDEX events_user_idx ON events (user_id, occurred_at);
CREATE INDEX events_type_idx ON events (event_type, occurred_at);

-- Idempotency ledger: every accepted event_id for the dedup window (by receipt time),
-- whether the event itself is still hot or already archived. Its primary key makes
-- concurrent inserts of one event_id wait for each other, so the first commit wins.
CREATE TABLE event_ids (
    event_id    text        PRIMARY KEY,
    received_at timestamptz NOT NULL
);
CREATE INDEX event_ids_received_idx ON event_ids (received_at);

-- Create the daily partitions (if missing) that hold the given instants.
-- Concurrent callers are serialised by a transaction-level advisory lock.
CREATE FUNCTION ensure_event_partitions(instants timestamptz[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    day date;
    name text;
BEGIN
    FOR day IN
        SELECT DISTINCT (i AT TIME ZONE 'UTC')::date FROM unnest(instants) AS i
    LOOP
        name := 'events_' || to_char(day, 'YYYYMMDD');
        IF to_regclass(name) IS NULL THEN
            PERFORM pg_advisory_xact_lock(hashtext('eventide.partitions'));
            IF to_regclass(name) IS NULL THEN
                EXECUTE format(
                    'CREATE TABLE %I PARTITION OF events FOR VALUES FROM (%L) TO (%L)',
                    name,
                    (day::timestamp AT TIME ZONE 'UTC'),
                    ((day + 1)::timestamp AT TIME ZONE 'UTC'));
            END IF;
        END IF;
    END LOOP;
END
$$;
