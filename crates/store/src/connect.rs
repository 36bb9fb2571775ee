//! Connecting: the store's tuning ([`StoreConfig`]), the connection pools of either backend
//! with the settings every session gets (PostgreSQL's session `SET`s, SQLite's pragmas), the
//! process-wide threads r2d2 runs on, and the pooled connection ([`Conn`]) with its read and
//! write transactions.
//!
//! Each backend is compiled only with its Cargo feature (`postgres`, `sqlite`); a URL of a
//! backend left out is [`StoreError::BackendNotCompiled`], naming the feature.

use std::sync::Arc;
use std::time::Duration;

use diesel::connection::SimpleConnection;
use diesel::r2d2::{ConnectionManager, Pool, PooledConnection};
use diesel::Connection;
#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;

use crate::db::Db;
use crate::error::{classify, connection_error, redact_text};
#[cfg(feature = "sqlite")]
use crate::faults::sqlite_write_tx;
use crate::faults::TxError;
use crate::StoreError;

/// Tuning of a [`DieselStore`](crate::DieselStore).
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

impl StoreConfig {
    /// How long a write waits for a lock on `backend`: the advisory lock's timeout on
    /// PostgreSQL, the busy timeout on SQLite.
    pub(crate) fn lock_wait(&self, backend: Backend) -> Duration {
        match backend {
            Backend::Postgres => self.lock_timeout,
            Backend::Sqlite => self.busy_timeout,
        }
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

/// How long a read waits for a second connection before it goes on with one: never long
/// (another thread may hold the rest of the pool and wait for this one's).
#[cfg(feature = "postgres")]
const SECOND_CONNECTION_WAIT: Duration = Duration::from_millis(500);

/// The connection pool of one backend.
pub(crate) enum Pools {
    #[cfg(feature = "postgres")]
    Pg(Pool<SerialPgManager>),
    #[cfg(feature = "sqlite")]
    Lite(Pool<ConnectionManager<SqliteConnection>>),
}

impl Pools {
    /// Opens the pool for `url` (`redacted` is the URL as errors print it), after one
    /// direct connection that reports a precise error (the pool would only say "timed
    /// out"). Also returns the SQLite file, if the database is one.
    pub(crate) fn open(
        url: &str,
        redacted: &str,
        config: &StoreConfig,
    ) -> Result<(Self, Option<String>), StoreError> {
        let wait = config
            .lock_timeout
            .max(config.busy_timeout)
            .saturating_add(Duration::from_secs(30))
            // r2d2 adds this to `Instant::now()`, which panics on overflow.
            .min(Duration::from_secs(30 * 24 * 3600));
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            #[cfg(feature = "postgres")]
            return Self::open_pg(url, redacted, config, wait).map(|pools| (pools, None));
            #[cfg(not(feature = "postgres"))]
            return Err(StoreError::BackendNotCompiled {
                url: redacted.to_owned(),
                backend: "PostgreSQL",
                feature: "postgres",
            });
        }
        if let Some(rest) = url.strip_prefix("sqlite:") {
            let path = rest.strip_prefix("//").unwrap_or(rest);
            if path.is_empty() {
                return Err(StoreError::InvalidUrl {
                    url: redacted.to_owned(),
                    reason: "no file path after sqlite://".into(),
                });
            }
            #[cfg(feature = "sqlite")]
            return Self::open_sqlite(path, redacted, config, wait);
            #[cfg(not(feature = "sqlite"))]
            return Err(StoreError::BackendNotCompiled {
                url: redacted.to_owned(),
                backend: "SQLite",
                feature: "sqlite",
            });
        }
        Err(StoreError::InvalidUrl {
            url: redacted.to_owned(),
            reason: "unknown scheme".into(),
        })
    }

    /// The PostgreSQL pool, every session with [`PgSession`]'s settings; `wait`: how long a
    /// checkout may wait.
    #[cfg(feature = "postgres")]
    fn open_pg(
        url: &str,
        redacted: &str,
        config: &StoreConfig,
        wait: Duration,
    ) -> Result<Self, StoreError> {
        let session = PgSession::new(config);
        let mut probe = opening_pg(|| PgConnection::establish(url))
            .map_err(|e| connection_error(redacted, &e.to_string()))?;
        session
            .apply(&mut probe)
            .map_err(|e| session_error(redacted, &e))?;
        let manager = SerialPgManager {
            manager: ConnectionManager::new(url),
            session,
            // The probe, set up and working, is the pool's first connection: a run opens
            // one connection, not two.
            first: std::sync::Mutex::new(Some(probe)),
        };
        let pool = Pool::builder()
            .thread_pool(r2d2_threads())
            .max_size(config.pool_size.max(1))
            .min_idle(Some(0))
            // No `SELECT 1` before every checkout (one round trip per transaction): a
            // connection that died fails its first statement, which is reported, and
            // r2d2 drops it when it comes back broken.
            .test_on_check_out(false)
            .connection_timeout(wait)
            .build(manager)
            .map_err(|e| connection_error(redacted, &e.to_string()))?;
        Ok(Pools::Pg(pool))
    }

    /// The SQLite pool of the file at `path` (or `:memory:`), every connection with
    /// [`SqlitePragmas`]; also returns the file, unless in memory.
    #[cfg(feature = "sqlite")]
    fn open_sqlite(
        path: &str,
        redacted: &str,
        config: &StoreConfig,
        wait: Duration,
    ) -> Result<(Self, Option<String>), StoreError> {
        let memory = path == ":memory:";
        // SQLite takes an int of milliseconds.
        let busy_ms = config.busy_timeout.as_millis().min(i32::MAX as u128);
        let mut probe = SqliteConnection::establish(path)
            .map_err(|e| connection_error(redacted, &e.to_string()))?;
        apply_pragmas(&mut probe, busy_ms).map_err(|e| session_error(redacted, &e))?;
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
            .map_err(|e| connection_error(redacted, &e.to_string()))?;
        let file = (!memory).then(|| path.to_owned());
        Ok((Pools::Lite(pool), file))
    }

    /// The backend the pool connects to.
    pub(crate) fn backend(&self) -> Backend {
        match self {
            #[cfg(feature = "postgres")]
            Pools::Pg(_) => Backend::Postgres,
            #[cfg(feature = "sqlite")]
            Pools::Lite(_) => Backend::Sqlite,
        }
    }

    /// A second PostgreSQL connection for a read that splits its statements over two
    /// (see `crate::range_read`), when the pool may hold two and one comes within
    /// [`SECOND_CONNECTION_WAIT`]; `None` on SQLite, on a pool of one, or when none comes
    /// (the read then sends its statements on its one connection, as before).
    pub(crate) fn second_pg(&self) -> Option<Conn> {
        match self {
            #[cfg(feature = "postgres")]
            Pools::Pg(p) if p.max_size() >= 2 => {
                p.get_timeout(SECOND_CONNECTION_WAIT).ok().map(Conn::Pg)
            }
            _ => None,
        }
    }

    /// One connection from the pool, waiting at most the pool's connection timeout.
    pub(crate) fn get(&self) -> Result<Conn, StoreError> {
        let pool_err = |e: diesel::r2d2::PoolError| StoreError::Pool {
            detail: redact_text(&e.to_string()),
        };
        Ok(match self {
            #[cfg(feature = "postgres")]
            Pools::Pg(p) => Conn::Pg(p.get().map_err(pool_err)?),
            #[cfg(feature = "sqlite")]
            Pools::Lite(p) => Conn::Lite(p.get().map_err(pool_err)?),
        })
    }
}

/// A session setting that failed on the probe connection is a failure to connect.
fn session_error(redacted: &str, e: &diesel::result::Error) -> StoreError {
    match classify(e) {
        StoreError::Database { detail } => StoreError::ConnectionFailed {
            url: redacted.to_owned(),
            detail,
        },
        other => other,
    }
}

/// The pragmas of every SQLite connection, applied as the pool opens each one.
#[cfg(feature = "sqlite")]
#[derive(Debug)]
struct SqlitePragmas {
    busy_ms: u128,
}

#[cfg(feature = "sqlite")]
impl diesel::r2d2::CustomizeConnection<SqliteConnection, diesel::r2d2::Error> for SqlitePragmas {
    fn on_acquire(&self, conn: &mut SqliteConnection) -> Result<(), diesel::r2d2::Error> {
        apply_pragmas(conn, self.busy_ms).map_err(diesel::r2d2::Error::QueryError)
    }
}

#[cfg(feature = "sqlite")]
fn apply_pragmas(conn: &mut SqliteConnection, busy_ms: u128) -> diesel::QueryResult<()> {
    // Raw SQL: diesel has no typed form of SQLite's PRAGMA statements.
    conn.batch_execute(&format!(
        "PRAGMA busy_timeout = {busy_ms}; PRAGMA foreign_keys = ON; \
         PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
    ))
}

/// The settings of every PostgreSQL session, applied as each connection opens.
#[cfg(feature = "postgres")]
#[derive(Debug)]
struct PgSession {
    sql: String,
}

#[cfg(feature = "postgres")]
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

/// Opens a PostgreSQL connection with `open`, one opening at a time across the process:
/// libpq's connection start (TLS and GSSAPI negotiation) is not safe to run on several
/// threads at once, and pooled connections are opened on whichever threads ask for them
/// (diesel issue 2162: a heap corruption, seen here as `double free or corruption` under
/// load). Using connections concurrently is safe; only opening them takes turns. The probe
/// connection and the pool's connections both open through here.
#[cfg(feature = "postgres")]
fn opening_pg<T>(open: impl FnOnce() -> T) -> T {
    static OPENING_PG: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _turn = OPENING_PG
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    open()
}

/// diesel's connection manager for PostgreSQL, opening connections one at a time (see
/// [`opening_pg`]) with the session's settings, and handing out the probe connection first.
/// (`SET` on connect rather than URL parameters: no rewriting of the operator's URL, which
/// may carry parameters of its own.)
#[cfg(feature = "postgres")]
pub(crate) struct SerialPgManager {
    manager: ConnectionManager<PgConnection>,
    session: PgSession,
    first: std::sync::Mutex<Option<PgConnection>>,
}

#[cfg(feature = "postgres")]
impl std::fmt::Debug for SerialPgManager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SerialPgManager")
            .field("session", &self.session)
            .finish_non_exhaustive()
    }
}

