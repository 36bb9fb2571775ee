//! [`DieselStore`]: the [`SettlementStore`] on PostgreSQL or SQLite, with connection pools,
//! embedded migrations and the transactional swap and restore.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, CustomizeConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, SqliteConnection};
use rust_decimal::Decimal;
use settlement_model::{
    BmUnit, CurtailmentRecord, DayTotals, DifficultyEntry, Halving, PeriodRange, RegistryOrigin,
    SettlementDate,
};

use crate::archive::{self, ArchiveLocation, ArchivedSource, SourceArchive};
use crate::db::Db;
use crate::error::{classify, connection_error, redact_text, redact_url};
use crate::faults::{sqlite_write_tx, TxError};
pub use crate::migrations::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::read::{
    read_day_state, read_derive_context, read_records, read_run_fetch_log, read_runs,
};
use crate::write::{
    backup, check_derived, delete_day_rows, insert_fetch_log, insert_records, insert_running,
    lock_date, lock_rollups, mark_interrupted, per_period_counts, running_holder, totals_in,
    upsert_audit, write_derived,
};
use crate::{
    AuditInfo, AuditLog, AuditRow, DayState, DaySwap, DifficultyAround, DifficultyTable,
    FetchLogEntry, Migrations, RegistryState, RunEvidence, RunStatus, StoreError, SwapHooks,
    SwapOutcome, SwapPlan, UnitRegistry,
};

/// Tuning of a [`DieselStore`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreConfig {
    /// How long a swap waits for another run of the same date (PostgreSQL advisory lock).
    pub lock_timeout: Duration,
    /// How long SQLite waits for the database's write lock (`PRAGMA busy_timeout`); on
    /// SQLite this is the per-date lock wait, since one writer locks the whole file.
    pub busy_timeout: Duration,
    /// Connections in the pool (shared by every thread using the store).
    pub pool_size: u32,
    /// Keep archived source responses in this folder. `None`: beside an SQLite file
    /// (`PATH.archive/`), in the `source_archive` table on PostgreSQL.
    pub archive_dir: Option<std::path::PathBuf>,
    /// PostgreSQL: the `application_name` every session sets, so a DBA can tell our sessions
    /// apart in `pg_stat_activity` (the CLI uses `reingest <command>`).
    pub application_name: String,
    /// PostgreSQL: the longest one statement may run (`statement_timeout`); zero: no limit.
    pub statement_timeout: Duration,
    /// PostgreSQL: how long a session may sit idle inside a transaction before the server
    /// ends it (`idle_in_transaction_session_timeout`); zero: no limit.
    pub idle_in_transaction_timeout: Duration,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            lock_timeout: Duration::from_secs(60),
            busy_timeout: Duration::from_secs(60),
            pool_size: 10,
            archive_dir: None,
            application_name: "reingest".to_owned(),
            statement_timeout: Duration::from_secs(300),
            idle_in_transaction_timeout: Duration::from_secs(60),
        }
    }
}

/// The [`SettlementStore`](crate::SettlementStore) on PostgreSQL (`postgres://…`) or SQLite (`sqlite://PATH`,
/// `sqlite::memory:`). Cheap to clone; every clone shares one connection pool, so one store
/// serves many threads.
#[derive(Clone)]
pub struct DieselStore {
    inner: Arc<Inner>,
}

struct Inner {
    pools: Pools,
    config: StoreConfig,
    url: String,
    archive: ArchiveLocation,
}

enum Pools {
    Pg(Pool<SerialPgManager>),
    Lite(Pool<ConnectionManager<SqliteConnection>>),
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("url", &self.inner.url)
            .field("config", &self.inner.config)
            .finish()
    }
}

/// Which backend a store talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// PostgreSQL.
    Postgres,
    /// SQLite (bundled).
    Sqlite,
}

#[derive(Debug)]
struct SqlitePragmas {
    busy_ms: u128,
}

impl CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        apply_pragmas(conn, self.busy_ms).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The settings of every PostgreSQL session, applied as the pool opens each connection.
#[derive(Debug)]
struct PgSession {
    sql: String,
}

