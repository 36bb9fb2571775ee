//! Shared set-up of the end-to-end tests: the in-process simulator and a fresh database on
//! each backend (SQLite always; PostgreSQL when `REINGEST_TEST_DATABASE_URL` is set, and
//! then it must be reachable).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use diesel::{Connection, PgConnection, RunQueryDsl};
use elexon_sim::{SimConfig, SimHandle, Simulator};
use reingest::app::{AppSettings, StandardPipeline};
use settlement_model::{process_items, BmRegistry, CurtailmentRecord, SettlementDate, Side};

/// The simulator's seed in every test.
pub const SEED: u64 = 42;

/// One backend's fresh, empty database (removed when dropped).
pub struct TestDb {
    /// Its URL.
    pub url: String,
    /// What it is, for messages.
    pub name: &'static str,
    _db: temp_db::TempDb,
}

/// A fresh SQLite file database.
pub fn sqlite() -> TestDb {
    let db = temp_db::TempDb::sqlite("t.db").unwrap();
    TestDb {
        url: db.url().to_owned(),
        name: "sqlite",
        _db: db,
    }
}

/// A fresh PostgreSQL database with our migrations applied (the binary, like an operator's
/// shared database, expects `reingest migrate` to have run), or `None` when unconfigured.
pub fn postgres() -> Option<TestDb> {
    let db = postgres_unmigrated()?;
    store::DieselStore::open(&db.url).unwrap();
    Some(db)
}

/// A fresh, empty PostgreSQL database, or `None` (with a printed notice) when the variable is
/// unset. Panics when it is set and the server is unreachable: CI said PostgreSQL is there.
pub fn postgres_unmigrated() -> Option<TestDb> {
    let Ok(admin) = std::env::var("REINGEST_TEST_DATABASE_URL") else {
        eprintln!("skipped PostgreSQL: REINGEST_TEST_DATABASE_URL unset");
        return None;
    };
    let db = temp_db::TempDb::postgres(&admin, "reingest_e2e").unwrap_or_else(|e| {
        panic!("REINGEST_TEST_DATABASE_URL is set but no database could be made: {e}")
    });
    Some(TestDb {
        url: db.url().to_owned(),
        name: "postgres",
        _db: db,
    })
}

/// Every backend available: SQLite, and PostgreSQL when configured.
pub fn backends() -> Vec<TestDb> {
    let mut v = vec![sqlite()];
    v.extend(postgres());
    v
}

/// Runs SQL against the test database behind the pipeline's back.
pub fn sql(db: &TestDb, statement: &str) {
    if db.name == "postgres" {
        let mut c = PgConnection::establish(&db.url).unwrap();
        diesel::sql_query(statement).execute(&mut c).unwrap();
    } else {
        let path = db.url.strip_prefix("sqlite://").unwrap();
        let mut c = diesel::SqliteConnection::establish(path).unwrap();
        diesel::sql_query(statement).execute(&mut c).unwrap();
    }
}

/// A simulator with the default seed.
pub async fn sim() -> SimHandle {
    Simulator::start(SimConfig::default()).await.unwrap()
}

/// Settings pointing at `sim` and `db`, fast retries for tests.
pub fn settings(sim: &SimHandle, db: &TestDb) -> AppSettings {
    let mut s = AppSettings::new(db.url.clone(), sim.base_url());
    s.difficulty_url = sim.difficulty_url();
    s.timeout = std::time::Duration::from_secs(5);
    s.max_attempts = 3;
    s.lock_timeout = std::time::Duration::from_secs(20);
    s
}

/// The standard pipeline on `db` against `sim`.
pub async fn pipeline(sim: &SimHandle, db: &TestDb) -> StandardPipeline {
    settings(sim, db).build().await.unwrap()
}

/// The records the simulator's data should give for `date` (revision `rev`), computed
/// without HTTP or a database.
pub fn expected_records(date: SettlementDate, rev: u32) -> Vec<CurtailmentRecord> {
    let registry = BmRegistry::new(elexon_sim::data::bm_units(SEED));
    let items: Vec<(Side, settlement_model::StackItem)> = date
        .all_periods()
        .flat_map(|p| {
            Side::BOTH.into_iter().flat_map(move |s| {
                elexon_sim::data::stack_items(SEED, date, p.number(), s, rev)
                    .into_iter()
                    .map(move |i| (s, i))
            })
        })
        .collect();
    process_items(date, items.iter().map(|(s, i)| (*s, i)), &registry)
        .unwrap()
        .records
}

