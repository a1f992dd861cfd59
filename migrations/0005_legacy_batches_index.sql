-- Every reader's snapshot asks whether a batch of the cold layout from before projects
-- may still count; once none may, the answer must not cost a scan of every batch.
CREATE INDEX archive_batches_legacy_idx ON archive_batches (id) WHERE legacy AND NOT cleaned;
