//! Migrations: embedded per backend, applied on request, listed when pending, and shown as
//! SQL (`reingest migrate --dry-run`).
//!
//! On PostgreSQL the migrations run under a session advisory lock (so two processes never
//! migrate at once) and each in its own transaction, except those whose `metadata.toml` says
//! `run_in_transaction = false`: the indexes on the platform's tables, built `CONCURRENTLY` so
//! they never block the platform's writes.
//!
//! Each backend's migrations are embedded only with its Cargo feature (`postgres`,
//! `sqlite`).

#[cfg(feature = "postgres")]
use std::time::{Duration, Instant};

#[cfg(feature = "postgres")]
use diesel::connection::SimpleConnection;
use diesel::migration::MigrationSource;
#[cfg(feature = "postgres")]
use diesel::PgConnection;
#[cfg(feature = "sqlite")]
use diesel::SqliteConnection;
use diesel::{Connection, QueryDsl, RunQueryDsl};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

use crate::connect::Conn;
use crate::error::{classify, redact_text};
#[cfg(feature = "sqlite")]
use crate::faults::sqlite_write_tx;
use crate::faults::TxError;
use crate::StoreError;

/// The PostgreSQL migrations: 1 is exactly the platform's schema, later ones only add.
#[cfg(feature = "postgres")]
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");
/// The SQLite migrations: the same shape with TEXT decimals and dates.
#[cfg(feature = "sqlite")]
pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");

/// Advisory-lock key serialising migrations on PostgreSQL ("REINMIGR").
#[cfg(feature = "postgres")]
const MIGRATION_LOCK_KEY: i64 = 0x5245_494E_4D49_4752;

/// How migrating failed.
enum MigErr {
    /// One of our own statements around the migrations (the lock, the bookkeeping).
    Db(diesel::result::Error),
    /// diesel_migrations failed, e.g. a migration's SQL. It wraps the driver's error in its
    /// private `RunMigrationsError`, with no source: neither diesel's kind nor the SQLSTATE
    /// (42P07 duplicate_table, 42701 duplicate_column, 42804 datatype_mismatch, …) reaches us,
    /// so this is `MigrationFailed` with the server's words, which name the object.
    Run(String),
    /// The database has migrations applied that this version does not know.
    Newer(String),
    /// The store's own classification (SQLite's write lock, a read-only file).
    Store(StoreError),
}

impl From<diesel::result::Error> for MigErr {
    fn from(e: diesel::result::Error) -> Self {
        MigErr::Db(e)
    }
}

impl From<StoreError> for MigErr {
    fn from(e: StoreError) -> Self {
        MigErr::Store(e)
    }
}

impl TxError for MigErr {
    fn as_store(&self) -> Option<&StoreError> {
        match self {
            MigErr::Store(e) => Some(e),
            _ => None,
        }
    }
}

fn migration_error(e: MigErr) -> StoreError {
    match e {
        MigErr::Db(e) => match classify(&e) {
            StoreError::Database { detail } => StoreError::MigrationFailed { detail },
            other => other,
        },
        MigErr::Run(s) => StoreError::MigrationFailed {
            detail: redact_text(&s),
        },
        MigErr::Newer(detail) => StoreError::MigrationConflict { detail },
        MigErr::Store(e) => e,
    }
}

fn run_migrations<C>(c: &mut C, source: EmbeddedMigrations) -> Result<(), MigErr>
where
    C: MigrationHarness<C::Backend> + Connection,
    EmbeddedMigrations: MigrationSource<C::Backend>,
{
    let known: Vec<String> = source
        .migrations()
        .map_err(|e| MigErr::Run(e.to_string()))?
        .iter()
        .map(|m| m.name().version().to_string())
        .collect();
    let applied = c
        .applied_migrations()
        .map_err(|e| MigErr::Run(e.to_string()))?;
    if let Some(unknown) = applied.iter().find(|v| !known.contains(&v.to_string())) {
        return Err(MigErr::Newer(format!(
            "the database has migration {unknown} applied, which this version does not know: \
             it was migrated by a newer version of reingest"
        )));
    }
    c.run_pending_migrations(source)
        .map_err(|e| MigErr::Run(e.to_string()))?;
    Ok(())
}

