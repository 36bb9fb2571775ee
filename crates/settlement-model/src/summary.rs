//! Totals and summary rows exchanged by the summaries, bitcoin-calc and store crates.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{CurtailmentRecord, SettlementDate, YearMonth};

/// Totals of a set of curtailment records, summed with checked arithmetic.
///
/// ```
/// use settlement_model::DayTotals;
/// let t = DayTotals::from_records(&[]).unwrap();
/// assert_eq!(t.records, 0);
/// assert!(t.energy_mwh.is_zero());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayTotals {
    /// How many records.
    pub records: u64,
    /// Σ |volume|, MWh.
    pub energy_mwh: Decimal,
    /// Σ payment, £.
    pub payment_gbp: Decimal,
}

/// A sum that does not fit a decimal (about ±7.9·10²⁸): reported, never a panic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the sum of {quantity} over {records} records overflows a 28-digit decimal")]
pub struct SumOverflow {
    /// What was being summed (`energy`, `payment`, …).
    pub quantity: &'static str,
    /// How many values were summed when it overflowed.
    pub records: u64,
}

/// Σ `values`, exactly, or [`SumOverflow`] naming `quantity`.
///
/// ```
/// use settlement_model::{checked_sum, Decimal};
/// assert_eq!(checked_sum("x", [Decimal::ONE, Decimal::TWO]).unwrap(), Decimal::from(3));
/// assert!(checked_sum("x", [Decimal::MAX, Decimal::MAX]).is_err());
/// ```
pub fn checked_sum(
    quantity: &'static str,
    values: impl IntoIterator<Item = Decimal>,
) -> Result<Decimal, SumOverflow> {
    let mut total = Decimal::ZERO;
    for (n, v) in values.into_iter().enumerate() {
        total = total.checked_add(v).ok_or(SumOverflow {
            quantity,
            records: u64::try_from(n + 1).unwrap_or(u64::MAX),
        })?;
    }
    Ok(total)
}

impl DayTotals {
    /// Sums records exactly.
    pub fn from_records(records: &[CurtailmentRecord]) -> Result<Self, SumOverflow> {
        records
            .iter()
            .try_fold(Self::default(), |acc, r| acc.with_record(r))
    }

    /// Adds one record.
    pub fn with_record(self, r: &CurtailmentRecord) -> Result<Self, SumOverflow> {
        let records = self.records.saturating_add(1);
        let overflow = |quantity| SumOverflow { quantity, records };
        Ok(Self {
            records,
            energy_mwh: self
                .energy_mwh
                .checked_add(r.energy())
                .ok_or_else(|| overflow("energy"))?,
            payment_gbp: self
                .payment_gbp
                .checked_add(r.payment)
                .ok_or_else(|| overflow("payment"))?,
        })
    }
}

/// The platform's `daily_summaries` row, as far as this tool owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailySummary {
    /// The day.
    pub date: SettlementDate,
    /// Σ |volume|, MWh.
    pub total_curtailed_energy: Decimal,
    /// Σ payment, £.
    pub total_payment: Decimal,
}

/// The platform's `monthly_summaries` row, as far as this tool owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonthlySummary {
    /// The month.
    pub year_month: YearMonth,
    /// Σ of the month's daily energy, MWh.
    pub total_curtailed_energy: Decimal,
    /// Σ of the month's daily payment, £.
    pub total_payment: Decimal,
}

/// The platform's `yearly_summaries` row, as far as this tool owns it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct YearlySummary {
    /// The year.
    pub year: i32,
    /// Σ of the year's monthly energy, MWh.
    pub total_curtailed_energy: Decimal,
    /// Σ of the year's monthly payment, £.
    pub total_payment: Decimal,
}

/// One `historical_bitcoin_calculations` row: the bitcoin one record's energy could mine
/// with one miner model.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitcoinRow {
    /// The settlement date.
    pub settlement_date: SettlementDate,
    /// The settlement period.
    pub settlement_period: u8,
    /// The Elexon BM Unit id.
    pub farm_id: String,
    /// The miner model's name, e.g. `S19J_PRO`.
    pub miner_model: String,
    /// Bitcoin, exact decimal.
    pub bitcoin_mined: Decimal,
    /// The network difficulty used.
    pub difficulty: Decimal,
}

/// What a summary row covers: a day, a month or a year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "key", rename_all = "lowercase")]
pub enum SummaryPeriod {
    /// One day.
    Day(SettlementDate),
    /// One month.
    Month(YearMonth),
    /// One year.
    Year(i32),
}

impl fmt::Display for SummaryPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SummaryPeriod::Day(d) => write!(f, "{d}"),
            SummaryPeriod::Month(m) => write!(f, "{m}"),
            SummaryPeriod::Year(y) => write!(f, "{y:04}"),
        }
    }
}

/// A `bitcoin_{daily,monthly,yearly}_summaries` row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitcoinSummary {
    /// The day, month or year.
    pub period: SummaryPeriod,
    /// The miner model's name.
    pub miner_model: String,
    /// Σ bitcoin.
    pub bitcoin_mined: Decimal,
}
