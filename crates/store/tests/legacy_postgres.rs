//! The platform's existing PostgreSQL database: created by exactly ../shared/platform-schema.sql and
//! holding legacy rows, then migrated and swapped by us.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::*;
use settlement_model::PeriodRange;
use store::prelude::*;
use store::{DieselStore, StoreConfig};

const LEGACY: &str = "
INSERT INTO curtailment_records (settlement_date, settlement_period, farm_id, lead_party_name,
  volume, payment, original_price, final_price, so_flag, cadl_flag) VALUES
  ('2024-03-21', 1, 'T_OLD-1', 'Old Party', -10.5, 761.25, -72.5, -72.5, true, null),
  ('2024-03-21', 2, 'T_OLD-1', 'Old Party', -2, 100, -50, -50, true, false),
  ('2024-03-22', 1, 'T_OLD-2', 'Other Party', -3.25, 162.5, -50, -50, true, null);
INSERT INTO daily_summaries (summary_date, total_curtailed_energy, total_payment,
  total_wind_generation, wind_onshore_generation, wind_offshore_generation) VALUES
  ('2024-03-21', 12.5, 861.25, 123456.789, 23456.7, 100000.089),
  ('2024-03-22', 3.25, 162.5, 99999.5, 9999.5, 90000);
INSERT INTO monthly_summaries (year_month, total_curtailed_energy, total_payment,
  total_wind_generation, wind_onshore_generation, wind_offshore_generation) VALUES
  ('2024-03', 15.75, 1023.75, 5555555.5, 1111111.1, 4444444.4);
INSERT INTO yearly_summaries (year, total_curtailed_energy, total_payment,
  total_wind_generation, wind_onshore_generation, wind_offshore_generation) VALUES
  ('2024', 15.75, 1023.75, 77777777.7, 22222222.2, 55555555.5);
INSERT INTO historical_bitcoin_calculations (settlement_date, settlement_period, farm_id,
  miner_model, bitcoin_mined, difficulty) VALUES
  ('2024-03-21', 1, 'T_OLD-1', 'S9', 0.0001, 83148355189239.77),
  ('2024-03-22', 1, 'T_OLD-2', 'S9', 0.00003, 83148355189239.77);
INSERT INTO bitcoin_daily_summaries (summary_date, miner_model, bitcoin_mined) VALUES
  ('2024-03-21', 'S9', 0.0001), ('2024-03-21', 'S9', 0.0001),
  ('2024-03-22', 'S9', 0.00003), ('2024-03-22', 'S9', 0.00004);
INSERT INTO bitcoin_monthly_summaries (year_month, miner_model, bitcoin_mined) VALUES
  ('2024-03', 'S9', 0.00013), ('2024-03', 'S9', 0.00013);
INSERT INTO bitcoin_yearly_summaries (year, miner_model, bitcoin_mined) VALUES
  ('2024', 'S9', 0.00013);
";

const WIND: &str = "total_wind_generation::text || '/' || wind_onshore_generation::text || '/' || \
                    wind_offshore_generation::text";

