-- An index on a platform table, built without blocking the platform's writes. CONCURRENTLY
-- cannot run in a transaction (metadata.toml) nor beside another statement, hence one
-- statement per migration.
CREATE INDEX CONCURRENTLY IF NOT EXISTS bitcoin_yearly_summaries_key_idx
  ON bitcoin_yearly_summaries (year, miner_model);