impl PgSession {
    fn new(config: &StoreConfig) -> Self {
        // PostgreSQL keeps 63 bytes of printable ASCII; quotes are doubled for the literal.
        let name: String = config
            .application_name
            .chars()
            .map(|c| {
                if c.is_ascii_graphic() || c == ' ' {
                    c
                } else {
                    '?'
                }
            })
            .take(63)
            .collect::<String>()
            .replace('\'', "''");
        // Both settings are ints of milliseconds (at most about 24.8 days).
        let ms = |d: Duration| d.as_millis().min(i32::MAX as u128);
        Self {
            sql: format!(
                "SET application_name = '{name}'; SET statement_timeout = {}; \
                 SET idle_in_transaction_session_timeout = {};",
                ms(config.statement_timeout),
                ms(config.idle_in_transaction_timeout)
            ),
        }
    }

    fn apply(&self, conn: &mut PgConnection) -> diesel::QueryResult<()> {
        conn.batch_execute(&self.sql)
    }
}

// `SET` on connect rather than URL parameters: no rewriting of the operator's URL (which may
// carry parameters of its own), and the same SQL for the probe connection and the pool.
impl CustomizeConnection<PgConnection, diesel::r2d2::Error> for PgSession {
    fn on_acquire(&self, conn: &mut PgConnection) -> Result<(), diesel::r2d2::Error> {
        self.apply(conn).map_err(diesel::r2d2::Error::QueryError)
    }
}

/// The threads r2d2 opens and reaps connections on: one pool for the process, never dropped.
/// r2d2's default is a pool per connection pool, whose threads exit when it is dropped; a
/// thread that used libpq (and so OpenSSL) exiting while the process runs OpenSSL's exit
/// handlers crashes the process (seen as a signal or "double free" after a command finished).
fn r2d2_threads() -> Arc<scheduled_thread_pool::ScheduledThreadPool> {
    static THREADS: std::sync::OnceLock<Arc<scheduled_thread_pool::ScheduledThreadPool>> =
        std::sync::OnceLock::new();
    Arc::clone(THREADS.get_or_init(|| {
        Arc::new(
            scheduled_thread_pool::ScheduledThreadPool::builder()
                .num_threads(3)
                .thread_name_pattern("reingest-db-{}")
                .build(),
        )
    }))
}

/// Serialises opening PostgreSQL connections across the process: libpq's connection start
/// (TLS and GSSAPI negotiation) is not safe to run on several threads at once, and pooled
/// connections are opened on whichever threads ask for them (diesel issue 2162: a heap
/// corruption, seen here as `double free or corruption` under load). Using connections
/// concurrently is safe; only opening them takes turns.
static OPENING_PG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Opens one PostgreSQL connection, one opening at a time (see [`OPENING_PG`]).
fn establish_pg(url: &str) -> diesel::ConnectionResult<PgConnection> {
    let _turn = OPENING_PG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    PgConnection::establish(url)
}

/// diesel's connection manager for PostgreSQL, opening connections one at a time.
#[derive(Debug)]
pub(crate) struct SerialPgManager(ConnectionManager<PgConnection>);

impl diesel::r2d2::ManageConnection for SerialPgManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let _turn = OPENING_PG
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        self.0.connect()
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.0.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.0.has_broken(conn)
    }
}

fn apply_pragmas(conn: &mut SqliteConnection, busy_ms: u128) -> diesel::QueryResult<()> {
    // Raw SQL: diesel has no typed form of SQLite's PRAGMA statements.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = ON; \
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    ))
}

/// One pooled connection of either backend.
pub(crate) enum Conn {
    Pg(PooledConnection<SerialPgManager>),
    Lite(PooledConnection<ConnectionManager<SqliteConnection>>),
}

impl Conn {
    /// A write transaction: PostgreSQL `BEGIN`, SQLite `BEGIN IMMEDIATE` (takes the write
    /// lock up front, waiting at most the busy timeout).
    pub(crate) fn write_tx<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Db<'_>) -> Result<T, E>,
        E: TxError,
    {
        match self {
            Conn::Pg(c) => c.transaction(|c| f(&mut Db::Pg(c))),
            Conn::Lite(c) => sqlite_write_tx(c, |c| f(&mut Db::Lite(c))),
        }
    }

