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
    /// The URL names a backend this build leaves out: the store was compiled without that
    /// backend's Cargo feature.
    #[error(
        "database URL {url} is for {backend}, which this build of reingest leaves out \
         (build the store, or reingest-cli, with its `{feature}` feature)"
    )]
    BackendNotCompiled {
        /// The URL, credentials redacted.
        url: String,
        /// The backend the URL names (`PostgreSQL`, `SQLite`).
        backend: &'static str,
        /// The Cargo feature that compiles it in (`postgres`, `sqlite`).
        feature: &'static str,
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
    /// A constraint of the schema rejected a write (unique, not null, foreign key, check):
    /// the transaction was rolled back. The message says which rule, and on which table when
    /// the driver tells; what to do about it depends on the kind ([`ConstraintKind`]'s
    /// variants say what each most likely means) and is the caller's to word.
    #[error(
        "the database refused a write that breaks its {kind} rule{} ({detail}); the \
         transaction was rolled back and nothing was written",
        table.as_ref().map(|t| format!(" on table {t}")).unwrap_or_default(),
    )]
    Constraint {
        /// Which rule was broken.
        kind: ConstraintKind,
        /// The table, when the driver names it (PostgreSQL does; SQLite's message does).
        table: Option<String>,
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
    #[error("no run {run_id:?} in the audit log")]
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
    /// The caller's hooks could not derive the swap's rows. The message shows the hook's
    /// error, so it is not also returned as the source (a chain printer would repeat it).
    #[error("summary derivation failed: {hook}")]
    Derive {
        /// The hook's error.
        hook: crate::HookError,
    },
    /// A sum of records does not fit a decimal.
    #[error(transparent)]
    Sum(#[from] settlement_model::SumOverflow),
    /// A restore would undo a later committed run's periods.
    #[error(
        "restoring run {run_id} would overwrite periods that later runs replaced ({})",
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

/// Which rule of the schema a refused write broke.
///
/// The store checks its inputs before it writes (a BM unit list that repeats an id, records
/// of another date, …), so a constraint that still fires means another writer changed the
/// same rows meanwhile, the schema is not the one this version expects, or a bug: each
/// variant says which is most likely, for the caller to tell its user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ConstraintKind {
    /// Two rows would share one key (primary key or unique index). Most likely another
    /// process wrote the same rows at the same time (doing it again succeeds); if it fails
    /// the same way, the input names one key twice or this is a bug.
    Unique,
    /// A row refers to a row that does not exist, or a referenced row is in use. Most likely
    /// the schema is behind this version (migrate), or another tool deleted rows meanwhile.
    ForeignKey,
    /// A required value is missing. Most likely the schema is behind this version
    /// (migrate); else a bug.
    NotNull,
    /// A value breaks a `CHECK` (or exclusion) rule. Most likely the schema is behind this
    /// version (migrate); else a bug.
    Check,
}

impl ConstraintKind {
    /// The rule's name in messages: `unique key`, `foreign key`, `not-null`, `check`.
    pub fn label(self) -> &'static str {
        match self {
            ConstraintKind::Unique => "unique key",
            ConstraintKind::ForeignKey => "foreign key",
            ConstraintKind::NotNull => "not-null",
            ConstraintKind::Check => "check",
        }
    }
}

impl std::fmt::Display for ConstraintKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        classify(&error)
    }
}

/// Turns a diesel error into the matching typed variant, by diesel's [`DatabaseErrorKind`]
/// (which diesel derives from PostgreSQL's SQLSTATE and SQLite's extended result code),
/// never by the message's text: PostgreSQL translates its messages (`lc_messages`).
///
/// diesel 2.3 keeps the code itself private, so conditions without a kind of their own are
/// recognised where the store knows which statement can raise them: a lock wait that ran out
/// ([`crate::faults::waited_out`]) and an SQLite file that cannot be written
/// ([`crate::faults`]). Everything else is [`StoreError::Database`] with the driver's words.
pub(crate) fn classify(error: &DieselError) -> StoreError {
    let detail = detail_of(error);
    let DieselError::DatabaseError(kind, info) = error else {
        return StoreError::Database { detail };
    };
    let constraint = match kind {
        DatabaseErrorKind::UniqueViolation => ConstraintKind::Unique,
        DatabaseErrorKind::ForeignKeyViolation | DatabaseErrorKind::RestrictViolation => {
            ConstraintKind::ForeignKey
        }
        DatabaseErrorKind::NotNullViolation => ConstraintKind::NotNull,
        DatabaseErrorKind::CheckViolation | DatabaseErrorKind::ExclusionViolation => {
            ConstraintKind::Check
        }
        DatabaseErrorKind::ReadOnlyTransaction => return StoreError::ReadOnly { detail },
        _ => return StoreError::Database { detail },
    };
    StoreError::Constraint {
        kind: constraint,
        table: info.table_name().map(str::to_owned),
        detail,
    }
}

