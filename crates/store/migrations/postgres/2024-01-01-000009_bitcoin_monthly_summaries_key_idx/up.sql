-- An index on a platform table, built without blocking the platform's writes. CONCURRENTLY
-- cannot run in a transaction (metadata.toml) nor beside another statement, hence one
-- statement per migration.
CREATE INDEX CONCURRENTLY IF NOT EXISTS bitcoin_monthly_summaries_key_idx
  ON bitcoin_monthly_summaries (year_month, miner_model);