    /// One statement on its own: it reads one snapshot, or writes all or nothing, by itself,
    /// so a transaction would only add a `BEGIN` and a `COMMIT` round trip. Writes go through
    /// [`Conn::single_write`], which takes SQLite's write lock first.
    pub(crate) fn single<T, F>(&mut self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<T, StoreError>,
    {
        match self {
            Conn::Pg(c) => f(&mut Db::Pg(c)),
            Conn::Lite(c) => f(&mut Db::Lite(c)),
        }
    }

    /// One write statement on its own, like [`Conn::single`]; on SQLite it takes the
    /// database's write lock with `BEGIN IMMEDIATE` first, like every write, so the one
    /// statement that waits for the lock is that `BEGIN` (see `crate::faults`).
    pub(crate) fn single_write<T, F>(&mut self, f: F) -> Result<T, StoreError>
    where
        F: FnOnce(&mut Db<'_>) -> Result<T, StoreError>,
    {
        match self {
            Conn::Pg(c) => f(&mut Db::Pg(c)),
            Conn::Lite(c) => sqlite_write_tx(c, |c| f(&mut Db::Lite(c))),
        }
    }

    /// A consistent read: PostgreSQL repeatable-read read-only, SQLite a deferred
    /// transaction (a WAL snapshot).
    pub(crate) fn read_tx<T, E, F>(&mut self, f: F) -> Result<T, E>
    where
        F: FnOnce(&mut Db<'_>) -> Result<T, E>,
        E: From<diesel::result::Error>,
    {
        match self {
            Conn::Pg(c) => c
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(|c| f(&mut Db::Pg(c))),
            Conn::Lite(c) => c.transaction(|c| f(&mut Db::Lite(c))),
        }
    }
}

/// Why a swap's transaction ended without committing.
enum TxFail {
    Store(StoreError),
    /// Verification failed (boxed: the replaced records make it large).
    Rejected(Box<Rejected>),
}

/// What a rejected swap reports and audits.
struct Rejected {
    before: DayTotals,
    after: DayTotals,
    counts: String,
    replaced: Vec<CurtailmentRecord>,
}

impl From<diesel::result::Error> for TxFail {
    fn from(e: diesel::result::Error) -> Self {
        TxFail::Store(classify(&e))
    }
}

impl From<StoreError> for TxFail {
    fn from(e: StoreError) -> Self {
        TxFail::Store(e)
    }
}

impl TxError for TxFail {
    fn as_store(&self) -> Option<&StoreError> {
        match self {
            TxFail::Store(e) => Some(e),
            TxFail::Rejected { .. } => None,
        }
    }
}

impl DieselStore {
    /// Connects to `url`: `sqlite://PATH` (the file is created if missing),
    /// `sqlite::memory:`, or `postgres://` / `postgresql://`. Does not migrate.
    pub fn connect(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        let redacted = redact_url(url);
        let wait = config
            .lock_timeout
            .max(config.busy_timeout)
            .saturating_add(Duration::from_secs(30))
            // r2d2 adds this to `Instant::now()`, which panics on overflow.
            .min(Duration::from_secs(30 * 24 * 3600));
        let mut archive = ArchiveLocation::Table;
        let pools = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // One direct connection first, for a precise error (the pool would only say
            // "timed out").
            let session = PgSession::new(&config);
            let mut probe =
                establish_pg(url).map_err(|e| connection_error(&redacted, &e.to_string()))?;
            session.apply(&mut probe).map_err(|e| match classify(&e) {
                StoreError::Database { detail } => StoreError::ConnectionFailed {
                    url: redacted.clone(),
                    detail,
                },
                other => other,
            })?;
            drop(probe);
            let pool = Pool::builder()
                .thread_pool(r2d2_threads())
                .connection_customizer(Box::new(session))
                .max_size(config.pool_size.max(1))
                .min_idle(Some(0))
                // No `SELECT 1` before every checkout (one round trip per transaction): a
                // connection that died fails its first statement, which is reported, and
                // r2d2 drops it when it comes back broken.
                .test_on_check_out(false)
                .connection_timeout(wait)
                .build(SerialPgManager(ConnectionManager::new(url)))
                .map_err(|e| connection_error(&redacted, &e.to_string()))?;
            Pools::Pg(pool)
        } else if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::InvalidUrl {
                    url: redacted,
                    reason: "no file path after sqlite://".into(),
                });
            }
            let memory = path == ":memory:";
            if !memory {
                archive =
                    ArchiveLocation::Folder(std::path::PathBuf::from(format!("{path}.archive")));
            }
            // SQLite takes an int of milliseconds.
            let busy_ms = config.busy_timeout.as_millis().min(i32::MAX as u128);
            let mut probe = SqliteConnection::establish(path)
                .map_err(|e| connection_error(&redacted, &e.to_string()))?;
            apply_pragmas(&mut probe, busy_ms).map_err(|e| match classify(&e) {
                StoreError::Database { detail } => StoreError::ConnectionFailed {
                    url: redacted.clone(),
                    detail,
                },
                other => other,
            })?;
            drop(probe);
            let mut builder = Pool::builder()
                .thread_pool(r2d2_threads())
                .connection_customizer(Box::new(SqlitePragmas { busy_ms }))
                .connection_timeout(wait);
            builder = if memory {
                // One connection holds the whole in-memory database: keep it forever.
                builder
                    .max_size(1)
                    .min_idle(Some(1))
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                builder.max_size(config.pool_size.max(1)).min_idle(Some(0))
            };
            let pool = builder
                .build(ConnectionManager::<SqliteConnection>::new(path))
                .map_err(|e| connection_error(&redacted, &e.to_string()))?;
            Pools::Lite(pool)
        } else {
            return Err(StoreError::InvalidUrl {
                url: redacted,
                reason: "unknown scheme".into(),
            });
        };
        if let Some(dir) = &config.archive_dir {
            archive = ArchiveLocation::Folder(dir.clone());
        }
        Ok(Self {
            inner: Arc::new(Inner {
                pools,
                config,
                url: redacted,
                archive,
            }),
        })
    }

    /// Connects with [`StoreConfig::default`] and applies pending migrations.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url, StoreConfig::default())?;
        store.migrate()?;
        Ok(store)
    }

    /// The pending migrations, each with the SQL it would run (for `migrate --dry-run`).
    pub fn pending_migration_sql(&self) -> Result<Vec<(String, &'static str)>, StoreError> {
        let mut conn = self.conn()?;
        let names = crate::migrations::pending(&mut conn)?;
        Ok(crate::migrations::sql_of(&conn, &names))
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        match self.inner.pools {
            Pools::Pg(_) => Backend::Postgres,
            Pools::Lite(_) => Backend::Sqlite,
        }
    }

    /// The database URL with its password redacted.
    pub fn redacted_url(&self) -> &str {
        &self.inner.url
    }

    /// Where archived source responses are kept: a folder, or `None` for the database's
    /// `source_archive` table.
    pub fn archive_dir(&self) -> Option<&std::path::Path> {
        match &self.inner.archive {
            ArchiveLocation::Folder(p) => Some(p),
            ArchiveLocation::Table => None,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    pub(crate) fn conn(&self) -> Result<Conn, StoreError> {
        let pool_err = |e: diesel::r2d2::PoolError| StoreError::Pool {
            detail: redact_text(&e.to_string()),
        };
        Ok(match &self.inner.pools {
            Pools::Pg(p) => Conn::Pg(p.get().map_err(pool_err)?),
            Pools::Lite(p) => Conn::Lite(p.get().map_err(pool_err)?),
        })
    }

    /// The swap's machinery: running row, one transaction (lock, backup, `body`, read back,
    /// verify, audit), and the audit of a rollback or failure. `body` returns notes for the
    /// audit row's detail (legacy duplicates it removed).
    #[allow(clippy::too_many_arguments)]
    fn replace_day(
        &self,
        audit: &AuditInfo,
        date: SettlementDate,
        periods: PeriodRange,
        force: bool,
        hooks: &mut dyn SwapHooks,
        body: impl FnOnce(
            &mut Db<'_>,
            &mut dyn SwapHooks,
            &StoreConfig,
            Vec<CurtailmentRecord>,
        ) -> Result<Vec<String>, StoreError>,
    ) -> Result<SwapOutcome, StoreError> {
        let clock = Instant::now();
        let mut row = blank_audit_row(audit, date, periods, RunStatus::Running);
        let mut conn = self.conn()?;
        // One statement, committed on its own: other runs must see it while this one waits.
        if let Err(e) = conn.single_write(|db| insert_running(db, &row)) {
            // On SQLite the database's write lock may be what we waited for.
            let holder = match &e {
                StoreError::LockTimeout { .. } => conn
                    .read_tx(|db| running_holder(db, date, &audit.run_id))
                    .ok()
                    .flatten(),
                _ => None,
            };
            return Err(self.with_lock_context(e, date, holder));
        }

        let config = &self.inner.config;
        let result = conn.write_tx(
            |db| -> Result<(DayTotals, DayTotals, Vec<CurtailmentRecord>), TxFail> {
                lock_date(db, date, config)?;
                mark_interrupted(db, date, &audit.run_id)?;
                // The whole day, once: the swapped periods' totals before, and the records the
                // swap keeps (those of other periods).
                let day_before = read_records(db, date, None)?;
                let before = totals_in(periods, &day_before)?;
                let (replaced, kept): (Vec<_>, Vec<_>) = day_before
                    .into_iter()
                    .partition(|r| periods.contains(r.settlement_period));
                backup(db, &audit.run_id, date, periods)?;
                let notes = body(db, hooks, config, kept)?;
                let state = read_day_state(db, date)?;
                let verified = hooks.verify(&state);
                let after = totals_in(periods, &state.records)?;
                let counts = per_period_counts(periods, &state.records);
                if !verified && !force {
                    return Err(TxFail::Rejected(Box::new(Rejected {
                        before,
                        after,
                        counts,
                        replaced,
                    })));
                }
                let mut done = row.clone();
                fill_totals(&mut done, before, after, counts, clock);
                let mut detail = notes;
                if verified {
                    done.status = RunStatus::Committed;
                } else {
                    done.status = RunStatus::Forced;
                    detail.insert(0, "verification failed; committed with --force".into());
                }
                done.detail = (!detail.is_empty()).then(|| detail.join("; "));
                upsert_audit(db, &done)?;
                Ok((before, after, replaced))
            },
        );
        match result {
            Ok((before, after, replaced)) => Ok(SwapOutcome {
                run_id: audit.run_id.clone(),
                committed: true,
                before,
                after,
                replaced,
            }),
            Err(TxFail::Rejected(rejected)) => {
                let Rejected {
                    before,
                    after,
                    counts,
                    replaced,
                } = *rejected;
                fill_totals(&mut row, before, after, counts, clock);
                row.status = RunStatus::RolledBack;
                row.detail = Some("verification failed: every change was rolled back".into());
                conn.write_tx(|db| upsert_audit(db, &row))?;
                Ok(SwapOutcome {
                    run_id: audit.run_id.clone(),
                    committed: false,
                    before,
                    after,
                    replaced,
                })
            }
            Err(TxFail::Store(e)) => {
                let holder = conn
                    .read_tx(|db| running_holder(db, date, &audit.run_id))
                    .ok()
                    .flatten();
                let e = self.with_lock_context(e, date, holder);
                row.status = RunStatus::Failed;
                row.duration_ms = elapsed_ms(clock);
                row.detail = Some(e.to_string());
                if let Err(audit_error) = conn.write_tx(|db| upsert_audit(db, &row)) {
                    tracing::warn!(
                        message = "could not record the failed run",
                        run_id = %audit.run_id,
                        error = %audit_error
                    );
                }
                Err(e)
            }
        }
    }

    /// Fills in how long a lock timeout outside a swap waited (the driver does not say), so
    /// the message never reads "timed out after 0ns".
    fn with_wait(&self, e: StoreError) -> StoreError {
        match e {
            StoreError::LockTimeout {
                date,
                other_run,
                waited,
                detail,
            } if waited.is_zero() => StoreError::LockTimeout {
                date,
                other_run,
                waited: match self.backend() {
                    Backend::Postgres => self.inner.config.lock_timeout,
                    Backend::Sqlite => self.inner.config.busy_timeout,
                },
                detail,
            },
            other => other,
        }
    }

    /// Adds the date, the wait and the probable holder to a lock timeout.
    fn with_lock_context(
        &self,
        e: StoreError,
        date: SettlementDate,
        holder: Option<String>,
    ) -> StoreError {
        match e {
            StoreError::LockTimeout {
                other_run,
                detail,
                waited,
                ..
            } => StoreError::LockTimeout {
                date: Some(date),
                other_run: other_run.or(holder),
                waited: if waited.is_zero() {
                    match self.backend() {
                        Backend::Postgres => self.inner.config.lock_timeout,
                        Backend::Sqlite => self.inner.config.busy_timeout,
                    }
                } else {
                    waited
                },
                detail,
            },
            other => other,
        }
    }
}

/// An audit row for `audit` with `status` and no totals yet.
fn blank_audit_row(
    audit: &AuditInfo,
    date: SettlementDate,
    periods: PeriodRange,
    status: RunStatus,
) -> AuditRow {
    AuditRow {
        run_id: audit.run_id.clone(),
        kind: audit.kind.clone(),
        settlement_date: date,
        periods: periods.to_string(),
        reason: audit.reason.clone(),
        user: audit.user.clone(),
        host: audit.host.clone(),
        status,
        records_before: 0,
        records_after: 0,
        energy_before: Decimal::ZERO,
        energy_after: Decimal::ZERO,
        payment_before: Decimal::ZERO,
        payment_after: Decimal::ZERO,
        per_period_counts: "{}".into(),
        started_at: audit.started_at,
        duration_ms: 0,
        tool_version: audit.tool_version.clone(),
        detail: None,
        inputs: audit.inputs,
        backup_pruned_at: None,
        range_tag: audit.range_tag.clone(),
    }
}

fn elapsed_ms(clock: Instant) -> i64 {
    i64::try_from(clock.elapsed().as_millis()).unwrap_or(i64::MAX)
}

fn fill_totals(
    row: &mut AuditRow,
    before: DayTotals,
    after: DayTotals,
    counts: String,
    clock: Instant,
) {
    row.records_before = i64::try_from(before.records).unwrap_or(i64::MAX);
    row.records_after = i64::try_from(after.records).unwrap_or(i64::MAX);
    row.energy_before = before.energy_mwh;
    row.energy_after = after.energy_mwh;
    row.payment_before = before.payment_gbp;
    row.payment_after = after.payment_gbp;
    row.per_period_counts = counts;
    row.duration_ms = elapsed_ms(clock);
}

/// Rejects text PostgreSQL cannot store (a NUL byte), on both backends alike.
fn check_text(what: &str, value: &str) -> Result<(), StoreError> {
    if value.contains('\0') {
        return Err(StoreError::InvalidInput {
            reason: format!("{what} {value:?} contains a NUL byte"),
        });
    }
    Ok(())
}

fn check_plan(plan: &SwapPlan) -> Result<(), StoreError> {
    let invalid = |reason: String| Err(StoreError::InvalidInput { reason });
    if plan.periods.last() > plan.date.periods() {
        return invalid(format!(
            "periods {} do not exist on {} (it has {})",
            plan.periods,
            plan.date,
            plan.date.periods()
        ));
    }
    for r in &plan.records {
        if r.settlement_date != plan.date || !plan.periods.contains(r.settlement_period) {
            return invalid(format!(
                "a record of {} period {} is outside the swap of {} periods {}",
                r.settlement_date, r.settlement_period, plan.date, plan.periods
            ));
        }
        check_text("farm id", &r.farm_id)?;
        if let Some(name) = &r.lead_party_name {
            check_text("lead party name", name)?;
        }
    }
    for e in &plan.fetch_log {
        if e.settlement_date != plan.date {
            return invalid(format!(
                "a fetch log entry of {} in the swap of {}",
                e.settlement_date, plan.date
            ));
        }
    }
    check_text("run id", &plan.audit.run_id)?;
    Ok(())
}

impl Migrations for DieselStore {
    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        // Nothing pending (the common case): no lock taken at all.
        if crate::migrations::pending(&mut conn)?.is_empty() {
            return Ok(());
        }
        crate::migrations::migrate(&mut conn).map_err(|e| self.with_wait(e))
    }

    fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        crate::migrations::pending(&mut conn)
    }
}

