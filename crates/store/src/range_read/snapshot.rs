//! One snapshot on two PostgreSQL connections: the first exports the snapshot of its
//! repeatable-read transaction (`pg_export_snapshot()`), the second joins it (`SET
//! TRANSACTION SNAPSHOT`) as its transaction's first statement, so both read the database
//! as of the same instant, as one transaction would. A range read uses this to send its
//! statements on two connections at once.
//!
//! A hot standby cannot export a snapshot (PostgreSQL refuses it during recovery), and a DBA
//! may well point a read-only command at one: there the export gives nothing, in the same
//! one statement, and the read stays on its one connection.

use diesel::prelude::*;
use diesel::PgConnection;

use crate::StoreError;

diesel::define_sql_function! {
    /// PostgreSQL's `pg_export_snapshot()`: the id of this transaction's snapshot, which
    /// another session may join until this transaction ends.
    fn pg_export_snapshot() -> Text;
}

diesel::define_sql_function! {
    /// PostgreSQL's `pg_is_in_recovery()`: whether the server is a standby.
    fn pg_is_in_recovery() -> Bool;
}

/// The id of the snapshot of `c`'s current transaction (repeatable read); `None` on a hot
/// standby, which cannot export one (asked in the same statement: `CASE` evaluates only the
/// branch it takes).
pub(super) fn export(c: &mut PgConnection) -> Result<Option<String>, StoreError> {
    let id = diesel::dsl::case_when(pg_is_in_recovery().eq(false), pg_export_snapshot());
    Ok(diesel::select(id).get_result(c)?)
}

/// Makes `c`'s new transaction (repeatable read, no statement sent in it yet) read the
/// snapshot `id`.
pub(super) fn join(c: &mut PgConnection, id: &str) -> Result<(), StoreError> {
    // `SET TRANSACTION SNAPSHOT` takes a literal, not a bind parameter, and diesel's query
    // builder has no such statement: the id is the server's own (hex digits and dashes, as
    // `00000003-0000001B-1`), checked before it is put in the text.
    if id.is_empty() || !id.chars().all(|ch| ch.is_ascii_hexdigit() || ch == '-') {
        return Err(StoreError::Database {
            detail: format!("unexpected snapshot id {id:?} from pg_export_snapshot()"),
        });
    }
    diesel::sql_query(format!("SET TRANSACTION SNAPSHOT '{id}'")).execute(c)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use diesel::connection::SimpleConnection;
    use diesel::sql_types::BigInt;

    use super::*;

    #[derive(QueryableByName)]
    struct Count {
        #[diesel(sql_type = BigInt)]
        n: i64,
    }

    fn rows(c: &mut PgConnection, table: &str) -> i64 {
        let counted: Count = diesel::sql_query(format!("SELECT count(*) AS n FROM {table}"))
            .get_result(c)
            .unwrap_or_else(|e| panic!("{e}"));
        counted.n
    }

    /// The test server, or `None` (skipped, said on stderr) when none is configured; a
    /// configured server that does not answer fails the test.
    fn server() -> Option<String> {
        match std::env::var("REINGEST_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Some(url),
            _ => {
                eprintln!("skipped: REINGEST_TEST_DATABASE_URL is not set");
                None
            }
        }
    }

    fn connect(url: &str) -> PgConnection {
        PgConnection::establish(url).unwrap_or_else(|e| panic!("{url}: {e}"))
    }

    /// A connection that joins the exported snapshot does not see a row committed after
    /// the export, though a fresh read does.
    #[test]
    fn the_joined_connection_reads_the_exporters_instant() {
        let Some(url) = server() else { return };
        let table = format!("snapshot_probe_{}", std::process::id());
        let (mut first, mut second, mut writer) = (connect(&url), connect(&url), connect(&url));
        writer
            .batch_execute(&format!(
                "DROP TABLE IF EXISTS {table}; CREATE TABLE {table} (v int)"
            ))
            .unwrap_or_else(|e| panic!("{e}"));
        let seen = first
            .build_transaction()
            .read_only()
            .repeatable_read()
            .run(|first| {
                let id = export(first)?.ok_or_else(|| StoreError::Database {
                    detail: "the test server is a standby".into(),
                })?;
                writer.batch_execute(&format!("INSERT INTO {table} VALUES (1)"))?;
                second
                    .build_transaction()
                    .read_only()
                    .repeatable_read()
                    .run(|second| {
                        join(second, &id)?;
                        Ok::<_, StoreError>((rows(first, &table), rows(second, &table)))
                    })
            })
            .unwrap_or_else(|e| panic!("{e}"));
        let now = rows(&mut writer, &table);
        writer
            .batch_execute(&format!("DROP TABLE {table}"))
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seen, (0, 0), "both read the instant of the export");
        assert_eq!(now, 1, "the row was committed");
    }

    /// A snapshot id is never put in the statement unless it has the server's shape.
    #[test]
    fn an_id_of_another_shape_is_refused_before_any_statement() {
        let Some(url) = server() else { return };
        let mut c = connect(&url);
        for id in ["", "1'; DROP TABLE x; --", "00000003 0000001B"] {
            let error = join(&mut c, id).expect_err("refused");
            assert!(
                error.to_string().contains("unexpected snapshot id"),
                "{error}"
            );
        }
    }
}
