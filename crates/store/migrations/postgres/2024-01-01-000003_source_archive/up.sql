-- Raw API responses kept by content hash (issue 8); additive only.
CREATE TABLE IF NOT EXISTS source_archive (
  hash text PRIMARY KEY,          -- SHA-256 (hex) of the uncompressed body
  format text NOT NULL,           -- 'xml' or 'json'
  body bytea NOT NULL,            -- gzip of the body
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS fetch_log_run_idx ON fetch_log (run_id);
