//! Properties of the summaries over random data: sums add up, and a rollup changes only
//! its day, month and year.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use chrono::{Duration, NaiveDate};
use proptest::prelude::*;
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinRow, BitcoinSummary, CurtailmentRecord, DailySummary, MonthlySummary, SettlementDate,
    SummaryPeriod, YearMonth,
};

/// The window of dates the random data covers: it crosses a month and a year boundary.
const FIRST_DAY: (i32, u32, u32) = (2023, 12, 15);
const DAYS: i64 = 60;

fn nth_day(n: i64) -> SettlementDate {
    let (y, m, d) = FIRST_DAY;
    SettlementDate::from_naive(NaiveDate::from_ymd_opt(y, m, d).unwrap() + Duration::days(n))
        .unwrap()
}

fn all_days() -> Vec<SettlementDate> {
    (0..DAYS).map(nth_day).collect()
}

fn record(date: SettlementDate, period: u8, milli_mwh: i64, centi_price: i64) -> CurtailmentRecord {
    let volume = Decimal::new(-milli_mwh, 3);
    let price = Decimal::new(centi_price, 2);
    CurtailmentRecord::bid(
        date,
        period,
        format!("T_FARM-{}", period % 7),
        volume,
        price,
    )
    .unwrap()
}

/// Records on a date given by an offset into the window.
fn records() -> impl Strategy<Value = Vec<CurtailmentRecord>> {
    proptest::collection::vec(
        (0..DAYS, 1_u8..=46, 0_i64..=500_000, -20_000_i64..=5_000),
        0..120,
    )
    .prop_map(|v| {
        v.into_iter()
            .map(|(day, period, mwh, price)| record(nth_day(day), period, mwh, price))
            .collect()
    })
}

fn records_on(date: SettlementDate) -> impl Strategy<Value = Vec<CurtailmentRecord>> {
    proptest::collection::vec((1_u8..=46, 0_i64..=500_000, -20_000_i64..=5_000), 0..30).prop_map(
        move |v| {
            v.into_iter()
                .map(|(period, mwh, price)| record(date, period, mwh, price))
                .collect()
        },
    )
}

type Totals = BTreeMap<SummaryPeriod, (Decimal, Decimal)>;

/// Every summary of the window recomputed from scratch: each day (empty days are zeros),
/// each month, each year.
fn recompute(records: &[CurtailmentRecord]) -> Totals {
    let mut out = Totals::new();
    let mut dailies = Vec::new();
    for date in all_days() {
        let mine: Vec<_> = records
            .iter()
            .filter(|r| r.settlement_date == date)
            .cloned()
            .collect();
        let d = summaries::daily(date, &mine).unwrap();
        out.insert(
            SummaryPeriod::Day(date),
            (d.total_curtailed_energy, d.total_payment),
        );
        dailies.push(d);
    }
    let months: std::collections::BTreeSet<YearMonth> =
        all_days().iter().map(|d| d.year_month()).collect();
    let mut monthlies = Vec::new();
    for ym in months {
        let m = summaries::monthly(ym, &dailies).unwrap();
        out.insert(
            SummaryPeriod::Month(ym),
            (m.total_curtailed_energy, m.total_payment),
        );
        monthlies.push(m);
    }
    for year in [2023, 2024] {
        let y = summaries::yearly(year, &monthlies).unwrap();
        out.insert(
            SummaryPeriod::Year(year),
            (y.total_curtailed_energy, y.total_payment),
        );
    }
    out
}

fn models() -> Vec<String> {
    vec!["M20S".into(), "S19J_PRO".into(), "S9".into()]
}

/// Bitcoin rows standing in for bitcoin-calc's: any deterministic value per record and model.
fn bitcoin_rows(records: &[CurtailmentRecord]) -> Vec<BitcoinRow> {
    records
        .iter()
        .flat_map(|r| {
            models()
                .into_iter()
                .enumerate()
                .map(move |(i, m)| BitcoinRow {
                    settlement_date: r.settlement_date,
                    settlement_period: r.settlement_period,
                    farm_id: r.farm_id.clone(),
                    miner_model: m,
                    bitcoin_mined: (r.energy() * Decimal::new(i64::try_from(i).unwrap() + 1, 6))
                        .round_dp(12),
                    difficulty: Decimal::ONE,
                })
        })
        .collect()
}

