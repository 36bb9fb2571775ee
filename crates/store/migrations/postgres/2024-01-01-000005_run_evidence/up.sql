-- Additive only. The evidence of a run: what its figures came from and a fingerprint of what
-- it wrote, so it can be replayed exactly (`run --from-archive RUN --as-recorded`) and
-- documented (`reingest report`).

-- BM unit registries as runs classified with them, by SHA-256 of their canonical JSON: a
-- registry shared by a thousand runs is stored once.
CREATE TABLE IF NOT EXISTS registry_snapshots (
  hash text PRIMARY KEY,
  units text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- One row per run that recorded its evidence (a JSON document the tool reads back).
CREATE TABLE IF NOT EXISTS run_evidence (
  run_id text PRIMARY KEY,
  fingerprint text NOT NULL,
  registry_hash text NOT NULL,
  document text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
