//! Row structs of the typed schema: what the store reads ([`diesel::Queryable`] +
//! [`diesel::Selectable`]) and writes ([`diesel::Insertable`]), one per table and direction.
//! Decimals are read as their exact text ([`StoredDecimal`]) and parsed with the table and
//! column in hand; `None` is written as NULL, never as the column's default.

use chrono::NaiveDate;
use diesel::{AsChangeset, Insertable, Queryable, Selectable};

use crate::schema::{
    bitcoin_halvings, bm_units, curtailment_records, difficulty, fetch_log,
    historical_bitcoin_calculations, reingest_runs,
};
use crate::sql_types::{ExactDecimal, InstantValue, StoredDecimal, StoredInstant};

/// A BM unit as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = bm_units)]
pub(crate) struct UnitRow {
    pub(crate) elexon_bm_unit: String,
    pub(crate) national_grid_bm_unit: Option<String>,
    pub(crate) bm_unit_name: Option<String>,
    pub(crate) lead_party_name: Option<String>,
    pub(crate) fuel_type: Option<String>,
    pub(crate) generation_capacity: Option<StoredDecimal>,
}

/// A BM unit as written.
#[derive(Insertable)]
#[diesel(table_name = bm_units, treat_none_as_default_value = false)]
pub(crate) struct NewUnit<'a> {
    pub(crate) elexon_bm_unit: &'a str,
    pub(crate) national_grid_bm_unit: Option<&'a str>,
    pub(crate) bm_unit_name: Option<&'a str>,
    pub(crate) lead_party_name: Option<&'a str>,
    pub(crate) fuel_type: Option<&'a str>,
    pub(crate) generation_capacity: Option<ExactDecimal>,
}

/// A difficulty entry as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = difficulty)]
pub(crate) struct DifficultyRow {
    pub(crate) difficulty_date: NaiveDate,
    pub(crate) value: StoredDecimal,
    pub(crate) block_height: Option<i64>,
}

/// A difficulty entry as written.
#[derive(Insertable)]
#[diesel(table_name = difficulty, treat_none_as_default_value = false)]
pub(crate) struct NewDifficulty {
    pub(crate) difficulty_date: NaiveDate,
    pub(crate) value: ExactDecimal,
    pub(crate) block_height: Option<i64>,
}

/// A halving as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = bitcoin_halvings)]
pub(crate) struct HalvingRow {
    pub(crate) block_height: i64,
    pub(crate) halving_date: NaiveDate,
}

/// A curtailment record as read (from the records table or its backup: the same columns in
/// the same order), its decimals as `D` (the text path, or a range read's direct decoding).
#[derive(Queryable, Selectable)]
#[diesel(table_name = curtailment_records)]
pub(crate) struct RecordRow<D = StoredDecimal> {
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) farm_id: String,
    pub(crate) lead_party_name: Option<String>,
    pub(crate) volume: D,
    pub(crate) payment: D,
    pub(crate) original_price: D,
    pub(crate) final_price: D,
    pub(crate) so_flag: Option<bool>,
    pub(crate) cadl_flag: Option<bool>,
    pub(crate) acceptance_id: Option<i64>,
    pub(crate) bid_offer_pair_id: Option<i64>,
    pub(crate) side: Option<String>,
    pub(crate) sequence_number: Option<i64>,
}

/// A bitcoin row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = historical_bitcoin_calculations)]
pub(crate) struct BitcoinRowRead {
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) farm_id: String,
    pub(crate) miner_model: String,
    pub(crate) bitcoin_mined: StoredDecimal,
    pub(crate) difficulty: StoredDecimal,
}

/// A curtailment record as written (`created_at` keeps its default).
#[derive(Insertable)]
#[diesel(table_name = curtailment_records, treat_none_as_default_value = false)]
pub(crate) struct NewRecord<'a> {
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) farm_id: &'a str,
    pub(crate) lead_party_name: Option<&'a str>,
    pub(crate) volume: ExactDecimal,
    pub(crate) payment: ExactDecimal,
    pub(crate) original_price: ExactDecimal,
    pub(crate) final_price: ExactDecimal,
    pub(crate) so_flag: Option<bool>,
    pub(crate) cadl_flag: Option<bool>,
    pub(crate) acceptance_id: Option<i64>,
    pub(crate) bid_offer_pair_id: Option<i64>,
    pub(crate) side: Option<&'a str>,
    pub(crate) sequence_number: Option<i64>,
}

impl NewRecord<'_> {
    /// Columns one row binds (one per field above): sizes SQLite's multi-row inserts
    /// (PostgreSQL takes these rows by `COPY`).
    #[cfg(feature = "sqlite")]
    pub(crate) const COLUMNS: usize = 14;
}

