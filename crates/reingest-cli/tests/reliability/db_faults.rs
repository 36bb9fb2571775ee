//! Reliability: faults of the database under a running `reingest run`: the PostgreSQL
//! connection cut in the middle of the day swap, a second run of the same date waiting for
//! the first one's lock, a SQLite file that cannot be written, and a SQLite file locked by
//! another process. Nothing partial is ever left.

use crate::common;

use std::time::{Duration, Instant};

use crate::common::{
    assert_unchanged, audit, d, dump, err_text, expected_records, reingest_cmd, reingest_out,
    stored_records, TestDb,
};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use elexon_sim::SimHandle;
use store::RunStatus;

const DATE: &str = "2024-08-08";
const LIMIT: Duration = Duration::from_secs(90);

/// The store's advisory-lock key for a year's rollups (`store::write::rollup_lock_key`):
/// a swap takes it after its date lock, backup, delete and insert, just before it writes the
/// month and year summaries. Holding it from the test parks a swap mid-transaction.
fn rollup_lock_key(year: i32) -> i64 {
    (0x5245_5952_i64 << 32) | i64::from(year)
}

#[derive(diesel::QueryableByName)]
struct Count {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    n: i64,
}

fn count(c: &mut PgConnection, sql: &str) -> i64 {
    diesel::sql_query(sql).load::<Count>(c).unwrap()[0].n
}

/// Backends blocked on an advisory lock in this database: swaps parked mid-transaction.
fn parked_swaps(c: &mut PgConnection) -> i64 {
    count(
        c,
        "SELECT count(*) AS n FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
         WHERE l.locktype = 'advisory' AND NOT l.granted AND a.datname = current_database()",
    )
}

async fn baseline(sim: &SimHandle, db: &TestDb) {
    let o = reingest_out(Some(sim), &db.url, &["run", DATE], LIMIT).await;
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}: baseline: {}",
        db.name,
        err_text(&o)
    );
}

/// Holds the store's 2024 rollup lock from an admin connection, starts `reingest run DATE`
/// and waits until its swap is parked on that lock, mid-transaction.
async fn park_a_run(
    sim: &elexon_sim::SimHandle,
    db: &common::TestDb,
) -> (PgConnection, tokio::process::Child) {
    let mut admin = PgConnection::establish(&db.url).unwrap();
    diesel::sql_query(format!(
        "SELECT pg_advisory_lock({})",
        rollup_lock_key(2024)
    ))
    .execute(&mut admin)
    .unwrap();
    let child = reingest_cmd(Some(sim), &db.url)
        .args(["run", DATE])
        .spawn()
        .unwrap();
    park_until_blocked(&mut admin).await;
    (admin, child)
}

async fn park_until_blocked(c: &mut PgConnection) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while parked_swaps(c) == 0 {
        assert!(
            Instant::now() < deadline,
            "the swap never reached the rollup lock"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The run's connections are terminated by the server (as on a restart or a network cut)
/// while its swap is in the middle of its transaction: exit 2, nothing changed, and the next
/// run works.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_connection_cut_mid_swap_changes_nothing() {
    let Some(db) = common::postgres() else { return };
    let sim = common::sim().await;
    let date = d(DATE);
    baseline(&sim, &db).await;
    sim.set_revision(date, 1);
    let mut rounds = 0;
    for round in 0..3 {
        let before = dump(&db.url);
        let (mut admin, child) = park_a_run(&sim, &db).await;
        let killed = count(
            &mut admin,
            "SELECT count(*) AS n FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()) t",
        );
        assert!(killed >= 1, "round {round}: no connection was cut");
        diesel::sql_query("SELECT pg_advisory_unlock_all()")
            .execute(&mut admin)
            .unwrap();
        let o = tokio::time::timeout(LIMIT, child.wait_with_output())
            .await
            .unwrap()
            .unwrap();
        let stderr = err_text(&o);
        assert_eq!(o.status.code(), Some(2), "round {round}: {stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(
            stderr.lines().any(|l| l.starts_with("error: database")),
            "{stderr}"
        );
        assert_unchanged(&before, &dump(&db.url), "connection cut mid-swap");
        assert_eq!(
            stored_records(&db, date),
            common::canonical(expected_records(date, 0))
        );
        rounds += 1;
    }
    // The database is fine afterwards: the next run replaces the day and verifies.
    let o = reingest_out(Some(&sim), &db.url, &["run", DATE], LIMIT).await;
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert_eq!(
        stored_records(&db, date),
        common::canonical(expected_records(date, 1))
    );
    let v = reingest_out(Some(&sim), &db.url, &["verify", DATE], LIMIT).await;
    assert_eq!(v.status.code(), Some(0), "{}", err_text(&v));
    assert_eq!(rounds, 3);
}

/// A second run of a date waits for the first one's lock up to `--lock-timeout-secs`, then
/// exits 2 naming the run that holds it; the first run then completes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_second_run_of_a_date_times_out_naming_the_first() {
    let Some(db) = common::postgres() else { return };
    let sim = common::sim().await;
    let date = d(DATE);
    baseline(&sim, &db).await;
    sim.set_revision(date, 2);
    let (mut admin, first) = park_a_run(&sim, &db).await;
    let holder = audit(&db, date)
        .into_iter()
        .find(|r| r.status == RunStatus::Running)
        .expect("the first run's running row")
        .run_id;
    let before = dump(&db.url);
    let started = Instant::now();
    let second = reingest_out(
        Some(&sim),
        &db.url,
        &["--lock-timeout-secs", "2", "run", DATE],
        LIMIT,
    )
    .await;
    let waited = started.elapsed();
    let stderr = err_text(&second);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        line.contains("waiting for the lock on 2024-08-08"),
        "{line}"
    );
    assert!(line.contains(&format!("held by run {holder}")), "{line}");
    assert!(waited >= Duration::from_secs(2), "it waited {waited:?}");
    assert!(waited < Duration::from_secs(30), "it waited {waited:?}");
    assert_unchanged(&before, &dump(&db.url), "the second run");
    // The first run goes on once the lock is free.
    diesel::sql_query("SELECT pg_advisory_unlock_all()")
        .execute(&mut admin)
        .unwrap();
    let o = tokio::time::timeout(LIMIT, first.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert_eq!(
        stored_records(&db, date),
        common::canonical(expected_records(date, 2))
    );
    let runs = audit(&db, date);
    assert_eq!(
        runs.iter().find(|r| r.run_id == holder).unwrap().status,
        RunStatus::Committed
    );
}

