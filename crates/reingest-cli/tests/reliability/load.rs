//! Reliability under load (PostgreSQL only): eight `reingest run` processes on different dates
//! of one month, plus a `reingest range --jobs 8` over the next eight dates, all at once
//! against one fresh PostgreSQL database. All succeed, every day verifies (and with it the
//! shared monthly and yearly summaries), and nothing deadlocks (bounded by a timeout).

use crate::common;

use std::time::{Duration, Instant};

use crate::common::{canonical, d, err_text, expected_records, reingest_cmd, stored_records};
use reingest::NoProgress;

const LIMIT: Duration = Duration::from_secs(150);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_runs_and_a_range_at_once_on_one_postgres_database() {
    let Some(db) = common::postgres_unmigrated() else {
        eprintln!("skipped: REINGEST_TEST_DATABASE_URL unset (the load test is PostgreSQL-only)");
        return;
    };
    let sim = common::sim().await;
    let run_dates: Vec<String> = (1..=8).map(|day| format!("2024-06-{day:02}")).collect();
    let started = Instant::now();
    // From an empty database: the nine processes also race to migrate it (--auto-migrate)
    // and to fill the BM unit registry and the difficulty table.
    let mut children = Vec::new();
    for date in &run_dates {
        let child = reingest_cmd(Some(&sim), &db.url)
            .env("REINGEST_AUTO_MIGRATE", "1")
            .args(["--json", "run", date, "--reason", "load"])
            .spawn()
            .unwrap();
        children.push((format!("run {date}"), child));
    }
    let range = reingest_cmd(Some(&sim), &db.url)
        .env("REINGEST_AUTO_MIGRATE", "1")
        .args([
            "--rate-limit",
            "20000",
            "--json",
            "range",
            "2024-06-09",
            "2024-06-16",
            "--jobs",
            "8",
        ])
        .spawn()
        .unwrap();
    children.push(("range 2024-06-09..16 --jobs 8".to_owned(), range));
    let waits = children.into_iter().map(|(name, child)| async move {
        let o = tokio::time::timeout(LIMIT, child.wait_with_output())
            .await
            .unwrap_or_else(|_| panic!("{name}: still running after {LIMIT:?} (deadlock?)"))
            .unwrap();
        (name, o)
    });
    let outputs = futures::future::join_all(waits).await;
    let elapsed = started.elapsed();
    for (name, o) in &outputs {
        assert_eq!(o.status.code(), Some(0), "{name}: {}", err_text(o));
    }
    let range_report: serde_json::Value = serde_json::from_slice(&outputs[8].1.stdout).unwrap();
    let statuses: Vec<&str> = range_report["dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["status"].as_str().unwrap())
        .collect();
    assert_eq!(statuses, vec!["ok"; 8]);
    // Every day is the source's, whole, and verifies (its month and year summaries too).
    let p = common::pipeline(&sim, &db).await;
    for day in 1..=16 {
        let date = d(&format!("2024-06-{day:02}"));
        assert_eq!(
            stored_records(&db, date),
            canonical(expected_records(date, 0)),
            "{date}"
        );
        let v = p.verify(date, false, &NoProgress).await.unwrap();
        assert!(v.verification.ok, "{date}: {:?}", v.verification);
    }
    eprintln!("8 runs + a range of 8 dates (--jobs 8) on one PostgreSQL database: all 16 days verified in {elapsed:?}");
}
