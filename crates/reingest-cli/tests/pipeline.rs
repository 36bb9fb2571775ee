//! End-to-end tests of the pipeline library against the in-process simulator, on every
//! backend: runs, clock-change days, partial and dry runs, verification failures, fetch
//! failures, restore, drift, ranges and reconciliation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    backends, canonical, d, expected_records, fingerprint, pipeline, settings, sim, sql, SEED,
};
use elexon_sim::{Fault, FaultRule};
use reingest::ops::range::{RangeOptions, ReconcileOptions};
use reingest::{Clock, Expectations, NoProgress, RunOptions};
use rust_decimal::Decimal;
use settlement_model::{
    CurtailmentRecord, DayTotals, DifficultyEntry, DifficultyOrigin, Halving, PeriodRange,
    RegistryOrigin, Side, SummaryPeriod,
};
use store::prelude::*;
use store::{DayState, RunStatus};

fn state(p: &reingest::app::StandardPipeline, date: &str) -> DayState {
    p.store().day_state(d(date)).unwrap()
}

/// A clock in 2035, so the simulator's future dates (past the next halving, past the feed's
/// newest adjustment) are days that have ended.
fn in_2035() -> Clock {
    Clock::Fixed(chrono::DateTime::from_timestamp(2_051_222_400, 0).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_day_is_reingested_verified_and_equal_to_the_source() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-03-21");
        let report = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(
            report.verification.ok,
            "{}: {:?}",
            db.name, report.verification
        );
        assert!(report.committed);
        assert_eq!(report.periods_expected, 48);
        assert_eq!(report.periods_fetched, 48);
        let expected = expected_records(date, 0);
        assert!(!expected.is_empty(), "the simulator day has curtailment");
        let totals = DayTotals::from_records(&expected).unwrap();
        assert_eq!(report.records, totals.records);
        assert_eq!(report.energy_mwh, totals.energy_mwh);
        assert_eq!(report.payment_gbp, totals.payment_gbp);
        assert_eq!(
            report.bitcoin.keys().cloned().collect::<Vec<_>>(),
            vec!["M20S", "S19J_PRO", "S9"]
        );
        let s = state(&p, "2024-03-21");
        assert_eq!(
            canonical(s.records.clone()),
            canonical(expected),
            "{}",
            db.name
        );
        let daily = s.daily.clone().unwrap();
        assert_eq!(daily.total_curtailed_energy, totals.energy_mwh);
        assert_eq!(daily.total_payment, totals.payment_gbp);
        assert_eq!(s.bitcoin_rows.len(), s.records.len() * 3);
        // The --json document's contract.
        let json = serde_json::to_value(&report).unwrap();
        for key in [
            "date",
            "periods_expected",
            "periods_fetched",
            "records",
            "energy_mwh",
            "payment_gbp",
            "bitcoin",
            "verification",
            "run_id",
        ] {
            assert!(json.get(key).is_some(), "missing {key}");
        }
        assert_eq!(
            json["energy_mwh"],
            serde_json::json!(totals.energy_mwh.to_string())
        );
        assert!(json["bitcoin"]["S19J_PRO"].is_string());
        assert_eq!(json["verification"]["ok"], serde_json::json!(true));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_a_date_twice_leaves_identical_rows() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        p.run(&RunOptions::new(d("2024-01-15")), &NoProgress)
            .await
            .unwrap();
        let first = fingerprint(&state(&p, "2024-01-15"));
        let again = p
            .run(&RunOptions::new(d("2024-01-15")), &NoProgress)
            .await
            .unwrap();
        assert!(again.verification.ok);
        assert!(again.per_period.iter().all(|c| !c.changed));
        assert_eq!(first, fingerprint(&state(&p, "2024-01-15")), "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clock_change_days_reingest_completely() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        for (date, n) in [("2024-03-31", 46usize), ("2024-10-27", 50)] {
            let r = p.run(&RunOptions::new(d(date)), &NoProgress).await.unwrap();
            assert!(r.verification.ok, "{date}: {:?}", r.verification);
            assert_eq!((r.periods_expected, r.periods_fetched), (n, n));
            let s = state(&p, date);
            assert_eq!(s.fetch_log.len(), n * 2);
            let max = s
                .records
                .iter()
                .map(|r| r.settlement_period)
                .max()
                .unwrap_or(0);
            assert!(usize::from(max) <= n);
            assert_eq!(
                canonical(s.records),
                canonical(expected_records(d(date), 0))
            );
            let v = p.verify(d(date), true, &NoProgress).await.unwrap();
            assert!(v.verification.ok, "{date}: {:?}", v.verification);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partial_run_replaces_only_its_periods_and_keeps_summaries_consistent() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-02-10");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let before = state(&p, "2024-02-10");
        // The source changes (a later calculation run); reingest periods 1-4 only.
        sim.set_revision(date, 1);
        let mut opts = RunOptions::new(date);
        opts.periods = Some(PeriodRange::parse("1-4", date).unwrap());
        let r = p.run(&opts, &NoProgress).await.unwrap();
        assert!(r.verification.ok, "{:?}", r.verification);
        assert_eq!(r.periods_expected, 4);
        let after = state(&p, "2024-02-10");
        let revised = expected_records(date, 1);
        let keep = |rs: &[settlement_model::CurtailmentRecord], inside: bool| {
            canonical(
                rs.iter()
                    .filter(|r| (r.settlement_period <= 4) == inside)
                    .cloned()
                    .collect(),
            )
        };
        assert_eq!(keep(&after.records, false), keep(&before.records, false));
        assert_eq!(keep(&after.records, true), keep(&revised, true));
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert!(v.verification.ok, "{}: {:?}", db.name, v.verification);
        sim.set_revision(date, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_writes_nothing_and_reports_per_period_changes() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-03-21");
        let mut opts = RunOptions::new(date);
        opts.dry_run = true;
        let r = p.run(&opts, &NoProgress).await.unwrap();
        assert!(r.dry_run && !r.committed);
        assert_eq!(r.per_period.len(), 48);
        assert!(r.per_period.iter().any(|c| c.changed));
        assert_eq!(
            r.records,
            DayTotals::from_records(&expected_records(date, 0))
                .unwrap()
                .records
        );
        let s = state(&p, "2024-03-21");
        assert!(s.records.is_empty() && s.daily.is_none() && s.fetch_log.is_empty());
        assert!(
            p.store().runs(Some(date)).unwrap().is_empty(),
            "a dry run is not audited as a run"
        );
    }
}

/// JSON is the default wire format; XML stays fully supported: the same day fetched in
/// either stores identical rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_and_xml_runs_of_a_day_store_identical_rows() {
    let sim = sim().await;
    for db in backends() {
        let json = pipeline(&sim, &db).await;
        assert_eq!(json.source().config().format, elexon_client::Format::Json);
        let r = json
            .run(&RunOptions::new(d("2024-10-27")), &NoProgress)
            .await
            .unwrap();
        assert!(r.verification.ok && r.records > 0);
        let from_json = fingerprint(&state(&json, "2024-10-27"));
        let mut xml = settings(&sim, &db);
        xml.format = elexon_client::Format::Xml;
        let xml = xml.build().await.unwrap();
        let again = xml
            .run(&RunOptions::new(d("2024-10-27")), &NoProgress)
            .await
            .unwrap();
        assert!(again.verification.ok);
        assert!(again.per_period.iter().all(|c| !c.changed), "{}", db.name);
        assert_eq!(
            from_json,
            fingerprint(&state(&xml, "2024-10-27")),
            "{}",
            db.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_expectation_rolls_back_and_force_commits() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-03-22");
        let first = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let before = fingerprint(&state(&p, "2024-03-22"));
        sim.set_revision(date, 2);
        let mut opts = RunOptions::new(date);
        opts.expectations = Expectations {
            energy_mwh: Some(first.energy_mwh + Decimal::ONE),
            ..Expectations::default()
        };
        let r = p.run(&opts, &NoProgress).await.unwrap();
        assert!(!r.verification.ok && !r.committed);
        assert_eq!(r.exit_code(), 1);
        assert_eq!(r.verification.failed(), vec!["expected_energy"]);
        assert_eq!(
            before,
            fingerprint(&state(&p, "2024-03-22")),
            "{}: rolled back",
            db.name
        );
        let runs = p.store().runs(Some(date)).unwrap();
        assert_eq!(runs[0].status, RunStatus::RolledBack);
        opts.force = true;
        let forced = p.run(&opts, &NoProgress).await.unwrap();
        assert!(forced.committed && forced.forced && !forced.verification.ok);
        assert_ne!(before, fingerprint(&state(&p, "2024-03-22")));
        sim.set_revision(date, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_back_exactly_the_rows_a_run_replaced() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-05-05");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let original = fingerprint(&state(&p, "2024-05-05"));
        sim.set_revision(date, 1);
        let second = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(second.committed);
        assert_ne!(original, fingerprint(&state(&p, "2024-05-05")));
        let restored = p.restore(&second.run_id, false).await.unwrap();
        assert!(restored.committed);
        assert_eq!(
            original,
            fingerprint(&state(&p, "2024-05-05")),
            "{}",
            db.name
        );
        let kinds: Vec<store::RunKind> = p
            .store()
            .runs(Some(date))
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds[0], store::RunKind::Restore);
        assert!(p.restore("no-such-run", false).await.is_err());
        sim.set_revision(date, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_period_that_never_recovers_fails_the_run_before_any_write() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-06-01");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let before = fingerprint(&state(&p, "2024-06-01"));
        sim.set_revision(date, 1);
        sim.add_fault(FaultRule::new(Fault::ServerError).date(date).period(17));
        let err = p
            .run(&RunOptions::new(date), &NoProgress)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            reingest::error::describe(&err).contains("period 17"),
            "{err}"
        );
        assert_eq!(before, fingerprint(&state(&p, "2024-06-01")), "{}", db.name);
        assert_eq!(
            p.store().runs(Some(date)).unwrap()[0].status,
            RunStatus::Failed
        );
        sim.clear_faults();
        sim.set_revision(date, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_period_fails_unless_allowed_and_verification_says_so() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-07-07");
        sim.add_fault(FaultRule::new(Fault::NotFound).date(date).period(30));
        let err = p
            .run(&RunOptions::new(date), &NoProgress)
            .await
            .unwrap_err();
        assert!(reingest::error::describe(&err).contains("404"), "{err}");
        let mut opts = RunOptions::new(date);
        opts.allow_missing_periods = true;
        let r = p.run(&opts, &NoProgress).await.unwrap();
        assert!(r.committed && r.verification.ok, "{:?}", r.verification);
        assert_eq!(r.periods_missing, vec![30]);
        let check = r
            .verification
            .checks
            .iter()
            .find(|c| c.name == "periods_fetched")
            .unwrap();
        assert!(
            check
                .detail
                .contains("not published at the source (404, or both stacks empty): 30"),
            "{}",
            check.detail
        );
        // Standalone verification reports the gap.
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert!(!v.verification.ok);
        assert_eq!(v.verification.failed(), vec!["periods_fetched"]);
        sim.clear_faults();
        let _ = db;
    }
}

/// Unpublished is not zero: a period whose two stacks are both empty is not published, so
/// a day the API answers with `{"data": []}` everywhere is refused, never stored as a
/// verified day without curtailment; allowed, it is stored as incomplete. A period with
/// one empty stack is published (the other side has items).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_of_empty_stacks_is_unpublished_not_zero() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-07-08");
        sim.add_fault(FaultRule::new(Fault::EmptyStack).date(date));
        let err = p
            .run(&RunOptions::new(date), &NoProgress)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            reingest::error::describe(&err)
                .contains("2024-07-08 periods 1-48: not published by the API (both stacks empty)"),
            "{err}"
        );
        let nothing = state(&p, "2024-07-08");
        assert!(
            nothing.records.is_empty() && nothing.daily.is_none(),
            "{}",
            db.name
        );

        let mut opts = RunOptions::new(date);
        opts.allow_missing_periods = true;
        let r = p.run(&opts, &NoProgress).await.unwrap();
        assert_eq!(r.periods_missing, (1..=48).collect::<Vec<u8>>());
        assert_eq!(r.periods_fetched, 0);
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert!(!v.verification.ok, "{:?}", v.verification);
        assert_eq!(v.verification.failed(), vec!["periods_fetched"]);
        assert_eq!(v.exit_code(), 1);
        sim.clear_faults();

        // One side empty is a published period: the bid stack alone is the day.
        let date = d("2024-07-09");
        sim.add_fault(
            FaultRule::new(Fault::EmptyStack)
                .date(date)
                .side(Side::Offer),
        );
        let r = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(r.committed && r.verification.ok, "{:?}", r.verification);
        assert!(r.periods_missing.is_empty());
        let bids_only: Vec<_> = expected_records(date, 0)
            .into_iter()
            .filter(|r| r.side == Side::Bid)
            .collect();
        assert_eq!(r.records, bids_only.len() as u64, "{}", db.name);
        sim.clear_faults();
    }
}

