-- Additive only. The range a run was part of (`reingest range FROM TO`, as `FROM..TO`), so
-- `range --resume` finds the dates the range already did by this column, not by a tag inside
-- the free-text reason. Runs from before this column have none: they are never skipped.
ALTER TABLE reingest_runs ADD COLUMN IF NOT EXISTS range_tag text;

-- Our own table, written only by this tool: a plain CREATE INDEX (in the migration's
-- transaction) is fine; only the platform's tables need CONCURRENTLY.
CREATE INDEX IF NOT EXISTS reingest_runs_range_tag_idx
  ON reingest_runs (range_tag, settlement_date)
  WHERE range_tag IS NOT NULL;
