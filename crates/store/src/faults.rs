//! Database failures diesel hands over without a code, recognised by what the store knows
//! instead of by their text.
//!
//! diesel 2.3 reads PostgreSQL's SQLSTATE and SQLite's extended result code, maps a few to a
//! [`DatabaseErrorKind`] (constraints, read-only transactions, serialisation failures, lost
//! connections) and keeps the code private: a lock timeout (PostgreSQL 55P03
//! `lock_not_available`, SQLite 5 `SQLITE_BUSY`) and a read-only SQLite file (8
//! `SQLITE_READONLY`) arrive as an unknown kind with a message. So:
//!
//! - a **lock wait that ran out** is the failure of the one statement that waits for a lock
//!   under a timeout the store set (PostgreSQL's advisory lock after `SET LOCAL
//!   lock_timeout`, SQLite's `BEGIN IMMEDIATE` under `PRAGMA busy_timeout`), other than a
//!   lost connection, no sooner than that timeout ([`waited_out`]);
//! - a **read-only SQLite file** is a failed write transaction on a database file the
//!   operating system says this process cannot write (`access(2)`; an SQLite database is
//!   never opened and closed beside SQLite, which would drop its POSIX locks).
//!
//! The SQLite half is compiled only with the `sqlite` feature.

#[cfg(feature = "sqlite")]
use std::path::Path;
use std::time::{Duration, Instant};

use diesel::result::{DatabaseErrorKind, Error as DieselError};
#[cfg(feature = "sqlite")]
use diesel::{
    sql_types::{Integer, Text},
    QueryableByName, RunQueryDsl, SqliteConnection,
};

#[cfg(feature = "sqlite")]
use crate::error::detail_of;
use crate::StoreError;

/// What a write transaction may fail with: diesel's and the store's errors convert into it,
/// and the store error inside (if it is one) can be looked at.
pub(crate) trait TxError: From<DieselError> + From<StoreError> {
    /// The store error this is, if it is one (SQLite's read-only check looks at it).
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    fn as_store(&self) -> Option<&StoreError>;
}

impl TxError for StoreError {
    fn as_store(&self) -> Option<&StoreError> {
        Some(self)
    }
}

/// Whether `error`, raised by a statement that waits for a lock for at most `timeout` and was
/// sent at `started`, is that wait running out: a database error other than a lost
/// connection (or one diesel names: those have other causes), no sooner than the timeout.
/// An error that comes sooner (an I/O error, a cancelled statement) is not a lock timeout.
pub(crate) fn waited_out(error: &DieselError, started: Instant, timeout: Duration) -> bool {
    let DieselError::DatabaseError(kind, _) = error else {
        return false;
    };
    let other_cause = matches!(
        kind,
        DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::SerializationFailure
            | DatabaseErrorKind::ReadOnlyTransaction
            | DatabaseErrorKind::UniqueViolation
            | DatabaseErrorKind::ForeignKeyViolation
            | DatabaseErrorKind::NotNullViolation
            | DatabaseErrorKind::CheckViolation
            | DatabaseErrorKind::RestrictViolation
            | DatabaseErrorKind::ExclusionViolation
    );
    !other_cause && started.elapsed() >= timeout
}

/// The lock timeout `error` is, with no date yet (the caller adds what it knows).
#[cfg(feature = "sqlite")]
pub(crate) fn lock_timeout(error: &DieselError, waited: Duration) -> StoreError {
    StoreError::LockTimeout {
        date: None,
        other_run: None,
        waited,
        detail: detail_of(error),
    }
}

/// How a step of an SQLite write transaction failed: diesel's own statements (`BEGIN
/// IMMEDIATE`, `COMMIT`, `ROLLBACK`) or the caller's body.
#[cfg(feature = "sqlite")]
enum Step<E> {
    Tx(DieselError),
    Body(E),
}

#[cfg(feature = "sqlite")]
impl<E> From<DieselError> for Step<E> {
    fn from(e: DieselError) -> Self {
        Step::Tx(e)
    }
}

/// SQLite's write transaction: `BEGIN IMMEDIATE` takes the database's write lock up front,
/// waiting at most the connection's `busy_timeout`. A `BEGIN` that fails after that wait is
/// [`StoreError::LockTimeout`]; a transaction that fails on a file this process cannot write
/// is [`StoreError::ReadOnly`].
#[cfg(feature = "sqlite")]
pub(crate) fn sqlite_write_tx<T, E, F>(c: &mut SqliteConnection, f: F) -> Result<T, E>
where
    F: FnOnce(&mut SqliteConnection) -> Result<T, E>,
    E: TxError,
{
    let started = Instant::now();
    let mut began = false;
    let result = c.immediate_transaction(|c| {
        began = true;
        f(c).map_err(Step::Body)
    });
    match result {
        Ok(value) => Ok(value),
        Err(Step::Tx(e)) if !began => match busy_timeout(c) {
            Some(busy) if waited_out(&e, started, busy) => Err(lock_timeout(&e, busy).into()),
            _ => Err(read_only_or(c, E::from(e))),
        },
        Err(Step::Tx(e)) => Err(read_only_or(c, E::from(e))),
        Err(Step::Body(e)) => Err(read_only_or(c, e)),
    }
}