/// Parses a date.
pub fn d(s: &str) -> SettlementDate {
    s.parse().unwrap()
}

/// Records sorted into a canonical order for comparison.
pub fn canonical(mut records: Vec<CurtailmentRecord>) -> Vec<CurtailmentRecord> {
    records.sort_by(|a, b| {
        (
            a.settlement_period,
            a.side,
            a.sequence_number,
            &a.farm_id,
            a.volume,
        )
            .cmp(&(
                b.settlement_period,
                b.side,
                b.sequence_number,
                &b.farm_id,
                b.volume,
            ))
    });
    records
}

// ---------------------------------------------------------------------------------------
// Reliability helpers: table dumps, the binary, and the "nothing changed" comparison.
// ---------------------------------------------------------------------------------------

/// Every table of a database: table name → its rows as text, sorted.
pub type Dump = std::collections::BTreeMap<String, Vec<String>>;

/// Tables a failed run may append to: its audit row (`reingest_runs`, and SQLite's
/// `sqlite_sequence` counter), and the content-addressed archive of the raw API responses it
/// fetched (`source_archive`, evidence, never settlement data). Their earlier rows must stay
/// exactly as they were; every other table must be identical.
pub const AUDIT_TABLES: [&str; 3] = ["reingest_runs", "sqlite_sequence", "source_archive"];

#[derive(diesel::QueryableByName)]
struct TextCol {
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Text>)]
    v: Option<String>,
}

fn lite_texts(c: &mut diesel::SqliteConnection, sql: &str) -> Vec<String> {
    let rows: Vec<TextCol> = diesel::sql_query(sql)
        .load(c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|r| r.v.unwrap_or_else(|| "NULL".into()))
        .collect()
}

fn pg_texts(c: &mut PgConnection, sql: &str) -> Vec<String> {
    let rows: Vec<TextCol> = diesel::sql_query(sql)
        .load(c)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    rows.into_iter()
        .map(|r| r.v.unwrap_or_else(|| "NULL".into()))
        .collect()
}

/// Dumps every table of `url` (SQLite or PostgreSQL), every column of every row, ids and
/// timestamps included, as text.
pub fn dump(url: &str) -> Dump {
    let mut out = Dump::new();
    if let Some(path) = url.strip_prefix("sqlite://") {
        let mut c = diesel::SqliteConnection::establish(path).unwrap();
        let tables = lite_texts(
            &mut c,
            "SELECT name AS v FROM sqlite_master WHERE type = 'table' ORDER BY name",
        );
        for t in tables {
            let cols = lite_texts(
                &mut c,
                &format!("SELECT name AS v FROM pragma_table_info('{t}')"),
            );
            let expr: Vec<String> = cols.iter().map(|c| format!("quote(\"{c}\")")).collect();
            let mut rows = lite_texts(
                &mut c,
                &format!("SELECT {} AS v FROM \"{t}\"", expr.join(" || '|' || ")),
            );
            rows.sort();
            out.insert(t, rows);
        }
    } else {
        let mut c = PgConnection::establish(url).unwrap();
        let tables = pg_texts(
            &mut c,
            "SELECT tablename::text AS v FROM pg_tables WHERE schemaname = 'public' ORDER BY 1",
        );
        for t in tables {
            let mut rows = pg_texts(
                &mut c,
                &format!("SELECT CAST(t AS text) AS v FROM \"{t}\" AS t"),
            );
            rows.sort();
            out.insert(t, rows);
        }
    }
    out
}

/// The number of rows across the tables a run writes (records, summaries, bitcoin, fetch log).
pub fn data_rows(d: &Dump) -> usize {
    d.iter()
        .filter(|(t, _)| !AUDIT_TABLES.contains(&t.as_str()))
        .map(|(_, rows)| rows.len())
        .sum()
}

