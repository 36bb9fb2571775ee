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
    // In date order, whatever the caller's: a sum too long for a decimal is rounded, and
    // where it rounds depends on the order of its terms (see `crate::in_key_order`).
    let days = crate::in_key_order(dailies.iter().filter(|d| d.date.year_month() == ym), |d| {
        d.date
    });
    for d in days {
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
    // In month order, whatever the caller's (see `monthly`).
    let months = crate::in_key_order(
        monthlies.iter().filter(|m| m.year_month.year == year),
        |m| m.year_month,
    );
    for m in months {
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

    /// A year of the simulator's months (their payments carry 20 fractional digits, as
    /// payments of volumes like 102/7 MWh do): their exact sum needs more digits than a
    /// decimal holds, so it is rounded, and a rounded sum depends on the order of its terms.
    /// A rollup that put the new month last gave another last digit than the verification's
    /// sum in month order, and the swap rolled back sound data (60 dates of a year
    /// recalculated from the archive on SQLite). Sums of summaries are taken in key order,
    /// whatever order the caller passes them in.
    #[test]
    fn sums_of_summaries_do_not_depend_on_the_order_of_their_terms() {
        let months: Vec<MonthlySummary> = [
            (
                "2024-01",
                "1827707.831619047619051343",
                "130453976.93430380952417456761",
            ),
            (
                "2024-02",
                "2064857.879738095238103652",
                "145647389.01010619047747806125",
            ),
            (
                "2024-03",
                "1113791.157238095238085676",
                "78665816.45627452380894793963",
            ),
            (
                "2024-04",
                "948083.438285714285706985",
                "66822188.41162833333302191741",
            ),
            (
                "2024-05",
                "938688.895928571428572996",
                "66795075.26517238095238075118",
            ),
            (
                "2024-06",
                "794888.248476190476185352",
                "56258889.92438190476110312916",
            ),
            (
                "2024-07",
                "637396.012571428571429998",
                "45219179.58724880952354256031",
            ),
            (
                "2024-08",
                "841586.977309523809533659",
                "59754383.56637785714382303527",
            ),
            (
                "2024-09",
                "1398859.612285714285732991",
                "98695041.54735285714442215226",
            ),
            (
                "2024-10",
                "1357528.481928571428567007",
                "97049600.67511571428517600669",
            ),
            (
                "2024-11",
                "2095985.897238095238086683",
                "148023638.13538809523845788259",
            ),
            (
                "2024-12",
                "1168518.677571428571438013",
                "82502898.69513190476307927167",
            ),
        ]
        .iter()
        .map(|(ym, e, p)| MonthlySummary {
            year_month: YearMonth::parse(ym).unwrap(),
            total_curtailed_energy: e.parse().unwrap(),
            total_payment: p.parse().unwrap(),
        })
        .collect();
        let in_order = yearly(2024, &months).unwrap();
        for moved in 0..months.len() {
            // The rollup of a date in month `moved`: the other months, then the new one.
            let mut others = months.clone();
            let month = others.remove(moved);
            others.push(month);
            assert_eq!(
                yearly(2024, &others).unwrap(),
                in_order,
                "month {moved} last"
            );
            let date: SettlementDate = format!("2024-{:02}-01", moved + 1).parse().unwrap();
            let other_dailies = [];
            let (_, _, year) = rollup(date, &[], &other_dailies, &months).unwrap();
            let mut expected = months.clone();
            expected[moved].total_curtailed_energy = Decimal::ZERO;
            expected[moved].total_payment = Decimal::ZERO;
            assert_eq!(
                year,
                yearly(2024, &expected).unwrap(),
                "rollup of month {moved}"
            );
        }
        let reversed: Vec<MonthlySummary> = months.iter().rev().cloned().collect();
        assert_eq!(yearly(2024, &reversed).unwrap(), in_order);
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