impl UnitRegistry for DieselStore {
    fn bm_units(&self) -> Result<Vec<BmUnit>, StoreError> {
        self.conn()?.single(crate::reference::bm_units)
    }

    fn replace_bm_units(
        &self,
        units: &[BmUnit],
        origin: RegistryOrigin,
    ) -> Result<usize, StoreError> {
        for u in units {
            let texts = [
                Some(u.elexon_bm_unit.as_str()),
                u.national_grid_bm_unit.as_deref(),
                u.bm_unit_name.as_deref(),
                u.lead_party_name.as_deref(),
                u.fuel_type.as_deref(),
            ];
            for t in texts.into_iter().flatten() {
                check_text("BM unit field", t)?;
            }
        }
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::reference::replace_bm_units(db, units, origin))
            .map_err(|e| self.with_wait(e))
    }

    fn registry_state(&self) -> Result<Option<RegistryState>, StoreError> {
        self.conn()?.single(crate::reference::registry_state)
    }
}

impl DifficultyTable for DieselStore {
    fn difficulty_around(&self, date: NaiveDate) -> Result<DifficultyAround, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::reference::difficulty_around(db, date))
    }

    fn upsert_difficulties(&self, rows: &[DifficultyEntry]) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::reference::upsert_difficulties(db, rows))
            .map_err(|e| self.with_wait(e))
    }

    fn halvings(&self) -> Result<Vec<Halving>, StoreError> {
        self.conn()?.single(crate::reference::halvings)
    }

    fn upsert_halving(&self, halving: Halving, source: &str) -> Result<(), StoreError> {
        check_text("source", source)?;
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::reference::upsert_halving(db, halving, source))
            .map_err(|e| self.with_wait(e))
    }
}