/// Asserts that nothing but the audit log changed between two dumps: every other table holds
/// exactly the same rows (ids and timestamps included), and every earlier audit row is still
/// there unchanged. Returns the audit rows that were added.
pub fn assert_unchanged(before: &Dump, after: &Dump, what: &str) -> Vec<String> {
    let names: std::collections::BTreeSet<&String> = before.keys().chain(after.keys()).collect();
    for t in names {
        let (b, a) = (before.get(t), after.get(t));
        if AUDIT_TABLES.contains(&t.as_str()) {
            continue;
        }
        if b != a {
            let (b, a) = (
                b.cloned().unwrap_or_default(),
                a.cloned().unwrap_or_default(),
            );
            let lost: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(3).collect();
            let added: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(3).collect();
            panic!(
                "{what}: table {t} changed ({} rows before, {} after); lost e.g. {lost:?}; added e.g. {added:?}",
                b.len(),
                a.len()
            );
        }
    }
    let empty = Vec::new();
    for t in ["reingest_runs", "source_archive"] {
        let b = before.get(t).unwrap_or(&empty);
        let a = after.get(t).unwrap_or(&empty);
        for row in b {
            assert!(
                a.contains(row),
                "{what}: a row of {t} changed or was lost: {row}"
            );
        }
    }
    let b = before.get("reingest_runs").unwrap_or(&empty);
    let a = after.get("reingest_runs").unwrap_or(&empty);
    a.iter().filter(|r| !b.contains(r)).cloned().collect()
}

/// The `reingest` binary with `DATABASE_URL` set, pointed at `sim` (or at a closed port),
/// `RUST_LOG` unset, stdout and stderr piped. Callers add global flags and the command.
pub fn reingest_cmd(sim: Option<&SimHandle>, db: &str) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_reingest"));
    let (api, difficulty) = match sim {
        Some(s) => (s.base_url(), s.difficulty_url()),
        None => (
            "http://127.0.0.1:1/bmrs/api/v1".to_owned(),
            "http://127.0.0.1:1/difficulty".to_owned(),
        ),
    };
    cmd.env_remove("RUST_LOG")
        .env("DATABASE_URL", db)
        .env("ELEXON_BASE_URL", api)
        .env("REINGEST_DIFFICULTY_URL", difficulty)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true);
    cmd
}

/// Runs `reingest ARGS` to completion (at most `limit`), returning its output.
pub async fn reingest_out(
    sim: Option<&SimHandle>,
    db: &str,
    args: &[&str],
    limit: std::time::Duration,
) -> std::process::Output {
    let child = reingest_cmd(sim, db).args(args).spawn().unwrap();
    tokio::time::timeout(limit, child.wait_with_output())
        .await
        .unwrap_or_else(|_| panic!("reingest {args:?} did not finish within {limit:?}"))
        .unwrap()
}

/// Text of a process's stderr.
pub fn err_text(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The stored records of `date` in canonical order.
pub fn stored_records(db: &TestDb, date: SettlementDate) -> Vec<CurtailmentRecord> {
    use store::prelude::*;
    let s = store::DieselStore::connect(&db.url, store::StoreConfig::default()).unwrap();
    canonical(s.day_state(date).unwrap().records)
}

/// The audit log of `date`, newest first.
pub fn audit(db: &TestDb, date: SettlementDate) -> Vec<store::AuditRow> {
    use store::prelude::*;
    let s = store::DieselStore::connect(&db.url, store::StoreConfig::default()).unwrap();
    s.runs(Some(date)).unwrap()
}

/// Polls `cond` every 10 ms until it holds or `limit` passes; returns whether it held.
pub async fn poll_until(limit: std::time::Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = std::time::Instant::now() + limit;
    while std::time::Instant::now() < end {
        if cond() {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    cond()
}

/// Everything about a day that a run may change, minus ids and timestamps.
pub fn fingerprint(s: &store::DayState) -> String {
    let mut bitcoin_rows = s.bitcoin_rows.clone();
    bitcoin_rows.sort_by(|a, b| {
        (
            a.settlement_period,
            &a.farm_id,
            &a.miner_model,
            a.bitcoin_mined,
        )
            .cmp(&(
                b.settlement_period,
                &b.farm_id,
                &b.miner_model,
                b.bitcoin_mined,
            ))
    });
    let mut summaries = s.bitcoin_summaries.clone();
    summaries.sort_by(|a, b| (a.period, &a.miner_model).cmp(&(b.period, &b.miner_model)));
    format!(
        "{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        canonical(s.records.clone()),
        s.daily,
        s.monthly,
        s.yearly,
        bitcoin_rows,
        summaries
    )
}
