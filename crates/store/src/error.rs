//! The store's typed errors, and the redaction of credentials from anything they print.

use std::time::Duration;

use diesel::result::{DatabaseErrorKind, Error as DieselError};
use settlement_model::SettlementDate;

/// Errors of the store. Credentials never appear in their text: every URL is printed as
/// `postgres://user:***@host/db`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The database URL is not one the store understands.
    #[error(
        "invalid database URL {url}: {reason} (expected sqlite://PATH or postgres://USER@HOST/DB)"
    )]
    InvalidUrl {
        /// The URL, credentials redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The server refused the connection: nothing listens there.
    #[error("database at {url} refused the connection: {detail} (is the server running?)")]
    ConnectionRefused {
        /// The URL, credentials redacted.
        url: String,
        /// The driver's message.
        detail: String,
    },
    /// The host could not be reached or resolved, or the connection timed out.
    #[error("database at {url} is unreachable: {detail}")]
    Unreachable {
        /// The URL, credentials redacted.
        url: String,
        /// The driver's message.
        detail: String,
    },
    /// The connection failed for another reason (authentication, unknown database, a file
    /// that cannot be opened).
    #[error("cannot connect to database at {url}: {detail}")]
    ConnectionFailed {
        /// The URL, credentials redacted.
        url: String,
        /// The driver's message.
        detail: String,
    },
    /// A migration failed to apply.
    #[error("database migration failed: {detail}")]
    MigrationFailed {
        /// What went wrong.
        detail: String,
    },
    /// A migration conflicts with what the database already holds (an object of the same
    /// name with another shape, or migrations applied by a newer version of this tool).
    #[error("database migration conflicts with the existing schema: {detail}")]
    MigrationConflict {
        /// What conflicts.
        detail: String,
    },
    /// Another run held the per-date lock for longer than the lock timeout.
    #[error(
        "timed out after {waited:?} waiting for the lock on {}{}: {detail}",
        date.map(|d| d.to_string()).unwrap_or_else(|| "the database".to_owned()),
        other_run.as_ref().map(|r| format!(" (held by run {r})")).unwrap_or_default()
    )]
    LockTimeout {
        /// The date whose lock was awaited, when known.
        date: Option<SettlementDate>,
        /// The run id that (probably) holds it, when known.
        other_run: Option<String>,
        /// How long we waited.
        waited: Duration,
        /// The driver's message.
        detail: String,
    },
    /// A constraint of the schema rejected a write (unique, not null, foreign key, check).
    #[error("database constraint violated: {detail}")]
    Constraint {
        /// The driver's message.
        detail: String,
    },
    /// The database or transaction is read-only.
    #[error("database is read-only: {detail}")]
    ReadOnly {
        /// The driver's message.
        detail: String,
    },
    /// No run with this id is in the audit log (so there is no backup to restore).
    #[error("no run {run_id:?} in the audit log (see `reingest runs`)")]
    RunNotFound {
        /// The id asked for.
        run_id: String,
    },
    /// The run exists but did not commit, so it replaced nothing and has no backup.
    #[error(
        "run {run_id} has status {status}: only committed or forced runs have a backup to restore"
    )]
    RunNotRestorable {
        /// The run id.
        run_id: String,
        /// Its status.
        status: crate::RunStatus,
    },
    /// A stored value cannot be read back (e.g. decimal text that does not parse).
    #[error("corrupt value {value:?} in {table}.{column}: {reason}")]
    CorruptValue {
        /// The table.
        table: &'static str,
        /// The column.
        column: &'static str,
        /// The stored text.
        value: String,
        /// Why it is not valid.
        reason: String,
    },
    /// The caller's hooks returned rows that do not belong to the swapped date.
    #[error("summary derivation failed: {detail}")]
    Hook {
        /// What is wrong.
        detail: String,
    },
    /// The caller's hooks could not derive the swap's rows.
    #[error("summary derivation failed: {source}")]
    Derive {
        /// The hook's error.
        #[source]
        source: crate::HookError,
    },
    /// A sum of records does not fit a decimal.
    #[error(transparent)]
    Sum(#[from] settlement_model::SumOverflow),
    /// A restore would undo a later committed run's periods.
    #[error(
        "restoring run {run_id} would overwrite periods that later runs replaced ({}); \
         restore those first, or pass --force to put back {run_id}'s rows anyway",
        later.join(", ")
    )]
    LaterRuns {
        /// The run to restore.
        run_id: String,
        /// Later committed runs with overlapping periods, as `RUN_ID (periods A-B)`.
        later: Vec<String>,
    },
    /// No archived source response has this hash.
    #[error("archived source {hash} is not in the archive; it was pruned or never written")]
    ArchiveMissing {
        /// The SHA-256 (hex) asked for.
        hash: String,
    },
    /// An archived source response does not match its hash: it is corrupt and is not used.
    #[error("archived source {hash} is corrupt ({reason}); it was not used")]
    ArchiveCorrupt {
        /// The SHA-256 (hex) it is filed under.
        hash: String,
        /// What is wrong.
        reason: String,
    },
    /// The archive folder could not be read or written.
    #[error("source archive {path}: {detail}")]
    ArchiveIo {
        /// The folder or file.
        path: String,
        /// The I/O error.
        detail: String,
    },
    /// The caller asked for something inconsistent (records of another date, text with a NUL
    /// byte, …); nothing was written.
    #[error("invalid input to the store: {reason}")]
    InvalidInput {
        /// What is wrong.
        reason: String,
    },
    /// No connection could be taken from the pool in time.
    #[error("no database connection available: {detail}")]
    Pool {
        /// The pool's message.
        detail: String,
    },
    /// Any other database error.
    #[error("database error: {detail}")]
    Database {
        /// The driver's message.
        detail: String,
    },
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        classify(&error)
    }
}

