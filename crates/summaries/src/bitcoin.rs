//! Bitcoin summaries per miner model: rows → day → month → year.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use settlement_model::{BitcoinRow, BitcoinSummary, SettlementDate, SummaryPeriod, YearMonth};

use crate::{add, SummaryError};

/// The daily bitcoin summaries of `date`: one per miner model present in `rows`, sorted by
/// model name. Every row must belong to `date` (else [`SummaryError::WrongDate`]).
///
/// ```
/// use rust_decimal_macros::dec;
/// use settlement_model::{BitcoinRow, SummaryPeriod};
/// let date = "2024-04-19".parse().unwrap();
/// let row = |model: &str, btc| BitcoinRow { settlement_date: date, settlement_period: 1,
///     farm_id: "T_A-1".into(), miner_model: model.into(), bitcoin_mined: btc, difficulty: dec!(1) };
/// let days = summaries::bitcoin_daily(date, &[row("S9", dec!(0.5)), row("M20S", dec!(1)), row("S9", dec!(0.25))]).unwrap();
/// assert_eq!(days.len(), 2);
/// assert_eq!((days[0].miner_model.as_str(), days[0].bitcoin_mined), ("M20S", dec!(1)));
/// assert_eq!((days[1].miner_model.as_str(), days[1].bitcoin_mined), ("S9", dec!(0.75)));
/// assert_eq!(days[1].period, SummaryPeriod::Day(date));
/// ```
pub fn bitcoin_daily(
    date: SettlementDate,
    rows: &[BitcoinRow],
) -> Result<Vec<BitcoinSummary>, SummaryError> {
    let period = SummaryPeriod::Day(date);
    let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
    for row in rows {
        if row.settlement_date != date {
            return Err(SummaryError::WrongDate {
                expected: date,
                found: row.settlement_date,
                what: "bitcoin row",
            });
        }
        let sum = sums.entry(row.miner_model.as_str()).or_default();
        *sum = add(*sum, row.bitcoin_mined, period, "bitcoin")?;
    }
    Ok(into_summaries(period, sums))
}

/// The monthly bitcoin summaries of `ym`: per model, the sum of the `dailies` that are days
/// of `ym` (rows of other months, and month or year rows, are ignored), sorted by model.
pub fn bitcoin_monthly(
    ym: YearMonth,
    dailies: &[BitcoinSummary],
) -> Result<Vec<BitcoinSummary>, SummaryError> {
    let period = SummaryPeriod::Month(ym);
    sum_by_model(
        period,
        dailies
            .iter()
            .filter(|s| matches!(s.period, SummaryPeriod::Day(d) if d.year_month() == ym)),
    )
}

/// The yearly bitcoin summaries of `year`: per model, the sum of the `monthlies` that are
/// months of `year` (other rows ignored), sorted by model.
pub fn bitcoin_yearly(
    year: i32,
    monthlies: &[BitcoinSummary],
) -> Result<Vec<BitcoinSummary>, SummaryError> {
    let period = SummaryPeriod::Year(year);
    sum_by_model(
        period,
        monthlies
            .iter()
            .filter(|s| matches!(s.period, SummaryPeriod::Month(m) if m.year == year)),
    )
}

