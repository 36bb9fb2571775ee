-- Additive only. What a run's bitcoin figures rest on, held as data (README: Trust rules).

-- The block height of each difficulty adjustment, when the source gives it (the feed does).
ALTER TABLE difficulty ADD COLUMN block_height INTEGER;

-- The UTC day of every halving block; the four known when this tool was written are seeded,
-- later ones are added by hand (`reingest difficulty halving HEIGHT DAY`).
CREATE TABLE IF NOT EXISTS bitcoin_halvings (
  block_height INTEGER PRIMARY KEY,
  halving_date TEXT NOT NULL,
  source TEXT NOT NULL
);
INSERT OR IGNORE INTO bitcoin_halvings (block_height, halving_date, source) VALUES
  (210000, '2012-11-28', 'shipped'),
  (420000, '2016-07-09', 'shipped'),
  (630000, '2020-05-11', 'shipped'),
  (840000, '2024-04-20', 'shipped');

-- The inputs a run's bitcoin figures used (decimals as exact text, like every other), and
-- when `archive prune` deleted its backup.
ALTER TABLE reingest_runs ADD COLUMN difficulty TEXT;
ALTER TABLE reingest_runs ADD COLUMN difficulty_date TEXT;
ALTER TABLE reingest_runs ADD COLUMN difficulty_source TEXT;
ALTER TABLE reingest_runs ADD COLUMN block_subsidy TEXT;
ALTER TABLE reingest_runs ADD COLUMN backup_pruned_at TEXT;

-- Where the BM unit registry came from and when it was last replaced: a registry filled from
-- the API may be refreshed by a run that meets unknown unit ids (at most once a day); one
-- imported from a file is left as the operator made it.
CREATE TABLE IF NOT EXISTS bm_unit_registry (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  origin TEXT NOT NULL,
  refreshed_at TEXT NOT NULL
);
