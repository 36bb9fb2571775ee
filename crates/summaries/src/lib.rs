//! The **summarize** stage of `reingest`: pure, exact aggregation of curtailment records and
//! bitcoin rows into daily, monthly and yearly summaries.
//!
//! - [`daily`] / [`day_detail`]: records → the day's energy Σ|volume| (MWh) and payment
//!   Σpayment (£), with record and period counts; an empty day is zeros, not a missing row;
//! - [`monthly`] and [`yearly`]: the month's dailies → the month; the year's monthlies → the
//!   year;
//! - [`rollup`]: what one reingested day rewrites: that day, its month and its year, from the
//!   new records plus the *other* days and months the store reads inside its transaction;
//! - [`bitcoin_daily`], [`bitcoin_monthly`], [`bitcoin_yearly`] and [`bitcoin_rollup`]: the
//!   same per miner model, from `historical_bitcoin_calculations` rows.
//!
//! ```
//! use rust_decimal_macros::dec;
//! use settlement_model::{CurtailmentRecord, SettlementDate};
//! let date: SettlementDate = "2024-04-19".parse().unwrap();
//! let record = CurtailmentRecord::bid(date, 7, "T_A-1", dec!(-12.5), dec!(-40)).unwrap();
//! let (day, month, year) = summaries::rollup(date, &[record], &[], &[]).unwrap();
//! assert_eq!(day.total_curtailed_energy, dec!(12.5));
//! assert_eq!(month.total_payment, dec!(500));
//! assert_eq!(year.year, 2024);
//! ```
//!
//! # Exactness and overflow
//!
//! Every sum is a [`rust_decimal::Decimal`]: a 96-bit integer mantissa with a decimal scale,
//! so 28-29 significant digits and a range of ±79,228,162,514,264,337,593,543,950,335
//! (≈7.9·10²⁸). Sums are exact as long as they fit: adding values of different scales keeps
//! the larger scale, and only a total needing more than 28-29 digits would round its last
//! fractional digits. Realistic totals are nowhere near that: a year of GB curtailment is
//! about 10⁷ MWh and 10⁹ £ with three decimal places (≈13 digits), bitcoin at 12 places
//! (≈18 digits). Every addition uses `checked_add`, so an impossible input (a corrupted
//! volume of 10²⁸) is a [`SummaryError::Overflow`] naming the summary, never a panic.
//!
//! # Architecture invariant
//!
//! This crate does no I/O (no file, network, database or clock) and computes nothing but
//! sums: it does not decide what counts as curtailment (`settlement-model`), what bitcoin a
//! record is worth (`bitcoin-calc`) or how rows are stored (`store`). It depends only on
//! `settlement-model`.
//!
//! # Dependencies
//!
//! `settlement-model` for the record, row and summary types; `rust_decimal` for exact
//! sums; `serde` so [`DayDetail`] can be printed as JSON; `thiserror` for [`SummaryError`].

mod bitcoin;
mod curtailment;

pub use bitcoin::{bitcoin_daily, bitcoin_monthly, bitcoin_rollup, bitcoin_yearly};
pub use curtailment::{daily, day_detail, monthly, rollup, yearly, DayDetail, PeriodTotals};

use rust_decimal::Decimal;
use settlement_model::{SettlementDate, SummaryPeriod};

/// Input that cannot be summarised.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SummaryError {
    /// A sum exceeds a decimal's range: some input value is impossible.
    #[error("the {quantity} of {period} exceeds a decimal's range (about 7.9e28); an input value is impossible")]
    Overflow {
        /// The day, month or year being summed.
        period: SummaryPeriod,
        /// `energy`, `payment` or `bitcoin`.
        quantity: &'static str,
    },
    /// A record or row of another date was passed to a day's summary.
    #[error("a {what} of {found} was given to the summary of {expected}")]
    WrongDate {
        /// The date being summarised.
        expected: SettlementDate,
        /// The date of the stray record or row.
        found: SettlementDate,
        /// `curtailment record` or `bitcoin row`.
        what: &'static str,
    },
    /// A bitcoin row of the day is for a model the rollup was not asked to summarise.
    #[error("a bitcoin row of {date} is for miner model {model}, which is not among the models being summarised")]
    UnlistedModel {
        /// The model of the row.
        model: String,
        /// The date.
        date: SettlementDate,
    },
}

/// `a + b`, or [`SummaryError::Overflow`] for `period`'s `quantity`.
/// `items` sorted by `key` (stably): the one order in which summaries are summed.
///
/// A decimal holds 28 significant digits. The exact sum of a year's monthly payments (each
/// with some 20 fractional digits, as payments of volumes like 102/7 MWh have) needs more, so
/// the sum is rounded in its last digit, and where that happens depends on the order of the
/// terms: the year of "the other months, then the new one" and the year of "the months in
/// order" can differ by one in the last digit. Summing in key order makes every sum of the
/// same rows the same number, here and in the verification that recomputes it.
///
/// ```
/// use rust_decimal_macros::dec;
/// use settlement_model::{MonthlySummary, YearMonth};
/// let month = |ym: &str| MonthlySummary { year_month: YearMonth::parse(ym).unwrap(),
///                                         total_curtailed_energy: dec!(1), total_payment: dec!(2) };
/// let given = [month("2024-03"), month("2024-01"), month("2024-02")];
/// let ordered = summaries::in_key_order(&given, |m| m.year_month);
/// let months: Vec<String> = ordered.iter().map(|m| m.year_month.to_string()).collect();
/// assert_eq!(months, ["2024-01", "2024-02", "2024-03"]);
/// ```
pub fn in_key_order<'a, T, K: Ord>(
    items: impl IntoIterator<Item = &'a T>,
    key: impl Fn(&T) -> K,
) -> Vec<&'a T>
where
    T: 'a,
{
    let mut items: Vec<&T> = items.into_iter().collect();
    items.sort_by_key(|item| key(item));
    items
}

fn add(
    a: Decimal,
    b: Decimal,
    period: SummaryPeriod,
    quantity: &'static str,
) -> Result<Decimal, SummaryError> {
    a.checked_add(b)
        .ok_or(SummaryError::Overflow { period, quantity })
}
