//! The thin layer over the two backends: one borrowed connection type, the [`on_db!`] macro
//! that runs one typed query on either (the compiler checks it against both), and the
//! parsing of stored values with the table and column in hand.
//!
//! Each backend is there only when its Cargo feature (`postgres`, `sqlite`) is: the
//! variants of [`Db`] and the arms of [`on_db!`] are compiled per feature.
//!
//! No SQL string is built here: queries are diesel's typed query builder over
//! [`crate::schema`]; raw SQL is left only where diesel cannot say it, at the call site, with
//! a comment saying why.
//!
//! Why not `#[derive(diesel::MultiConnection)]`: the store needs each backend's own
//! connection in places a multi-backend connection would hide (PostgreSQL's binary `COPY`
//! and advisory locks, SQLite's `BEGIN IMMEDIATE`), its custom SQL types would need a third
//! set of `ToSql`/`FromSql` impls for the generated backend, and the derive cannot leave out
//! a backend whose Cargo feature is off. [`Db`] borrows the concrete connection instead, and
//! [`on_db!`] still writes each query once.

use diesel::sql_types::BigInt;
use diesel::QueryResult;
use rust_decimal::Decimal;
use settlement_model::SettlementDate;

use crate::StoreError;

/// A connection of either backend, borrowed for one transaction.
pub(crate) enum Db<'c> {
    #[cfg(feature = "postgres")]
    Pg(&'c mut diesel::PgConnection),
    #[cfg(feature = "sqlite")]
    Lite(&'c mut diesel::SqliteConnection),
}

/// Runs one typed diesel expression on whichever backend `db` holds: the expression is
/// written once and the compiler checks it against both backends (each compiled in).
macro_rules! on_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            #[cfg(feature = "postgres")]
            $crate::db::Db::Pg(conn) => {
                let $c: &mut diesel::PgConnection = &mut **conn;
                $body
            }
            #[cfg(feature = "sqlite")]
            $crate::db::Db::Lite(conn) => {
                let $c: &mut diesel::SqliteConnection = &mut **conn;
                $body
            }
        }
    };
}
pub(crate) use on_db;

diesel::define_sql_function! {
    /// SQL `COALESCE` of two nullable bigints.
    fn coalesce(
        x: diesel::sql_types::Nullable<BigInt>,
        y: diesel::sql_types::Nullable<BigInt>,
    ) -> diesel::sql_types::Nullable<BigInt>;
}

impl Db<'_> {
    /// Whether this is a PostgreSQL connection (for what only PostgreSQL has: advisory
    /// locks, `SET LOCAL`, `LOCK TABLE`).
    pub(crate) fn is_pg(&self) -> bool {
        match self {
            #[cfg(feature = "postgres")]
            Db::Pg(_) => true,
            #[cfg(feature = "sqlite")]
            Db::Lite(_) => false,
        }
    }

    /// Runs a statement without binds (DDL, `SET LOCAL`).
    pub(crate) fn batch(&mut self, sql: &str) -> QueryResult<()> {
        use diesel::connection::SimpleConnection;
        on_db!(self, c => c.batch_execute(sql))
    }
}

/// Parses stored decimal text exactly: a value that does not fit a 28-digit decimal (the
/// platform's `numeric` holds more) is a [`StoreError::CorruptValue`], never a rounding.
pub(crate) fn parse_dec(
    table: &'static str,
    column: &'static str,
    text: &str,
) -> Result<Decimal, StoreError> {
    settlement_model::parse_decimal_exact(text).map_err(|e| StoreError::CorruptValue {
        table,
        column,
        value: text.to_owned(),
        reason: e.to_string(),
    })
}

/// A stored calendar date as a settlement date (the supported years only).
pub(crate) fn settlement_date(
    table: &'static str,
    column: &'static str,
    date: chrono::NaiveDate,
) -> Result<SettlementDate, StoreError> {
    SettlementDate::from_naive(date).map_err(|e| StoreError::CorruptValue {
        table,
        column,
        value: date.to_string(),
        reason: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_decimal_text_is_a_typed_error() {
        let err = parse_dec("t", "c", "12.3.4").unwrap_err();
        assert!(matches!(err, StoreError::CorruptValue { .. }));
        assert_eq!(
            parse_dec("t", "c", "-0.0041666666666667")
                .unwrap()
                .to_string(),
            "-0.0041666666666667"
        );
    }
}
