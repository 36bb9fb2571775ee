-- An index on a platform table, built without blocking the platform's writes. CONCURRENTLY
-- cannot run in a transaction (metadata.toml) nor beside another statement, hence one
-- statement per migration.
CREATE INDEX CONCURRENTLY IF NOT EXISTS historical_bitcoin_calculations_date_idx
  ON historical_bitcoin_calculations (settlement_date);