#[test]
fn migrating_and_swapping_the_platform_database_keeps_legacy_data() {
    let Some(base) = pg_base_url() else { return };
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/platform-schema.sql"
    );
    let Ok(schema) = std::fs::read_to_string(shared) else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let (url, _guard) = fresh_pg(&base);
    let mut raw = Raw::open(&url);
    raw.exec(&schema);
    raw.exec(LEGACY);
    let wind_of = |raw: &mut Raw, table: &str, key: &str, value: &str| {
        raw.one(&format!(
            "SELECT {WIND} AS v FROM {table} WHERE {key} = '{value}'"
        ))
        .unwrap()
    };
    let wind_before = [
        wind_of(&mut raw, "daily_summaries", "summary_date", "2024-03-21"),
        wind_of(&mut raw, "monthly_summaries", "year_month", "2024-03"),
        wind_of(&mut raw, "yearly_summaries", "year", "2024"),
    ];
    let other_day = |raw: &mut Raw| {
        let mut v = raw.strings(
            "SELECT ROW(id, settlement_date, settlement_period, farm_id, lead_party_name, volume, payment, \
             original_price, final_price, so_flag, cadl_flag, created_at)::text AS v \
             FROM curtailment_records WHERE settlement_date = '2024-03-22'",
        );
        v.extend(raw.strings(
            "SELECT CAST(x AS text) AS v FROM daily_summaries x WHERE summary_date = '2024-03-22'",
        ));
        v.extend(raw.strings(
            "SELECT CAST(x AS text) AS v FROM historical_bitcoin_calculations x WHERE settlement_date = '2024-03-22'",
        ));
        v.extend(raw.strings(
            "SELECT CAST(x AS text) AS v FROM bitcoin_daily_summaries x WHERE summary_date = '2024-03-22' ORDER BY id",
        ));
        v
    };
    let other_before = other_day(&mut raw);

    let store = DieselStore::connect(&url, StoreConfig::default()).unwrap();
    store.migrate().unwrap();
    store.migrate().unwrap();
    // Legacy rows read through the store: a NULL side is a bid, the absolute payment as is.
    let legacy = store.day_state(date("2024-03-22")).unwrap();
    assert_eq!(legacy.records.len(), 1);
    assert_eq!(legacy.records[0].payment.to_string(), "162.5");
    assert_eq!(
        legacy.month_bitcoin_dailies.len(),
        4,
        "legacy duplicates are all returned"
    );

    let d = date("2024-03-21");
    let records = gen_records(d, PeriodRange::full(d), 2, "NEW", 30);
    swap(&store, d, PeriodRange::full(d), records.clone());

    // Wind generation of the day's, month's and year's rows is unchanged.
    let wind_after = [
        wind_of(&mut raw, "daily_summaries", "summary_date", "2024-03-21"),
        wind_of(&mut raw, "monthly_summaries", "year_month", "2024-03"),
        wind_of(&mut raw, "yearly_summaries", "year", "2024"),
    ];
    assert_eq!(wind_after, wind_before);
    assert_eq!(wind_after[0], "123456.789/23456.7/100000.089");
    // Other dates' rows are untouched, legacy duplicates included.
    assert_eq!(other_day(&mut raw), other_before);
    // The legacy columns are intact and readable by plain SQL; our columns are null there.
    let old = raw.strings(
        "SELECT farm_id || ',' || volume::text || ',' || payment::text || ',' || \
         COALESCE(acceptance_id::text, 'null') || ',' || COALESCE(side, 'null') AS v \
         FROM curtailment_records WHERE settlement_date = '2024-03-22'",
    );
    assert_eq!(old, vec![Some("T_OLD-2,-3.25,162.5,null,null".to_owned())]);
    // The swapped day's (and month's) duplicate bitcoin summary rows collapse to one, the
    // oldest, updated; the audit row says which it kept and removed.
    let dup = raw.strings(
        "SELECT id::text || ':' || bitcoin_mined::text AS v FROM bitcoin_daily_summaries \
         WHERE summary_date = '2024-03-21' AND miner_model = 'S9' ORDER BY id",
    );
    assert_eq!(dup.len(), 1);
    assert!(dup[0].as_deref().unwrap().starts_with("1:"), "{dup:?}");
    assert_ne!(dup[0].as_deref(), Some("1:0.0001"));
    let month = raw.strings(
        "SELECT id::text AS v FROM bitcoin_monthly_summaries WHERE year_month = '2024-03' \
         AND miner_model = 'S9'",
    );
    assert_eq!(month, vec![Some("1".to_owned())]);
    let detail = store.runs(Some(d)).unwrap()[0].detail.clone().unwrap();
    assert!(
        detail.contains("bitcoin_daily_summaries 2024-03-21 S9: kept row 1, removed 1"),
        "{detail}"
    );
    // The day's total is the new records' sum; the month adds the legacy other day.
    let state = store.day_state(d).unwrap();
    assert_eq!(state.records, records);
    let (e, _) = sum_records(&records);
    assert_eq!(
        state.monthly.unwrap().total_curtailed_energy,
        e + rust_decimal_macros::dec!(3.25)
    );
    // The backup holds the legacy rows exactly.
    let backed_up =
        raw.strings("SELECT payment::text AS v FROM backup_curtailment_records ORDER BY backup_id");
    assert_eq!(
        backed_up,
        vec![Some("761.25".to_owned()), Some("100".to_owned())]
    );
}

#[test]
fn an_empty_database_gets_the_platform_shape() {
    let Some(base) = pg_base_url() else { return };
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/platform-schema.sql"
    );
    let Ok(schema) = std::fs::read_to_string(shared) else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let columns = |url: &str| {
        Raw::open(url).strings(
            "SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable || ':' \
             || COALESCE(column_default, '') AS v FROM information_schema.columns \
             WHERE table_schema = 'public' AND table_name IN ('curtailment_records', 'daily_summaries', \
             'monthly_summaries', 'yearly_summaries', 'historical_bitcoin_calculations', \
             'bitcoin_daily_summaries', 'bitcoin_monthly_summaries', 'bitcoin_yearly_summaries') \
             ORDER BY 1",
        )
    };
    let (platform_url, _g1) = fresh_pg(&base);
    Raw::open(&platform_url).exec(&schema);
    DieselStore::connect(&platform_url, StoreConfig::default())
        .unwrap()
        .migrate()
        .unwrap();
    let (empty_url, _g2) = fresh_pg(&base);
    DieselStore::connect(&empty_url, StoreConfig::default())
        .unwrap()
        .migrate()
        .unwrap();
    let a = columns(&platform_url);
    assert!(a.len() > 60);
    assert_eq!(a, columns(&empty_url));
}