impl DaySwap for DieselStore {
    fn day_state(&self, date: SettlementDate) -> Result<DayState, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| read_day_state(db, date))
    }

    fn day_records(&self, date: SettlementDate) -> Result<Vec<CurtailmentRecord>, StoreError> {
        self.conn()?.single(|db| read_records(db, date, None))
    }

    fn swap(&self, plan: SwapPlan, hooks: &mut dyn SwapHooks) -> Result<SwapOutcome, StoreError> {
        check_plan(&plan)?;
        let SwapPlan {
            date,
            periods,
            records,
            fetch_log,
            audit,
            force,
        } = plan;
        let run_id = audit.run_id.clone();
        self.replace_day(
            &audit,
            date,
            periods,
            force,
            hooks,
            |db, hooks, config, kept| {
                delete_day_rows(db, date, periods)?;
                insert_records(db, &records)?;
                lock_rollups(db, date, config)?;
                // The day after the insert, known without reading it back (verification reads
                // it back), in the order a read returns it, so every sum rounds alike.
                let mut day_records = kept;
                day_records.extend(records.iter().cloned());
                crate::read::sort_records(&mut day_records);
                let ctx = read_derive_context(db, date, day_records)?;
                let derived = hooks
                    .derive(&ctx)
                    .map_err(|source| StoreError::Derive { source })?;
                check_derived(date, &derived)?;
                let notes = write_derived(db, &derived)?;
                insert_fetch_log(db, &run_id, &fetch_log)?;
                Ok(notes)
            },
        )
    }

    fn backup_records(&self, run_id: &str) -> Result<Vec<CurtailmentRecord>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::read::read_backup_records(db, run_id))
    }

    fn delete_backups(&self, run_ids: &[String]) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::write::delete_backups(db, run_ids))
            .map_err(|e| self.with_wait(e))
    }
}

