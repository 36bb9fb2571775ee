//! The SQL types whose storage differs between the backends, and the Rust values that cross
//! them: exact decimals (`numeric` on PostgreSQL, TEXT on SQLite), instants (`timestamptz`
//! on PostgreSQL, RFC 3339 TEXT on SQLite) and the archive's bodies (`bytea` on PostgreSQL,
//! hex TEXT on SQLite).
//!
//! Decimals are written from a [`rust_decimal::Decimal`] (binary `numeric` on PostgreSQL, its
//! exact text on SQLite) and read back as their exact text ([`StoredDecimal`]), which the
//! caller parses with the table and column in hand: a stored value that does not fit a
//! 28-digit decimal is a [`crate::StoreError::CorruptValue`] naming both, never a rounding.
//!
//! Each backend's half is compiled only with its Cargo feature (`postgres`, `sqlite`).

use chrono::{DateTime, SecondsFormat, Utc};
use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
#[cfg(feature = "postgres")]
use diesel::pg::{data_types::PgNumeric, Pg, PgValue};
use diesel::serialize::{self, Output, ToSql};
use diesel::sql_types::SqlType;
#[cfg(feature = "postgres")]
use diesel::sql_types::{Binary, Numeric, Timestamptz};
#[cfg(feature = "sqlite")]
use diesel::{
    serialize::IsNull,
    sql_types::Text,
    sqlite::{Sqlite, SqliteValue},
};
use rust_decimal::Decimal;

use crate::db::parse_dec;
use crate::StoreError;

/// An exact decimal column: `numeric` on PostgreSQL, the decimal's exact text on SQLite (a
/// `NUMERIC` column there would turn it into a float).
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[cfg_attr(
    feature = "postgres",
    diesel(postgres_type(oid = 1700, array_oid = 1231))
)]
#[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
pub struct Exact;

/// An instant column: `timestamptz` on PostgreSQL, RFC 3339 text in UTC on SQLite.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[cfg_attr(
    feature = "postgres",
    diesel(postgres_type(oid = 1184, array_oid = 1185))
)]
#[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
pub struct Instant;

/// The archive's compressed body: `bytea` on PostgreSQL, hex text on SQLite.
#[derive(Debug, Clone, Copy, Default, SqlType, diesel::query_builder::QueryId)]
#[cfg_attr(
    feature = "postgres",
    diesel(postgres_type(oid = 17, array_oid = 1001))
)]
#[cfg_attr(feature = "sqlite", diesel(sqlite_type(name = "Text")))]
pub struct Body;

/// A decimal written to an [`Exact`] column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Exact)]
pub struct ExactDecimal(pub Decimal);

#[cfg(feature = "postgres")]
impl ToSql<Exact, Pg> for ExactDecimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Decimal as ToSql<Numeric, Pg>>::to_sql(&self.0, out)
    }
}

#[cfg(feature = "sqlite")]
impl ToSql<Exact, Sqlite> for ExactDecimal {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.0.to_string());
        Ok(IsNull::No)
    }
}

/// A decimal read from an [`Exact`] column, as its exact text (PostgreSQL's own rendering of
/// the `numeric`, or the TEXT SQLite holds).
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub struct StoredDecimal(pub String);

impl StoredDecimal {
    /// The exact decimal, or [`StoreError::CorruptValue`] naming `table` and `column`.
    pub(crate) fn parse(
        &self,
        table: &'static str,
        column: &'static str,
    ) -> Result<Decimal, StoreError> {
        parse_dec(table, column, &self.0)
    }
}

/// A decimal column's value as read, however it was decoded: the exact decimal, or
/// [`StoreError::CorruptValue`] naming `table` and `column`.
pub(crate) trait ReadDecimal {
    /// The exact decimal.
    fn decimal(&self, table: &'static str, column: &'static str) -> Result<Decimal, StoreError>;
}

impl ReadDecimal for StoredDecimal {
    fn decimal(&self, table: &'static str, column: &'static str) -> Result<Decimal, StoreError> {
        self.parse(table, column)
    }
}

#[cfg(feature = "postgres")]
impl StoredDecimal {
    /// The text PostgreSQL renders for `n`.
    pub(crate) fn of_numeric(n: &PgNumeric) -> Self {
        StoredDecimal(numeric_text(n))
    }
}

#[cfg(feature = "postgres")]
impl FromSql<Exact, Pg> for StoredDecimal {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let n = <PgNumeric as FromSql<Numeric, Pg>>::from_sql(value)?;
        Ok(StoredDecimal::of_numeric(&n))
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<Exact, Sqlite> for StoredDecimal {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <String as FromSql<Text, Sqlite>>::from_sql(value).map(StoredDecimal)
    }
}

