-- Hot events of closed UTC days already copied to the cold store. Questions count an
-- event in exactly one tier: once its day has closed, the archiver copies it to the
-- cold store and, in the transaction that commits the copy, moves the row here from
-- `events` (a whole day partition is detached and attached here; otherwise the rows go
-- by id), so readers never read this table and the hot side of a question holds only
-- today's events and late arrivals. The rows stay in PostgreSQL until the hot window
-- has passed; then the archiver drops their day.
-- Columns, NOT NULL constraints and indexes are those of `events`, so that a day
-- partition of `events` attaches here as it is, reusing its indexes.
CREATE TABLE copied_events (LIKE events INCLUDING INDEXES) PARTITION BY RANGE (occurred_at);

-- The partition of copied_events holding the UTC day of `day`, created if missing.
-- Only the archiver adds rows here, under its lock, so no two callers race.
CREATE FUNCTION ensure_copied_partition(day date) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
    name text := 'copied_events_' || to_char(day, 'YYYYMMDD');
BEGIN
    IF to_regclass(name) IS NULL THEN
        EXECUTE format(
            'CREATE TABLE %I PARTITION OF copied_events FOR VALUES FROM (%L) TO (%L)',
            name,
            (day::timestamp AT TIME ZONE 'UTC'),
            ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    END IF;
    RETURN name;
END
$$;

-- Make the UTC day `day`'s partition of events that of copied_events, in the caller's
-- transaction; false (nothing changed) when copied_events holds rows of that day already.
-- The caller holds off writers of events and has checked what the partition holds.
CREATE FUNCTION attach_copied_day(day date) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    hot text := 'events_' || to_char(day, 'YYYYMMDD');
    copied text := 'copied_events_' || to_char(day, 'YYYYMMDD');
    nonempty boolean;
BEGIN
    IF to_regclass(copied) IS NOT NULL THEN
        EXECUTE format('SELECT EXISTS (SELECT FROM %I)', copied) INTO nonempty;
        IF nonempty THEN
            RETURN false;
        END IF;
        EXECUTE format('DROP TABLE %I', copied);
    END IF;
    EXECUTE format('ALTER TABLE events DETACH PARTITION %I', hot);
    EXECUTE format('ALTER TABLE %I RENAME TO %I', hot, copied);
    EXECUTE format(
        'ALTER TABLE copied_events ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
        copied,
        (day::timestamp AT TIME ZONE 'UTC'),
        ((day + 1)::timestamp AT TIME ZONE 'UTC'));
    RETURN true;
END
$$;
