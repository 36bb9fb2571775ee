//! Reliability: `reingest run` killed with SIGKILL or interrupted with SIGINT at many points
//! of a run, repeatedly. Every time, the database holds either the old day or the new day,
//! whole (`reingest verify` exits 0 and the stored records equal one of the two sources),
//! and SIGINT stops the process with exit 130 and a message.

use crate::common;

use std::time::{Duration, Instant};

use crate::common::{
    canonical, d, err_text, expected_records, reingest_cmd, reingest_out, stored_records, TestDb,
};
use elexon_sim::SimHandle;

const DATE: &str = "2024-02-29";
const LIMIT: Duration = Duration::from_secs(90);
const RUNS: usize = 20;

/// Sends a signal with the system's `kill` command (no libc in the tests).
fn signal(pid: u32, sig: &str) {
    let status = std::process::Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .unwrap();
    // The process may have finished just before: that is a valid outcome, checked later.
    let _ = status;
}

#[derive(Debug, Default)]
struct Tally {
    runs: usize,
    killed_mid_run: usize,
    finished_first: usize,
    old_day_kept: usize,
    new_day_committed: usize,
}

async fn kill_loop(sim: &SimHandle, db: &TestDb) -> Tally {
    let date = d(DATE);
    // The old day, and how long an uninterrupted run takes (to spread the kills over it).
    let started = Instant::now();
    let o = reingest_out(Some(sim), &db.url, &["run", DATE], LIMIT).await;
    assert_eq!(o.status.code(), Some(0), "{}: {}", db.name, err_text(&o));
    let first = started.elapsed();
    sim.set_revision(date, 1);
    // The shorter of two timed runs: one slow sample (a busy machine) would put the kills
    // packed around the run's end after it.
    let mut full = Duration::MAX;
    for _ in 0..2 {
        let started_full = Instant::now();
        let o = reingest_out(Some(sim), &db.url, &["run", DATE], LIMIT).await;
        assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
        full = full.min(started_full.elapsed());
    }
    let full = full.max(Duration::from_millis(300));
    eprintln!("{}: first run {first:?}, a later run {full:?}", db.name);
    let mut stored_rev = 1;
    let mut tally = Tally::default();
    for i in 0..RUNS {
        let sigkill = i % 2 == 0;
        let new_rev = stored_rev % 3 + 1;
        sim.set_revision(date, new_rev);
        // Half the delays spread over the whole run, half packed around its end, where the
        // day swap happens. SIGINT waits at least 100 ms so the handler is installed.
        let i32_ = u32::try_from(i).unwrap();
        let mut delay = if i < RUNS / 2 {
            full * (2 * i32_ + 1) / 20
        } else {
            full * (750 + 35 * (i32_ - 10)) / 1000
        };
        if !sigkill {
            delay = delay.max(Duration::from_millis(100));
        }
        let child = reingest_cmd(Some(sim), &db.url)
            .args(["run", DATE])
            .spawn()
            .unwrap();
        let pid = child.id().unwrap();
        tokio::time::sleep(delay).await;
        signal(pid, if sigkill { "-KILL" } else { "-INT" });
        let o = tokio::time::timeout(LIMIT, child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stderr = err_text(&o);
        let what = format!(
            "{} run {i} ({}, after {delay:?})",
            db.name,
            if sigkill { "SIGKILL" } else { "SIGINT" }
        );
        tally.runs += 1;
        match o.status.code() {
            Some(0) => tally.finished_first += 1,
            Some(130) => {
                assert!(!sigkill, "{what}");
                assert!(
                    stderr.contains("interrupted"),
                    "{what}: a message on stderr: {stderr}"
                );
                tally.killed_mid_run += 1;
            }
            None => {
                assert!(
                    sigkill,
                    "{what}: SIGINT must not kill the process: {stderr}"
                );
                tally.killed_mid_run += 1;
            }
            Some(code) => panic!("{what}: exit {code}: {stderr}"),
        }
        assert!(!stderr.contains("panicked"), "{what}: {stderr}");
        // Either day, whole, and it verifies.
        let stored = stored_records(db, date);
        if stored == canonical(expected_records(date, new_rev)) {
            stored_rev = new_rev;
            tally.new_day_committed += 1;
        } else {
            assert_eq!(
                stored,
                canonical(expected_records(date, stored_rev)),
                "{what}: neither the old nor the new day"
            );
            tally.old_day_kept += 1;
        }
        let v = reingest_out(Some(sim), &db.url, &["verify", DATE], LIMIT).await;
        assert_eq!(v.status.code(), Some(0), "{what}: verify: {}", err_text(&v));
    }
    // The database still works: a last run completes and verifies.
    sim.set_revision(date, 0);
    let o = reingest_out(Some(sim), &db.url, &["run", DATE], LIMIT).await;
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert_eq!(
        stored_records(db, date),
        canonical(expected_records(date, 0))
    );
    eprintln!("{}: {tally:?}", db.name);
    tally
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_and_interrupts_leave_the_old_or_the_new_day_sqlite() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let t = kill_loop(&sim, &db).await;
    assert_eq!(t.runs, RUNS);
    assert_eq!(t.old_day_kept + t.new_day_committed, RUNS);
    assert!(
        t.killed_mid_run >= RUNS / 4,
        "enough signals landed mid-run: {t:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kills_and_interrupts_leave_the_old_or_the_new_day_postgres() {
    let Some(db) = common::postgres() else { return };
    let sim = common::sim().await;
    let t = kill_loop(&sim, &db).await;
    assert_eq!(t.runs, RUNS);
    assert_eq!(t.old_day_kept + t.new_day_committed, RUNS);
    assert!(
        t.killed_mid_run >= RUNS / 4,
        "enough signals landed mid-run: {t:?}"
    );
}

/// SIGINT during the fetch: exit 130, one message, and nothing written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigint_during_fetch_is_exit_130_with_a_message_and_changes_nothing() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let o = reingest_out(Some(&sim), &db.url, &["run", DATE], LIMIT).await;
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    sim.set_revision(d(DATE), 1);
    sim.set_latency(Duration::from_millis(200));
    let before = common::dump(&db.url);
    sim.reset_stats();
    let child = reingest_cmd(Some(&sim), &db.url)
        .args(["run", DATE])
        .spawn()
        .unwrap();
    let probe = sim.clone();
    assert!(
        common::poll_until(Duration::from_secs(20), || probe.stats().total_requests
            >= 5)
        .await
    );
    signal(child.id().unwrap(), "-INT");
    let o = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    let stderr = err_text(&o);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let added = common::assert_unchanged(&before, &common::dump(&db.url), "SIGINT during fetch");
    assert!(
        added.is_empty(),
        "nothing, not even an audit row, before the swap: {added:?}"
    );
}
