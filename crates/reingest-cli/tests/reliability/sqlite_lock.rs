//! Another process holds SQLite's write lock; `reingest run --lock-timeout-secs 2` gives
//! up after about 2 s with exit 2, says it timed out waiting for the lock, and changes
//! nothing.

use crate::common;

use std::time::{Duration, Instant};

use crate::common::{assert_unchanged, dump, err_text, reingest_out};
use diesel::{Connection, RunQueryDsl, SqliteConnection};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lock_timeout_is_bounded_by_the_flag() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let o = reingest_out(
        Some(&sim),
        &db.url,
        &["run", "2024-08-09"],
        Duration::from_secs(60),
    )
    .await;
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    let before = dump(&db.url);
    let path = db.url.strip_prefix("sqlite://").unwrap().to_owned();
    let mut holder = SqliteConnection::establish(&path).unwrap();
    diesel::sql_query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .unwrap();
    let started = Instant::now();
    let o = reingest_out(
        Some(&sim),
        &db.url,
        &["--lock-timeout-secs", "2", "run", "2024-08-09"],
        Duration::from_secs(90),
    )
    .await;
    let waited = started.elapsed();
    let stderr = err_text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("waiting for the lock"), "{stderr}");
    assert!(
        !stderr.contains("after 0ns"),
        "the message says how long it waited: {stderr}"
    );
    assert!(
        waited < Duration::from_secs(15),
        "--lock-timeout-secs 2 but it waited {waited:?}"
    );
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    drop(holder);
    assert_unchanged(&before, &dump(&db.url), "lock timeout");
}
