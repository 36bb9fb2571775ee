//! One suite, run on SQLite always and on PostgreSQL when REINGEST_TEST_DATABASE_URL is set;
//! its `conformance` module runs the day swap's contract on the in-memory store too.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod conformance;

use std::sync::mpsc;
use std::sync::{Arc, Barrier};
use std::time::{Duration, Instant};

use common::*;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use settlement_model::{
    BmUnit, DifficultyEntry, Halving, PeriodRange, RegistryCounts, RegistryOrigin, SettlementDate,
    SummaryPeriod,
};
use store::prelude::*;
use store::{source_hash, DieselStore, RunStatus, RunsQuery, StoreConfig, StoreError};

fn full(d: SettlementDate) -> PeriodRange {
    PeriodRange::full(d)
}

#[test]
fn swap_reads_back_and_is_idempotent() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let d = date("2024-03-21");
        let records = gen_records(d, full(d), 3, "A", 1);
        let out = swap(s, d, full(d), records.clone());
        assert_eq!(out.before.records, 0);
        assert_eq!(out.after.records, 144);

        let state = s.day_state(d).unwrap();
        assert_eq!(state.records, records, "{}", db.label);
        let (e, p) = sum_records(&records);
        let daily = state.daily.clone().unwrap();
        assert_eq!((daily.total_curtailed_energy, daily.total_payment), (e, p));
        assert_eq!(state.monthly.as_ref().unwrap().total_curtailed_energy, e);
        assert_eq!(state.yearly.as_ref().unwrap().total_payment, p);
        assert_eq!(state.bitcoin_rows.len(), 288);
        assert_eq!(state.bitcoin_summaries.len(), 6);
        assert_eq!(state.fetch_log.len(), 96);
        assert_eq!(
            state.fetch_log[0].fetched_at.to_rfc3339(),
            "2024-03-22T10:00:00.123456+00:00"
        );

        // Twice: the same rows, no duplicate summaries.
        swap(s, d, full(d), records.clone());
        let again = s.day_state(d).unwrap();
        assert_eq!(
            serde_json::to_value(&again).unwrap(),
            serde_json::to_value(&state).unwrap(),
            "{}",
            db.label
        );
        let runs = s.runs(Some(d)).unwrap();
        assert_eq!(runs.len(), 2);
        assert!(runs.iter().all(|r| r.status == RunStatus::Committed));
        assert_eq!(runs[0].records_before, 144);
        assert_eq!(runs[0].energy_before, e);
        assert_eq!(runs[0].energy_after, e);
        assert!(runs[0].per_period_counts.starts_with(r#"{"1": 3, "2": 3"#));
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn a_period_range_swap_leaves_other_periods_and_dates() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let d = date("2024-03-21");
        let other = date("2024-03-22");
        let day = gen_records(d, full(d), 2, "A", 2);
        let other_records = gen_records(other, full(other), 1, "O", 3);
        swap(s, d, full(d), day.clone());
        swap(s, other, full(other), other_records.clone());
        let other_before = s.day_state(other).unwrap();

        let range = PeriodRange::parse("5-8", d).unwrap();
        let replacement = gen_records(d, range, 4, "B", 4);
        let out = swap(s, d, range, replacement.clone());
        assert_eq!(out.before.records, 8);
        assert_eq!(out.after.records, 16);

        let state = s.day_state(d).unwrap();
        let mut expected: Vec<_> = day
            .iter()
            .filter(|r| !range.contains(r.settlement_period))
            .cloned()
            .collect();
        expected.extend(replacement.clone());
        expected.sort_by(|a, b| {
            (a.settlement_period, a.sequence_number, &a.farm_id).cmp(&(
                b.settlement_period,
                b.sequence_number,
                &b.farm_id,
            ))
        });
        assert_eq!(state.records, expected, "{}", db.label);
        let (e, p) = sum_records(&expected);
        let daily = state.daily.clone().unwrap();
        assert_eq!((daily.total_curtailed_energy, daily.total_payment), (e, p));

        // The fetch log: the newest entry of each period and side, the range's from the
        // second run (which kept more records), the others' from the first.
        assert_eq!(state.fetch_log.len(), 96, "{}", db.label);
        for entry in &state.fetch_log {
            let source = if range.contains(entry.settlement_period) {
                &replacement
            } else {
                &day
            };
            let kept = source
                .iter()
                .filter(|r| r.settlement_period == entry.settlement_period)
                .filter(|r| r.side == entry.side)
                .count();
            assert_eq!(
                entry.records_kept,
                u64::try_from(kept).unwrap(),
                "{} {entry:?}",
                db.label
            );
        }

        // The other date is untouched, and the month adds up both days.
        let other_after = s.day_state(other).unwrap();
        assert_eq!(other_after.records, other_records);
        assert_eq!(other_after.daily, other_before.daily);
        assert_eq!(other_after.bitcoin_rows, other_before.bitcoin_rows);
        let (oe, _) = sum_records(&other_records);
        assert_eq!(state.monthly.unwrap().total_curtailed_energy, e + oe);
        assert_eq!(s.runs(Some(d)).unwrap()[0].periods, "5-8");
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn a_failed_verification_leaves_every_row_and_force_commits() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let d = date("2024-03-21");
        swap(s, d, full(d), gen_records(d, full(d), 2, "A", 5));
        let before = dump(&db.url);

        let mut hooks = SumHooks::new(d);
        hooks.verify = false;
        let p = plan(d, full(d), gen_records(d, full(d), 3, "B", 6));
        let run_id = p.audit.run_id.clone();
        let out = s.swap(p.clone(), &mut hooks).unwrap();
        assert!(!out.committed);
        assert_eq!(out.after.records, 144, "the verifier saw the new rows");
        assert_eq!(dump(&db.url), before, "{}", db.label);
        let run = s
            .runs(Some(d))
            .unwrap()
            .into_iter()
            .find(|r| r.run_id == run_id)
            .unwrap();
        assert_eq!(run.status, RunStatus::RolledBack);

        let mut p2 = plan(d, full(d), p.records);
        p2.force = true;
        let out = s.swap(p2, &mut hooks).unwrap();
        assert!(out.committed);
        assert_eq!(s.runs(Some(d)).unwrap()[0].status, RunStatus::Forced);
        assert_eq!(s.day_state(d).unwrap().records.len(), 144);
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn a_failing_hook_rolls_back_and_is_audited() {
    struct Failing;
    impl store::SwapHooks for Failing {
        fn derive(
            &mut self,
            _: &store::DeriveContext,
        ) -> Result<store::DerivedRows, store::HookError> {
            Err("no difficulty for 2024-03-21".into())
        }
        fn verify(&mut self, _: &store::DayState) -> bool {
            true
        }
    }
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        swap(&db.store, d, full(d), gen_records(d, full(d), 1, "A", 7));
        let before = dump(&db.url);
        let err = db
            .store
            .swap(plan(d, full(d), vec![]), &mut Failing)
            .unwrap_err();
        assert!(matches!(err, StoreError::Derive { .. }), "{err}");
        assert_eq!(dump(&db.url), before);
        let run = &db.store.runs(Some(d)).unwrap()[0];
        assert_eq!(run.status, RunStatus::Failed);
        assert!(run.detail.as_deref().unwrap().contains("no difficulty"));
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn bad_plans_are_rejected_before_any_write() {
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        let range = PeriodRange::parse("1-2", d).unwrap();
        let mut records = gen_records(d, PeriodRange::parse("3", d).unwrap(), 1, "A", 8);
        let err = db
            .store
            .swap(plan(d, range, records.clone()), &mut SumHooks::new(d))
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{err}");
        records[0].settlement_period = 1;
        records[0].farm_id = "NUL\0BYTE".into();
        let err = db
            .store
            .swap(plan(d, range, records), &mut SumHooks::new(d))
            .unwrap_err();
        assert!(err.to_string().contains("NUL"), "{err}");
        assert!(db.store.runs(None).unwrap().is_empty());
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn a_runs_backup_swapped_back_brings_back_exactly_the_replaced_rows() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let d = date("2024-03-21");
        let other = date("2024-03-05");
        swap(
            s,
            other,
            full(other),
            gen_records(other, full(other), 1, "O", 9),
        );
        let first = swap(s, d, full(d), gen_records(d, full(d), 2, "A", 10));
        let state_a = s.day_state(d).unwrap();
        let second = swap(s, d, full(d), gen_records(d, full(d), 3, "B", 11));

        // The backup of a run is exactly what it replaced; swapping it back (a restore)
        // recomputes everything else.
        let backup = s.backup_records(&second.run_id).unwrap();
        assert_eq!(backup, state_a.records, "{}", db.label);
        assert!(s.backup_records(&first.run_id).unwrap().is_empty());
        let mut p = plan(d, full(d), backup);
        p.audit = audit("restore");
        let out = s.swap(p, &mut SumHooks::new(d)).unwrap();
        assert!(out.committed);
        assert_eq!((out.before.records, out.after.records), (144, 96));
        let restored = s.day_state(d).unwrap();
        assert_eq!(restored.records, state_a.records, "{}", db.label);
        assert_eq!(restored.daily, state_a.daily);
        assert_eq!(restored.monthly, state_a.monthly);
        assert_eq!(restored.yearly, state_a.yearly);
        assert_eq!(restored.bitcoin_rows, state_a.bitcoin_rows);
        assert_eq!(restored.bitcoin_summaries, state_a.bitcoin_summaries);
        let run = s.run(&second.run_id).unwrap().unwrap();
        assert_eq!(run.status, RunStatus::Committed);
        assert!(s.run("no-such-run").unwrap().is_none());
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn legacy_duplicate_bitcoin_summaries_collapse_to_one_row_per_key() {
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        swap(&db.store, d, full(d), gen_records(d, full(d), 1, "A", 5));
        let mut raw = Raw::open(&db.url);
        for (table, key, value) in [
            ("bitcoin_daily_summaries", "summary_date", "2024-03-21"),
            ("bitcoin_monthly_summaries", "year_month", "2024-03"),
            ("bitcoin_yearly_summaries", "year", "2024"),
        ] {
            raw.exec(&format!(
                "INSERT INTO {table} ({key}, miner_model, bitcoin_mined) VALUES \
                 ('{value}', 'S9', '1'), ('{value}', 'S9', '2')"
            ));
        }
        let count = |raw: &mut Raw, table: &str| {
            raw.one(&format!(
                "SELECT CAST(COUNT(*) AS text) AS v FROM {table} WHERE miner_model = 'S9'"
            ))
            .unwrap()
        };
        assert_eq!(count(&mut raw, "bitcoin_daily_summaries"), "3");
        let state = db.store.day_state(d).unwrap();
        assert_eq!(state.bitcoin_summaries.len(), 12, "{}", db.label);

        swap(&db.store, d, full(d), gen_records(d, full(d), 1, "B", 6));
        for table in [
            "bitcoin_daily_summaries",
            "bitcoin_monthly_summaries",
            "bitcoin_yearly_summaries",
        ] {
            assert_eq!(count(&mut raw, table), "1", "{table} on {}", db.label);
        }
        let detail = db.store.runs(Some(d)).unwrap()[0].detail.clone().unwrap();
        assert!(detail.contains("removed 2 legacy duplicate(s)"), "{detail}");
        assert_eq!(db.store.day_state(d).unwrap().summary_row_counts, [1, 1, 1]);
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn twenty_thousand_16_digit_records_sum_exactly() {
    fn check(db: &TestDb) {
        let d = date("2024-06-12");
        let records = gen_records(d, full(d), 417, "X", 12);
        assert!(records.len() >= 20_000);
        assert!(records
            .iter()
            .all(|r| r.volume.mantissa().abs().to_string().len() == 16));
        let (e, p) = sum_records(&records);
        swap(&db.store, d, full(d), records.clone());
        let state = db.store.day_state(d).unwrap();
        let daily = state.daily.unwrap();
        assert_eq!(daily.total_curtailed_energy, e, "{}", db.label);
        assert_eq!(daily.total_payment, p, "{}", db.label);
        assert_eq!(state.records, records);
        // The stored text is the exact decimal text, on both backends.
        let mut raw = Raw::open(&db.url);
        let v = raw.one(&format!(
            "SELECT CAST(volume AS text) AS v FROM curtailment_records WHERE farm_id = 'X-00000' \
             AND settlement_period = 1 AND settlement_date = '{d}'"
        ));
        assert_eq!(v.unwrap(), records[0].volume.to_string());
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn weird_strings_round_trip() {
    fn check(db: &TestDb) {
        let weird = [
            "O'Brien; DROP TABLE bm_units; --",
            "\"quoted\" \\ back\\slash",
            "tab\tnewline\ncr\r bell\u{7} del\u{7f} esc\u{1b}",
            "Ørsted – 風力 🌬",
            "$1 ?1 :name @x",
        ];
        let units: Vec<BmUnit> = weird
            .iter()
            .enumerate()
            .map(|(i, w)| BmUnit {
                elexon_bm_unit: format!("T_{i}{w}"),
                national_grid_bm_unit: Some((*w).to_owned()),
                bm_unit_name: Some(format!("name {w}")),
                lead_party_name: Some((*w).to_owned()),
                fuel_type: Some("WIND".into()),
                generation_capacity: Some(dec!(123.456000)),
            })
            .collect();
        assert_eq!(db.store.registry_state().unwrap(), None);
        let counts = RegistryCounts {
            without_id: 61,
            wind_without_id: 33,
            duplicates_merged: 1,
            duplicates_kept_first: 0,
        };
        assert_eq!(
            db.store
                .replace_bm_units(&units, RegistryOrigin::Api, counts)
                .unwrap(),
            units.len()
        );
        let state = db.store.registry_state().unwrap().unwrap();
        assert_eq!(state.origin, RegistryOrigin::Api);
        assert_eq!(state.counts, Some(counts), "{}", db.label);
        assert!((chrono::Utc::now() - state.refreshed_at).num_seconds() < 60);
        let mut back = db.store.bm_units().unwrap();
        back.sort_by(|a, b| a.elexon_bm_unit.cmp(&b.elexon_bm_unit));
        let mut expected = units.clone();
        expected.sort_by(|a, b| a.elexon_bm_unit.cmp(&b.elexon_bm_unit));
        assert_eq!(back, expected, "{}", db.label);
        assert_eq!(
            back[0].generation_capacity.unwrap().to_string(),
            "123.456000"
        );
        // Replacing really replaces, and records the new origin and counts.
        assert_eq!(
            db.store
                .replace_bm_units(&units[..2], RegistryOrigin::File, RegistryCounts::default())
                .unwrap(),
            2
        );
        assert_eq!(db.store.bm_units().unwrap().len(), 2);
        let state = db.store.registry_state().unwrap().unwrap();
        assert_eq!(state.origin, RegistryOrigin::File);
        assert_eq!(state.counts, Some(RegistryCounts::default()));
        // A list that repeats an id is refused by name before anything is written: never a
        // constraint error from the database.
        let twice = [units[0].clone(), units[1].clone(), units[0].clone()];
        let err = db
            .store
            .replace_bm_units(&twice, RegistryOrigin::Api, RegistryCounts::default())
            .unwrap_err();
        assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
        assert!(err.to_string().contains(&units[0].elexon_bm_unit), "{err}");
        assert_eq!(db.store.bm_units().unwrap().len(), 2, "{}", db.label);
        assert_eq!(
            db.store.registry_state().unwrap().unwrap().origin,
            RegistryOrigin::File
        );

        let d = date("2024-03-21");
        let mut records = gen_records(d, PeriodRange::parse("1", d).unwrap(), 5, "W", 13);
        for (r, w) in records.iter_mut().zip(weird) {
            r.lead_party_name = Some(w.to_owned());
        }
        swap(&db.store, d, full(d), records.clone());
        assert_eq!(db.store.day_state(d).unwrap().records, records);
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn difficulty_around_a_date_with_heights_and_halvings() {
    fn check(db: &TestDb) {
        let nd = |s: &str| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        let s = &db.store;
        let jan10 =
            DifficultyEntry::new(nd("2024-01-10"), dec!(72006146478567.1)).with_height(824_544);
        let jan24 = DifficultyEntry::new(nd("2024-01-24"), dec!(73197634206448.35));
        assert_eq!(s.upsert_difficulties(&[jan10, jan24]).unwrap(), 2);
        let before = s.difficulty_around(nd("2024-01-09")).unwrap();
        assert_eq!((before.in_force, before.next), (None, Some(jan10)));
        let on = s.difficulty_around(nd("2024-01-10")).unwrap();
        assert_eq!((on.in_force, on.next), (Some(jan10), Some(jan24)));
        let after = s.difficulty_around(nd("2024-02-01")).unwrap();
        assert_eq!((after.in_force, after.next), (Some(jan24), None));
        assert_eq!(after.height_on_or_before, Some(jan10));
        assert_eq!(after.height_after, None);
        // A value without a height keeps the height known for that day.
        s.upsert_difficulties(&[DifficultyEntry::new(nd("2024-01-10"), dec!(1.5))])
            .unwrap();
        let on = s
            .difficulty_around(nd("2024-01-10"))
            .unwrap()
            .in_force
            .unwrap();
        assert_eq!((on.difficulty, on.height), (dec!(1.5), Some(824_544)));

        // The whole table read once answers as the store does, date by date (a range).
        let entries = s.difficulty_entries().unwrap();
        assert_eq!(entries.len(), 2, "{}", db.label);
        for day in [
            "2024-01-09",
            "2024-01-10",
            "2024-01-11",
            "2024-01-24",
            "2024-02-01",
        ] {
            assert_eq!(
                store::DifficultyAround::within(&entries, nd(day)),
                s.difficulty_around(nd(day)).unwrap(),
                "{}: {day}",
                db.label
            );
        }

        // The four known halvings are shipped; more are data.
        let halvings = s.halvings().unwrap();
        assert_eq!(halvings.len(), 4, "{}", db.label);
        assert_eq!(halvings[3].day, nd("2024-04-20"));
        let next = Halving::new(1_050_000, nd("2028-04-17")).unwrap();
        s.upsert_halving(next, "operator").unwrap();
        assert_eq!(s.halvings().unwrap().last(), Some(&next));
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn corrupt_stored_decimals_are_typed_errors() {
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        swap(
            &db.store,
            d,
            full(d),
            gen_records(d, PeriodRange::parse("1", d).unwrap(), 1, "A", 14),
        );
        // PostgreSQL numeric can hold NaN; SQLite TEXT can hold anything.
        let bad = if db.label == "postgres" {
            "'NaN'"
        } else {
            "'12.3.4'"
        };
        Raw::open(&db.url).exec(&format!("UPDATE curtailment_records SET volume = {bad}"));
        let err = db.store.day_state(d).unwrap_err();
        assert!(
            matches!(
                err,
                StoreError::CorruptValue {
                    column: "volume",
                    ..
                }
            ),
            "{err}"
        );
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn two_swaps_of_one_date_at_once_leave_one_complete_day() {
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        let barrier = Arc::new(Barrier::new(2));
        let handles: Vec<_> = ["A", "B"]
            .into_iter()
            .enumerate()
            .map(|(i, prefix)| {
                let store = db.store.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let records = gen_records(d, full(d), 20, prefix, 100 + i as u64);
                    barrier.wait();
                    swap(&store, d, full(d), records.clone());
                    records
                })
            })
            .collect();
        let sets: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
        let state = db.store.day_state(d).unwrap();
        assert!(
            state.records == sets[0] || state.records == sets[1],
            "{}: a mixture",
            db.label
        );
        let prefix = &state.records[0].farm_id[..2];
        assert!(state
            .bitcoin_rows
            .iter()
            .all(|r| r.farm_id.starts_with(prefix)));
        let (e, p) = sum_records(&state.records);
        let daily = state.daily.unwrap();
        assert_eq!((daily.total_curtailed_energy, daily.total_payment), (e, p));
        assert_eq!(
            state.bitcoin_summaries.len(),
            6,
            "no duplicate summary rows"
        );
        assert_eq!(
            db.store
                .runs(Some(d))
                .unwrap()
                .iter()
                .filter(|r| r.status == RunStatus::Committed)
                .count(),
            2
        );
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn a_second_run_of_a_locked_date_times_out_naming_the_holder() {
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        let (entered_tx, entered_rx) = mpsc::channel::<()>();
        let (release_tx, release_rx) = mpsc::channel::<()>();
        let release_rx = std::sync::Mutex::new(release_rx);
        let store = db.store.clone();
        let first = plan(d, full(d), gen_records(d, full(d), 1, "A", 15));
        let first_id = first.audit.run_id.clone();
        let holder = std::thread::spawn(move || {
            let mut hooks = SumHooks::new(d);
            hooks.on_derive = Some(Box::new(move || {
                entered_tx.send(()).unwrap();
                let _ = release_rx
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(60));
            }));
            store.swap(first, &mut hooks).unwrap()
        });
        entered_rx.recv_timeout(Duration::from_secs(60)).unwrap();
        let err = db
            .store
            .swap(
                plan(d, full(d), gen_records(d, full(d), 1, "B", 16)),
                &mut SumHooks::new(d),
            )
            .unwrap_err();
        release_tx.send(()).unwrap();
        assert!(holder.join().unwrap().committed);
        match &err {
            StoreError::LockTimeout {
                date: Some(got),
                other_run,
                ..
            } => {
                assert_eq!(*got, d);
                assert_eq!(other_run.as_deref(), Some(first_id.as_str()), "{err}");
            }
            other => panic!("{}: expected a lock timeout, got {other}", db.label),
        }
        assert!(err.to_string().contains("2024-03-21"));
    }
    let config = StoreConfig {
        lock_timeout: Duration::from_millis(500),
        busy_timeout: Duration::from_millis(500),
        ..StoreConfig::default()
    };
    for db in backends_with(config) {
        check(&db);
    }
}

/// The dates `range --resume` skips come from the `range_tag` column: a reason that merely
/// mentions the range does not count, nor does a date run again since, nor another range's.
#[test]
fn the_archive_files_what_is_missing_and_returns_every_hash_in_order() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let (a, b, c) = (
            b"<a/>".as_slice(),
            b"<b/>".as_slice(),
            br#"{"c":1}"#.as_slice(),
        );
        let first = s.put_sources(&[("xml", a), ("xml", b)]).unwrap();
        assert_eq!(first, vec![source_hash(a), source_hash(b)], "{}", db.label);
        // One present, one new twice (a day's empty periods share a body), one present.
        let second = s
            .put_sources(&[("xml", b), ("json", c), ("json", c), ("xml", a)])
            .unwrap();
        let expected = [b, c, c, a].map(source_hash).to_vec();
        assert_eq!(second, expected, "{}", db.label);
        let got = s.get_sources(&second).unwrap();
        let bodies: Vec<&[u8]> = got.iter().map(|g| g.body.as_slice()).collect();
        assert_eq!(bodies, vec![b, c, c, a], "{}", db.label);
        assert_eq!(got[1].format, "json");
        assert_eq!(s.source_hashes().unwrap().len(), 3, "{}", db.label);
        assert!(s.put_sources(&[("csv", a)]).is_err(), "{}", db.label);
    }
    for db in backends() {
        check(&db);
    }
    // The table archive of an in-memory SQLite store (PostgreSQL's is above).
    let store = DieselStore::connect("sqlite::memory:", StoreConfig::default()).unwrap();
    store.migrate().unwrap();
    assert!(store.archive_dir().is_none());
    let (url, guard) = fresh_sqlite();
    check(&TestDb {
        label: "sqlite::memory:",
        url,
        store,
        guard,
    });
}

#[test]
fn dates_done_in_range_reads_the_column_not_the_reason() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let tag = "2024-05-01..2024-05-05";
        let run = |day: &str, range_tag: Option<&str>, reason: String, verified: bool| {
            let d = date(day);
            let mut p = plan(d, full(d), gen_records(d, full(d), 1, "A", 3));
            p.audit.range_tag = range_tag.map(str::to_owned);
            p.audit.reason = Some(reason);
            let mut hooks = SumHooks::new(d);
            hooks.verify = verified;
            s.swap(p, &mut hooks).unwrap().committed
        };
        let mentions = format!("backfill [range {tag}]");
        assert!(run("2024-05-01", Some(tag), mentions.clone(), true));
        // Only the reason names the range (typed by hand, or written before the column).
        assert!(run("2024-05-02", None, mentions.clone(), true));
        // Done by the range, then run again outside it.
        assert!(run("2024-05-03", Some(tag), mentions.clone(), true));
        assert!(run("2024-05-03", None, "ticket 9".into(), true));
        // Another range's.
        assert!(run(
            "2024-05-04",
            Some("2024-05-04..2024-05-04"),
            mentions.clone(),
            true
        ));
        // The range's run of this date rolled back.
        assert!(!run("2024-05-05", Some(tag), mentions, false));

        assert_eq!(
            s.dates_done_in_range(tag).unwrap(),
            vec![date("2024-05-01")],
            "{}",
            db.label
        );
        assert!(s
            .dates_done_in_range("2024-06-01..2024-06-02")
            .unwrap()
            .is_empty());
        let runs = s.runs(Some(date("2024-05-01"))).unwrap();
        assert_eq!(runs[0].range_tag.as_deref(), Some(tag), "{}", db.label);
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn runs_page_reads_a_page_of_the_audit_log() {
    fn check(db: &TestDb) {
        let s = &db.store;
        let days = ["2024-03-21", "2024-03-22", "2024-03-21", "2024-03-23"];
        for (i, day) in days.iter().enumerate() {
            let d = date(day);
            swap(
                s,
                d,
                full(d),
                gen_records(d, full(d), 1, "P", 60 + i as u64),
            );
        }
        let all = s.runs(None).unwrap();
        assert_eq!(all.len(), 4, "{}", db.label);
        let ids = |rows: &[store::AuditRow]| -> Vec<String> {
            rows.iter().map(|r| r.run_id.clone()).collect()
        };
        let page = |q: RunsQuery| s.runs_page(&q).unwrap();
        assert_eq!(
            ids(&page(RunsQuery {
                limit: 2,
                ..RunsQuery::default()
            })),
            ids(&all[..2]),
            "the newest two, newest first: {}",
            db.label
        );
        assert_eq!(ids(&page(RunsQuery::default())), ids(&all));
        let of_date = page(RunsQuery {
            date: Some(date("2024-03-21")),
            limit: 1,
            ..RunsQuery::default()
        });
        assert_eq!(ids(&of_date), ids(&all[1..2]), "{}", db.label);
        let today = chrono::Utc::now().date_naive();
        let since = |day| {
            page(RunsQuery {
                since: Some(day),
                ..RunsQuery::default()
            })
            .len()
        };
        assert_eq!(since(today.pred_opt().unwrap()), 4, "{}", db.label);
        assert_eq!(since(today.succ_opt().unwrap()), 0, "{}", db.label);
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn postgres_sessions_carry_the_application_name() {
    let Some(base) = pg_base_url() else { return };
    let (url, _guard) = fresh_pg(&base);
    let name = format!("reingest test {}", uuid::Uuid::new_v4().simple());
    let config = StoreConfig {
        application_name: name.clone(),
        ..StoreConfig::default()
    };
    let store = DieselStore::connect(&url, config).unwrap();
    store.migrate().unwrap();
    // The swap holds a pooled connection inside its transaction while the hook asks the
    // server, from another connection, what the sessions on this database call themselves.
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut hooks = SumHooks::new(date("2024-03-21"));
    let (seen_in_hook, url_in_hook) = (seen.clone(), url.clone());
    hooks.on_derive = Some(Box::new(move || {
        let mut raw = Raw::open(&url_in_hook);
        *seen_in_hook.lock().unwrap() = raw.strings(
            "SELECT application_name || ' / ' || state AS v FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid() \
             AND backend_type = 'client backend'",
        );
    }));
    let d = date("2024-03-21");
    let out = store
        .swap(
            plan(d, full(d), gen_records(d, full(d), 1, "N", 3)),
            &mut hooks,
        )
        .unwrap();
    assert!(out.committed);
    let seen: Vec<String> = seen.lock().unwrap().iter().flatten().cloned().collect();
    assert!(
        seen.contains(&format!("{name} / idle in transaction")),
        "the store's session in pg_stat_activity: {seen:?}"
    );
    assert!(
        seen.iter().all(|s| s.starts_with("reingest")),
        "every session of the store is named: {seen:?}"
    );
}

#[test]
fn different_dates_swap_concurrently_on_postgres() {
    let Some(base) = pg_base_url() else { return };
    let (url, _guard) = fresh_pg(&base);
    let store = DieselStore::connect(&url, StoreConfig::default()).unwrap();
    store.migrate().unwrap();
    // A swap of 2024-03-21 stops inside its transaction (holding its date's lock and its
    // year's rollup lock); a swap of a date in another year completes meanwhile.
    let d1 = date("2024-03-21");
    let (entered_tx, entered_rx) = mpsc::channel::<()>();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = std::sync::Mutex::new(release_rx);
    let blocked_store = store.clone();
    let blocked = std::thread::spawn(move || {
        let mut hooks = SumHooks::new(d1);
        hooks.on_derive = Some(Box::new(move || {
            entered_tx.send(()).unwrap();
            let _ = release_rx
                .lock()
                .unwrap()
                .recv_timeout(Duration::from_secs(60));
        }));
        blocked_store
            .swap(
                plan(d1, full(d1), gen_records(d1, full(d1), 2, "C", 17)),
                &mut hooks,
            )
            .unwrap()
    });
    entered_rx.recv_timeout(Duration::from_secs(60)).unwrap();
    let d2 = date("2023-03-21");
    let out = swap(&store, d2, full(d2), gen_records(d2, full(d2), 2, "D", 18));
    assert!(
        out.committed,
        "another date committed while 2024-03-21 was locked"
    );
    release_tx.send(()).unwrap();
    assert!(blocked.join().unwrap().committed);
    assert_eq!(store.day_state(d1).unwrap().records.len(), 96);
}

#[test]
fn concurrent_swaps_of_one_month_keep_rollups_consistent() {
    fn check(db: &TestDb) {
        let days = [
            "2024-03-01",
            "2024-03-02",
            "2024-03-03",
            "2024-03-04",
            "2024-04-01",
            "2024-04-02",
        ];
        let barrier = Arc::new(Barrier::new(days.len()));
        let handles: Vec<_> = days
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let d = date(s);
                let store = db.store.clone();
                let barrier = barrier.clone();
                std::thread::spawn(move || {
                    let records = gen_records(d, full(d), 3, "M", 40 + i as u64);
                    barrier.wait();
                    swap(&store, d, full(d), records);
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap();
        }
        let state = db.store.day_state(date("2024-03-02")).unwrap();
        let month_sum: Decimal = state.month_dailies.iter().map(|d| d.total_payment).sum();
        assert_eq!(state.month_dailies.len(), 4);
        assert_eq!(
            state.monthly.clone().unwrap().total_payment,
            month_sum,
            "{}",
            db.label
        );
        let year_sum: Decimal = state.year_monthlies.iter().map(|m| m.total_payment).sum();
        assert_eq!(state.year_monthlies.len(), 2);
        assert_eq!(
            state.yearly.clone().unwrap().total_payment,
            year_sum,
            "{}",
            db.label
        );
        let btc_month: Decimal = state
            .month_bitcoin_dailies
            .iter()
            .filter(|s| s.miner_model == "S9")
            .map(|s| s.bitcoin_mined)
            .sum();
        let stored = state
            .bitcoin_summaries
            .iter()
            .find(|s| s.miner_model == "S9" && matches!(s.period, SummaryPeriod::Month(_)))
            .unwrap();
        assert_eq!(stored.bitcoin_mined, btc_month, "{}", db.label);
        assert_eq!(
            state.bitcoin_summaries.len(),
            6,
            "one row per key and model"
        );
    }
    for db in backends() {
        check(&db);
    }
}

#[test]
fn credentials_never_appear_in_errors() {
    let err = DieselStore::connect("postgres://u:secret@127.0.0.1:1/x", StoreConfig::default())
        .unwrap_err();
    let text = err.to_string();
    assert!(!text.contains("secret"), "{text}");
    assert!(text.contains("u:***@127.0.0.1"), "{text}");
    assert!(
        matches!(err, StoreError::ConnectionRefused { .. }),
        "{err:?}"
    );
    assert!(!format!("{err:?}").contains("secret"));
    let err = DieselStore::connect("mysql://u:pw@h/db", StoreConfig::default()).unwrap_err();
    assert!(matches!(err, StoreError::InvalidUrl { .. }));
    assert!(!err.to_string().contains("pw@"), "{err}");
}

#[test]
fn migrations_are_idempotent_and_in_memory_sqlite_works() {
    for db in backends() {
        db.store.migrate().unwrap();
        let again = DieselStore::connect(&db.url, StoreConfig::default()).unwrap();
        again.migrate().unwrap();
        assert!(again.runs(None).unwrap().is_empty());
    }
    let mem = DieselStore::open("sqlite::memory:").unwrap();
    let d = date("2024-10-27");
    swap(&mem, d, full(d), gen_records(d, full(d), 1, "M", 18));
    assert_eq!(mem.day_state(d).unwrap().records.len(), 50);
}

#[test]
fn postgres_migration_one_is_exactly_the_platform_schema() {
    let shared = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/platform-schema.sql"
    );
    let Ok(platform) = std::fs::read_to_string(shared) else {
        eprintln!("skipped: ../shared not found");
        return;
    };
    let ours = include_str!("../migrations/postgres/2024-01-01-000001_platform_schema/up.sql");
    assert_eq!(ours, platform);
}

/// The crash test's child: starts a swap whose derive writes a marker and blocks forever.
fn crash_child(url: &str, marker: &str) {
    let store = DieselStore::connect(url, StoreConfig::default()).unwrap();
    let d = date("2024-03-21");
    let marker = marker.to_owned();
    let mut hooks = SumHooks::new(d);
    hooks.on_derive = Some(Box::new(move || {
        std::fs::write(&marker, b"in the transaction").unwrap();
        loop {
            std::thread::park();
        }
    }));
    let _ = store.swap(
        plan(d, full(d), gen_records(d, full(d), 5, "KILLED", 19)),
        &mut hooks,
    );
    unreachable!("the swap never returns: the parent kills this process");
}

#[test]
fn a_process_killed_mid_swap_leaves_every_row() {
    if let (Ok(url), Ok(marker)) = (
        std::env::var("REINGEST_CRASH_CHILD_URL"),
        std::env::var("REINGEST_CRASH_MARKER"),
    ) {
        crash_child(&url, &marker);
        return;
    }
    for db in backends() {
        let d = date("2024-03-21");
        let original = gen_records(d, full(d), 2, "A", 20);
        swap(&db.store, d, full(d), original.clone());
        let before = dump(&db.url);
        let dir = tempfile::tempdir().unwrap();
        let marker = dir.path().join("marker");
        let mut child = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "a_process_killed_mid_swap_leaves_every_row",
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env("REINGEST_CRASH_CHILD_URL", &db.url)
            .env("REINGEST_CRASH_MARKER", &marker)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(120);
        while !marker.exists() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("{}: the child exited early: {status}", db.label);
            }
            assert!(
                Instant::now() < deadline,
                "{}: the child never reached derive",
                db.label
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();

        assert_eq!(dump(&db.url), before, "{}", db.label);
        let store = DieselStore::connect(&db.url, StoreConfig::default()).unwrap();
        assert_eq!(store.day_state(d).unwrap().records, original);
        // The killed run's row says `running` until the next run of the date takes the lock.
        let killed = store.runs(Some(d)).unwrap()[0].clone();
        assert_eq!(killed.status, RunStatus::Running);
        swap(&store, d, full(d), original.clone());
        let runs = store.runs(Some(d)).unwrap();
        let killed = runs.iter().find(|r| r.run_id == killed.run_id).unwrap();
        assert_eq!(killed.status, RunStatus::Interrupted, "{}", db.label);
    }
}

#[test]
fn summary_periods_cover_day_month_and_year() {
    for db in backends() {
        let d = date("2024-12-31");
        swap(&db.store, d, full(d), gen_records(d, full(d), 1, "Y", 21));
        let state = db.store.day_state(d).unwrap();
        let kinds: Vec<_> = state.bitcoin_summaries.iter().map(|s| s.period).collect();
        assert!(kinds.contains(&SummaryPeriod::Day(d)));
        assert!(kinds.contains(&SummaryPeriod::Month(d.year_month())));
        assert!(kinds.contains(&SummaryPeriod::Year(2024)));
        assert_eq!(state.year_monthlies.len(), 1);
        assert_eq!(
            state.year_monthlies[0].total_payment,
            state.daily.unwrap().total_payment
        );
        assert!(
            state.records.iter().map(|r| r.payment).sum::<Decimal>()
                == state.yearly.unwrap().total_payment
        );
    }
}

#[test]
fn a_stored_decimal_that_does_not_fit_is_reported_not_rounded() {
    fn check(db: &TestDb) {
        let d = date("2024-03-21");
        swap(&db.store, d, full(d), gen_records(d, full(d), 1, "A", 8));
        Raw::open(&db.url).exec(
            "UPDATE curtailment_records SET volume = '-1.00000000000000000000000000000001' \
             WHERE id = (SELECT MIN(id) FROM curtailment_records)",
        );
        let err = db.store.day_state(d).unwrap_err();
        match &err {
            StoreError::CorruptValue { table, column, .. } => {
                assert_eq!(
                    (*table, *column),
                    ("curtailment_records", "volume"),
                    "{}",
                    db.label
                );
            }
            other => panic!("{}: expected CorruptValue, got {other}", db.label),
        }
        assert!(err.to_string().contains("28-digit"), "{err}");
    }
    for db in backends() {
        check(&db);
    }
}

/// Counts the statements the connections of one PostgreSQL test database send, through
/// diesel's default instrumentation (every connection established while it is set gets a
/// counter; only those to the database under test count).
mod statement_count {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Mutex;

    use diesel::connection::{Instrumentation, InstrumentationEvent};

    /// The path (`/name`) of the database whose statements count.
    pub static COUNTED_DB: Mutex<Option<String>> = Mutex::new(None);
    /// Statements started on connections to that database.
    pub static STATEMENTS: AtomicUsize = AtomicUsize::new(0);

    struct Counter {
        counted: bool,
    }

    impl Instrumentation for Counter {
        fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
            match event {
                InstrumentationEvent::StartEstablishConnection { url, .. } => {
                    self.counted = COUNTED_DB
                        .lock()
                        .unwrap()
                        .as_deref()
                        .is_some_and(|db| url.ends_with(db));
                }
                InstrumentationEvent::StartQuery { .. } if self.counted => {
                    STATEMENTS.fetch_add(1, Ordering::SeqCst);
                }
                _ => {}
            }
        }
    }

    /// The default instrumentation of every new connection.
    pub fn counter() -> Option<Box<dyn Instrumentation>> {
        Some(Box::new(Counter { counted: false }))
    }
}

#[test]
fn one_swap_of_a_stormy_day_sends_at_most_60_statements_to_postgres() {
    use statement_count::{counter, COUNTED_DB, STATEMENTS};
    use std::sync::atomic::Ordering;
    let Some(base) = pg_base_url() else {
        eprintln!("skipped: statement count needs REINGEST_TEST_DATABASE_URL (PostgreSQL)");
        return;
    };
    let (url, _guard) = fresh_pg(&base);
    let path = url::Url::parse(&url).unwrap().path().to_owned();
    *COUNTED_DB.lock().unwrap() = Some(path);
    diesel::connection::set_default_instrumentation(counter).unwrap();
    let store = DieselStore::connect(&url, StoreConfig::default()).unwrap();
    store.migrate().unwrap();
    let d = date("2024-12-07");
    // The day already holds a run's rows, so the swap backs them up and replaces them.
    swap(&store, d, full(d), gen_records(d, full(d), 24, "A", 7));
    // The stormy day: 1,152 records, 2,304 bitcoin rows.
    let records = gen_records(d, full(d), 24, "A", 8);
    STATEMENTS.store(0, Ordering::SeqCst);
    swap(&store, d, full(d), records);
    let n = STATEMENTS.load(Ordering::SeqCst);
    eprintln!("one swap of 1,152 records sent {n} statements to PostgreSQL");
    assert!(n <= 60, "{n} statements for one swap (at most 60)");
}

#[test]
fn a_range_read_gives_each_date_what_its_own_read_gives() {
    for db in backends() {
        let s = &db.store;
        // Across a month and a year boundary, with a gap, a partial day and a re-run.
        let days = ["2024-12-30", "2025-01-01", "2025-01-02"];
        for (i, d) in days.iter().enumerate() {
            let d = date(d);
            let seed = u64::try_from(i).unwrap() + 40;
            swap(s, d, full(d), gen_records(d, full(d), 2, "R", seed));
        }
        let d = date("2025-01-02");
        let part = PeriodRange::parse("3-5", d).unwrap();
        swap(s, d, part, gen_records(d, part, 1, "S", 50));
        let (from, to) = (date("2024-12-29"), date("2025-01-03"));
        let range = s.day_states(from, to).unwrap();
        assert_eq!(range.len(), 6, "{}", db.label);
        for (d, state) in &range {
            assert_eq!(
                serde_json::to_value(state).unwrap(),
                serde_json::to_value(s.day_state(*d).unwrap()).unwrap(),
                "{} {d}",
                db.label
            );
        }
        // On PostgreSQL a pool of two or more reads on two connections in one snapshot; a
        // pool of one sends the same statements on its one connection: the same states.
        let alone = DieselStore::connect(
            &db.url,
            StoreConfig {
                pool_size: 1,
                ..StoreConfig::default()
            },
        )
        .unwrap();
        assert_eq!(
            serde_json::to_value(alone.day_states(from, to).unwrap()).unwrap(),
            serde_json::to_value(&range).unwrap(),
            "{}: one connection against two",
            db.label
        );
        let runs = s.runs_between(from, to).unwrap();
        assert_eq!(runs.len(), 4, "{}", db.label);
        let mut per_date = Vec::new();
        for d in from.through(to) {
            per_date.extend(s.runs(Some(d)).unwrap());
        }
        let ids = |r: &[store::AuditRow]| {
            let mut v: Vec<String> = r.iter().map(|r| r.run_id.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(ids(&runs), ids(&per_date), "{}", db.label);
        assert_eq!(runs[0].settlement_date, d, "newest first");
    }
}
