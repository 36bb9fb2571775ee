//! Temporary databases for tests and benchmarks (dev-only; no product crate depends on it).
//!
//! [`TempDb::postgres`] creates a fresh database on a PostgreSQL server (from an admin URL
//! such as `postgres://postgres@127.0.0.1:5432/test`) and drops it `WITH (FORCE)` when the
//! [`TempDb`] is dropped; [`TempDb::sqlite`] is a fresh SQLite file in a temporary folder,
//! deleted with it. The one place the tests of `reingest-cli` and the benchmarks of `xtask`
//! get a throwaway database from.

use diesel::{Connection, PgConnection, RunQueryDsl};

/// Why a temporary database could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TempDbError {
    /// The temporary folder of an SQLite file could not be created.
    #[error("cannot create a temporary folder: {0}")]
    Io(std::io::Error),
    /// The PostgreSQL server could not be reached with the admin URL.
    #[error("PostgreSQL is unreachable: {0}")]
    Connect(String),
    /// The server refused to create the database.
    #[error("cannot create database {name}: {reason}")]
    Create {
        /// The database's name.
        name: String,
        /// The server's answer.
        reason: String,
    },
    /// The admin URL names no database to replace (`…/DBNAME`).
    #[error("the PostgreSQL URL has no database part")]
    BadUrl,
}

/// What dropping a [`TempDb`] removes.
#[derive(Debug)]
enum Cleanup {
    /// The folder of an SQLite file.
    Dir {
        /// Kept for its `Drop`, which deletes the folder.
        _dir: tempfile::TempDir,
    },
    /// A database on a PostgreSQL server, dropped through the admin URL.
    Postgres { admin_url: String, name: String },
}

/// A fresh, empty database, removed when this is dropped.
#[derive(Debug)]
pub struct TempDb {
    url: String,
    cleanup: Cleanup,
}

impl TempDb {
    /// A fresh SQLite file named `file_name` in a new temporary folder.
    pub fn sqlite(file_name: &str) -> Result<Self, TempDbError> {
        let dir = tempfile::tempdir().map_err(TempDbError::Io)?;
        let url = format!("sqlite://{}", dir.path().join(file_name).display());
        Ok(Self {
            url,
            cleanup: Cleanup::Dir { _dir: dir },
        })
    }

    /// A fresh database named `PREFIX_<random>` on the server of `admin_url` (which must
    /// name a database the user may connect to, and the user must be allowed to create
    /// databases).
    pub fn postgres(admin_url: &str, prefix: &str) -> Result<Self, TempDbError> {
        let base = admin_url
            .rsplit_once('/')
            .map(|(b, _)| b)
            .ok_or(TempDbError::BadUrl)?;
        let mut admin =
            PgConnection::establish(admin_url).map_err(|e| TempDbError::Connect(e.to_string()))?;
        let name = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
        diesel::sql_query(format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .map_err(|e| TempDbError::Create {
                name: name.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            url: format!("{base}/{name}"),
            cleanup: Cleanup::Postgres {
                admin_url: admin_url.to_owned(),
                name,
            },
        })
    }

    /// Its URL: `sqlite://PATH` or `postgres://…/NAME`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Whether it is a PostgreSQL database.
    pub fn is_postgres(&self) -> bool {
        matches!(self.cleanup, Cleanup::Postgres { .. })
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            // Best effort: a server gone by now leaves the database behind, nothing worse.
            if let Ok(mut c) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut c);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sqlite_file_lives_in_a_folder_removed_with_it() {
        let db = TempDb::sqlite("t.db").unwrap_or_else(|e| panic!("{e}"));
        let path = db.url().trim_start_matches("sqlite://").to_owned();
        let dir = std::path::Path::new(&path)
            .parent()
            .map(std::path::Path::to_path_buf);
        assert!(!db.is_postgres());
        assert!(dir.as_ref().is_some_and(|d| d.exists()));
        drop(db);
        assert!(dir.is_some_and(|d| !d.exists()));
    }

    #[test]
    fn a_url_without_a_database_part_is_an_error() {
        assert!(matches!(
            TempDb::postgres("no-slash", "t"),
            Err(TempDbError::BadUrl)
        ));
    }
}