/// Makes a file immutable (`chattr +i`) for as long as it lives; root ignores permission
/// bits, not the immutable flag.
struct Immutable(std::path::PathBuf);

impl Immutable {
    fn set(path: &std::path::Path) -> Option<Self> {
        let ok = std::process::Command::new("chattr")
            .arg("+i")
            .arg(path)
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Self(path.to_owned()))
    }
}

impl Drop for Immutable {
    fn drop(&mut self) {
        let _ = std::process::Command::new("chattr")
            .arg("-i")
            .arg(&self.0)
            .status();
    }
}

fn sqlite_path(db: &TestDb) -> std::path::PathBuf {
    db.url.strip_prefix("sqlite://").unwrap().into()
}

/// A SQLite file that cannot be written (immutable): exit 2 naming the problem, nothing
/// changed, and the database works again once writable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_file_read_only_is_exit_2_and_changes_nothing() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let date = d(DATE);
    baseline(&sim, &db).await;
    sim.set_revision(date, 1);
    let before = dump(&db.url);
    let path = sqlite_path(&db);
    let Some(guard) = Immutable::set(&path) else {
        eprintln!(
            "skipped: chattr +i is not available here (needs root and ext2/3/4-like file systems)"
        );
        return;
    };
    // The flag really holds: even root cannot open it for writing.
    assert!(std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .is_err());
    let o = reingest_out(Some(&sim), &db.url, &["run", DATE], LIMIT).await;
    let stderr = err_text(&o);
    assert_eq!(o.status.code(), Some(2), "{stderr}");
    let line = stderr.lines().find(|l| l.starts_with("error: ")).unwrap();
    assert!(
        line.contains("database is read-only") && line.contains("cannot be written"),
        "the error says the database cannot be written: {line}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
    drop(guard);
    let after = dump(&db.url);
    let added = assert_unchanged(&before, &after, "read-only SQLite");
    assert!(
        added.is_empty(),
        "a read-only file cannot even take an audit row: {added:?}"
    );
    let o = reingest_out(Some(&sim), &db.url, &["run", DATE], LIMIT).await;
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert_eq!(
        stored_records(&db, date),
        common::canonical(expected_records(date, 1))
    );
}

/// Another process takes SQLite's write lock while a run is fetching and holds it past the
/// moment the run wants to write: the run waits, nothing changes meanwhile, and it completes
/// once the lock is released.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_locked_by_another_process_waits_then_completes() {
    let sim = common::sim().await;
    let db = common::sqlite();
    let date = d(DATE);
    baseline(&sim, &db).await;
    sim.set_revision(date, 1);
    let before = dump(&db.url);
    let mut holder = SqliteConnection::establish(sqlite_path(&db).to_str().unwrap()).unwrap();
    diesel::sql_query("PRAGMA busy_timeout = 10000")
        .execute(&mut holder)
        .unwrap();
    sim.set_latency(Duration::from_millis(20));
    sim.reset_stats();
    let mut child = reingest_cmd(Some(&sim), &db.url)
        .args(["run", DATE])
        .spawn()
        .unwrap();
    let probe = sim.clone();
    assert!(
        common::poll_until(Duration::from_secs(30), || probe.stats().stack_requests
            >= 4)
        .await,
        "the run never started fetching"
    );
    diesel::sql_query("BEGIN EXCLUSIVE")
        .execute(&mut holder)
        .unwrap();
    // Once every stack is answered, the run is at its first write, waiting for the lock.
    assert!(
        common::poll_until(Duration::from_secs(30), || probe.stats().stack_requests
            >= 96)
        .await,
        "the run never finished fetching"
    );
    // Keep the lock a while longer (the scenario, not a wait for a server), then look.
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert!(
        child.try_wait().unwrap().is_none(),
        "the run is still waiting"
    );
    let added = assert_unchanged(&before, &dump(&db.url), "while locked");
    assert!(added.is_empty(), "{added:?}");
    diesel::sql_query("ROLLBACK").execute(&mut holder).unwrap();
    drop(holder);
    let o = tokio::time::timeout(LIMIT, child.wait_with_output())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", err_text(&o));
    assert_eq!(
        stored_records(&db, date),
        common::canonical(expected_records(date, 1))
    );
    let v = reingest_out(Some(&sim), &db.url, &["verify", DATE], LIMIT).await;
    assert_eq!(v.status.code(), Some(0), "{}", err_text(&v));
}
