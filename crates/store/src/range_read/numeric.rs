//! The exact decimals of a range read, decoded from PostgreSQL's binary `numeric` straight
//! into a [`Decimal`] (a year's read decodes some two million of them), with no text in
//! between.
//!
//! The value is the one the text path gives ([`StoredDecimal`], then
//! [`parse_dec`](crate::db::parse_dec)): the same digits, truncated to the `numeric`'s
//! `scale` as PostgreSQL's rendering is, at that scale. Anything the direct decoding does
//! not cover (NaN, a zero, a digit group out of range, more than 28 fractional digits or a
//! value past a decimal's 96 bits) is read as text instead, so it gives exactly the text
//! path's value or its [`StoreError::CorruptValue`].

#[cfg(feature = "postgres")]
use diesel::data_types::PgNumeric;
use diesel::deserialize::{self, FromSql, FromSqlRow};
#[cfg(feature = "postgres")]
use diesel::pg::{Pg, PgValue};
#[cfg(feature = "postgres")]
use diesel::sql_types::Numeric;
#[cfg(feature = "sqlite")]
use diesel::sqlite::{Sqlite, SqliteValue};
use rust_decimal::Decimal;

#[cfg(feature = "postgres")]
use crate::sql_types::NumericParts;
use crate::sql_types::{Exact, ReadDecimal, StoredDecimal};
use crate::StoreError;

/// A decimal read from an [`Exact`] column by a range read.
#[derive(Debug, Clone, PartialEq, Eq, FromSqlRow)]
pub(crate) enum RangeDecimal {
    /// Decoded from the binary `numeric`.
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Decoded(Decimal),
    /// The exact text, parsed (or refused) by [`StoredDecimal::parse`].
    Text(StoredDecimal),
}

impl ReadDecimal for RangeDecimal {
    fn decimal(&self, table: &'static str, column: &'static str) -> Result<Decimal, StoreError> {
        match self {
            RangeDecimal::Decoded(d) => Ok(*d),
            RangeDecimal::Text(t) => t.parse(table, column),
        }
    }
}

#[cfg(feature = "postgres")]
impl FromSql<Exact, Pg> for RangeDecimal {
    /// The wire form parsed once, by diesel (as [`StoredDecimal`] does), then decoded
    /// directly or rendered as text.
    fn from_sql(value: PgValue<'_>) -> deserialize::Result<Self> {
        let n = <PgNumeric as FromSql<Numeric, Pg>>::from_sql(value)?;
        Ok(match decode(&n) {
            Some(d) => RangeDecimal::Decoded(d),
            None => RangeDecimal::Text(StoredDecimal::of_numeric(&n)),
        })
    }
}

#[cfg(feature = "sqlite")]
impl FromSql<Exact, Sqlite> for RangeDecimal {
    fn from_sql(value: SqliteValue<'_, '_, '_>) -> deserialize::Result<Self> {
        <StoredDecimal as FromSql<Exact, Sqlite>>::from_sql(value).map(RangeDecimal::Text)
    }
}

/// The largest mantissa a [`Decimal`] holds, 2⁹⁶ − 1.
#[cfg(feature = "postgres")]
const MAX_MANTISSA: u128 = (1 << 96) - 1;

