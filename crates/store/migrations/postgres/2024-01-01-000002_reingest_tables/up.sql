-- Additive only: new nullable columns, indexes and tables of our own. Nothing of the
-- platform's schema (migration 1) is renamed, retyped or dropped.

ALTER TABLE curtailment_records
  ADD COLUMN IF NOT EXISTS acceptance_id bigint,
  ADD COLUMN IF NOT EXISTS bid_offer_pair_id bigint,
  ADD COLUMN IF NOT EXISTS side text,
  ADD COLUMN IF NOT EXISTS sequence_number bigint;

-- Indexes on the platform's tables are built CONCURRENTLY, one migration each (migrations
-- 6-10), so they never block the platform's writes. (Databases migrated before that have
-- them already; those migrations are then no-ops.)

CREATE TABLE IF NOT EXISTS bm_units (
  elexon_bm_unit text PRIMARY KEY,
  national_grid_bm_unit text,
  bm_unit_name text,
  lead_party_name text,
  fuel_type text,
  generation_capacity numeric
);

CREATE TABLE IF NOT EXISTS difficulty (
  difficulty_date date PRIMARY KEY,
  difficulty numeric NOT NULL
);

CREATE TABLE IF NOT EXISTS fetch_log (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  settlement_date date NOT NULL,
  settlement_period integer NOT NULL,
  side text NOT NULL,
  status text NOT NULL,
  items_received bigint NOT NULL,
  records_kept bigint NOT NULL,
  fetched_at timestamptz NOT NULL,
  source_hash text
);
CREATE INDEX IF NOT EXISTS fetch_log_date_idx ON fetch_log (settlement_date, settlement_period, side);

CREATE TABLE IF NOT EXISTS reingest_runs (
  seq bigserial PRIMARY KEY,
  run_id text NOT NULL UNIQUE,
  kind text NOT NULL,
  settlement_date date NOT NULL,
  periods text NOT NULL,
  reason text,
  user_name text NOT NULL,
  host text NOT NULL,
  status text NOT NULL,
  records_before bigint NOT NULL DEFAULT 0,
  records_after bigint NOT NULL DEFAULT 0,
  energy_before numeric NOT NULL DEFAULT 0,
  energy_after numeric NOT NULL DEFAULT 0,
  payment_before numeric NOT NULL DEFAULT 0,
  payment_after numeric NOT NULL DEFAULT 0,
  per_period_counts text NOT NULL DEFAULT '{}',
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms bigint NOT NULL DEFAULT 0,
  tool_version text NOT NULL,
  detail text
);
CREATE INDEX IF NOT EXISTS reingest_runs_date_idx ON reingest_runs (settlement_date, status);

-- Backups of replaced rows, keyed by the run that replaced them.
CREATE TABLE IF NOT EXISTS backup_curtailment_records (
  backup_id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  settlement_date date NOT NULL,
  settlement_period integer NOT NULL,
  farm_id text NOT NULL,
  lead_party_name text,
  volume numeric NOT NULL,
  payment numeric NOT NULL,
  original_price numeric NOT NULL,
  final_price numeric NOT NULL,
  so_flag boolean,
  cadl_flag boolean,
  created_at timestamp,
  acceptance_id bigint,
  bid_offer_pair_id bigint,
  side text,
  sequence_number bigint
);
CREATE INDEX IF NOT EXISTS backup_curtailment_records_run_idx ON backup_curtailment_records (run_id);

CREATE TABLE IF NOT EXISTS backup_bitcoin_calculations (
  backup_id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  settlement_date date NOT NULL,
  settlement_period integer NOT NULL,
  farm_id text NOT NULL,
  miner_model text NOT NULL,
  bitcoin_mined numeric NOT NULL,
  difficulty numeric NOT NULL,
  calculated_at timestamp
);
CREATE INDEX IF NOT EXISTS backup_bitcoin_calculations_run_idx ON backup_bitcoin_calculations (run_id);

-- Owned columns of daily/monthly/yearly summary rows; existed = false when the run created
-- the row.
CREATE TABLE IF NOT EXISTS backup_summaries (
  backup_id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  kind text NOT NULL,          -- 'day', 'month', 'year'
  summary_key text NOT NULL,   -- 'YYYY-MM-DD', 'YYYY-MM', 'YYYY'
  existed boolean NOT NULL,
  total_curtailed_energy numeric,
  total_payment numeric,
  last_updated timestamp
);
CREATE INDEX IF NOT EXISTS backup_summaries_run_idx ON backup_summaries (run_id);

-- Bitcoin summary rows (every row, legacy duplicates included, with the row's id).
CREATE TABLE IF NOT EXISTS backup_bitcoin_summaries (
  backup_id bigserial PRIMARY KEY,
  run_id text NOT NULL,
  kind text NOT NULL,          -- 'day', 'month', 'year'
  summary_key text NOT NULL,
  row_id bigint NOT NULL,
  miner_model text NOT NULL,
  bitcoin_mined numeric NOT NULL,
  updated_at timestamp
);
CREATE INDEX IF NOT EXISTS backup_bitcoin_summaries_run_idx ON backup_bitcoin_summaries (run_id);
