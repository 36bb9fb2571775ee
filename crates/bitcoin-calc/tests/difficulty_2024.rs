//! The difficulty in force on dates of 2024, from `../shared/data/difficulty-2024.json`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::subsidy;

use bitcoin_calc::{
    bitcoin_for_energy, parse_difficulty_auto, parse_difficulty_csv, parse_difficulty_json_map,
    DifficultyError, DifficultySource, DifficultyTable, MinerCatalog,
};
use chrono::NaiveDate;
use rust_decimal::Decimal;

const FILE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/difficulty-2024.json"
);

fn read_shared() -> Option<String> {
    match std::fs::read_to_string(FILE) {
        Ok(text) => Some(text),
        Err(_) => {
            println!("skipped: ../shared not found");
            None
        }
    }
}

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

/// Only the days where the value changes: an epoch table like the one `sync` builds.
fn epoch_starts(entries: &[(NaiveDate, Decimal)]) -> Vec<(NaiveDate, Decimal)> {
    let mut out: Vec<(NaiveDate, Decimal)> = Vec::new();
    for (d, v) in entries {
        if out.last().is_none_or(|(_, last)| last != v) {
            out.push((*d, *v));
        }
    }
    out
}

#[test]
fn the_file_parses_exactly_and_auto_detects() {
    let Some(text) = read_shared() else { return };
    let entries = parse_difficulty_json_map(&text).unwrap();
    assert_eq!(entries.len(), 366, "2024 is a leap year");
    assert_eq!(entries[0], (day("2024-01-01"), dec("72006146478567")));
    assert_eq!(entries[365], (day("2024-12-31"), dec("109782075598905")));
    assert_eq!(parse_difficulty_auto(&text).unwrap(), entries);
    // The one value with a fraction keeps it.
    let march_22 = entries
        .iter()
        .find(|(d, _)| *d == day("2024-03-22"))
        .unwrap();
    assert_eq!(march_22.1.to_string(), "83947913181361.6");
}

#[test]
fn difficulty_in_force_on_epoch_boundaries() {
    let Some(text) = read_shared() else { return };
    let entries = parse_difficulty_json_map(&text).unwrap();
    let epochs = epoch_starts(&entries);
    assert_eq!(epochs.len(), 24);
    // Look the dates up in the table of epoch starts only, so "latest on or before" matters.
    let table = DifficultyTable::from_entries(epochs).unwrap();
    let cases = [
        ("2024-01-01", "72006146478567"),
        ("2024-01-05", "72006146478567"), // the day before an epoch
        ("2024-01-06", "73197634206448"), // the first day of the epoch
        ("2024-03-21", "83947913181362"),
        ("2024-03-22", "83947913181361.6"),
        ("2024-04-10", "83126997340024.6"),
        ("2024-04-11", "86388558925171"),
        ("2024-04-19", "86388558925171"),
        ("2024-04-20", "86388558925171"), // the halving day: same epoch
        ("2024-09-11", "83675262295059"), // end of the long June-September entry
        ("2024-09-12", "92671576265161"),
        ("2024-12-30", "109782075598905"),
        ("2025-02-01", "109782075598905"), // after the file: the latest entry
    ];
    for (date, expected) in cases {
        assert_eq!(
            table.difficulty_on(day(date)).unwrap(),
            dec(expected),
            "{date}"
        );
    }
    assert_eq!(
        table.entry_on(day("2024-04-19")).unwrap().0,
        day("2024-04-11")
    );
    assert_eq!(
        table.difficulty_on(day("2023-12-31")),
        Err(DifficultyError::NotFound {
            date: day("2023-12-31")
        })
    );
    // The epoch table answers every day of 2024 exactly as the full daily file does.
    for (date, value) in &entries {
        assert_eq!(table.difficulty_on(*date).unwrap(), *value, "{date}");
    }
}

#[test]
fn csv_round_trip_of_the_file_and_the_halving_with_real_difficulty() {
    let Some(text) = read_shared() else { return };
    let entries = parse_difficulty_json_map(&text).unwrap();
    let csv: String = std::iter::once("date,difficulty".to_owned())
        .chain(entries.iter().map(|(d, v)| format!("{d},{v}")))
        .collect::<Vec<_>>()
        .join("\n");
    assert_eq!(parse_difficulty_csv(&csv).unwrap(), entries);

    let table = DifficultyTable::from_entries(entries).unwrap();
    let s19 = MinerCatalog::defaults().get("S19J_PRO").unwrap().clone();
    let on = |date: &str| {
        let d = day(date);
        bitcoin_for_energy(
            Decimal::ONE,
            &s19,
            table.difficulty_on(d).unwrap(),
            subsidy(d),
        )
        .unwrap()
    };
    assert_eq!(on("2024-04-19").to_string(), "0.001988229842");
    assert_eq!(on("2024-04-20").to_string(), "0.000994114921");
}