/// A `numeric` as PostgreSQL sends it: its sign, the weight of its first base-10000 digit
/// group (the group's exponent), its scale (fractional decimal digits) and the groups.
#[cfg(feature = "postgres")]
pub(crate) struct NumericParts<'a> {
    pub(crate) negative: bool,
    pub(crate) weight: i16,
    pub(crate) scale: u16,
    pub(crate) digits: &'a [i16],
}

#[cfg(feature = "postgres")]
impl<'a> NumericParts<'a> {
    /// The parts of `n`; `None` for NaN.
    pub(crate) fn of(n: &'a PgNumeric) -> Option<Self> {
        let (negative, weight, scale, digits) = match n {
            PgNumeric::NaN => return None,
            PgNumeric::Positive {
                weight,
                scale,
                digits,
            } => (false, weight, scale, digits),
            PgNumeric::Negative {
                weight,
                scale,
                digits,
            } => (true, weight, scale, digits),
        };
        Some(Self {
            negative,
            weight: *weight,
            scale: *scale,
            digits,
        })
    }
}

/// PostgreSQL's text rendering of a `numeric` (`numeric_out`): base-10000 digit groups,
/// `weight` the exponent of the first group, exactly `scale` fractional digits.
/// Written into one buffer, with no allocation per group: a day's read-back decodes some
/// 20,000 of them.
#[cfg(feature = "postgres")]
fn numeric_text(n: &PgNumeric) -> String {
    let Some(NumericParts {
        negative,
        weight,
        scale,
        digits,
    }) = NumericParts::of(n)
    else {
        return "NaN".to_owned();
    };
    let weight = i32::from(weight);
    let group = |i: i32| -> i16 {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.get(i))
            .copied()
            .unwrap_or(0)
    };
    let int_groups = usize::try_from(weight + 1).unwrap_or(0);
    let mut out = String::with_capacity(2 + 4 * int_groups + usize::from(scale) + 4);
    if negative {
        out.push('-');
    }
    if weight < 0 {
        out.push('0');
    } else {
        push_group(&mut out, group(0), false);
        for i in 1..=weight {
            push_group(&mut out, group(i), true);
        }
    }
    if scale > 0 {
        out.push('.');
        let end = out.len() + usize::from(scale);
        let mut i = weight + 1;
        while out.len() < end {
            push_group(&mut out, group(i), true);
            i += 1;
        }
        out.truncate(end);
    }
    out
}

/// One base-10000 digit group: four digits with `padded`, else without leading zeros (at
/// least one digit).
#[cfg(feature = "postgres")]
fn push_group(out: &mut String, group: i16, padded: bool) {
    // A group is 0..=9999 in a valid numeric; anything else renders as 0000.
    let g = u16::try_from(group)
        .ok()
        .filter(|g| *g <= 9999)
        .unwrap_or(0);
    let digits = [g / 1000, g / 100 % 10, g / 10 % 10, g % 10];
    let first = if padded {
        0
    } else {
        digits.iter().position(|d| *d != 0).unwrap_or(3)
    };
    for d in &digits[first..] {
        out.push(char::from_digit(u32::from(*d), 10).unwrap_or('0'));
    }
}

/// An instant written to an [`Instant`] column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Instant)]
pub struct InstantValue(pub DateTime<Utc>);

/// An instant as stored on SQLite: RFC 3339 in UTC with microseconds.
pub(crate) fn instant_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Micros, true)
}

#[cfg(feature = "postgres")]
impl ToSql<Instant, Pg> for InstantValue {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <DateTime<Utc> as ToSql<Timestamptz, Pg>>::to_sql(&self.0, out)
    }
}

#[cfg(feature = "sqlite")]
impl ToSql<Instant, Sqlite> for InstantValue {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(instant_text(self.0));
        Ok(IsNull::No)
    }
}

/// An instant read from an [`Instant`] column, as RFC 3339 text (SQLite's stored text, or
/// PostgreSQL's value rendered the same way), parsed by the caller with the column in hand.
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub struct StoredInstant(pub String);

#[cfg(feature = "postgres")]
impl FromSql<Instant, Pg> for StoredInstant {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let t = <DateTime<Utc> as FromSql<Timestamptz, Pg>>::from_sql(value)?;
        Ok(StoredInstant(instant_text(t)))
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<Instant, Sqlite> for StoredInstant {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <String as FromSql<Text, Sqlite>>::from_sql(value).map(StoredInstant)
    }
}