/// A date after today (Europe/London) is refused before any request; of today, only the
/// periods that have ended may be asked for.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dates_and_periods_not_ended_are_refused_before_any_request() {
    let sim = sim().await;
    let db = common::sqlite();
    // 2024-07-18 10:15 UTC is 11:15 in London (BST): periods 1-22 have ended.
    let now = chrono::DateTime::from_timestamp(1_721_297_700, 0).unwrap();
    let p = pipeline(&sim, &db).await.with_clock(Clock::Fixed(now));
    let before = sim.stats().requests_of(elexon_sim::PathKind::Stack);
    let err = p
        .run(&RunOptions::new(d("2024-07-19")), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        reingest::error::describe(&err).contains("2024-07-19 is after today"),
        "{err}"
    );
    let err = p
        .run(&RunOptions::new(d("2024-07-18")), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        reingest::error::describe(&err).contains("periods 23-48 of 2024-07-18 have not ended"),
        "{err}"
    );
    let err = p
        .verify(d("2024-07-19"), true, &NoProgress)
        .await
        .unwrap_err();
    assert!(
        reingest::error::describe(&err).contains("after today"),
        "{err}"
    );
    assert_eq!(
        sim.stats().requests_of(elexon_sim::PathKind::Stack),
        before,
        "no request for a date or period that has not ended"
    );
    let mut ended = RunOptions::new(d("2024-07-18"));
    ended.periods = Some(PeriodRange::parse("1-22", d("2024-07-18")).unwrap());
    let r = p.run(&ended, &NoProgress).await.unwrap();
    assert!(r.committed && r.verification.ok, "{:?}", r.verification);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_against_the_api_reports_drift_per_period() {
    let sim = sim().await;
    let db = common::sqlite();
    let p = pipeline(&sim, &db).await;
    let date = d("2024-11-11");
    p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let v = p.verify(date, true, &NoProgress).await.unwrap();
    assert!(v.verification.ok && v.drift.is_empty());
    sim.set_revision(date, 1);
    let v = p.verify(date, true, &NoProgress).await.unwrap();
    assert!(!v.verification.ok);
    assert_eq!(v.verification.failed(), vec!["matches_api"]);
    assert!(!v.drift.is_empty());
    assert_eq!(v.exit_code(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_isolates_a_failing_date_and_resumes() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        sim.add_fault(
            FaultRule::new(Fault::ServerError)
                .date(d("2024-01-03"))
                .period(5),
        );
        let opts = RangeOptions::new(d("2024-01-01"), d("2024-01-05"), 3, Some("backfill".into()))
            .unwrap();
        let r = p.range(&opts, &NoProgress).await.unwrap();
        let statuses: Vec<&str> = r.dates.iter().map(|o| o.status.as_str()).collect();
        assert_eq!(
            statuses,
            vec!["ok", "ok", "error", "ok", "ok"],
            "{}",
            db.name
        );
        assert_eq!(r.exit_code(), 2);
        sim.clear_faults();
        let resumed = p
            .range(&opts.clone().resume(true), &NoProgress)
            .await
            .unwrap();
        let statuses: Vec<&str> = resumed.dates.iter().map(|o| o.status.as_str()).collect();
        assert_eq!(
            statuses,
            vec!["skipped", "skipped", "ok", "skipped", "skipped"]
        );
        assert!(resumed.all_ok());
    }
}

/// `--resume` reads the audit log's `range_tag` column: a run whose reason merely contains
/// the range's tag (typed by an operator, or written before the column existed) is not a date
/// the range did.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_skips_by_the_range_column_not_by_text_in_the_reason() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let opts = RangeOptions::new(d("2024-02-01"), d("2024-02-02"), 2, None)
            .unwrap()
            .resume(true);
        let mut by_hand = RunOptions::new(d("2024-02-01"));
        by_hand.reason = Some(format!("by hand [range {}]", opts.tag()));
        let r = p.run(&by_hand, &NoProgress).await.unwrap();
        assert!(r.committed, "{}", db.name);

        let first = p.range(&opts, &NoProgress).await.unwrap();
        let statuses: Vec<&str> = first.dates.iter().map(|o| o.status.as_str()).collect();
        assert_eq!(statuses, vec!["ok", "ok"], "{}", db.name);
        let run = &p.store().runs(Some(d("2024-02-01"))).unwrap()[0];
        assert_eq!(run.range_tag.as_deref(), Some("2024-02-01..2024-02-02"));
        assert_eq!(
            run.reason.as_deref(),
            Some("[range 2024-02-01..2024-02-02]"),
            "the reason still says so, for people"
        );

        let again = p.range(&opts, &NoProgress).await.unwrap();
        let statuses: Vec<&str> = again.dates.iter().map(|o| o.status.as_str()).collect();
        assert_eq!(statuses, vec!["skipped", "skipped"], "{}", db.name);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconcile_finds_missing_dates_and_fix_repairs_them() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        p.run(&RunOptions::new(d("2024-09-01")), &NoProgress)
            .await
            .unwrap();
        let opts = ReconcileOptions {
            from: d("2024-09-01"),
            to: d("2024-09-02"),
            against_api: false,
            fix: false,
            threshold_energy: Decimal::ONE,
            threshold_payment: Decimal::TEN,
            jobs: 2,
        };
        let r = p.reconcile(&opts, &NoProgress).await.unwrap();
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].date, d("2024-09-02"));
        assert!(r.findings[0].reasons[0].starts_with("periods_fetched"));
        assert_eq!(r.exit_code(), 1);
        let fixed = p
            .reconcile(
                &ReconcileOptions {
                    fix: true,
                    ..opts.clone()
                },
                &NoProgress,
            )
            .await
            .unwrap();
        assert_eq!(fixed.exit_code(), 0);
        let clean = p.reconcile(&opts, &NoProgress).await.unwrap();
        assert!(clean.findings.is_empty(), "{:?}", clean.findings);
        // Drift from the API beyond the threshold is a finding too.
        sim.set_revision(d("2024-09-01"), 3);
        let zero = ReconcileOptions {
            against_api: true,
            threshold_energy: Decimal::ZERO,
            threshold_payment: Decimal::ZERO,
            ..opts.clone()
        };
        let drift = p.reconcile(&zero, &NoProgress).await.unwrap();
        assert_eq!(drift.findings.len(), 1, "{:?}", drift.findings);
        assert!(drift.findings[0]
            .reasons
            .iter()
            .any(|r| r.starts_with("drift from the API")));
        sim.set_revision(d("2024-09-01"), 0);
        // A date that cannot be checked (its difficulty is past the feed) is reported with
        // its error, and the others still are: nothing stops at the first failure.
        let mixed = p
            .reconcile(
                &ReconcileOptions {
                    from: d("2031-06-01"),
                    to: d("2031-06-02"),
                    ..opts.clone()
                },
                &NoProgress,
            )
            .await
            .unwrap();
        assert_eq!(mixed.findings.len(), 2, "{:?}", mixed.findings);
        assert!(mixed.findings.iter().all(|f| f.error.is_some()));
        assert_eq!(mixed.exit_code(), 2);
        let month = p.store().day_state(d("2024-09-01")).unwrap();
        assert!(month
            .bitcoin_summaries
            .iter()
            .any(|s| matches!(s.period, SummaryPeriod::Month(_))));
    }
}