/// How long a process waits for another to finish migrating.
#[cfg(feature = "postgres")]
const MIGRATION_WAIT: Duration = Duration::from_secs(30 * 60);

/// Takes the migration lock on PostgreSQL: a session advisory lock (CONCURRENTLY cannot run
/// in a transaction), tried and retried rather than waited for inside a statement, because
/// a waiting statement holds a snapshot that `CREATE INDEX CONCURRENTLY` in the migrating
/// session must wait for: a deadlock.
#[cfg(feature = "postgres")]
fn lock_for_migrations(c: &mut PgConnection) -> Result<(), StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Got {
        #[diesel(sql_type = diesel::sql_types::Bool)]
        got: bool,
    }
    let started = Instant::now();
    loop {
        // Advisory locks have no typed form in diesel.
        let rows = diesel::sql_query(format!(
            "SELECT pg_try_advisory_lock({MIGRATION_LOCK_KEY}) AS got"
        ))
        .load::<Got>(c)
        .map_err(|e| migration_error(MigErr::Db(e)))?;
        if rows.first().is_some_and(|r| r.got) {
            return Ok(());
        }
        if started.elapsed() > MIGRATION_WAIT {
            return Err(StoreError::MigrationFailed {
                detail: format!(
                    "another process has been migrating the database for over {} minutes",
                    MIGRATION_WAIT.as_secs() / 60
                ),
            });
        }
        // Polling a lock another process holds, outside any transaction.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Applies every pending migration.
pub(crate) fn migrate(conn: &mut Conn) -> Result<(), StoreError> {
    match conn {
        #[cfg(feature = "postgres")]
        Conn::Pg(c) => {
            let c: &mut PgConnection = c;
            lock_for_migrations(c)?;
            let result = run_migrations(c, POSTGRES_MIGRATIONS);
            let unlock =
                c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"));
            result.map_err(migration_error)?;
            unlock.map_err(|e| migration_error(MigErr::Db(e)))
        }
        #[cfg(feature = "sqlite")]
        Conn::Lite(c) => {
            let c: &mut SqliteConnection = c;
            sqlite_write_tx(c, |c| run_migrations(c, SQLITE_MIGRATIONS)).map_err(migration_error)
        }
    }
}

/// The names of the migrations not yet applied, oldest first. Reads only: on a database
/// never migrated (no diesel bookkeeping table) every migration is pending, and the table is
/// not created (diesel's harness would create it).
pub(crate) fn pending(conn: &mut Conn) -> Result<Vec<String>, StoreError> {
    #[derive(diesel::QueryableByName)]
    struct Exists {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    // Catalog queries: diesel has no typed view of the system catalogs.
    let exists = |rows: Vec<Exists>| rows.first().is_some_and(|r| r.n > 0);
    // The versions applied, read with one typed query (diesel's harness would first run a
    // `CREATE TABLE IF NOT EXISTS`, a statement more on every start).
    let applied = |exists: bool, c: &mut dyn FnMut() -> diesel::QueryResult<Vec<String>>| {
        if exists {
            c().map_err(|e| classify(&e))
        } else {
            Ok(Vec::new())
        }
    };
    match conn {
        #[cfg(feature = "postgres")]
        Conn::Pg(c) => {
            let c: &mut PgConnection = c;
            // `to_regclass` resolves the name as the typed read below will (search_path),
            // without scanning the `pg_tables` view.
            let pg_probe = "SELECT COUNT(to_regclass('__diesel_schema_migrations')) AS n";
            let rows = diesel::sql_query(pg_probe)
                .load::<Exists>(c)
                .map_err(|e| classify(&e))?;
            let done = applied(exists(rows), &mut || {
                bookkeeping::table.select(bookkeeping::version).load(c)
            })?;
            unapplied(
                MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES_MIGRATIONS),
                &done,
            )
        }
        #[cfg(feature = "sqlite")]
        Conn::Lite(c) => {
            let c: &mut SqliteConnection = c;
            let lite_probe = "SELECT COUNT(*) AS n FROM sqlite_master \
                              WHERE type = 'table' AND name = '__diesel_schema_migrations'";
            let rows = diesel::sql_query(lite_probe)
                .load::<Exists>(c)
                .map_err(|e| classify(&e))?;
            let done = applied(exists(rows), &mut || {
                bookkeeping::table.select(bookkeeping::version).load(c)
            })?;
            unapplied(
                MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE_MIGRATIONS),
                &done,
            )
        }
    }
}