/// `n` as a decimal at its own scale, or `None` for what is left to the text path.
///
/// A `numeric` is base-10000 digit groups, the first of weight `weight` (its exponent in
/// base 10000); `scale` is the number of fractional decimal digits, and PostgreSQL renders
/// exactly that many, truncating any further digit a group carries.
#[cfg(feature = "postgres")]
fn decode(n: &PgNumeric) -> Option<Decimal> {
    let NumericParts {
        negative,
        weight,
        scale,
        digits,
    } = NumericParts::of(n)?;
    if scale > 28 {
        return None;
    }
    let weight = i32::from(weight);
    let frac_groups = i32::from(scale.div_ceil(4));
    let mut mantissa: u128 = 0;
    // From the highest group (or the units' group) down to the last fractional group the
    // scale needs: 10000^top … 10000^-frac_groups; groups past the stored ones are zeros.
    for power in (-frac_groups..=weight.max(0)).rev() {
        let group = usize::try_from(weight - power)
            .ok()
            .and_then(|i| digits.get(i).copied())
            .unwrap_or(0);
        let group = u16::try_from(group).ok().filter(|g| *g <= 9999)?;
        mantissa = mantissa
            .checked_mul(10_000)?
            .checked_add(u128::from(group))?;
    }
    // The groups carry 4 × frac_groups fractional digits; keep `scale` of them.
    let extra = u32::try_from(frac_groups * 4 - i32::from(scale)).ok()?;
    mantissa /= 10_u128.pow(extra);
    if mantissa == 0 || mantissa > MAX_MANTISSA {
        return None;
    }
    let signed = i128::try_from(mantissa).ok()?;
    let signed = if negative { -signed } else { signed };
    Decimal::try_from_i128_with_scale(signed, u32::from(scale)).ok()
}

#[cfg(all(test, feature = "postgres"))]
mod tests {
    use super::*;

    /// A `numeric` as diesel reads it off the wire.
    fn num(negative: bool, weight: i16, scale: u16, digits: &[i16]) -> PgNumeric {
        let digits = digits.to_vec();
        if negative {
            PgNumeric::Negative {
                weight,
                scale,
                digits,
            }
        } else {
            PgNumeric::Positive {
                weight,
                scale,
                digits,
            }
        }
    }

    fn text(d: Option<Decimal>) -> Option<String> {
        d.map(|d| d.to_string())
    }

    #[test]
    fn decodes_to_the_digits_and_scale_postgresql_renders() {
        let cases: &[(PgNumeric, &str)] = &[
            (num(false, -1, 12, &[19, 8822, 9842]), "0.001988229842"),
            (num(false, 0, 3, &[12, 3450]), "12.345"),
            (num(false, 0, 6, &[12, 3450]), "12.345000"),
            (num(true, 1, 2, &[1, 2345, 6700]), "-12345.67"),
            (num(false, 3, 0, &[86, 3885, 5892, 5171]), "86388558925171"),
            (num(false, 1, 0, &[5]), "50000"),
            (num(false, -2, 8, &[12]), "0.00000012"),
            (
                num(false, 1, 18, &[2, 6515, 5220, 4761, 9047, 6173, 3500]),
                "26515.522047619047617335",
            ),
            // Digits past the scale are truncated, as numeric_out does.
            (num(false, 0, 1, &[1, 2999]), "1.2"),
        ];
        for (n, want) in cases {
            assert_eq!(text(decode(n)).as_deref(), Some(*want), "{n:?}");
            // The same value and scale as parsing the text.
            assert_eq!(
                decode(n),
                Some(crate::db::parse_dec("t", "c", want).unwrap())
            );
            assert_eq!(
                decode(n).map(|d| d.scale()),
                Some(crate::db::parse_dec("t", "c", want).unwrap().scale())
            );
        }
    }

    #[test]
    fn leaves_the_odd_cases_to_the_text_path() {
        assert_eq!(decode(&PgNumeric::NaN), None);
        assert_eq!(decode(&num(false, 0, 2, &[])), None, "zero");
        assert_eq!(decode(&num(true, 0, 2, &[])), None, "negative zero");
        assert_eq!(decode(&num(false, 0, 29, &[1])), None, "scale past 28");
        assert_eq!(
            decode(&num(false, 0, 0, &[10_000])),
            None,
            "group out of range"
        );
        assert_eq!(decode(&num(false, 0, 0, &[-1])), None, "negative group");
        // 10^32: past 96 bits.
        assert_eq!(decode(&num(false, 8, 0, &[1])), None, "too large");
    }
}