/// The records of periods `lo..=hi`, in canonical order.
fn in_periods(records: &[CurtailmentRecord], lo: u8, hi: u8) -> Vec<CurtailmentRecord> {
    canonical(
        records
            .iter()
            .filter(|r| (lo..=hi).contains(&r.settlement_period))
            .cloned()
            .collect(),
    )
}

fn periods(text: &str, date: &str) -> Option<PeriodRange> {
    Some(PeriodRange::parse(text, d(date)).unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_after_an_overlapping_later_run_is_refused_then_forced_and_verified() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-11-14");
        assert_ne!(
            in_periods(&expected_records(date, 0), 1, 8),
            in_periods(&expected_records(date, 2), 1, 8),
            "the revisions must differ for this test to mean anything"
        );
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        sim.set_revision(date, 1);
        let mut a = RunOptions::new(date);
        a.periods = periods("1-4", "2024-11-14");
        let run_a = p.run(&a, &NoProgress).await.unwrap();
        sim.set_revision(date, 2);
        let mut c = RunOptions::new(date);
        c.periods = periods("1-8", "2024-11-14");
        let run_c = p.run(&c, &NoProgress).await.unwrap();
        assert!(run_a.committed && run_c.committed);
        let before = fingerprint(&state(&p, "2024-11-14"));

        // Refused: a later run replaced periods of A's.
        let err = p.restore(&run_a.run_id, false).await.unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = reingest::error::describe(&err);
        assert!(text.contains(&run_c.run_id), "{text}");
        assert!(
            err.remedies().contains(&reingest::Remedy::ForceRestore {
                run_id: run_a.run_id.clone()
            }),
            "{:?}",
            err.remedies()
        );
        assert_eq!(before, fingerprint(&state(&p, "2024-11-14")), "{}", db.name);

        // Forced: A's periods hold what they held before A, the rest what they hold now.
        let r = p.restore(&run_a.run_id, true).await.unwrap();
        assert!(r.committed && r.verification.ok, "{:?}", r.verification);
        let s = state(&p, "2024-11-14");
        assert_eq!(
            in_periods(&s.records, 1, 4),
            in_periods(&expected_records(date, 0), 1, 4),
            "{}",
            db.name
        );
        assert_eq!(
            in_periods(&s.records, 5, 8),
            in_periods(&expected_records(date, 2), 5, 8)
        );
        assert_eq!(
            in_periods(&s.records, 9, 48),
            in_periods(&expected_records(date, 0), 9, 48)
        );
        assert_eq!(s.bitcoin_rows.len(), s.records.len() * 3);
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert!(v.verification.ok, "{:?}", v.verification);
        let runs = p.store().runs(Some(date)).unwrap();
        assert_eq!(
            (runs[0].kind.as_str(), runs[0].status.as_str()),
            ("restore", "committed")
        );
        sim.set_revision(date, 0);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_that_does_not_verify_changes_nothing_and_exits_1() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-11-15");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        sim.set_revision(date, 1);
        let second = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        // A backed-up record whose payment is not volume × price.
        sql(
            &db,
            &format!(
                "UPDATE backup_curtailment_records SET payment = '12345.678' \
                 WHERE run_id = '{}' AND backup_id = (SELECT MIN(backup_id) \
                 FROM backup_curtailment_records WHERE run_id = '{}')",
                second.run_id, second.run_id
            ),
        );
        let before = fingerprint(&state(&p, "2024-11-15"));
        let r = p.restore(&second.run_id, false).await.unwrap();
        assert!(!r.committed, "{}", db.name);
        assert_eq!(r.exit_code(), 1);
        assert_eq!(r.verification.failed(), vec!["payments_match_prices"]);
        assert_eq!(before, fingerprint(&state(&p, "2024-11-15")));
        sim.set_revision(date, 0);
    }
}

