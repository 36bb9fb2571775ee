//! Month totals of an assessment (MWh, £, BTC per model), summed exactly with checked
//! additions: a sum too large for a decimal is reported as such, never wrapped.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use settlement_model::YearMonth;

use crate::ops::assess::Assessment;

/// The totals of one month of the range (of the dates in the range only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MonthTotals {
    /// The month.
    pub month: YearMonth,
    /// Dates of the month in the range.
    pub dates: usize,
    /// Records.
    pub records: u64,
    /// Energy, MWh (`None`: the sum overflows).
    pub energy_mwh: Option<Decimal>,
    /// Payment, £ (`None`: the sum overflows).
    pub payment_gbp: Option<Decimal>,
    /// Bitcoin per model, BTC (`None`: the sum overflows).
    pub bitcoin: BTreeMap<String, Option<Decimal>>,
}

/// Adds `v` to a running checked sum.
fn add(sum: &mut Option<Decimal>, v: Decimal) {
    *sum = sum.and_then(|s| s.checked_add(v));
}

/// The totals of each month the range touches, in order.
pub fn month_totals(a: &Assessment) -> Vec<MonthTotals> {
    let mut out: BTreeMap<YearMonth, MonthTotals> = BTreeMap::new();
    for d in &a.days {
        let month = d.date.year_month();
        let t = out.entry(month).or_insert_with(|| MonthTotals {
            month,
            dates: 0,
            records: 0,
            energy_mwh: Some(Decimal::ZERO),
            payment_gbp: Some(Decimal::ZERO),
            bitcoin: BTreeMap::new(),
        });
        t.dates += 1;
        t.records = t.records.saturating_add(d.records);
        add(&mut t.energy_mwh, d.energy_mwh);
        add(&mut t.payment_gbp, d.payment_gbp);
        for (model, v) in &d.bitcoin {
            add(
                t.bitcoin
                    .entry(model.clone())
                    .or_insert(Some(Decimal::ZERO)),
                *v,
            );
        }
    }
    out.into_values().collect()
}

/// Every miner model any date of the range has bitcoin for, in order.
pub fn models(a: &Assessment) -> Vec<String> {
    let mut m: Vec<String> = a
        .days
        .iter()
        .flat_map(|d| d.bitcoin.keys().cloned())
        .collect();
    m.sort();
    m.dedup();
    m
}

/// A checked sum for people: the formatted value, or `overflow`.
pub fn show(v: Option<Decimal>, f: fn(Decimal) -> String) -> String {
    v.map_or_else(|| "overflow".to_owned(), f)
}
