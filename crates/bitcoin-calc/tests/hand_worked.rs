//! Bitcoin figures worked out by hand (the arithmetic is in the comments), asserted exactly.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::subsidy;

use bitcoin_calc::{bitcoin_for_energy, bitcoin_rows, MinerCatalog, MinerModel};
use chrono::NaiveDate;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use settlement_model::CurtailmentRecord;

/// The difficulty in force on 2024-04-19 and 2024-04-20 (epoch from 2024-04-11, block 838656).
const D_APRIL_2024: Decimal = dec!(86388558925171);

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn model(name: &str) -> MinerModel {
    MinerCatalog::defaults().get(name).unwrap().clone()
}

/// Asserts the value and its text (12 places, so the text is stable too).
fn check(energy: Decimal, m: &MinerModel, difficulty: Decimal, date: &str, expected: &str) {
    let got = bitcoin_for_energy(energy, m, difficulty, subsidy(day(date))).unwrap();
    assert_eq!(
        got.to_string(),
        expected,
        "{energy} MWh on {} at {difficulty} on {date}",
        m.name
    );
}

// Shared by every case below, with D = 86388558925171:
//   D × 2^32 = 86388558925171 × 4294967296 = 371036035332178356207616.

#[test]
fn s19j_pro_one_mwh_either_side_of_the_halving() {
    // hashes = 1 MWh × 3.6e9 J/MWh ÷ 3050 W × 100 TH/s × 1e12
    //        = 3.6e23 / 3050 = 118032786885245901639.344262295…
    // hashes ÷ (D × 2^32) = 118032786885245901639.344… / 371036035332178356207616
    //                     = 0.000318116774775189677499796895…
    // 2024-04-19, subsidy 6.25:  × 6.25  = 0.001988229842|344935… → 0.001988229842
    // 2024-04-20, subsidy 3.125: × 3.125 = 0.000994114921|172467… → 0.000994114921
    let s19 = model("S19J_PRO");
    check(dec!(1), &s19, D_APRIL_2024, "2024-04-19", "0.001988229842");
    check(dec!(1), &s19, D_APRIL_2024, "2024-04-20", "0.000994114921");
    let before =
        bitcoin_for_energy(dec!(1), &s19, D_APRIL_2024, subsidy(day("2024-04-19"))).unwrap();
    let after =
        bitcoin_for_energy(dec!(1), &s19, D_APRIL_2024, subsidy(day("2024-04-20"))).unwrap();
    // Exactly half (the 13th digit of both is below 5, so the rounding keeps the ratio).
    assert_eq!(after * dec!(2), before);
}

#[test]
fn the_three_default_models() {
    // S9: hashes = 3.6e21 × 13.5 / 1323 = 36734693877551020408.163265…
    //     ÷ (D × 2^32) = 0.0000990057309249314812626918…
    //     × 6.25  = 0.000618785818|280821… → 0.000618785818
    //     × 3.125 = 0.000309392909|140410… → 0.000309392909
    let s9 = model("S9");
    check(dec!(1), &s9, D_APRIL_2024, "2024-04-19", "0.000618785818");
    check(dec!(1), &s9, D_APRIL_2024, "2024-04-20", "0.000309392909");
    // M20S: hashes = 3.6e21 × 68 / 3360 = 72857142857142857142.857142…
    //     ÷ (D × 2^32) = 0.000196361366334447437837672250…
    //     × 6.25  = 0.001227258539|590296… → 0.001227258540 (rounds up)
    //     × 3.125 = 0.000613629269|795148… → 0.000613629270 (rounds up)
    let m20s = model("M20S");
    check(dec!(1), &m20s, D_APRIL_2024, "2024-04-19", "0.001227258540");
    check(dec!(1), &m20s, D_APRIL_2024, "2024-04-20", "0.000613629270");
}