/// The simulator feed's difficulty in force on `date` (newest adjustment on or before it).
fn feed_difficulty_on(date: &str) -> (chrono::NaiveDate, u64, Decimal) {
    let day: chrono::NaiveDate = date.parse().unwrap();
    elexon_sim::data::difficulty_adjustments(SEED)
        .into_iter()
        .map(|(t, h, v, _)| {
            let on = chrono::DateTime::from_timestamp(t, 0).unwrap().date_naive();
            (on, h, v)
        })
        .rev()
        .find(|(on, _, _)| *on <= day)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_difficulty_is_synced_from_the_feed_or_the_run_stops_before_any_write() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let jan = DifficultyEntry::new("2024-01-01".parse().unwrap(), Decimal::from(7));
        p.store().upsert_difficulties(&[jan]).unwrap();
        let date = d("2024-12-07");

        // The feed is down: exit 2, nothing written, and the message says what to do.
        let mut down = settings(&sim, &db);
        down.difficulty_url = format!("{}/no-such-feed", sim.base_url());
        let offline = down.build().await.unwrap();
        let err = offline
            .run(&RunOptions::new(date), &NoProgress)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = reingest::error::describe(&err);
        assert!(
            text.contains("2024-01-01") && text.contains("the difficulty feed could not help"),
            "{text}"
        );
        assert!(
            err.remedies()
                .contains(&reingest::error::Remedy::SyncDifficultyFeed),
            "{:?}",
            err.remedies()
        );
        assert!(
            state(&offline, "2024-12-07").records.is_empty(),
            "{}",
            db.name
        );

        // The feed is up: the difficulty in force on the date is used, and recorded.
        let report = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let (on, _, want) = feed_difficulty_on("2024-12-07");
        assert_eq!(report.inputs.difficulty, want, "{}", db.name);
        assert_eq!(report.inputs.difficulty_date, Some(on));
        assert_eq!(report.inputs.origin, DifficultyOrigin::Feed);
        assert_eq!(report.inputs.subsidy.to_string(), "3.125");
        let audit = p.store().run(&report.run_id).unwrap().unwrap();
        assert_eq!(audit.inputs, Some(report.inputs));
        assert!(state(&p, "2024-12-07")
            .bitcoin_rows
            .iter()
            .all(|b| b.difficulty == want));

        // Months past the feed's newest adjustment: exit 2, nothing written.
        let far = d("2031-06-01");
        let later = pipeline(&sim, &db).await.with_clock(in_2035());
        let err = later
            .run(&RunOptions::new(far), &NoProgress)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(
            reingest::error::describe(&err).contains("no later adjustment"),
            "{err}"
        );
        assert!(state(&p, "2031-06-01").records.is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn past_an_unknown_halving_the_run_stops_until_its_day_is_data() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db)
            .await
            .with_difficulty_override(Decimal::from(400_000_000_000_000_u64))
            .with_clock(in_2035());
        let date = d("2029-06-01");
        let err = p
            .run(&RunOptions::new(date), &NoProgress)
            .await
            .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let text = reingest::error::describe(&err);
        assert!(text.contains("halving at block 1050000"), "{text}");
        assert!(state(&p, "2029-06-01").records.is_empty(), "{}", db.name);

        // Once the halving's day is known, the date is in epoch 5.
        let (day, height, _) = feed_difficulty_on("2028-12-31");
        assert!(
            height >= 1_050_000,
            "the simulator passes the halving by 2029"
        );
        let halving = Halving::new(1_050_000, day).unwrap();
        p.store().upsert_halving(halving, "test").unwrap();
        let report = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(report.verification.ok, "{:?}", report.verification);
        assert_eq!(report.inputs.subsidy.to_string(), "1.5625");
        assert_eq!(report.inputs.origin, DifficultyOrigin::Override);
    }
}

