//! Reliability: faults injected by the simulator into the Elexon API, through the real
//! `reingest` binary, on every backend. Every run ends either in a complete, verified day
//! (exit 0, the stored records are exactly the source's) or in exit 2 with every table of
//! the database unchanged (only a `failed` audit row is added).

use crate::common;

use std::time::Duration;

use crate::common::{
    assert_unchanged, audit, backends, d, dump, err_text, expected_records, reingest_out,
    stored_records, TestDb,
};
use elexon_sim::{Fault, FaultRule, PathKind, SimHandle};
use settlement_model::Side;
use store::RunStatus;

const DATE: &str = "2024-04-14";
const LIMIT: Duration = Duration::from_secs(60);
/// Fast client settings: a 1 s timeout so slow responses time out, 3 attempts, and a rate
/// limit high enough that the client's own limiter does not dominate the run time.
const FLAGS: [&str; 6] = [
    "--timeout-secs",
    "1",
    "--max-attempts",
    "3",
    "--rate-limit",
    "60000",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Exit 0 and the new revision stored, verified.
    Complete,
    /// Exit 2 and nothing changed.
    Refused(&'static str),
}

struct Case {
    name: &'static str,
    rules: Vec<FaultRule>,
    expect: Expect,
}

fn cases() -> Vec<Case> {
    let date = d(DATE);
    let stack = |f: Fault| FaultRule::new(f).kind(PathKind::Stack).date(date);
    let with_after = Fault::TooManyRequests {
        retry_after_secs: Some(1),
    };
    let without_after = Fault::TooManyRequests {
        retry_after_secs: None,
    };
    vec![
        Case {
            name: "429 storm with Retry-After",
            rules: vec![stack(with_after.clone()).times(40)],
            expect: Expect::Complete,
        },
        Case {
            name: "429 storm without Retry-After",
            rules: vec![stack(without_after.clone()).times(40)],
            expect: Expect::Complete,
        },
        Case {
            name: "429 that never ends (Retry-After)",
            rules: vec![stack(with_after).period(9)],
            expect: Expect::Refused("429"),
        },
        Case {
            name: "429 that never ends (no Retry-After)",
            rules: vec![stack(without_after).period(9)],
            expect: Expect::Refused("429"),
        },
        Case {
            name: "500s that clear after two tries",
            rules: vec![stack(Fault::ServerError).period(3).side(Side::Bid).times(2)],
            expect: Expect::Complete,
        },
        Case {
            name: "500 storm over many periods",
            rules: vec![stack(Fault::ServerError).times(30)],
            expect: Expect::Complete,
        },
        Case {
            name: "a period that never recovers",
            rules: vec![stack(Fault::ServerError).period(17)],
            expect: Expect::Refused("period 17"),
        },
        Case {
            name: "slow responses past the timeout, twice",
            rules: vec![stack(Fault::Delay(Duration::from_secs(3)))
                .period(20)
                .times(2)],
            expect: Expect::Complete,
        },
        Case {
            name: "slow responses past the timeout, always",
            rules: vec![stack(Fault::Delay(Duration::from_secs(3))).period(20)],
            expect: Expect::Refused("within"),
        },
        Case {
            name: "truncated body, twice",
            rules: vec![stack(Fault::TruncatedBody).period(30).times(2)],
            expect: Expect::Complete,
        },
        Case {
            name: "truncated body, always",
            rules: vec![stack(Fault::TruncatedBody).period(30)],
            expect: Expect::Refused("malformed"),
        },
        Case {
            name: "aborted body, twice",
            rules: vec![stack(Fault::AbortedBody).period(31).times(2)],
            expect: Expect::Complete,
        },
        Case {
            name: "aborted body, always",
            rules: vec![stack(Fault::AbortedBody).period(31)],
            expect: Expect::Refused("period 31"),
        },
        Case {
            name: "malformed XML, twice",
            rules: vec![stack(Fault::MalformedXml).period(40).times(2)],
            expect: Expect::Complete,
        },
        Case {
            name: "malformed XML, always",
            rules: vec![stack(Fault::MalformedXml).period(40)],
            expect: Expect::Refused("malformed"),
        },
        Case {
            name: "a 404 period",
            rules: vec![stack(Fault::NotFound).period(44).side(Side::Offer)],
            expect: Expect::Refused("404"),
        },
        Case {
            name: "a period whose two stacks are both empty (not published)",
            rules: vec![stack(Fault::EmptyStack).period(21)],
            expect: Expect::Refused("periods 21: not published by the API (both stacks empty)"),
        },
        Case {
            name: "a response for the wrong period",
            rules: vec![stack(Fault::WrongPeriod).period(12).times(1)],
            expect: Expect::Refused("period 12"),
        },
        Case {
            name: "a response for the wrong date",
            rules: vec![stack(Fault::WrongDate).period(13).times(1)],
            expect: Expect::Refused("period 13"),
        },
    ]
}

/// Checks one finished run against its expectation; returns the revision now stored.
#[allow(clippy::too_many_arguments)]
async fn check_outcome(
    sim: &SimHandle,
    db: &TestDb,
    o: &std::process::Output,
    before: &common::Dump,
    expect: Expect,
    stored_rev: u32,
    new_rev: u32,
    what: &str,
) -> u32 {
    let date = d(DATE);
    let stderr = err_text(o);
    assert!(!stderr.contains("panicked"), "{what}: {stderr}");
    match expect {
        Expect::Complete => {
            assert_eq!(o.status.code(), Some(0), "{what}: {stderr}");
            assert_eq!(
                stored_records(db, date),
                common::canonical(expected_records(date, new_rev)),
                "{what}: the stored day is the new source, whole"
            );
            let v = reingest_out(Some(sim), &db.url, &["verify", DATE], LIMIT).await;
            assert_eq!(v.status.code(), Some(0), "{what}: verify: {}", err_text(&v));
            new_rev
        }
        Expect::Refused(needle) => {
            assert_eq!(o.status.code(), Some(2), "{what}: {stderr}");
            let errors: Vec<&str> = stderr
                .lines()
                .filter(|l| l.starts_with("error: "))
                .collect();
            assert_eq!(errors.len(), 1, "{what}: one error line: {stderr}");
            assert!(
                errors[0].contains(needle),
                "{what}: {needle:?} not in {}",
                errors[0]
            );
            let added = assert_unchanged(before, &dump(&db.url), what);
            assert_eq!(
                added.len(),
                1,
                "{what}: one audit row for the failed run: {added:?}"
            );
            assert_eq!(audit(db, date)[0].status, RunStatus::Failed, "{what}");
            assert_eq!(
                stored_records(db, date),
                common::canonical(expected_records(date, stored_rev)),
                "{what}: the old day is still there, whole"
            );
            stored_rev
        }
    }
}

async fn fault_matrix(sim: &SimHandle, db: &TestDb) -> (usize, usize) {
    let date = d(DATE);
    let mut args: Vec<&str> = FLAGS.to_vec();
    args.extend(["run", DATE]);
    // The old day, complete.
    let o = reingest_out(Some(sim), &db.url, &args, LIMIT).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: baseline: {}",
        db.name,
        err_text(&o)
    );
    let mut stored_rev = 0;
    let (mut runs, mut passed) = (0, 0);
    for (i, case) in cases().into_iter().enumerate() {
        let what = format!("{}: {}", db.name, case.name);
        // The source has changed since, so a successful run changes the stored day.
        let new_rev = u32::try_from(i).unwrap() % 3 + 1;
        let new_rev = if new_rev == stored_rev {
            new_rev + 1
        } else {
            new_rev
        };
        sim.set_revision(date, new_rev);
        for rule in &case.rules {
            sim.add_fault(rule.clone());
        }
        let before = dump(&db.url);
        let o = reingest_out(Some(sim), &db.url, &args, LIMIT).await;
        runs += 1;
        stored_rev = check_outcome(
            sim,
            db,
            &o,
            &before,
            case.expect,
            stored_rev,
            new_rev,
            &what,
        )
        .await;
        passed += 1;
        sim.clear_faults();
    }
    (runs, passed)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_faults_end_verified_or_change_nothing_sqlite() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let (runs, passed) = fault_matrix(&sim, &db).await;
    assert_eq!(runs, passed);
    eprintln!("sqlite: {passed}/{runs} API fault runs as expected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_faults_end_verified_or_change_nothing_postgres() {
    let Some(db) = common::postgres() else { return };
    let sim = common::sim().await;
    let (runs, passed) = fault_matrix(&sim, &db).await;
    assert_eq!(runs, passed);
    eprintln!("postgres: {passed}/{runs} API fault runs as expected");
}

/// The simulator is stopped while a run is fetching: the run gives up (exit 2) and the
/// database is as it was.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_stopping_mid_run_changes_nothing() {
    for db in backends() {
        let sim = common::sim().await;
        let date = d(DATE);
        let o = reingest_out(
            Some(&sim),
            &db.url,
            &["--rate-limit", "60000", "run", DATE],
            LIMIT,
        )
        .await;
        assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
        sim.set_revision(date, 1);
        sim.set_latency(Duration::from_millis(40));
        let before = dump(&db.url);
        sim.reset_stats();
        let child = common::reingest_cmd(Some(&sim), &db.url)
            .args(["--max-attempts", "3", "--timeout-secs", "2", "run", DATE])
            .spawn()
            .unwrap();
        // Stop the API once the run is well into its fetch.
        let probe = sim.clone();
        assert!(
            common::poll_until(Duration::from_secs(20), || probe.stats().total_requests
                >= 20)
            .await,
            "the run never started fetching"
        );
        sim.clone().shutdown().await;
        let o = tokio::time::timeout(LIMIT, child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stderr = err_text(&o);
        assert_eq!(o.status.code(), Some(2), "{}: {stderr}", db.name);
        assert!(
            stderr.lines().any(|l| l.starts_with("error: fetch failed")),
            "{stderr}"
        );
        let added = assert_unchanged(&before, &dump(&db.url), "the API stopped mid-run");
        assert_eq!(added.len(), 1, "{added:?}");
        assert_eq!(
            stored_records(&db, date),
            common::canonical(expected_records(date, 0)),
            "{}: the old day, whole",
            db.name
        );
    }
}