#[test]
fn custom_models() {
    // S21 200 TH/s at 3500 W: hashes = 3.6e21 × 200 / 3500 = 205714285714285714285.714285…
    //     ÷ (D × 2^32) = 0.000554432093179616295071074588…
    //     × 3.125 = 0.001732600291|186300… → 0.001732600291
    let s21 = bitcoin_calc::parse_models("S21:200:3500")
        .unwrap()
        .remove(0);
    check(dec!(1), &s21, D_APRIL_2024, "2024-04-20", "0.001732600291");

    // A model and difficulty chosen so every step is exact:
    // 1 TH/s at 3600 W: hashes per MWh = 3.6e9 / 3600 × 1 × 1e12 = 1e6 × 1e12 = 1e18.
    // D = 5^32 × 1e-15 = 23283064.365386962890625 (5^32 = 23283064365386962890625),
    // so D × 2^32 = (2 × 5)^32 × 1e-15 = 1e17, and bitcoin = 1e18 / 1e17 × subsidy = 10 × subsidy.
    let unit = MinerModel::new("UNIT-1", dec!(1), dec!(3600)).unwrap();
    let d = dec!(23283064.365386962890625);
    check(dec!(1), &unit, d, "2024-04-20", "31.250000000000");
    check(dec!(1), &unit, d, "2012-11-27", "500.000000000000");
    check(dec!(2.5), &unit, d, "2016-07-09", "312.500000000000");
    // Rounding rule: 1.6e-14 MWh → 1.6e-14 × 31.25 = 5e-13 BTC, exactly half a unit of the
    // 12th place: half away from zero gives 1e-12 (banker's rounding would give 0).
    check(
        dec!(0.000000000000016),
        &unit,
        d,
        "2024-04-20",
        "0.000000000001",
    );
    // And just below the midpoint rounds down: 1.5e-14 × 31.25 = 4.6875e-13 → 0.
    check(
        dec!(0.000000000000015),
        &unit,
        d,
        "2024-04-20",
        "0.000000000000",
    );
}

#[test]
fn bitcoin_rows_one_per_record_per_model_at_the_dates_subsidy() {
    let record = |date: &str, period: u8, volume: Decimal| {
        let farm = format!("T_FARM-{period}");
        CurtailmentRecord::bid(date.parse().unwrap(), period, farm, volume, dec!(-40)).unwrap()
    };
    let records = [
        record("2024-04-19", 48, dec!(-1)),
        record("2024-04-20", 1, dec!(-1)),
        record("2024-04-20", 2, dec!(-2)),
    ];
    let models = MinerCatalog::defaults().models().to_vec();
    let mut rows = bitcoin_rows(&records[..1], &models, D_APRIL_2024, dec!(6.25)).unwrap();
    rows.extend(bitcoin_rows(&records[1..], &models, D_APRIL_2024, dec!(3.125)).unwrap());
    assert_eq!(rows.len(), 9);
    let got: Vec<(String, u8, &str, String)> = rows
        .iter()
        .map(|r| {
            assert_eq!(r.difficulty, D_APRIL_2024);
            (
                r.settlement_date.to_string(),
                r.settlement_period,
                r.miner_model.as_str(),
                r.bitcoin_mined.to_string(),
            )
        })
        .collect();
    let row = |d: &str, p: u8, m: &'static str, b: &str| (d.to_owned(), p, m, b.to_owned());
    assert_eq!(
        got,
        vec![
            row("2024-04-19", 48, "S19J_PRO", "0.001988229842"),
            row("2024-04-19", 48, "S9", "0.000618785818"),
            row("2024-04-19", 48, "M20S", "0.001227258540"),
            row("2024-04-20", 1, "S19J_PRO", "0.000994114921"),
            row("2024-04-20", 1, "S9", "0.000309392909"),
            row("2024-04-20", 1, "M20S", "0.000613629270"),
            // 2 MWh: 2 × 0.000994114921|172467… = 0.001988229842|344935… → 0.001988229842
            row("2024-04-20", 2, "S19J_PRO", "0.001988229842"),
            // 2 × 0.000309392909|140410… = 0.000618785818|280821… → 0.000618785818
            row("2024-04-20", 2, "S9", "0.000618785818"),
            // 2 × 0.000613629269|795148… = 0.001227258539|590296… → 0.001227258540
            row("2024-04-20", 2, "M20S", "0.001227258540"),
        ]
    );
    assert!(bitcoin_rows(&records, &models, dec!(0), dec!(3.125)).is_err());
    assert!(bitcoin_rows(&[], &models, D_APRIL_2024, dec!(3.125))
        .unwrap()
        .is_empty());
}
