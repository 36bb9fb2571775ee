//! Curtailment summaries: records → day → month → year.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use settlement_model::{
    CurtailmentRecord, DailySummary, MonthlySummary, SettlementDate, SummaryPeriod, YearMonth,
    YearlySummary,
};

use crate::{add, SummaryError};

/// Totals of one settlement period's records.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodTotals {
    /// How many records.
    pub records: u64,
    /// Σ |volume|, MWh.
    pub energy_mwh: Decimal,
    /// Σ payment, £.
    pub payment_gbp: Decimal,
}

/// A day's summary with the counts a report or a verification needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayDetail {
    /// The `daily_summaries` row.
    pub summary: DailySummary,
    /// How many records the day has.
    pub records: u64,
    /// How many periods have at least one record.
    pub periods_with_records: u32,
    /// Totals per period number, only for periods with records.
    pub per_period: BTreeMap<u8, PeriodTotals>,
}

/// The daily summary of `records`: energy Σ|volume| (MWh), payment Σpayment (£), exactly.
/// An empty day is a summary of zeros, not a missing row.
///
/// Every record must belong to `date` (else [`SummaryError::WrongDate`]: a caller bug that
/// would make the day wrong). Sums use `checked_add`: see [`SummaryError::Overflow`].
///
/// ```
/// use rust_decimal_macros::dec;
/// use settlement_model::{CurtailmentRecord, SettlementDate, Side};
/// let date: SettlementDate = "2024-04-19".parse().unwrap();
/// let r = |period: u8, volume, payment| CurtailmentRecord {
///     settlement_date: date, settlement_period: period, farm_id: "T_A-1".into(),
///     lead_party_name: None, volume, payment, original_price: dec!(-40),
///     final_price: dec!(-40), so_flag: true, cadl_flag: None, acceptance_id: None,
///     bid_offer_pair_id: None, side: Side::Bid, sequence_number: None,
/// };
/// let day = summaries::daily(date, &[r(1, dec!(-10.5), dec!(420)), r(2, dec!(-2), dec!(-80))]).unwrap();
/// assert_eq!(day.total_curtailed_energy, dec!(12.5));
/// assert_eq!(day.total_payment, dec!(340));
/// let empty = summaries::daily(date, &[]).unwrap();
/// assert!(empty.total_curtailed_energy.is_zero() && empty.total_payment.is_zero());
/// ```
pub fn daily(
    date: SettlementDate,
    records: &[CurtailmentRecord],
) -> Result<DailySummary, SummaryError> {
    Ok(day_detail(date, records)?.summary)
}

/// [`daily`] plus the record count, the number of periods with records and per-period totals.
pub fn day_detail(
    date: SettlementDate,
    records: &[CurtailmentRecord],
) -> Result<DayDetail, SummaryError> {
    let period = SummaryPeriod::Day(date);
    let mut energy = Decimal::ZERO;
    let mut payment = Decimal::ZERO;
    let mut per_period: BTreeMap<u8, PeriodTotals> = BTreeMap::new();
    for record in records {
        if record.settlement_date != date {
            return Err(SummaryError::WrongDate {
                expected: date,
                found: record.settlement_date,
                what: "curtailment record",
            });
        }
        energy = add(energy, record.energy(), period, "energy")?;
        payment = add(payment, record.payment, period, "payment")?;
        let slot = per_period.entry(record.settlement_period).or_default();
        slot.records += 1;
        slot.energy_mwh = add(slot.energy_mwh, record.energy(), period, "energy")?;
        slot.payment_gbp = add(slot.payment_gbp, record.payment, period, "payment")?;
    }
    Ok(DayDetail {
        summary: DailySummary {
            date,
            total_curtailed_energy: energy,
            total_payment: payment,
        },
        records: records.len() as u64,
        periods_with_records: u32::try_from(per_period.len()).unwrap_or(u32::MAX),
        per_period,
    })
}

