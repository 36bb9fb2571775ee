//! The thin layer over the two backends: one connection type, dynamic binds, and the few
//! SQL differences (decimal and date casts, `now()`, placeholders).
//!
//! All SQL of the crate is written once, with PostgreSQL placeholders `$1 … $n`; on SQLite
//! they become `?1 … ?n`, which SQLite numbers the same way. Every decimal crosses the
//! boundary as text: PostgreSQL casts it (`CAST($n AS numeric)` in, `col::text` out), SQLite
//! stores the text as is.

use diesel::pg::Pg;
use diesel::query_builder::{BoxedSqlQuery, SqlQuery};
use diesel::query_dsl::RunQueryDsl;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::Sqlite;
use diesel::{PgConnection, QueryResult, QueryableByName, SqliteConnection};
use rust_decimal::Decimal;
use settlement_model::SettlementDate;

use crate::StoreError;

/// One bind value. Every value binds as a nullable text, bigint or bool.
#[derive(Debug, Clone)]
pub(crate) enum Val {
    Text(Option<String>),
    Int(Option<i64>),
}

impl Val {
    pub(crate) fn text(s: impl Into<String>) -> Self {
        Val::Text(Some(s.into()))
    }
    pub(crate) fn dec(d: Decimal) -> Self {
        Val::Text(Some(d.to_string()))
    }
    pub(crate) fn opt_dec(d: Option<Decimal>) -> Self {
        Val::Text(d.map(|d| d.to_string()))
    }
    pub(crate) fn date(d: SettlementDate) -> Self {
        Val::Text(Some(d.to_string()))
    }
    pub(crate) fn int(i: i64) -> Self {
        Val::Int(Some(i))
    }
}

/// How a column's value is written: the placeholder is wrapped for PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Text, integers, booleans: the placeholder as is.
    Plain,
    /// An exact decimal (`numeric` on PostgreSQL, TEXT on SQLite).
    Num,
    /// A calendar date (`date` on PostgreSQL, TEXT on SQLite).
    Date,
}

/// A connection of either backend, borrowed for one transaction.
pub(crate) enum Db<'c> {
    Pg(&'c mut PgConnection),
    Lite(&'c mut SqliteConnection),
}

macro_rules! boxed {
    ($backend:ty, $sql:expr, $binds:expr) => {{
        let mut q: BoxedSqlQuery<'static, $backend, SqlQuery> =
            diesel::sql_query($sql).into_boxed::<$backend>();
        for v in $binds {
            q = match v.clone() {
                Val::Text(x) => q.bind::<Nullable<Text>, _>(x),
                Val::Int(x) => q.bind::<Nullable<BigInt>, _>(x),
            };
        }
        q
    }};
}

/// Runs one typed diesel expression on whichever backend `db` holds: the expression is
/// written once and the compiler checks it against both backends.
macro_rules! on_db {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            $crate::db::Db::Pg(conn) => {
                let $c: &mut diesel::PgConnection = &mut **conn;
                $body
            }
            $crate::db::Db::Lite(conn) => {
                let $c: &mut diesel::SqliteConnection = &mut **conn;
                $body
            }
        }
    };
}
pub(crate) use on_db;

impl Db<'_> {
    pub(crate) fn is_pg(&self) -> bool {
        matches!(self, Db::Pg(_))
    }

    /// Runs a statement; returns the rows affected.
    pub(crate) fn exec(&mut self, sql: &str, binds: &[Val]) -> QueryResult<usize> {
        match self {
            Db::Pg(c) => boxed!(Pg, sql, binds).execute(&mut **c),
            Db::Lite(c) => boxed!(Sqlite, sqlite_placeholders(sql), binds).execute(&mut **c),
        }
    }

    /// Runs a query; returns its rows.
    pub(crate) fn load<R>(&mut self, sql: &str, binds: &[Val]) -> QueryResult<Vec<R>>
    where
        R: QueryableByName<Pg> + QueryableByName<Sqlite> + 'static,
    {
        match self {
            Db::Pg(c) => boxed!(Pg, sql, binds).load::<R>(&mut **c),
            Db::Lite(c) => boxed!(Sqlite, sqlite_placeholders(sql), binds).load::<R>(&mut **c),
        }
    }

    /// Runs a statement without binds (DDL, `SET LOCAL`).
    pub(crate) fn batch(&mut self, sql: &str) -> QueryResult<()> {
        use diesel::connection::SimpleConnection;
        match self {
            Db::Pg(c) => c.batch_execute(sql),
            Db::Lite(c) => c.batch_execute(sql),
        }
    }

    /// Placeholder `n` wrapped for a value of `kind`.
    pub(crate) fn param(&self, n: usize, kind: Kind) -> String {
        match (self.is_pg(), kind) {
            (true, Kind::Num) => format!("CAST(${n} AS numeric)"),
            (true, Kind::Date) => format!("CAST(${n} AS date)"),
            _ => format!("${n}"),
        }
    }

    /// The current time for the platform's `timestamp` columns.
    pub(crate) fn now(&self) -> &'static str {
        if self.is_pg() {
            "now()"
        } else {
            "strftime('%Y-%m-%d %H:%M:%f', 'now')"
        }
    }
}

/// `$n` → `?n` for SQLite (the SQL of this crate holds no `$` in literals).
fn sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) {
            out.push('?');
        } else {
            out.push(c);
        }
    }
    out
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

/// Rows of one text column.
#[derive(QueryableByName)]
pub(crate) struct TextRow {
    #[diesel(sql_type = Nullable<Text>)]
    pub(crate) v: Option<String>,
}

/// Rows of one bigint column.
#[derive(QueryableByName)]
pub(crate) struct IntRow {
    #[diesel(sql_type = BigInt)]
    pub(crate) v: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_numbered_sqlite_parameters() {
        assert_eq!(
            sqlite_placeholders("SELECT $1, $12 WHERE a = $1 AND b = '$'"),
            "SELECT ?1, ?12 WHERE a = ?1 AND b = '$'"
        );
    }

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
