-- Raw API responses kept by content hash (used for sqlite::memory:; a file database keeps
-- them in a folder beside it).
CREATE TABLE IF NOT EXISTS source_archive (
  hash TEXT PRIMARY KEY,
  format TEXT NOT NULL,
  body TEXT NOT NULL,             -- hex of the gzip of the body
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);
CREATE INDEX IF NOT EXISTS fetch_log_run_idx ON fetch_log (run_id);