diesel::table! {
    /// diesel_migrations' bookkeeping table: one row per applied migration.
    #[sql_name = "__diesel_schema_migrations"]
    bookkeeping (version) {
        version -> VarChar,
    }
}

/// The names of the migrations whose version is not in `applied`, oldest first.
fn unapplied<DB: diesel::backend::Backend>(
    known: diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<DB>>>>,
    applied: &[String],
) -> Result<Vec<String>, StoreError> {
    let known = known.map_err(|e| migration_error(MigErr::Run(e.to_string())))?;
    Ok(known
        .iter()
        .filter(|m| !applied.contains(&m.name().version().to_string()))
        .map(|m| m.name().to_string())
        .collect())
}

/// The SQL of a PostgreSQL migration, by its folder name (diesel's embedded migrations do
/// not expose their text, so each file is included once more here; a test keeps the list in
/// step with the folder).
#[cfg(feature = "postgres")]
const POSTGRES_SQL: [(&str, &str); 12] = [
    ("2024-01-01-000001_platform_schema", include_str!("../migrations/postgres/2024-01-01-000001_platform_schema/up.sql")),
    ("2024-01-01-000002_reingest_tables", include_str!("../migrations/postgres/2024-01-01-000002_reingest_tables/up.sql")),
    ("2024-01-01-000003_source_archive", include_str!("../migrations/postgres/2024-01-01-000003_source_archive/up.sql")),
    ("2024-01-01-000004_trusted_inputs", include_str!("../migrations/postgres/2024-01-01-000004_trusted_inputs/up.sql")),
    ("2024-01-01-000005_run_evidence", include_str!("../migrations/postgres/2024-01-01-000005_run_evidence/up.sql")),
    ("2024-01-01-000006_curtailment_records_date_period_idx", include_str!("../migrations/postgres/2024-01-01-000006_curtailment_records_date_period_idx/up.sql")),
    ("2024-01-01-000007_historical_bitcoin_calculations_date_idx", include_str!("../migrations/postgres/2024-01-01-000007_historical_bitcoin_calculations_date_idx/up.sql")),
    ("2024-01-01-000008_bitcoin_daily_summaries_key_idx", include_str!("../migrations/postgres/2024-01-01-000008_bitcoin_daily_summaries_key_idx/up.sql")),
    ("2024-01-01-000009_bitcoin_monthly_summaries_key_idx", include_str!("../migrations/postgres/2024-01-01-000009_bitcoin_monthly_summaries_key_idx/up.sql")),
    ("2024-01-01-000010_bitcoin_yearly_summaries_key_idx", include_str!("../migrations/postgres/2024-01-01-000010_bitcoin_yearly_summaries_key_idx/up.sql")),
    ("2024-01-01-000011_run_range_tag", include_str!("../migrations/postgres/2024-01-01-000011_run_range_tag/up.sql")),
    ("2024-01-01-000012_registry_counts", include_str!("../migrations/postgres/2024-01-01-000012_registry_counts/up.sql")),
];

