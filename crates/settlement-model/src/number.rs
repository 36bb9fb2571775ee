//! The one exact decimal parser of the workspace: the wire, the importers and the store's
//! read-back all use it.

use rust_decimal::Decimal;

/// Text that is not an exact decimal; the message says why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct DecimalError(String);

/// Parses `text` as an exact decimal: optional surrounding whitespace, an optional sign,
/// digits, an optional fraction and an optional exponent (`86388558925171`, `13.5`,
/// `8.6e13`, `1E+3`).
///
/// Unlike `Decimal::from_str` and `Decimal::from_scientific` it never rounds (more than 28
/// significant digits, or a value beyond a decimal's range, is an error) and it refuses the
/// digit separators (`1_000`) that `rust_decimal` would accept, because in data they are a
/// sign of a mangled value.
///
/// ```
/// use settlement_model::parse_decimal_exact;
/// assert_eq!(parse_decimal_exact("8.6e13").unwrap().to_string(), "86000000000000");
/// assert!(parse_decimal_exact("0.00000000000000000000000000001").is_err());
/// assert!(parse_decimal_exact("1.0000000000000000000000000001e-3").is_err());
/// ```
pub fn parse_decimal_exact(text: &str) -> Result<Decimal, DecimalError> {
    parse_exact(text).map_err(DecimalError)
}

fn parse_exact(text: &str) -> Result<Decimal, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty number".to_owned());
    }
    let (mantissa, exponent) = match t.find(['e', 'E']) {
        Some(i) => (&t[..i], Some(&t[i + 1..])),
        None => (t, None),
    };
    let digits = mantissa.strip_prefix(['+', '-']).unwrap_or(mantissa);
    let (int_part, frac_part) = match digits.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (digits, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(int_part) || frac_part.is_some_and(|f| !all_digits(f)) {
        return Err(format!("{t:?} is not a decimal number"));
    }
    if let Some(e) = exponent {
        let e_digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        if !all_digits(e_digits) {
            return Err(format!("{t:?} has a malformed exponent"));
        }
    }
    let too_precise = || format!("{t:?} has more digits than a 28-digit decimal holds exactly");
    match exponent {
        None => Decimal::from_str_exact(mantissa).map_err(|_| too_precise()),
        Some(e) => {
            let base = Decimal::from_str_exact(mantissa).map_err(|_| too_precise())?;
            let exp: i64 = e
                .trim_start_matches('+')
                .parse()
                .map_err(|_| format!("{t:?} has an exponent out of range"))?;
            scale_by_power_of_ten(base, exp).ok_or_else(too_precise)
        }
    }
}

/// `value × 10^exp`, exactly, or `None` when the result does not fit.
fn scale_by_power_of_ten(value: Decimal, exp: i64) -> Option<Decimal> {
    if exp == 0 {
        return Some(value);
    }
    let ten = Decimal::TEN;
    let mut out = value;
    if exp > 64 {
        return None;
    }
    if exp > 0 {
        // Shrink the scale first (free and exact), then multiply by ten.
        for _ in 0..exp {
            if out.scale() > 0 {
                let mut shifted = out;
                shifted.set_scale(out.scale() - 1).ok()?;
                out = shifted;
            } else {
                out = out.checked_mul(ten)?;
            }
        }
        Some(out)
    } else {
        let new_scale = i64::from(out.scale()) - exp;
        if new_scale > i64::from(Decimal::MAX_SCALE) {
            return None;
        }
        let mut shifted = out;
        shifted.set_scale(u32::try_from(new_scale).ok()?).ok()?;
        Some(shifted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Option<&str>) {
        let got = parse_exact(input).ok().map(|d| d.to_string());
        assert_eq!(got.as_deref(), expected, "input {input:?}");
    }

    #[test]
    fn accepts_plain_fraction_and_exponent_forms() {
        check("86388558925171", Some("86388558925171"));
        check(" 13.5 ", Some("13.5"));
        check("+3050", Some("3050"));
        check("-2.50", Some("-2.50"));
        check("8.6e13", Some("86000000000000"));
        check("72006146478566.1E0", Some("72006146478566.1"));
        check("1.25e-3", Some("0.00125"));
        check("5E+2", Some("500"));
    }

    #[test]
    fn refuses_mangled_or_imprecise_numbers() {
        check("", None);
        check("1_000", None);
        check("1.", None);
        check(".5", None);
        check("12a", None);
        check("1e", None);
        check("1e1.5", None);
        check("NaN", None);
        check("0.00000000000000000000000000001", None); // 29 decimal places
        check("1e100", None);
    }
}
