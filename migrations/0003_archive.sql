-- Archive runs: one row per archiver pass, whatever started it.
CREATE TABLE archive_runs (
    id          bigserial   PRIMARY KEY,
    trigger     text        NOT NULL CHECK (trigger IN ('schedule', 'admin', 'cli')),
    cutoff      timestamptz NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    -- Events whose move was committed by this run (hot rows removed, cold rows visible).
    moved       bigint      NOT NULL DEFAULT 0,
    status      text        NOT NULL DEFAULT 'running'
                CHECK (status IN ('running', 'succeeded', 'failed')),
    error       text
);

-- Archive batches: one chunk of one day copied to the ClickHouse cold store.
-- A cold row is visible only when its batch is 'committed' in the reader's snapshot;
-- the same transaction that commits a batch removes its rows from the hot store.
CREATE TABLE archive_batches (
    id          bigserial   PRIMARY KEY,
    run_id      bigint      NOT NULL REFERENCES archive_runs (id),
    day         date        NOT NULL,
    state       text        NOT NULL CHECK (state IN ('copying', 'committed', 'aborted')),
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at timestamptz,
    -- Rows copied to the cold store under this batch id.
    moved       bigint      NOT NULL DEFAULT 0,
    -- An aborted batch whose cold rows are confirmed deleted: readers may stop excluding it.
    cleaned     boolean     NOT NULL DEFAULT false,
    CHECK (NOT cleaned OR state = 'aborted')
);
-- Readers list the batches they must exclude: keep that lookup small and indexed.
CREATE INDEX archive_batches_unsettled_idx ON archive_batches (id)
    WHERE state <> 'committed' AND NOT cleaned;
CREATE INDEX archive_batches_committed_idx ON archive_batches (id) WHERE state = 'committed';

-- Single row: every event that occurred before archived_through has left the hot store,
-- except late arrivals not archived yet. Only moves forward.
CREATE TABLE archive_watermark (
    singleton        boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    archived_through timestamptz NOT NULL
);
