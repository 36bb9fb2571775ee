-- The platform's tables (../shared/platform-schema.sql) on SQLite. Every decimal column is
-- TEXT holding the exact decimal text (a NUMERIC column would turn it into a float and lose
-- digits); dates are TEXT 'YYYY-MM-DD'; timestamps TEXT 'YYYY-MM-DD HH:MM:SS.SSS' (UTC).

CREATE TABLE IF NOT EXISTS curtailment_records (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
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
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS daily_summaries (
  summary_date TEXT PRIMARY KEY,
  total_curtailed_energy TEXT,
  total_payment TEXT,
  total_wind_generation TEXT DEFAULT '0',
  wind_onshore_generation TEXT DEFAULT '0',
  wind_offshore_generation TEXT DEFAULT '0',
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  last_updated TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS monthly_summaries (
  year_month TEXT PRIMARY KEY,
  total_curtailed_energy TEXT,
  total_payment TEXT,
  total_wind_generation TEXT DEFAULT '0',
  wind_onshore_generation TEXT DEFAULT '0',
  wind_offshore_generation TEXT DEFAULT '0',
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  last_updated TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS yearly_summaries (
  year TEXT PRIMARY KEY,
  total_curtailed_energy TEXT,
  total_payment TEXT,
  total_wind_generation TEXT DEFAULT '0',
  wind_onshore_generation TEXT DEFAULT '0',
  wind_offshore_generation TEXT DEFAULT '0',
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  last_updated TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS historical_bitcoin_calculations (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  settlement_date TEXT NOT NULL,
  settlement_period INTEGER NOT NULL,
  farm_id TEXT NOT NULL,
  miner_model TEXT NOT NULL,
  bitcoin_mined TEXT NOT NULL,
  difficulty TEXT NOT NULL,
  calculated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS bitcoin_daily_summaries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  summary_date TEXT NOT NULL,
  miner_model TEXT NOT NULL,
  bitcoin_mined TEXT NOT NULL,
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS bitcoin_monthly_summaries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  year_month TEXT NOT NULL,
  miner_model TEXT NOT NULL,
  bitcoin_mined TEXT NOT NULL,
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);

CREATE TABLE IF NOT EXISTS bitcoin_yearly_summaries (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  year TEXT NOT NULL,
  miner_model TEXT NOT NULL,
  bitcoin_mined TEXT NOT NULL,
  created_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
  updated_at TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now'))
);