/// The connection's `busy_timeout` (`None` if it cannot be read).
#[cfg(feature = "sqlite")]
fn busy_timeout(c: &mut SqliteConnection) -> Option<Duration> {
    #[derive(QueryableByName)]
    struct Busy {
        #[diesel(sql_type = Integer)]
        timeout: i32,
    }
    // Raw SQL: diesel has no typed form of SQLite's PRAGMA statements.
    let rows: Vec<Busy> = diesel::sql_query("PRAGMA busy_timeout").load(c).ok()?;
    let ms = u64::try_from(rows.first()?.timeout).ok()?;
    Some(Duration::from_millis(ms))
}

/// `error` as [`StoreError::ReadOnly`] when it is an unclassified database error and the
/// database file cannot be written by this process; else `error` as it is.
#[cfg(feature = "sqlite")]
fn read_only_or<E: TxError>(c: &mut SqliteConnection, error: E) -> E {
    let Some(StoreError::Database { detail }) = error.as_store() else {
        return error;
    };
    match main_file(c).and_then(|path| unwritable(Path::new(&path))) {
        Some(why) => StoreError::ReadOnly {
            detail: format!("{detail} ({why})"),
        }
        .into(),
        None => error,
    }
}

/// The file of the connection's main database (`None` in memory or if it cannot be read).
#[cfg(feature = "sqlite")]
fn main_file(c: &mut SqliteConnection) -> Option<String> {
    #[derive(QueryableByName)]
    struct File {
        #[diesel(sql_type = Text)]
        file: String,
    }
    // Raw SQL: the `pragma_database_list` table-valued function has no typed form in diesel.
    let rows: Vec<File> =
        diesel::sql_query("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .load(c)
            .ok()?;
    rows.into_iter().map(|r| r.file).find(|f| !f.is_empty())
}

/// Why this process cannot write `path`, if the operating system says so (`access(2)` with
/// `W_OK`: permissions, an immutable file, a read-only file system). Opening the file
/// instead would drop SQLite's POSIX locks on it when closed.
#[cfg(all(unix, feature = "sqlite"))]
fn unwritable(path: &Path) -> Option<String> {
    use rustix::io::Errno;
    match rustix::fs::access(path, rustix::fs::Access::WRITE_OK) {
        Err(e) if e == Errno::ACCESS || e == Errno::PERM || e == Errno::ROFS => Some(format!(
            "{} cannot be written: {}",
            path.display(),
            std::io::Error::from(e)
        )),
        _ => None,
    }
}

/// Elsewhere the file's read-only attribute is what the system offers.
#[cfg(all(not(unix), feature = "sqlite"))]
fn unwritable(path: &Path) -> Option<String> {
    let readonly = std::fs::metadata(path).ok()?.permissions().readonly();
    readonly.then(|| format!("{} is read-only", path.display()))
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "sqlite")]
    use diesel::Connection;

    use super::*;

    fn unknown(message: &str) -> DieselError {
        DieselError::DatabaseError(DatabaseErrorKind::Unknown, Box::new(message.to_owned()))
    }

    #[test]
    fn a_wait_runs_out_only_after_its_timeout_and_not_on_a_lost_connection() {
        let long_ago = Instant::now() - Duration::from_secs(5);
        let timeout = Duration::from_secs(2);
        assert!(waited_out(&unknown("x"), long_ago, timeout));
        assert!(
            !waited_out(&unknown("x"), Instant::now(), timeout),
            "an error sooner than the timeout is something else"
        );
        let lost = DieselError::DatabaseError(
            DatabaseErrorKind::ClosedConnection,
            Box::new("server closed the connection".to_owned()),
        );
        assert!(!waited_out(&lost, long_ago, timeout));
        assert!(!waited_out(&DieselError::NotFound, long_ago, timeout));
    }

    /// Two connections to one file: the second's `BEGIN IMMEDIATE` waits out its busy
    /// timeout and is a lock timeout, whatever SQLite's message says.
    #[cfg(feature = "sqlite")]
    #[test]
    fn sqlite_begin_immediate_that_waits_out_the_busy_timeout_is_a_lock_timeout() {
        use diesel::connection::SimpleConnection;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("busy.db");
        let path = path.to_str().unwrap();
        let mut holder = SqliteConnection::establish(path).unwrap();
        holder
            .batch_execute("PRAGMA journal_mode = WAL; CREATE TABLE t (x INTEGER)")
            .unwrap();
        let mut waiter = SqliteConnection::establish(path).unwrap();
        waiter.batch_execute("PRAGMA busy_timeout = 200").unwrap();
        holder
            .immediate_transaction(|_| {
                let err = sqlite_write_tx(&mut waiter, |c| {
                    c.batch_execute("INSERT INTO t VALUES (1)")
                        .map_err(StoreError::from)
                })
                .unwrap_err();
                match err {
                    StoreError::LockTimeout { waited, .. } => {
                        assert_eq!(waited, Duration::from_millis(200));
                    }
                    other => panic!("expected a lock timeout, got {other:?}"),
                }
                Ok::<_, DieselError>(())
            })
            .unwrap();
        // Free again: the same call commits.
        sqlite_write_tx(&mut waiter, |c| {
            c.batch_execute("INSERT INTO t VALUES (2)")
                .map_err(StoreError::from)
        })
        .unwrap();
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn a_writable_file_is_not_read_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.db");
        std::fs::write(&path, b"").unwrap();
        assert_eq!(unwritable(&path), None);
        let mut c = SqliteConnection::establish(path.to_str().unwrap()).unwrap();
        let file = main_file(&mut c).unwrap();
        assert!(file.ends_with("w.db"), "{file}");
        let mut memory = SqliteConnection::establish(":memory:").unwrap();
        assert_eq!(main_file(&mut memory), None);
    }
}
