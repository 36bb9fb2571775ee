//! End-to-end tests of the pipeline library against the in-process simulator, on every
//! backend: runs, clock-change days, partial and dry runs, verification failures, fetch
//! failures, restore, drift, ranges and reconciliation.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{backends, canonical, d, expected_records, fingerprint, pipeline, sim};
use elexon_sim::{Fault, FaultRule};
use reingest::range::{reconcile, run_range, RangeOptions, ReconcileOptions};
use reingest::{Expectations, NoProgress, RunOptions};
use rust_decimal::Decimal;
use settlement_model::{DayTotals, PeriodRange, SummaryPeriod};
use store::{DayState, SettlementStore};

fn state(p: &reingest::app::StandardPipeline, date: &str) -> DayState {
    p.store().day_state(d(date)).unwrap()
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
        let totals = DayTotals::from_records(&expected);
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
            DayTotals::from_records(&expected_records(date, 0)).records
        );
        let s = state(&p, "2024-03-21");
        assert!(s.records.is_empty() && s.daily.is_none() && s.fetch_log.is_empty());
        assert!(
            p.store().runs(Some(date)).unwrap().is_empty(),
            "a dry run is not audited as a run"
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
        assert_eq!(runs[0].status, "rolled_back");
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
        let restored = p.restore(&second.run_id).await.unwrap();
        assert!(restored.committed);
        assert_eq!(
            original,
            fingerprint(&state(&p, "2024-05-05")),
            "{}",
            db.name
        );
        let kinds: Vec<String> = p
            .store()
            .runs(Some(date))
            .unwrap()
            .into_iter()
            .map(|r| r.kind)
            .collect();
        assert_eq!(kinds[0], "restore");
        assert!(p.restore("no-such-run").await.is_err());
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
        assert!(err.to_string().contains("period 17"), "{err}");
        assert_eq!(before, fingerprint(&state(&p, "2024-06-01")), "{}", db.name);
        assert_eq!(p.store().runs(Some(date)).unwrap()[0].status, "failed");
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
        assert!(err.to_string().contains("404"), "{err}");
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
            check.detail.contains("missing at the source (404): 30"),
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
        let r = run_range(&p, &opts, &NoProgress).await.unwrap();
        let statuses: Vec<&str> = r.dates.iter().map(|o| o.status.as_str()).collect();
        assert_eq!(
            statuses,
            vec!["ok", "ok", "error", "ok", "ok"],
            "{}",
            db.name
        );
        assert_eq!(r.exit_code(), 2);
        sim.clear_faults();
        let resumed = run_range(&p, &opts.clone().resume(true), &NoProgress)
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
        let r = reconcile(&p, &opts, &NoProgress).await.unwrap();
        assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
        assert_eq!(r.findings[0].date, d("2024-09-02"));
        assert!(r.findings[0].reasons[0].starts_with("periods_fetched"));
        assert_eq!(r.exit_code(), 1);
        let fixed = reconcile(
            &p,
            &ReconcileOptions {
                fix: true,
                ..opts.clone()
            },
            &NoProgress,
        )
        .await
        .unwrap();
        assert_eq!(fixed.exit_code(), 0);
        let clean = reconcile(&p, &opts, &NoProgress).await.unwrap();
        assert!(clean.findings.is_empty(), "{:?}", clean.findings);
        // Drift from the API beyond the threshold is a finding too.
        sim.set_revision(d("2024-09-01"), 3);
        let zero = ReconcileOptions {
            against_api: true,
            threshold_energy: Decimal::ZERO,
            threshold_payment: Decimal::ZERO,
            ..opts.clone()
        };
        let drift = reconcile(&p, &zero, &NoProgress).await.unwrap();
        assert_eq!(drift.findings.len(), 1, "{:?}", drift.findings);
        assert!(drift.findings[0]
            .reasons
            .iter()
            .any(|r| r.starts_with("drift from the API")));
        sim.set_revision(d("2024-09-01"), 0);
        let month = p.store().day_state(d("2024-09-01")).unwrap();
        assert!(month
            .bitcoin_summaries
            .iter()
            .any(|s| matches!(s.period, SummaryPeriod::Month(_))));
    }
}
