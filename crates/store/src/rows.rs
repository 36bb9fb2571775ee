//! Row structs of the typed schema: what the store reads ([`diesel::Queryable`] +
//! [`diesel::Selectable`]) and writes ([`diesel::Insertable`]), one per table and direction.
//! Decimals are read as their exact text ([`StoredDecimal`]) and parsed with the table and
//! column in hand; `None` is written as NULL, never as the column's default.

use chrono::NaiveDate;
use diesel::{Insertable, Queryable, Selectable};

use crate::schema::{
    bitcoin_halvings, bm_units, curtailment_records, difficulty, historical_bitcoin_calculations,
};
use crate::sql_types::{ExactDecimal, StoredDecimal};

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
/// the same order).
#[derive(Queryable, Selectable)]
#[diesel(table_name = curtailment_records)]
pub(crate) struct RecordRow {
    pub(crate) settlement_date: NaiveDate,
    pub(crate) settlement_period: i32,
    pub(crate) farm_id: String,
    pub(crate) lead_party_name: Option<String>,
    pub(crate) volume: StoredDecimal,
    pub(crate) payment: StoredDecimal,
    pub(crate) original_price: StoredDecimal,
    pub(crate) final_price: StoredDecimal,
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