/// Within 1,100 days of the last known halving the subsidy needs no block heights; past that
/// bound, with no height that settles it (the feed unreachable), the run still stops.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_heights_the_subsidy_is_certain_only_within_the_bound() {
    let sim = sim().await;
    let db = common::sqlite();
    let mut offline = settings(&sim, &db);
    offline.difficulty_url = format!("{}/no-such-feed", sim.base_url());
    let p = offline
        .build()
        .await
        .unwrap()
        .with_difficulty_override(Decimal::from(100_000_000_000_000_u64))
        .with_clock(in_2035());
    let within = p
        .run(&RunOptions::new(d("2027-04-24")), &NoProgress)
        .await
        .unwrap();
    assert!(within.verification.ok);
    assert_eq!(within.inputs.subsidy.to_string(), "3.125");
    let err = p
        .run(&RunOptions::new(d("2027-04-25")), &NoProgress)
        .await
        .unwrap_err();
    assert_eq!(err.exit_code(), 2);
    assert!(
        reingest::error::describe(&err).contains("cannot be determined"),
        "{err}"
    );
    assert!(state(&p, "2027-04-25").records.is_empty());
}

/// Two keys of `model` with one bitcoin row each and different values.
fn two_single_rows(s: &DayState, model: &str) -> [(u8, String, Decimal); 2] {
    let mut count: std::collections::BTreeMap<(u8, &str), usize> = Default::default();
    for b in s.bitcoin_rows.iter().filter(|b| b.miner_model == model) {
        *count
            .entry((b.settlement_period, b.farm_id.as_str()))
            .or_default() += 1;
    }
    let singles: Vec<(u8, String, Decimal)> = s
        .bitcoin_rows
        .iter()
        .filter(|b| {
            b.miner_model == model && count[&(b.settlement_period, b.farm_id.as_str())] == 1
        })
        .map(|b| (b.settlement_period, b.farm_id.clone(), b.bitcoin_mined))
        .collect();
    let first = singles[0].clone();
    let second = singles.iter().find(|x| x.2 != first.2).cloned().unwrap();
    [first, second]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_recomputes_tampered_bitcoin_rows_and_payments() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-03-21");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let ok = p.verify(date, false, &NoProgress).await.unwrap();
        assert!(ok.verification.ok, "{:?}", ok.verification);
        for name in [
            "payments_match_prices",
            "bitcoin_rows_recomputed",
            "one_summary_row_per_key",
        ] {
            assert!(
                ok.verification.checks.iter().any(|c| c.name == name),
                "{name}"
            );
        }

        // Two S9 rows swap their values: every sum still adds up.
        let s = state(&p, "2024-03-21");
        let [a, b] = two_single_rows(&s, "S9");
        for ((period, farm, _), (_, _, value)) in [(&a, &b), (&b, &a)] {
            sql(
                &db,
                &format!(
                    "UPDATE historical_bitcoin_calculations SET bitcoin_mined = '{value}' \
                     WHERE settlement_date = '2024-03-21' AND settlement_period = {period} \
                     AND farm_id = '{farm}' AND miner_model = 'S9'"
                ),
            );
        }
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert_eq!(v.exit_code(), 1, "{}", db.name);
        assert_eq!(v.verification.failed(), vec!["bitcoin_rows_recomputed"]);
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();

        // One payment up £1, another down £1: the daily total is unchanged.
        let s = state(&p, "2024-03-21");
        let r0 = &s.records[0];
        let r1 = s
            .records
            .iter()
            .rev()
            .find(|r| r.farm_id != r0.farm_id)
            .unwrap();
        for (r, delta) in [(r0, Decimal::ONE), (r1, -Decimal::ONE)] {
            sql(
                &db,
                &format!(
                    "UPDATE curtailment_records SET payment = '{}' WHERE settlement_date = \
                     '2024-03-21' AND settlement_period = {} AND farm_id = '{}' AND volume = '{}'",
                    r.payment + delta,
                    r.settlement_period,
                    r.farm_id,
                    r.volume
                ),
            );
        }
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert_eq!(v.exit_code(), 1, "{}", db.name);
        assert_eq!(v.verification.failed(), vec!["payments_match_prices"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_api_registry_is_refreshed_once_but_an_imported_one_is_left_alone() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-03-23");
        p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let expected = canonical(expected_records(date, 0));
        let farm = expected[0].farm_id.clone();
        let all = p.store().bm_units().unwrap();
        let without: Vec<_> = all
            .iter()
            .filter(|u| u.elexon_bm_unit != farm)
            .cloned()
            .collect();
        let lacking = |origin| {
            p.store()
                .replace_bm_units(
                    &without,
                    origin,
                    settlement_model::RegistryCounts::default(),
                )
                .unwrap();
        };

        // Imported from a file: left as the operator made it, and the report says so.
        lacking(RegistryOrigin::File);
        let r = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(r.unclassified.iter().any(|u| u.id == farm), "{}", db.name);
        assert!(r
            .registry
            .as_deref()
            .unwrap()
            .contains("imported from a file"));
        assert_eq!(
            r.registry_notes[0].remedies(),
            [
                reingest::Remedy::ImportRegistry,
                reingest::Remedy::SyncRegistry
            ]
        );
        assert_eq!(p.store().bm_units().unwrap().len(), without.len());

        // From the API, refreshed within the day: not refreshed again.
        lacking(RegistryOrigin::Api);
        let r = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(r
            .registry
            .as_deref()
            .unwrap()
            .contains("at most once a day"));

        // From the API, a day old: refreshed, and the day processed with the fresh registry.
        sql(
            &db,
            "UPDATE bm_unit_registry SET refreshed_at = '2020-01-01T00:00:00.000000Z'",
        );
        let mut fixed = RunOptions::new(date);
        fixed.no_registry_refresh = true;
        let r = p.run(&fixed, &NoProgress).await.unwrap();
        // The note is data (what a service acts on) and words naming the library's call.
        assert!(
            matches!(r.registry_notes[..], [reingest::RegistryNote::KeptFixed]),
            "{:?}",
            r.registry_notes
        );
        assert_eq!(
            r.registry.as_deref(),
            Some("kept fixed (`RunOptions::no_registry_refresh`)")
        );
        let r = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        assert!(r
            .registry
            .as_deref()
            .unwrap()
            .contains("refreshed from the API"));
        assert!(r.unclassified.iter().all(|u| u.id != farm));
        assert_eq!(canonical(state(&p, "2024-03-23").records), expected);
        assert_eq!(p.store().bm_units().unwrap().len(), all.len());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_of_a_run_documents_it_by_run_id_or_date() {
    let sim = sim().await;
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        let date = d("2024-03-31");
        let run = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
        let by_date = p.report(&"2024-03-31".parse().unwrap()).await.unwrap();
        let by_id = p
            .report(&reingest::RunRef::Run(run.run_id.clone()))
            .await
            .unwrap();
        assert_eq!(by_date.run.run_id, run.run_id, "{}", db.name);
        assert_eq!(by_id.run.run_id, run.run_id);
        let evidence = by_id.evidence.as_ref().unwrap();
        assert_eq!(evidence.per_period.len(), 46, "the spring clock change");
        assert_eq!(Some(&evidence.fingerprint.total), run.fingerprint.as_ref());
        let md = reingest::output::document::markdown::render(&by_id);
        assert!(md.contains(&format!("reingest restore {}", run.run_id)));
        let html = reingest::output::document::html::render(&by_id);
        let bars = html.matches("<rect class=\"after\"").count();
        assert_eq!(bars, 46);
        assert!(
            p.report(&"2024-04-01".parse().unwrap()).await.is_err(),
            "no committed run that day"
        );
        assert!(p.report(&"no-such-run".parse().unwrap()).await.is_err());
    }
}

/// The audit row's duration, which the report shows as "took", is the run's wall time from
/// its start (fetching included) to its commit, not the swap's share of it: a run whose
/// source is slowed down by a delay takes at least that delay, and no more than the time
/// measured around it. Its reason, from the operator, is escaped in the report.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_runs_recorded_duration_is_its_wall_time_fetch_included() {
    let sim = sim().await;
    let delay = std::time::Duration::from_millis(600);
    let date = d("2024-03-21");
    for db in backends() {
        let p = pipeline(&sim, &db).await;
        sim.add_fault(FaultRule::new(Fault::Delay(delay)).date(date).period(7));
        let started = std::time::Instant::now();
        let opts = RunOptions {
            reason: Some("<img src=x onerror=alert(1)>|x".into()),
            ..RunOptions::new(date)
        };
        let report = p.run(&opts, &NoProgress).await.unwrap();
        let measured = started.elapsed();
        sim.clear_faults();
        assert!(report.committed, "{}", db.name);
        let doc = p
            .report(&reingest::RunRef::Run(report.run_id.clone()))
            .await
            .unwrap();
        let took = u128::try_from(doc.run.duration_ms).unwrap();
        assert!(
            took >= delay.as_millis(),
            "{}: took {took} ms, but the source alone was slowed by {delay:?}",
            db.name
        );
        // Wall-clock milliseconds inside the measured window (a little slack for the two
        // clocks' rounding).
        assert!(
            took <= measured.as_millis() + 5,
            "{}: took {took} ms, longer than the {measured:?} measured around the run",
            db.name
        );
        let md = reingest::output::document::markdown::render(&doc);
        assert!(md.contains(&format!("(took {took} ms)")), "{md}");
        // The reason, stored and read back, is text in both renderings.
        assert!(md.contains("| Reason | &lt;img src=x onerror=alert(1)&gt;\\|x |"));
        let html = reingest::output::document::html::render(&doc);
        assert!(!md.contains("<img") && !html.contains("<img"));
    }
}
