-- An index on a platform table, built without blocking the platform's writes. CONCURRENTLY
-- cannot run in a transaction (metadata.toml) nor beside another statement, hence one
-- statement per migration.
CREATE INDEX CONCURRENTLY IF NOT EXISTS curtailment_records_date_period_idx
  ON curtailment_records (settlement_date, settlement_period);