/// Turns a diesel error into the matching typed variant.
pub(crate) fn classify(error: &DieselError) -> StoreError {
    match error {
        DieselError::DatabaseError(kind, info) => {
            let mut detail = info.message().to_owned();
            if let Some(more) = info.details() {
                detail = format!("{detail} ({more})");
            }
            let detail = redact_text(&detail);
            let lower = detail.to_ascii_lowercase();
            match kind {
                DatabaseErrorKind::UniqueViolation
                | DatabaseErrorKind::ForeignKeyViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::RestrictViolation
                | DatabaseErrorKind::ExclusionViolation => StoreError::Constraint { detail },
                DatabaseErrorKind::ReadOnlyTransaction => StoreError::ReadOnly { detail },
                _ if lower.contains("lock timeout")
                    || lower.contains("database is locked")
                    || lower.contains("database table is locked") =>
                {
                    StoreError::LockTimeout {
                        date: None,
                        other_run: None,
                        waited: Duration::ZERO,
                        detail,
                    }
                }
                _ if lower.contains("readonly database") || lower.contains("read-only") => {
                    StoreError::ReadOnly { detail }
                }
                _ if lower.contains("constraint failed") => StoreError::Constraint { detail },
                _ => StoreError::Database { detail },
            }
        }
        other => StoreError::Database {
            detail: redact_text(&other.to_string()),
        },
    }
}

/// Classifies a connection failure of `url` (already redacted).
pub(crate) fn connection_error(url: &str, message: &str) -> StoreError {
    let detail = redact_text(message.trim());
    let lower = detail.to_ascii_lowercase();
    let url = url.to_owned();
    if lower.contains("connection refused") {
        StoreError::ConnectionRefused { url, detail }
    } else if lower.contains("could not translate host name")
        || lower.contains("name or service not known")
        || lower.contains("no route to host")
        || lower.contains("network is unreachable")
        || lower.contains("timeout expired")
        || lower.contains("timed out")
    {
        StoreError::Unreachable { url, detail }
    } else {
        StoreError::ConnectionFailed { url, detail }
    }
}

/// Credentials out of a URL or any text holding one: the workspace's one redaction,
/// [`settlement_model::redact_url`], re-exported so the store's users need not depend on
/// the model crate for it.
///
/// ```
/// assert_eq!(
///     store::redact_url("postgres://user:secret@db.example:5432/x"),
///     "postgres://user:***@db.example:5432/x"
/// );
/// assert_eq!(store::redact_url("sqlite://data/reingest.db"), "sqlite://data/reingest.db");
/// ```
pub use settlement_model::redact_url;

/// The same redaction applied to messages (driver errors, migration output).
pub(crate) use settlement_model::redact_url as redact_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_errors_are_classified() {
        let url = "postgres://u:***@h/db";
        assert!(matches!(
            connection_error(
                url,
                "connection to server at \"127.0.0.1\", port 1 failed: Connection refused"
            ),
            StoreError::ConnectionRefused { .. }
        ));
        assert!(matches!(
            connection_error(url, "could not translate host name \"nohost\" to address"),
            StoreError::Unreachable { .. }
        ));
        assert!(matches!(
            connection_error(url, "FATAL: password authentication failed"),
            StoreError::ConnectionFailed { .. }
        ));
    }

    #[test]
    fn lock_timeout_names_the_date_and_the_holder() {
        let err = StoreError::LockTimeout {
            date: Some("2024-03-21".parse().unwrap()),
            other_run: Some("abc".into()),
            waited: Duration::from_secs(2),
            detail: "canceling statement due to lock timeout".into(),
        };
        let text = err.to_string();
        assert!(text.contains("2024-03-21"), "{text}");
        assert!(text.contains("held by run abc"), "{text}");
    }
}