/// Compressed bytes written to a [`Body`] column.
#[derive(Debug, Clone, PartialEq, Eq, AsExpression)]
#[diesel(sql_type = Body)]
pub struct BodyBytes(pub Vec<u8>);

#[cfg(feature = "postgres")]
impl ToSql<Body, Pg> for BodyBytes {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <Vec<u8> as ToSql<Binary, Pg>>::to_sql(&self.0, out)
    }
}

#[cfg(feature = "sqlite")]
impl ToSql<Body, Sqlite> for BodyBytes {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(hex::encode(&self.0));
        Ok(IsNull::No)
    }
}

/// Compressed bytes read from a [`Body`] column, or why SQLite's stored text is not hex (the
/// caller reports it as a corrupt archive entry).
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub struct StoredBody(pub Result<Vec<u8>, String>);

#[cfg(feature = "postgres")]
impl FromSql<Body, Pg> for StoredBody {
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        <Vec<u8> as FromSql<Binary, Pg>>::from_sql(value).map(|b| StoredBody(Ok(b)))
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<Body, Sqlite> for StoredBody {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        let text = <String as FromSql<Text, Sqlite>>::from_sql(value)?;
        Ok(StoredBody(
            hex::decode(text.trim()).map_err(|e| format!("stored bytes are not hex: {e}")),
        ))
    }
}

/// The current time for the platform's `timestamp` columns, as each backend has always
/// written it: `now()` on PostgreSQL, `strftime('%Y-%m-%d %H:%M:%f', 'now')` (milliseconds,
/// UTC) on SQLite, where diesel's `now` would drop the milliseconds.
#[derive(Debug, Clone, Copy, diesel::query_builder::QueryId, diesel::expression::ValidGrouping)]
pub struct PlatformNow;

impl diesel::Expression for PlatformNow {
    type SqlType = diesel::sql_types::Nullable<diesel::sql_types::Timestamp>;
}

impl<QS> diesel::AppearsOnTable<QS> for PlatformNow {}

impl<QS> diesel::SelectableExpression<QS> for PlatformNow {}

#[cfg(feature = "postgres")]
impl diesel::query_builder::QueryFragment<Pg> for PlatformNow {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, Pg>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("now()");
        Ok(())
    }
}

#[cfg(feature = "sqlite")]
impl diesel::query_builder::QueryFragment<Sqlite> for PlatformNow {
    fn walk_ast<'b>(
        &'b self,
        mut out: diesel::query_builder::AstPass<'_, 'b, Sqlite>,
    ) -> diesel::QueryResult<()> {
        out.push_sql("strftime('%Y-%m-%d %H:%M:%f', 'now')");
        Ok(())
    }
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    fn pos(weight: i16, scale: u16, digits: &[i16]) -> PgNumeric {
        PgNumeric::Positive {
            weight,
            scale,
            digits: digits.to_vec(),
        }
    }

    #[test]
    fn numeric_text_matches_postgres_rendering() {
        assert_eq!(numeric_text(&pos(0, 0, &[])), "0");
        assert_eq!(numeric_text(&pos(0, 2, &[])), "0.00");
        assert_eq!(numeric_text(&pos(0, 0, &[12])), "12");
        assert_eq!(numeric_text(&pos(1, 0, &[1, 2])), "10002");
        assert_eq!(numeric_text(&pos(1, 0, &[1])), "10000");
        assert_eq!(numeric_text(&pos(0, 3, &[1, 2300])), "1.230");
        assert_eq!(numeric_text(&pos(-2, 8, &[41])), "0.00000041");
        assert_eq!(
            numeric_text(&PgNumeric::Negative {
                weight: -1,
                scale: 16,
                digits: vec![41, 6666, 6666, 6667],
            }),
            "-0.0041666666666667"
        );
        assert_eq!(numeric_text(&PgNumeric::NaN), "NaN");
        assert_eq!(numeric_text(&pos(2, 0, &[9, 0, 10])), "900000010");
        assert_eq!(
            numeric_text(&pos(0, 12, &[0, 1270, 6599, 6450])),
            "0.127065996450"
        );
        assert_eq!(
            numeric_text(&pos(3, 2, &[9721, 5882, 7368, 111])),
            "9721588273680111.00"
        );
    }

    #[test]
    fn decimals_survive_the_numeric_encoding() {
        for text in ["-0.0041666666666667", "123456.789", "0", "-7", "0.10"] {
            let d: Decimal = text.parse().unwrap();
            let n = PgNumeric::from(&d);
            assert_eq!(numeric_text(&n), text);
        }
    }
}