#[cfg(feature = "postgres")]
impl diesel::r2d2::ManageConnection for SerialPgManager {
    type Connection = PgConnection;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<PgConnection, Self::Error> {
        let probe = self
            .first
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(conn) = probe {
            return Ok(conn);
        }
        let mut conn = opening_pg(|| self.manager.connect())?;
        self.session
            .apply(&mut conn)
            .map_err(diesel::r2d2::Error::QueryError)?;
        Ok(conn)
    }

    fn is_valid(&self, conn: &mut PgConnection) -> Result<(), Self::Error> {
        self.manager.is_valid(conn)
    }

    fn has_broken(&self, conn: &mut PgConnection) -> bool {
        self.manager.has_broken(conn)
    }
}

/// One pooled connection of either backend.
pub(crate) enum Conn {
    #[cfg(feature = "postgres")]
    Pg(PooledConnection<SerialPgManager>),
    #[cfg(feature = "sqlite")]
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
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => c.transaction(|c| f(&mut Db::Pg(c))),
            #[cfg(feature = "sqlite")]
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
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => f(&mut Db::Pg(c)),
            #[cfg(feature = "sqlite")]
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
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => f(&mut Db::Pg(c)),
            #[cfg(feature = "sqlite")]
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
            #[cfg(feature = "postgres")]
            Conn::Pg(c) => c
                .build_transaction()
                .read_only()
                .repeatable_read()
                .run(|c| f(&mut Db::Pg(c))),
            #[cfg(feature = "sqlite")]
            Conn::Lite(c) => c.transaction(|c| f(&mut Db::Lite(c))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error of connecting to `url` (the URL must not connect).
    fn connect_error(url: &str) -> StoreError {
        match Pools::open(url, url, &StoreConfig::default()) {
            Ok(_) => panic!("{url} connected"),
            Err(e) => e,
        }
    }

    #[test]
    fn an_unknown_scheme_is_an_invalid_url() {
        assert!(matches!(
            connect_error("mysql://h/db"),
            StoreError::InvalidUrl { .. }
        ));
    }

    #[cfg(not(feature = "postgres"))]
    #[test]
    fn a_postgres_url_without_the_feature_names_it() {
        let e = connect_error("postgres://u@127.0.0.1:1/db");
        assert!(
            matches!(
                e,
                StoreError::BackendNotCompiled {
                    feature: "postgres",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("`postgres` feature"), "{e}");
    }

    #[cfg(not(feature = "sqlite"))]
    #[test]
    fn a_sqlite_url_without_the_feature_names_it() {
        let e = connect_error("sqlite::memory:");
        assert!(
            matches!(
                e,
                StoreError::BackendNotCompiled {
                    feature: "sqlite",
                    ..
                }
            ),
            "{e:?}"
        );
        assert!(e.to_string().contains("`sqlite` feature"), "{e}");
    }
}