type BitcoinTotals = BTreeMap<(SummaryPeriod, String), Decimal>;

fn recompute_bitcoin(rows: &[BitcoinRow]) -> BitcoinTotals {
    let mut dailies = Vec::new();
    for date in all_days() {
        let mine: Vec<_> = rows
            .iter()
            .filter(|r| r.settlement_date == date)
            .cloned()
            .collect();
        dailies.extend(summaries::bitcoin_daily(date, &mine).unwrap());
    }
    let months: std::collections::BTreeSet<YearMonth> =
        all_days().iter().map(|d| d.year_month()).collect();
    let mut monthlies = Vec::new();
    for ym in months {
        monthlies.extend(summaries::bitcoin_monthly(ym, &dailies).unwrap());
    }
    let mut yearlies = Vec::new();
    for year in [2023, 2024] {
        yearlies.extend(summaries::bitcoin_yearly(year, &monthlies).unwrap());
    }
    dailies
        .into_iter()
        .chain(monthlies)
        .chain(yearlies)
        .map(|s| ((s.period, s.miner_model), s.bitcoin_mined))
        .collect()
}

proptest! {
    /// Each month's total is the sum of its days' totals, each year's the sum of its months',
    /// and both equal the sum over the raw records.
    #[test]
    fn monthly_and_yearly_are_sums(records in records()) {
        let totals = recompute(&records);
        for (period, (energy, payment)) in &totals {
            let in_period = |d: &SettlementDate| match period {
                SummaryPeriod::Day(x) => d == x,
                SummaryPeriod::Month(m) => d.year_month() == *m,
                SummaryPeriod::Year(y) => d.year() == *y,
            };
            let raw: Vec<_> = records.iter().filter(|r| in_period(&r.settlement_date)).collect();
            prop_assert_eq!(*energy, raw.iter().map(|r| r.volume.abs()).sum::<Decimal>());
            prop_assert_eq!(*payment, raw.iter().map(|r| r.payment).sum::<Decimal>());
            match period {
                SummaryPeriod::Month(m) => {
                    let days: Vec<_> = totals.iter()
                        .filter(|(p, _)| matches!(p, SummaryPeriod::Day(d) if d.year_month() == *m))
                        .map(|(_, v)| *v).collect();
                    prop_assert_eq!(*energy, days.iter().map(|v| v.0).sum::<Decimal>());
                    prop_assert_eq!(*payment, days.iter().map(|v| v.1).sum::<Decimal>());
                }
                SummaryPeriod::Year(y) => {
                    let months: Vec<_> = totals.iter()
                        .filter(|(p, _)| matches!(p, SummaryPeriod::Month(m) if m.year == *y))
                        .map(|(_, v)| *v).collect();
                    prop_assert_eq!(*energy, months.iter().map(|v| v.0).sum::<Decimal>());
                    prop_assert_eq!(*payment, months.iter().map(|v| v.1).sum::<Decimal>());
                }
                SummaryPeriod::Day(_) => {}
            }
        }
    }

    /// The same for bitcoin, per model.
    #[test]
    fn bitcoin_monthly_and_yearly_are_sums(records in records()) {
        let rows = bitcoin_rows(&records);
        let totals = recompute_bitcoin(&rows);
        for ((period, model), value) in &totals {
            let raw: Decimal = rows.iter()
                .filter(|r| &r.miner_model == model)
                .filter(|r| match period {
                    SummaryPeriod::Day(x) => r.settlement_date == *x,
                    SummaryPeriod::Month(m) => r.settlement_date.year_month() == *m,
                    SummaryPeriod::Year(y) => r.settlement_date.year() == *y,
                })
                .map(|r| r.bitcoin_mined)
                .sum();
            prop_assert_eq!(*value, raw, "{} {}", period, model);
        }
    }

    /// Reingesting one day with new records: the rollup (fed the other days and months of the
    /// old state) equals a full recompute of the new state for that day, month and year, and
    /// no other summary of the full recompute changed.
    #[test]
    fn rollup_changes_only_its_day_month_and_year(
        old in records(),
        (date, new_day) in (0..DAYS).prop_flat_map(|n| (Just(nth_day(n)), records_on(nth_day(n)))),
    ) {
        let before = recompute(&old);
        let mut new: Vec<_> = old.iter().filter(|r| r.settlement_date != date).cloned().collect();
        new.extend(new_day.iter().cloned());
        let after = recompute(&new);

        // What the store reads in its transaction: the other days of the month and the other
        // months of the year, from the old state.
        let ym = date.year_month();
        let other_dailies: Vec<DailySummary> = before.iter().filter_map(|(p, (e, pay))| match p {
            SummaryPeriod::Day(d) if d.year_month() == ym && *d != date => Some(DailySummary {
                date: *d, total_curtailed_energy: *e, total_payment: *pay }),
            _ => None,
        }).collect();
        let other_monthlies: Vec<MonthlySummary> = before.iter().filter_map(|(p, (e, pay))| match p {
            SummaryPeriod::Month(m) if m.year == date.year() && *m != ym => Some(MonthlySummary {
                year_month: *m, total_curtailed_energy: *e, total_payment: *pay }),
            _ => None,
        }).collect();
        let (d, m, y) = summaries::rollup(date, &new_day, &other_dailies, &other_monthlies).unwrap();

        let touched = [SummaryPeriod::Day(date), SummaryPeriod::Month(ym), SummaryPeriod::Year(date.year())];
        prop_assert_eq!(after[&touched[0]], (d.total_curtailed_energy, d.total_payment));
        prop_assert_eq!(after[&touched[1]], (m.total_curtailed_energy, m.total_payment));
        prop_assert_eq!(after[&touched[2]], (y.total_curtailed_energy, y.total_payment));
        for (period, value) in &after {
            if !touched.contains(period) {
                prop_assert_eq!(value, &before[period], "{} changed", period);
            }
        }
    }

    /// The same for the bitcoin rollup, which also writes zero rows for models without rows.
    #[test]
    fn bitcoin_rollup_changes_only_its_day_month_and_year(
        old in records(),
        (date, new_day) in (0..DAYS).prop_flat_map(|n| (Just(nth_day(n)), records_on(nth_day(n)))),
    ) {
        let before = recompute_bitcoin(&bitcoin_rows(&old));
        let mut new: Vec<_> = old.iter().filter(|r| r.settlement_date != date).cloned().collect();
        new.extend(new_day.iter().cloned());
        let after = recompute_bitcoin(&bitcoin_rows(&new));

        let ym = date.year_month();
        let others = |keep: &dyn Fn(&SummaryPeriod) -> bool| -> Vec<BitcoinSummary> {
            before.iter().filter(|((p, _), _)| keep(p)).map(|((p, m), v)| BitcoinSummary {
                period: *p, miner_model: m.clone(), bitcoin_mined: *v }).collect()
        };
        let other_dailies = others(&|p| matches!(p, SummaryPeriod::Day(d) if d.year_month() == ym && *d != date));
        let other_monthlies = others(&|p| matches!(p, SummaryPeriod::Month(m) if m.year == date.year() && *m != ym));
        let out = summaries::bitcoin_rollup(date, &bitcoin_rows(&new_day), &models(),
                                            &other_dailies, &other_monthlies).unwrap();
        prop_assert_eq!(out.len(), 9);

        let touched = [SummaryPeriod::Day(date), SummaryPeriod::Month(ym), SummaryPeriod::Year(date.year())];
        for s in &out {
            prop_assert!(touched.contains(&s.period));
            // A full recompute only has rows for models present; absent means zero.
            let expected = after.get(&(s.period, s.miner_model.clone())).copied().unwrap_or_default();
            prop_assert_eq!(s.bitcoin_mined, expected, "{} {}", s.period, s.miner_model);
        }
        for (key, value) in &after {
            if !touched.contains(&key.0) {
                prop_assert_eq!(Some(value), before.get(key), "{} {} changed", key.0, key.1);
            }
        }
        for key in before.keys().filter(|k| !touched.contains(&k.0)) {
            prop_assert!(after.contains_key(key), "{} {} vanished", key.0, key.1);
        }
    }
}
