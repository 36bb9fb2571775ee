//! The store's tables as diesel sees them: the platform's (exactly
//! `../shared/platform-schema.sql`, migration 1) and ours (migrations 2–4), one definition for both
//! backends. Decimal columns are [`Exact`], `timestamptz` columns [`Instant`] and the
//! archive's body [`Body`] (see [`crate::sql_types`]); the platform's `timestamp` columns are
//! diesel's `Timestamp` (TEXT `YYYY-MM-DD HH:MM:SS.SSS` on SQLite) and dates `Date` (TEXT
//! `YYYY-MM-DD` on SQLite).
#![allow(missing_docs)]

pub use crate::sql_types::{Body, Exact, Instant};

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's curtailment records, with our columns of migration 2.
    curtailment_records (id) {
        id -> Integer,
        settlement_date -> Date,
        settlement_period -> Integer,
        farm_id -> Text,
        lead_party_name -> Nullable<Text>,
        volume -> Exact,
        payment -> Exact,
        original_price -> Exact,
        final_price -> Exact,
        so_flag -> Nullable<Bool>,
        cadl_flag -> Nullable<Bool>,
        created_at -> Nullable<Timestamp>,
        acceptance_id -> Nullable<BigInt>,
        bid_offer_pair_id -> Nullable<BigInt>,
        side -> Nullable<Text>,
        sequence_number -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's daily summaries.
    daily_summaries (summary_date) {
        summary_date -> Date,
        total_curtailed_energy -> Nullable<Exact>,
        total_payment -> Nullable<Exact>,
        total_wind_generation -> Nullable<Exact>,
        wind_onshore_generation -> Nullable<Exact>,
        wind_offshore_generation -> Nullable<Exact>,
        created_at -> Nullable<Timestamp>,
        last_updated -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's monthly summaries (`year_month` is `YYYY-MM`).
    monthly_summaries (year_month) {
        year_month -> Text,
        total_curtailed_energy -> Nullable<Exact>,
        total_payment -> Nullable<Exact>,
        total_wind_generation -> Nullable<Exact>,
        wind_onshore_generation -> Nullable<Exact>,
        wind_offshore_generation -> Nullable<Exact>,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
        last_updated -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's yearly summaries (`year` is `YYYY`).
    yearly_summaries (year) {
        year -> Text,
        total_curtailed_energy -> Nullable<Exact>,
        total_payment -> Nullable<Exact>,
        total_wind_generation -> Nullable<Exact>,
        wind_onshore_generation -> Nullable<Exact>,
        wind_offshore_generation -> Nullable<Exact>,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
        last_updated -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's per-record bitcoin figures.
    historical_bitcoin_calculations (id) {
        id -> Integer,
        settlement_date -> Date,
        settlement_period -> Integer,
        farm_id -> Text,
        miner_model -> Text,
        bitcoin_mined -> Exact,
        difficulty -> Exact,
        calculated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's bitcoin daily summaries (no unique key: legacy data holds duplicates).
    bitcoin_daily_summaries (id) {
        id -> Integer,
        summary_date -> Date,
        miner_model -> Text,
        bitcoin_mined -> Exact,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's bitcoin monthly summaries.
    bitcoin_monthly_summaries (id) {
        id -> Integer,
        year_month -> Text,
        miner_model -> Text,
        bitcoin_mined -> Exact,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The platform's bitcoin yearly summaries.
    bitcoin_yearly_summaries (id) {
        id -> Integer,
        year -> Text,
        miner_model -> Text,
        bitcoin_mined -> Exact,
        created_at -> Nullable<Timestamp>,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The BM unit registry (migration 2).
    bm_units (elexon_bm_unit) {
        elexon_bm_unit -> Text,
        national_grid_bm_unit -> Nullable<Text>,
        bm_unit_name -> Nullable<Text>,
        lead_party_name -> Nullable<Text>,
        fuel_type -> Nullable<Text>,
        generation_capacity -> Nullable<Exact>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// The difficulty table (migration 2, `block_height` migration 4).
    difficulty (difficulty_date) {
        difficulty_date -> Date,
        /// The `difficulty` column (a column may not share its table's name in diesel).
        #[sql_name = "difficulty"]
        value -> Exact,
        block_height -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Instant;

    /// The per-period fetch log (migration 2).
    fetch_log (id) {
        id -> BigInt,
        run_id -> Text,
        settlement_date -> Date,
        settlement_period -> Integer,
        side -> Text,
        status -> Text,
        items_received -> BigInt,
        records_kept -> BigInt,
        fetched_at -> Instant,
        source_hash -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Exact, Instant};

    /// The audit log (migration 2, bitcoin inputs and pruning migration 4).
    reingest_runs (seq) {
        seq -> BigInt,
        run_id -> Text,
        kind -> Text,
        settlement_date -> Date,
        periods -> Text,
        reason -> Nullable<Text>,
        user_name -> Text,
        host -> Text,
        status -> Text,
        records_before -> BigInt,
        records_after -> BigInt,
        energy_before -> Exact,
        energy_after -> Exact,
        payment_before -> Exact,
        payment_after -> Exact,
        per_period_counts -> Text,
        started_at -> Instant,
        finished_at -> Nullable<Instant>,
        duration_ms -> BigInt,
        tool_version -> Text,
        detail -> Nullable<Text>,
        difficulty -> Nullable<Exact>,
        difficulty_date -> Nullable<Date>,
        difficulty_source -> Nullable<Text>,
        block_subsidy -> Nullable<Exact>,
        backup_pruned_at -> Nullable<Instant>,
        range_tag -> Nullable<Text>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// Backed-up curtailment records, by the run that replaced them (migration 2).
    backup_curtailment_records (backup_id) {
        backup_id -> BigInt,
        run_id -> Text,
        settlement_date -> Date,
        settlement_period -> Integer,
        farm_id -> Text,
        lead_party_name -> Nullable<Text>,
        volume -> Exact,
        payment -> Exact,
        original_price -> Exact,
        final_price -> Exact,
        so_flag -> Nullable<Bool>,
        cadl_flag -> Nullable<Bool>,
        created_at -> Nullable<Timestamp>,
        acceptance_id -> Nullable<BigInt>,
        bid_offer_pair_id -> Nullable<BigInt>,
        side -> Nullable<Text>,
        sequence_number -> Nullable<BigInt>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// Backed-up bitcoin rows (migration 2).
    backup_bitcoin_calculations (backup_id) {
        backup_id -> BigInt,
        run_id -> Text,
        settlement_date -> Date,
        settlement_period -> Integer,
        farm_id -> Text,
        miner_model -> Text,
        bitcoin_mined -> Exact,
        difficulty -> Exact,
        calculated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// Backed-up owned columns of summary rows (migration 2).
    backup_summaries (backup_id) {
        backup_id -> BigInt,
        run_id -> Text,
        kind -> Text,
        summary_key -> Text,
        existed -> Bool,
        total_curtailed_energy -> Nullable<Exact>,
        total_payment -> Nullable<Exact>,
        last_updated -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Exact;

    /// Backed-up bitcoin summary rows, legacy duplicates included (migration 2).
    backup_bitcoin_summaries (backup_id) {
        backup_id -> BigInt,
        run_id -> Text,
        kind -> Text,
        summary_key -> Text,
        row_id -> BigInt,
        miner_model -> Text,
        bitcoin_mined -> Exact,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::{Body, Instant};

    /// Raw API responses by content hash (migration 3).
    source_archive (hash) {
        hash -> Text,
        format -> Text,
        body -> Body,
        created_at -> Instant,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    /// The UTC day of each halving block (migration 4).
    bitcoin_halvings (block_height) {
        block_height -> BigInt,
        halving_date -> Date,
        source -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;
    use crate::sql_types::Instant;

    /// Where the BM unit registry came from and when (migration 4; one row, `id = 1`), and
    /// what the registry's rules left out or merged (migration 12; null before it).
    bm_unit_registry (id) {
        id -> Integer,
        origin -> Text,
        refreshed_at -> Instant,
        units_without_id -> Nullable<Integer>,
        wind_units_without_id -> Nullable<Integer>,
        duplicates_merged -> Nullable<Integer>,
        duplicates_kept_first -> Nullable<Integer>,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    /// BM unit registries runs classified with, by the SHA-256 of their canonical JSON
    /// (migration 5).
    registry_snapshots (hash) {
        hash -> Text,
        units -> Text,
    }
}

diesel::table! {
    use diesel::sql_types::*;

    /// One evidence document per run that recorded one (migration 5).
    run_evidence (run_id) {
        run_id -> Text,
        fingerprint -> Text,
        registry_hash -> Text,
        document -> Text,
    }
}

diesel::allow_tables_to_appear_in_same_query!(
    curtailment_records,
    daily_summaries,
    monthly_summaries,
    yearly_summaries,
    historical_bitcoin_calculations,
    bitcoin_daily_summaries,
    bitcoin_monthly_summaries,
    bitcoin_yearly_summaries,
    bm_units,
    difficulty,
    fetch_log,
    reingest_runs,
    backup_curtailment_records,
    backup_bitcoin_calculations,
    backup_summaries,
    backup_bitcoin_summaries,
    source_archive,
    bitcoin_halvings,
    bm_unit_registry,
    registry_snapshots,
    run_evidence,
);