/// The driver's message (with PostgreSQL's detail line), credentials redacted: what a typed
/// error shows after its own words.
pub(crate) fn detail_of(error: &DieselError) -> String {
    match error {
        DieselError::DatabaseError(_, info) => {
            let message = match info.details() {
                Some(more) => format!("{} ({more})", info.message()),
                None => info.message().to_owned(),
            };
            redact_text(&message)
        }
        other => redact_text(&other.to_string()),
    }
}

/// Classifies a connection failure of `url` (already redacted).
///
/// The one place the text is read: diesel's `ConnectionError::BadConnection` (and r2d2's
/// pool error) carry only libpq's or SQLite's message, no code — libpq reports a failed
/// connection as text (`PQerrorMessage`) even when the server sent a SQLSTATE, and a refused
/// or unresolvable host never reaches a server. The phrases matched are the client's (libpq's
/// and the C library's `strerror`/`getaddrinfo`), which the server's `lc_messages` does not
/// change; anything else is [`StoreError::ConnectionFailed`] with the message as it is.
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
    fn a_derivation_failure_shows_the_hooks_error_once_and_returns_no_source() {
        let err = StoreError::Derive {
            hook: "difficulty must be positive".into(),
        };
        assert_eq!(
            err.to_string(),
            "summary derivation failed: difficulty must be positive"
        );
        assert!(std::error::Error::source(&err).is_none());
    }

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

    fn db_error(kind: DatabaseErrorKind, message: &str) -> DieselError {
        DieselError::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn database_errors_are_classified_by_kind() {
        for kind in [
            DatabaseErrorKind::UniqueViolation,
            DatabaseErrorKind::ForeignKeyViolation,
            DatabaseErrorKind::NotNullViolation,
            DatabaseErrorKind::CheckViolation,
            DatabaseErrorKind::RestrictViolation,
            DatabaseErrorKind::ExclusionViolation,
        ] {
            let error = classify(&db_error(kind, "x"));
            assert!(matches!(error, StoreError::Constraint { .. }), "{kind:?}");
            let text = error.to_string();
            assert!(
                text.starts_with("the database refused a write that breaks its ")
                    && text.contains("nothing was written")
                    && !text.contains("database constraint violated"),
                "{text}"
            );
        }
        // The SQLite error of a registry that repeats an id: says what happened and what to
        // do, on one line, with the driver's words in brackets.
        let text = classify(&db_error(
            DatabaseErrorKind::UniqueViolation,
            "UNIQUE constraint failed: bm_units.elexon_bm_unit",
        ))
        .to_string();
        assert!(
            text.starts_with(
                "the database refused a write that breaks its unique key rule (UNIQUE \
                 constraint failed: bm_units.elexon_bm_unit); the transaction was rolled back"
            ),
            "{text}"
        );
        assert!(
            text.ends_with("the transaction was rolled back and nothing was written"),
            "what to do is the caller's to word: {text}"
        );
        assert!(!text.contains('\n'), "{text}");
        assert!(matches!(
            classify(&db_error(DatabaseErrorKind::ReadOnlyTransaction, "x")),
            StoreError::ReadOnly { .. }
        ));
        assert!(matches!(
            classify(&db_error(
                DatabaseErrorKind::ClosedConnection,
                "server closed"
            )),
            StoreError::Database { .. }
        ));
    }

    /// The words of a message decide nothing: PostgreSQL translates them, and diesel's kind
    /// (or the statement the store knows can wait) is what says what happened.
    #[test]
    fn messages_that_read_like_a_condition_are_not_classified_by_their_words() {
        for message in [
            "canceling statement due to lock timeout",
            "database is locked",
            "database table is locked",
            "attempt to write a readonly database",
            "cannot execute INSERT in a read-only transaction",
            "CHECK constraint failed: x",
        ] {
            let unknown = db_error(DatabaseErrorKind::Unknown, message);
            match classify(&unknown) {
                StoreError::Database { detail } => assert_eq!(detail, message),
                other => panic!("{message:?} was classified by its text: {other:?}"),
            }
        }
    }

    #[test]
    fn the_detail_keeps_postgres_detail_line_and_redacts_credentials() {
        let e = DieselError::NotFound;
        assert_eq!(detail_of(&e), "Record not found");
        let e = db_error(
            DatabaseErrorKind::UniqueViolation,
            "could not reach postgres://u:secret@h/db",
        );
        assert!(!detail_of(&e).contains("secret"), "{}", detail_of(&e));
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