/// The bitcoin summary rows a reingestion of `date` writes, for every model in `models`
/// (a model with no rows gets a zero row, not a missing one): first the day's rows, then the
/// month's, then the year's, each sorted by model name.
///
/// - day: the sum of `day_rows` per model;
/// - month: the month's *other* days' daily rows (`month_other_dailies`) + the new day;
/// - year: the year's *other* months' monthly rows (`year_other_monthlies`) + the new month.
///
/// As in [`crate::rollup`], a daily row of `date` itself or a monthly row of `date`'s month
/// among the "other" rows is ignored (it is what is being replaced), as are rows outside the
/// month or year and rows of models not in `models` (this rollup does not rewrite those
/// models' summaries). A row in `day_rows` whose model is not in `models` is an error
/// ([`SummaryError::UnlistedModel`]): it would be stored without a summary.
///
/// ```
/// use rust_decimal_macros::dec;
/// use settlement_model::{BitcoinRow, SummaryPeriod};
/// let date: settlement_model::SettlementDate = "2024-04-19".parse().unwrap();
/// let row = BitcoinRow { settlement_date: date, settlement_period: 1, farm_id: "T_A-1".into(),
///     miner_model: "S9".into(), bitcoin_mined: dec!(0.5), difficulty: dec!(1) };
/// let models = vec!["S9".to_string(), "M20S".to_string()];
/// let out = summaries::bitcoin_rollup(date, &[row], &models, &[], &[]).unwrap();
/// assert_eq!(out.len(), 6); // day, month, year × 2 models
/// assert_eq!(out[0].period, SummaryPeriod::Day(date));
/// assert_eq!((out[0].miner_model.as_str(), out[0].bitcoin_mined), ("M20S", dec!(0)));
/// assert_eq!((out[5].miner_model.as_str(), out[5].bitcoin_mined), ("S9", dec!(0.5)));
/// ```
pub fn bitcoin_rollup(
    date: SettlementDate,
    day_rows: &[BitcoinRow],
    models: &[String],
    month_other_dailies: &[BitcoinSummary],
    year_other_monthlies: &[BitcoinSummary],
) -> Result<Vec<BitcoinSummary>, SummaryError> {
    let ym = date.year_month();
    let models: BTreeSet<&str> = models.iter().map(String::as_str).collect();
    if let Some(row) = day_rows
        .iter()
        .find(|r| !models.contains(r.miner_model.as_str()))
    {
        return Err(SummaryError::UnlistedModel {
            model: row.miner_model.clone(),
            date,
        });
    }
    let listed = |s: &&BitcoinSummary| models.contains(s.miner_model.as_str());

    let day = with_zeros(
        SummaryPeriod::Day(date),
        &models,
        bitcoin_daily(date, day_rows)?,
    );
    let dailies: Vec<BitcoinSummary> = month_other_dailies
        .iter()
        .filter(listed)
        .filter(|s| s.period != SummaryPeriod::Day(date))
        .chain(day.iter())
        .cloned()
        .collect();
    let month = with_zeros(
        SummaryPeriod::Month(ym),
        &models,
        bitcoin_monthly(ym, &dailies)?,
    );
    let monthlies: Vec<BitcoinSummary> = year_other_monthlies
        .iter()
        .filter(listed)
        .filter(|s| s.period != SummaryPeriod::Month(ym))
        .chain(month.iter())
        .cloned()
        .collect();
    let year = with_zeros(
        SummaryPeriod::Year(date.year()),
        &models,
        bitcoin_yearly(date.year(), &monthlies)?,
    );
    Ok(day.into_iter().chain(month).chain(year).collect())
}

fn sum_by_model<'a>(
    period: SummaryPeriod,
    rows: impl Iterator<Item = &'a BitcoinSummary>,
) -> Result<Vec<BitcoinSummary>, SummaryError> {
    let mut sums: BTreeMap<&str, Decimal> = BTreeMap::new();
    // In the order of their periods, whatever the caller's (see `crate::in_key_order`).
    for row in crate::in_key_order(rows, |r| r.period) {
        let sum = sums.entry(row.miner_model.as_str()).or_default();
        *sum = add(*sum, row.bitcoin_mined, period, "bitcoin")?;
    }
    Ok(into_summaries(period, sums))
}

fn into_summaries(period: SummaryPeriod, sums: BTreeMap<&str, Decimal>) -> Vec<BitcoinSummary> {
    sums.into_iter()
        .map(|(model, bitcoin_mined)| BitcoinSummary {
            period,
            miner_model: model.to_owned(),
            bitcoin_mined,
        })
        .collect()
}

