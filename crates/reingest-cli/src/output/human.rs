//! Numbers for people: energy and money to 2 decimals with thousands separators, BTC to 8.
//!
//! Text output and the Markdown/HTML reports use these; `--json`, the database and the
//! evidence keep the exact values. Rounding is the bankers'-free "half away from zero" that
//! people expect on a bill (`rust_decimal`'s `MidpointAwayFromZero`), on the exact decimal:
//! nothing passes through `f64`.

use rust_decimal::{Decimal, RoundingStrategy};

/// `value` rounded to `dp` decimals, its whole part grouped in thousands with commas.
///
/// ```
/// use reingest::output::human::grouped;
/// use rust_decimal_macros::dec;
/// assert_eq!(grouped(dec!(27314.6906076389340706), 2), "27,314.69");
/// assert_eq!(grouped(dec!(-1234567.005), 2), "-1,234,567.01");
/// assert_eq!(grouped(dec!(999.999), 2), "1,000.00");
/// assert_eq!(grouped(dec!(0), 2), "0.00");
/// ```
pub fn grouped(value: Decimal, dp: u32) -> String {
    let rounded = value.round_dp_with_strategy(dp, RoundingStrategy::MidpointAwayFromZero);
    // `{:.dp}` pads with zeros to exactly `dp` decimals; the rounding above already happened
    // on the exact value, so the formatter never rounds.
    let text = format!("{:.*}", dp as usize, rounded.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        out.push('-');
    }
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if let Some(f) = fraction {
        out.push('.');
        out.push_str(f);
    }
    out
}

/// Energy for people: `27,314.69 MWh`.
///
/// ```
/// use rust_decimal_macros::dec;
/// assert_eq!(reingest::output::human::mwh(dec!(27314.6906076389340706)), "27,314.69 MWh");
/// ```
pub fn mwh(value: Decimal) -> String {
    format!("{} MWh", grouped(value, 2))
}

/// Money for people: `£1,540,974.88`, a negative amount as `-£12.50`.
///
/// ```
/// use rust_decimal_macros::dec;
/// assert_eq!(reingest::output::human::gbp(dec!(1540974.881591938382399725)), "£1,540,974.88");
/// assert_eq!(reingest::output::human::gbp(dec!(-12.5)), "-£12.50");
/// ```
pub fn gbp(value: Decimal) -> String {
    let text = grouped(value, 2);
    match text.strip_prefix('-') {
        Some(magnitude) => format!("-£{magnitude}"),
        None => format!("£{text}"),
    }
}

/// Bitcoin for people: 8 decimals (one satoshi), grouped: `1,234.56789012 BTC`.
///
/// ```
/// use rust_decimal_macros::dec;
/// assert_eq!(reingest::output::human::btc(dec!(0.123456789)), "0.12345679 BTC");
/// ```
pub fn btc(value: Decimal) -> String {
    format!("{} BTC", grouped(value, 8))
}

/// A change for people: [`grouped`] with its sign, `+` for an increase: `+1,234.50`,
/// `-0.25`, `0.00` (no sign when it rounds to zero).
///
/// ```
/// use rust_decimal_macros::dec;
/// assert_eq!(reingest::output::human::signed(dec!(78.7), 2), "+78.70");
/// assert_eq!(reingest::output::human::signed(dec!(-2756.254), 2), "-2,756.25");
/// assert_eq!(reingest::output::human::signed(dec!(0.001), 2), "0.00");
/// ```
pub fn signed(value: Decimal, dp: u32) -> String {
    let text = grouped(value, dp);
    if text.starts_with('-') || text.bytes().all(|b| matches!(b, b'0' | b'.' | b',')) {
        text
    } else {
        format!("+{text}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn check(value: Decimal, dp: u32, expected: &str) {
        assert_eq!(grouped(value, dp), expected, "{value} to {dp} dp");
    }

    #[test]
    fn grouping_and_rounding() {
        check(dec!(1), 2, "1.00");
        check(dec!(12), 2, "12.00");
        check(dec!(123), 2, "123.00");
        check(dec!(1234), 2, "1,234.00");
        check(dec!(123456), 2, "123,456.00");
        check(dec!(1234567.125), 2, "1,234,567.13");
        check(dec!(-0.004), 2, "0.00");
        check(dec!(-0.005), 2, "-0.01");
        check(dec!(100000000.5), 0, "100,000,001");
        check(dec!(0.000000005), 8, "0.00000001");
    }
}