/// A bitcoin row as written (`calculated_at` keeps its default).
#[derive(Insertable)]
#[diesel(table_name = historical_bitcoin_calculations, treat_none_as_default_value = false)]
pub(crate) struct NewBitcoinRow<'a> {
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) farm_id: &'a str,
    pub(crate) miner_model: &'a str,
    pub(crate) bitcoin_mined: ExactDecimal,
    pub(crate) difficulty: ExactDecimal,
}

impl NewBitcoinRow<'_> {
    /// Columns one row binds (one per field above): sizes SQLite's multi-row inserts
    /// (PostgreSQL takes these rows by `COPY`).
    #[cfg(feature = "sqlite")]
    pub(crate) const COLUMNS: usize = 6;
}

/// A fetch-log row as written.
#[derive(Insertable)]
#[diesel(table_name = fetch_log, treat_none_as_default_value = false)]
pub(crate) struct NewFetchLog<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) side: &'a str,
    pub(crate) status: &'a str,
    pub(crate) items_received: i64,
    pub(crate) records_kept: i64,
    pub(crate) fetched_at: InstantValue,
    pub(crate) source_hash: Option<&'a str>,
}

impl NewFetchLog<'_> {
    /// Columns one row binds (one per field above): sizes multi-row inserts.
    pub(crate) const COLUMNS: usize = 9;
}

/// An audit row as written; as a changeset it replaces every column (NULLs included).
#[derive(Insertable, AsChangeset)]
#[diesel(
    table_name = reingest_runs,
    treat_none_as_default_value = false,
    treat_none_as_null = true
)]
pub(crate) struct NewAuditRow<'a> {
    pub(crate) run_id: &'a str,
    pub(crate) kind: &'a str,
    pub(crate) settlement_date: NaiveDate,
    pub(crate) periods: &'a str,
    pub(crate) reason: Option<&'a str>,
    pub(crate) user_name: &'a str,
    pub(crate) host: &'a str,
    pub(crate) status: &'a str,
    pub(crate) records_before: i64,
    pub(crate) records_after: i64,
    pub(crate) energy_before: ExactDecimal,
    pub(crate) energy_after: ExactDecimal,
    pub(crate) payment_before: ExactDecimal,
    pub(crate) payment_after: ExactDecimal,
    pub(crate) per_period_counts: &'a str,
    pub(crate) started_at: InstantValue,
    pub(crate) finished_at: Option<InstantValue>,
    pub(crate) duration_ms: i64,
    pub(crate) tool_version: &'a str,
    pub(crate) detail: Option<&'a str>,
    pub(crate) difficulty: Option<ExactDecimal>,
    pub(crate) difficulty_date: Option<NaiveDate>,
    pub(crate) difficulty_source: Option<&'a str>,
    pub(crate) block_subsidy: Option<ExactDecimal>,
    pub(crate) range_tag: Option<&'a str>,
}

/// A fetch-log row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = fetch_log)]
pub(crate) struct FetchRow {
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) side: String,
    pub(crate) status: String,
    pub(crate) items_received: i64,
    pub(crate) records_kept: i64,
    pub(crate) fetched_at: StoredInstant,
    pub(crate) source_hash: Option<String>,
}

/// An audit row as read.
#[derive(Queryable, Selectable)]
#[diesel(table_name = reingest_runs)]
pub(crate) struct RunRow {
    pub(crate) run_id: String,
    pub(crate) kind: String,
    pub(crate) settlement_date: NaiveDate,
    pub(crate) periods: String,
    pub(crate) reason: Option<String>,
    pub(crate) user_name: String,
    pub(crate) host: String,
    pub(crate) status: String,
    pub(crate) records_before: i64,
    pub(crate) records_after: i64,
    pub(crate) energy_before: StoredDecimal,
    pub(crate) energy_after: StoredDecimal,
    pub(crate) payment_before: StoredDecimal,
    pub(crate) payment_after: StoredDecimal,
    pub(crate) per_period_counts: String,
    pub(crate) started_at: StoredInstant,
    pub(crate) duration_ms: i64,
    pub(crate) tool_version: String,
    pub(crate) detail: Option<String>,
    pub(crate) difficulty: Option<StoredDecimal>,
    pub(crate) difficulty_date: Option<NaiveDate>,
    pub(crate) difficulty_source: Option<String>,
    pub(crate) block_subsidy: Option<StoredDecimal>,
    pub(crate) backup_pruned_at: Option<StoredInstant>,
    pub(crate) range_tag: Option<String>,
}