/// Exactly one row per model of `models` (sorted), zero where `present` has none.
fn with_zeros(
    period: SummaryPeriod,
    models: &BTreeSet<&str>,
    present: Vec<BitcoinSummary>,
) -> Vec<BitcoinSummary> {
    let mut by_model: BTreeMap<String, Decimal> = present
        .into_iter()
        .map(|s| (s.miner_model, s.bitcoin_mined))
        .collect();
    models
        .iter()
        .map(|m| BitcoinSummary {
            period,
            miner_model: (*m).to_owned(),
            bitcoin_mined: by_model.remove(*m).unwrap_or(Decimal::ZERO),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn summary(period: SummaryPeriod, model: &str, btc: Decimal) -> BitcoinSummary {
        BitcoinSummary {
            period,
            miner_model: model.into(),
            bitcoin_mined: btc,
        }
    }

    fn day(s: &str) -> SummaryPeriod {
        SummaryPeriod::Day(s.parse().unwrap())
    }

    fn month(s: &str) -> SummaryPeriod {
        SummaryPeriod::Month(YearMonth::parse(s).unwrap())
    }

    #[test]
    fn monthly_and_yearly_take_only_their_own_periods() {
        let rows = [
            summary(day("2024-04-01"), "S9", dec!(1)),
            summary(day("2024-04-30"), "S9", dec!(2)),
            summary(day("2024-05-01"), "S9", dec!(100)),
            summary(month("2024-04"), "S9", dec!(100)),
            summary(day("2024-04-02"), "M20S", dec!(0.5)),
        ];
        let m = bitcoin_monthly(YearMonth::parse("2024-04").unwrap(), &rows).unwrap();
        assert_eq!(
            m,
            vec![
                summary(month("2024-04"), "M20S", dec!(0.5)),
                summary(month("2024-04"), "S9", dec!(3)),
            ]
        );
        let y = bitcoin_yearly(
            2024,
            &[
                summary(month("2024-01"), "S9", dec!(1)),
                summary(month("2024-12"), "S9", dec!(2)),
                summary(month("2023-12"), "S9", dec!(100)),
                summary(day("2024-01-01"), "S9", dec!(100)),
            ],
        )
        .unwrap();
        assert_eq!(y, vec![summary(SummaryPeriod::Year(2024), "S9", dec!(3))]);
        assert!(bitcoin_yearly(2025, &[]).unwrap().is_empty());
    }

    #[test]
    fn rollup_refuses_rows_of_unlisted_models_and_other_dates() {
        let date: SettlementDate = "2024-04-19".parse().unwrap();
        let row = |d: &str, model: &str| BitcoinRow {
            settlement_date: d.parse().unwrap(),
            settlement_period: 1,
            farm_id: "T_A-1".into(),
            miner_model: model.into(),
            bitcoin_mined: dec!(1),
            difficulty: dec!(1),
        };
        let err =
            bitcoin_rollup(date, &[row("2024-04-19", "S7")], &["S9".into()], &[], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "a bitcoin row of 2024-04-19 is for miner model S7, which is not among the models being summarised"
        );
        let err =
            bitcoin_rollup(date, &[row("2024-04-20", "S9")], &["S9".into()], &[], &[]).unwrap_err();
        assert!(matches!(err, SummaryError::WrongDate { .. }), "{err:?}");
    }

    #[test]
    fn rollup_replaces_the_days_old_row_and_keeps_other_days() {
        let date: SettlementDate = "2024-04-19".parse().unwrap();
        let models = vec!["S9".to_string(), "S9".to_string()]; // repeats are harmless
        let out = bitcoin_rollup(
            date,
            &[],
            &models,
            &[
                summary(day("2024-04-19"), "S9", dec!(1000)), // old row of the day
                summary(day("2024-04-18"), "S9", dec!(2)),
                summary(day("2024-04-18"), "S7", dec!(1000)), // another model: not ours
            ],
            &[
                summary(month("2024-04"), "S9", dec!(1000)), // old row of the month
                summary(month("2024-03"), "S9", dec!(5)),
            ],
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                summary(day("2024-04-19"), "S9", dec!(0)),
                summary(month("2024-04"), "S9", dec!(2)),
                summary(SummaryPeriod::Year(2024), "S9", dec!(7)),
            ]
        );
    }
}