impl AuditLog for DieselStore {
    fn record_evidence(
        &self,
        evidence: &RunEvidence,
        registry_json: &str,
    ) -> Result<(), StoreError> {
        // No transaction: the snapshot goes first and is idempotent, so the evidence row
        // never names a missing one, and an orphan snapshot is harmless.
        self.conn()?
            .single_write(|db| crate::evidence::record(db, evidence, registry_json))
            .map_err(|e| self.with_wait(e))
    }

    fn evidence(&self, run_id: &str) -> Result<Option<RunEvidence>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::evidence::read(db, run_id))
    }

    fn registry_snapshot(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::evidence::registry_snapshot(db, hash))
    }

    fn run(&self, run_id: &str) -> Result<Option<AuditRow>, StoreError> {
        let mut conn = self.conn()?;
        Ok(conn
            .read_tx(|db| read_runs(db, None, Some(run_id)))?
            .into_iter()
            .next())
    }

    fn runs(&self, date: Option<SettlementDate>) -> Result<Vec<AuditRow>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| read_runs(db, date, None))
    }

    fn run_fetch_log(&self, run_id: &str) -> Result<Vec<FetchLogEntry>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| read_run_fetch_log(db, run_id))
    }

    fn dates_done_in_range(&self, range_tag: &str) -> Result<Vec<SettlementDate>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::runs_query::dates_done_in_range(db, range_tag))
    }

    fn record_failed_run(
        &self,
        audit: &AuditInfo,
        date: SettlementDate,
        periods: PeriodRange,
        detail: &str,
    ) -> Result<(), StoreError> {
        let row = AuditRow {
            duration_ms: (Utc::now() - audit.started_at).num_milliseconds().max(0),
            detail: Some(redact_text(detail).replace('\0', "\u{FFFD}")),
            ..blank_audit_row(audit, date, periods, RunStatus::Failed)
        };
        let mut conn = self.conn()?;
        conn.write_tx(|db| upsert_audit(db, &row))
            .map_err(|e| self.with_wait(e))
    }
}

