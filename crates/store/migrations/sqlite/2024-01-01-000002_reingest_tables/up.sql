-- SQLite mirror of the PostgreSQL migration: decimals and timestamps are TEXT.
-- Additive only: new nullable columns, indexes and tables of our own. Nothing of the
-- platform's schema (migration 1) is renamed, retyped or dropped.

ALTER TABLE curtailment_records ADD COLUMN acceptance_id INTEGER;
ALTER TABLE curtailment_records ADD COLUMN bid_offer_pair_id INTEGER;
ALTER TABLE curtailment_records ADD COLUMN side TEXT;
ALTER TABLE curtailment_records ADD COLUMN sequence_number INTEGER;

CREATE INDEX IF NOT EXISTS curtailment_records_date_period_idx
  ON curtailment_records (settlement_date, settlement_period);
CREATE INDEX IF NOT EXISTS historical_bitcoin_calculations_date_idx
  ON historical_bitcoin_calculations (settlement_date);
CREATE INDEX IF NOT EXISTS bitcoin_daily_summaries_key_idx
  ON bitcoin_daily_summaries (summary_date, miner_model);
CREATE INDEX IF NOT EXISTS bitcoin_monthly_summaries_key_idx
  ON bitcoin_monthly_summaries (year_month, miner_model);
CREATE INDEX IF NOT EXISTS bitcoin_yearly_summaries_key_idx
  ON bitcoin_yearly_summaries (year, miner_model);

CREATE TABLE IF NOT EXISTS bm_units (
  elexon_bm_unit TEXT PRIMARY KEY,
  national_grid_bm_unit TEXT,
  bm_unit_name TEXT,
  lead_party_name TEXT,
  fuel_type TEXT,
  generation_capacity TEXT
);

CREATE TABLE IF NOT EXISTS difficulty (
  difficulty_date TEXT PRIMARY KEY,
  difficulty TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS fetch_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  settlement_date TEXT NOT NULL,
  settlement_period INTEGER NOT NULL,
  side TEXT NOT NULL,
  status TEXT NOT NULL,
  items_received INTEGER NOT NULL,
  records_kept INTEGER NOT NULL,
  fetched_at TEXT NOT NULL,
  source_hash TEXT
);
CREATE INDEX IF NOT EXISTS fetch_log_date_idx ON fetch_log (settlement_date, settlement_period, side);

CREATE TABLE IF NOT EXISTS reingest_runs (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  settlement_date TEXT NOT NULL,
  periods TEXT NOT NULL,
  reason TEXT,
  user_name TEXT NOT NULL,
  host TEXT NOT NULL,
  status TEXT NOT NULL,
  records_before INTEGER NOT NULL DEFAULT '0',
  records_after INTEGER NOT NULL DEFAULT '0',
  energy_before TEXT NOT NULL DEFAULT '0',
  energy_after TEXT NOT NULL DEFAULT '0',
  payment_before TEXT NOT NULL DEFAULT '0',
  payment_after TEXT NOT NULL DEFAULT '0',
  per_period_counts TEXT NOT NULL DEFAULT '{}',
  started_at TEXT NOT NULL,
  finished_at TEXT,
  duration_ms INTEGER NOT NULL DEFAULT '0',
  tool_version TEXT NOT NULL,
  detail TEXT
);
CREATE INDEX IF NOT EXISTS reingest_runs_date_idx ON reingest_runs (settlement_date, status);

-- Backups of replaced rows, keyed by the run that replaced them.
CREATE TABLE IF NOT EXISTS backup_curtailment_records (
  backup_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  settlement_date TEXT NOT NULL,
  settlement_period INTEGER NOT NULL,
  farm_id TEXT NOT NULL,
  lead_party_name TEXT,
  volume TEXT NOT NULL,
  payment TEXT NOT NULL,
  original_price TEXT NOT NULL,
  final_price TEXT NOT NULL,
  so_flag INTEGER,
  cadl_flag INTEGER,
  created_at TEXT,
  acceptance_id INTEGER,
  bid_offer_pair_id INTEGER,
  side TEXT,
  sequence_number INTEGER
);
CREATE INDEX IF NOT EXISTS backup_curtailment_records_run_idx ON backup_curtailment_records (run_id);

CREATE TABLE IF NOT EXISTS backup_bitcoin_calculations (
  backup_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  settlement_date TEXT NOT NULL,
  settlement_period INTEGER NOT NULL,
  farm_id TEXT NOT NULL,
  miner_model TEXT NOT NULL,
  bitcoin_mined TEXT NOT NULL,
  difficulty TEXT NOT NULL,
  calculated_at TEXT
);
CREATE INDEX IF NOT EXISTS backup_bitcoin_calculations_run_idx ON backup_bitcoin_calculations (run_id);

-- Owned columns of daily/monthly/yearly summary rows; existed = false when the run created
-- the row.
CREATE TABLE IF NOT EXISTS backup_summaries (
  backup_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,          -- 'day', 'month', 'year'
  summary_key TEXT NOT NULL,   -- 'YYYY-MM-DD', 'YYYY-MM', 'YYYY'
  existed INTEGER NOT NULL,
  total_curtailed_energy TEXT,
  total_payment TEXT,
  last_updated TEXT
);
CREATE INDEX IF NOT EXISTS backup_summaries_run_idx ON backup_summaries (run_id);

-- Bitcoin summary rows (every row, legacy duplicates included, with the row's id).
CREATE TABLE IF NOT EXISTS backup_bitcoin_summaries (
  backup_id INTEGER PRIMARY KEY AUTOINCREMENT,
  run_id TEXT NOT NULL,
  kind TEXT NOT NULL,          -- 'day', 'month', 'year'
  summary_key TEXT NOT NULL,
  row_id INTEGER NOT NULL,
  miner_model TEXT NOT NULL,
  bitcoin_mined TEXT NOT NULL,
  updated_at TEXT
);
CREATE INDEX IF NOT EXISTS backup_bitcoin_summaries_run_idx ON backup_bitcoin_summaries (run_id);
