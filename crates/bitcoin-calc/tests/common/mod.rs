//! Shared by the integration tests of bitcoin-calc.

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// The subsidy of `on` from the known halving days (the tests' dates are before the next).
pub fn subsidy(on: NaiveDate) -> Decimal {
    let epoch = bitcoin_calc::known_halvings()
        .iter()
        .filter(|h| h.day <= on)
        .count();
    bitcoin_calc::subsidy_for_epoch(u64::try_from(epoch).unwrap_or(u64::MAX))
}