impl SourceArchive for DieselStore {
    fn put_source(&self, format: &str, body: &[u8]) -> Result<String, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_put(dir, format, body),
            ArchiveLocation::Table => self
                .conn()?
                .single_write(|db| archive::table_put(db, format, body)),
        }
    }

    fn put_sources(&self, sources: &[(&str, &[u8])]) -> Result<Vec<String>, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => sources
                .iter()
                .map(|(format, body)| archive::folder_put(dir, format, body))
                .collect(),
            // One statement for a day's responses; no transaction, as entries are
            // content-addressed and idempotent (a partial write is whole entries).
            ArchiveLocation::Table => self
                .conn()?
                .single_write(|db| archive::table_put_many(db, sources)),
        }
    }

    fn get_source(&self, hash: &str) -> Result<ArchivedSource, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_get(dir, hash),
            ArchiveLocation::Table => self.conn()?.single(|db| archive::table_get(db, hash)),
        }
    }

    fn get_sources(&self, hashes: &[String]) -> Result<Vec<ArchivedSource>, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => hashes
                .iter()
                .map(|hash| archive::folder_get(dir, hash))
                .collect(),
            ArchiveLocation::Table => self
                .conn()?
                .single(|db| archive::table_get_many(db, hashes)),
        }
    }

    fn source_hashes(&self) -> Result<Vec<String>, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_hashes(dir),
            ArchiveLocation::Table => self.conn()?.read_tx(archive::table_hashes),
        }
    }

    fn delete_sources(&self, hashes: &[String]) -> Result<usize, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_delete(dir, hashes),
            ArchiveLocation::Table => self
                .conn()?
                .write_tx(|db| archive::table_delete(db, hashes)),
        }
    }
}