/// The monthly summary of `ym`: the sums of those `dailies` whose date is in `ym`; dailies
/// of other months are ignored. Pass one daily per date (a date twice counts twice). A month
/// with no dailies is zeros.
///
/// ```
/// use rust_decimal_macros::dec;
/// use settlement_model::{DailySummary, YearMonth};
/// let d = |date: &str, e| DailySummary { date: date.parse().unwrap(),
///                                        total_curtailed_energy: e, total_payment: e * dec!(40) };
/// let m = summaries::monthly(YearMonth::parse("2024-04").unwrap(),
///                            &[d("2024-04-01", dec!(1.5)), d("2024-04-30", dec!(2)), d("2024-05-01", dec!(9))]).unwrap();
/// assert_eq!(m.total_curtailed_energy, dec!(3.5));
/// assert_eq!(m.total_payment, dec!(140));
/// ```
pub fn monthly(ym: YearMonth, dailies: &[DailySummary]) -> Result<MonthlySummary, SummaryError> {
    let period = SummaryPeriod::Month(ym);
    let mut energy = Decimal::ZERO;
    let mut payment = Decimal::ZERO;
    for d in dailies.iter().filter(|d| d.date.year_month() == ym) {
        energy = add(energy, d.total_curtailed_energy, period, "energy")?;
        payment = add(payment, d.total_payment, period, "payment")?;
    }
    Ok(MonthlySummary {
        year_month: ym,
        total_curtailed_energy: energy,
        total_payment: payment,
    })
}

/// The yearly summary of `year`: the sums of those `monthlies` in `year`; others are ignored.
/// Pass one monthly per month. A year with no monthlies is zeros.
pub fn yearly(year: i32, monthlies: &[MonthlySummary]) -> Result<YearlySummary, SummaryError> {
    let period = SummaryPeriod::Year(year);
    let mut energy = Decimal::ZERO;
    let mut payment = Decimal::ZERO;
    for m in monthlies.iter().filter(|m| m.year_month.year == year) {
        energy = add(energy, m.total_curtailed_energy, period, "energy")?;
        payment = add(payment, m.total_payment, period, "payment")?;
    }
    Ok(YearlySummary {
        year,
        total_curtailed_energy: energy,
        total_payment: payment,
    })
}