/// The SQLite migrations' SQL, likewise.
#[cfg(feature = "sqlite")]
const SQLITE_SQL: [(&str, &str); 7] = [
    (
        "2024-01-01-000001_platform_schema",
        include_str!("../migrations/sqlite/2024-01-01-000001_platform_schema/up.sql"),
    ),
    (
        "2024-01-01-000002_reingest_tables",
        include_str!("../migrations/sqlite/2024-01-01-000002_reingest_tables/up.sql"),
    ),
    (
        "2024-01-01-000003_source_archive",
        include_str!("../migrations/sqlite/2024-01-01-000003_source_archive/up.sql"),
    ),
    (
        "2024-01-01-000004_trusted_inputs",
        include_str!("../migrations/sqlite/2024-01-01-000004_trusted_inputs/up.sql"),
    ),
    (
        "2024-01-01-000005_run_evidence",
        include_str!("../migrations/sqlite/2024-01-01-000005_run_evidence/up.sql"),
    ),
    (
        "2024-01-01-000011_run_range_tag",
        include_str!("../migrations/sqlite/2024-01-01-000011_run_range_tag/up.sql"),
    ),
    (
        "2024-01-01-000012_registry_counts",
        include_str!("../migrations/sqlite/2024-01-01-000012_registry_counts/up.sql"),
    ),
];

/// The SQL of the pending migrations `names` (from [`pending`]) of `conn`'s backend.
pub(crate) fn sql_of(conn: &Conn, names: &[String]) -> Vec<(String, &'static str)> {
    let table: &[(&str, &str)] = match conn {
        #[cfg(feature = "postgres")]
        Conn::Pg(_) => &POSTGRES_SQL,
        #[cfg(feature = "sqlite")]
        Conn::Lite(_) => &SQLITE_SQL,
    };
    names
        .iter()
        .map(|n| {
            let sql = table
                .iter()
                .find(|(name, _)| name == n)
                .map_or("-- (this migration's SQL is not listed)\n", |(_, sql)| *sql);
            (n.clone(), sql)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names<DB: diesel::backend::Backend>(source: EmbeddedMigrations) -> Vec<String>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        MigrationSource::<DB>::migrations(&source)
            .unwrap()
            .iter()
            .map(|m| m.name().to_string())
            .collect()
    }

    /// A conflict is what the store found itself (a newer version's migrations), not a
    /// message that reads like one.
    #[test]
    fn migration_failures_are_classified_by_what_failed_not_by_their_words() {
        assert!(matches!(
            migration_error(MigErr::Newer("migration 20990101 applied".into())),
            StoreError::MigrationConflict { .. }
        ));
        for words in [
            "relation \"x\" already exists",
            "column \"y\" does not exist",
        ] {
            assert!(
                matches!(
                    migration_error(MigErr::Run(words.into())),
                    StoreError::MigrationFailed { .. }
                ),
                "{words}"
            );
        }
        let busy = StoreError::LockTimeout {
            date: None,
            other_run: None,
            waited: std::time::Duration::from_secs(1),
            detail: "x".into(),
        };
        assert!(matches!(
            migration_error(MigErr::Store(busy)),
            StoreError::LockTimeout { .. }
        ));
    }

    #[cfg(feature = "postgres")]
    #[test]
    fn the_sql_listing_covers_every_postgres_migration() {
        let pg: Vec<String> = POSTGRES_SQL.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(names::<diesel::pg::Pg>(POSTGRES_MIGRATIONS), pg);
    }

    #[cfg(feature = "sqlite")]
    #[test]
    fn the_sql_listing_covers_every_sqlite_migration() {
        let lite: Vec<String> = SQLITE_SQL.iter().map(|(n, _)| (*n).to_owned()).collect();
        assert_eq!(names::<diesel::sqlite::Sqlite>(SQLITE_MIGRATIONS), lite);
    }
}