/// The three summary rows a reingestion of `date` writes: the new daily from `day_records`;
/// the month = the month's *other* days' dailies + the new daily; the year = the year's
/// *other* months' monthlies + the new month.
///
/// This is what the store's swap needs: inside its transaction it reads the other days and
/// months, and nothing else changes. To be safe against a caller passing the whole month or
/// year, a daily for `date` itself in `month_other_dailies` and a monthly for `date`'s month in
/// `year_other_monthlies` are ignored (they are what is being replaced), as are rows outside
/// the month or year.
///
/// ```
/// use rust_decimal_macros::dec;
/// use settlement_model::{DailySummary, MonthlySummary, YearMonth};
/// let date = "2024-04-19".parse().unwrap();
/// let other_day = DailySummary { date: "2024-04-18".parse().unwrap(),
///                                total_curtailed_energy: dec!(10), total_payment: dec!(400) };
/// let other_month = MonthlySummary { year_month: YearMonth::parse("2024-03").unwrap(),
///                                    total_curtailed_energy: dec!(100), total_payment: dec!(4000) };
/// let (day, month, year) = summaries::rollup(date, &[], &[other_day], &[other_month]).unwrap();
/// assert!(day.total_curtailed_energy.is_zero());
/// assert_eq!(month.total_curtailed_energy, dec!(10));
/// assert_eq!(year.total_payment, dec!(4400));
/// ```
pub fn rollup(
    date: SettlementDate,
    day_records: &[CurtailmentRecord],
    month_other_dailies: &[DailySummary],
    year_other_monthlies: &[MonthlySummary],
) -> Result<(DailySummary, MonthlySummary, YearlySummary), SummaryError> {
    let ym = date.year_month();
    let day = daily(date, day_records)?;
    let mut dailies: Vec<DailySummary> = month_other_dailies
        .iter()
        .filter(|d| d.date != date)
        .cloned()
        .collect();
    dailies.push(day.clone());
    let month = monthly(ym, &dailies)?;
    let mut monthlies: Vec<MonthlySummary> = year_other_monthlies
        .iter()
        .filter(|m| m.year_month != ym)
        .cloned()
        .collect();
    monthlies.push(month.clone());
    let year = yearly(date.year(), &monthlies)?;
    Ok((day, month, year))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn record(date: &str, period: u8, volume: Decimal, price: Decimal) -> CurtailmentRecord {
        CurtailmentRecord::bid(date.parse().unwrap(), period, "T_A-1", volume, price).unwrap()
    }

    #[test]
    fn day_detail_counts_periods_and_keeps_signs() {
        let d: SettlementDate = "2024-10-27".parse().unwrap();
        let records = [
            record("2024-10-27", 1, dec!(-1.25), dec!(-40)),
            record("2024-10-27", 50, dec!(-2), dec!(-40)),
            record("2024-10-27", 50, dec!(-3), dec!(10)), // positive bid price: negative payment
        ];
        let detail = day_detail(d, &records).unwrap();
        assert_eq!(detail.records, 3);
        assert_eq!(detail.periods_with_records, 2);
        assert_eq!(detail.summary.total_curtailed_energy, dec!(6.25));
        assert_eq!(detail.summary.total_payment, dec!(50) + dec!(80) - dec!(30));
        assert_eq!(
            detail.per_period[&50],
            PeriodTotals {
                records: 2,
                energy_mwh: dec!(5),
                payment_gbp: dec!(50)
            }
        );
    }

    #[test]
    fn records_of_another_date_are_refused() {
        let d: SettlementDate = "2024-10-27".parse().unwrap();
        let err = daily(d, &[record("2024-10-28", 1, dec!(-1), dec!(-1))]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a curtailment record of 2024-10-28 was given to the summary of 2024-10-27"
        );
    }

    #[test]
    fn overflow_is_an_error_naming_the_period() {
        let d: SettlementDate = "2024-10-27".parse().unwrap();
        let big = record("2024-10-27", 1, -Decimal::MAX, dec!(0));
        let err = daily(d, &[big.clone(), big]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the energy of 2024-10-27 exceeds a decimal's range (about 7.9e28); an input value is impossible"
        );
    }

    #[test]
    fn rollup_ignores_the_replaced_rows_and_other_periods() {
        let date: SettlementDate = "2024-04-19".parse().unwrap();
        let daily_row = |d: &str, e: Decimal| DailySummary {
            date: d.parse().unwrap(),
            total_curtailed_energy: e,
            total_payment: e,
        };
        let monthly_row = |m: &str, e: Decimal| MonthlySummary {
            year_month: YearMonth::parse(m).unwrap(),
            total_curtailed_energy: e,
            total_payment: e,
        };
        let (day, month, year) = rollup(
            date,
            &[record("2024-04-19", 3, dec!(-2), dec!(-1))],
            &[
                daily_row("2024-04-18", dec!(1)),
                daily_row("2024-04-19", dec!(1000)), // the old row of the day: replaced
                daily_row("2024-05-01", dec!(1000)), // another month: ignored
            ],
            &[
                monthly_row("2024-01", dec!(10)),
                monthly_row("2024-04", dec!(1000)), // the old month: replaced
                monthly_row("2023-04", dec!(1000)), // another year: ignored
            ],
        )
        .unwrap();
        assert_eq!(day.total_curtailed_energy, dec!(2));
        assert_eq!(month.total_curtailed_energy, dec!(3));
        assert_eq!(year.total_curtailed_energy, dec!(13));
        assert_eq!(year.year, 2024);
        assert_eq!(month.year_month, YearMonth::parse("2024-04").unwrap());
    }
}
