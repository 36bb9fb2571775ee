//! Verification checks that recompute rather than add up: each record's payment from its
//! volume and price, each bitcoin row from `bitcoin-calc`, and one summary row per key.

use std::collections::BTreeMap;

use bitcoin_calc::{bitcoin_for_energy, MinerModel};
use rust_decimal::Decimal;
use settlement_model::{BitcoinInputs, CurtailmentRecord, SettlementDate, SummaryPeriod};
use store::DayState;

use crate::verify::check_name::CheckName;
use crate::verify::verdict::{check, Check};

/// How many problems a check's detail lists before it says "and N more".
const SHOWN: usize = 5;

fn listed(problems: &[String]) -> String {
    let mut out = problems
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if problems.len() > SHOWN {
        out.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    out
}

/// `payments_match_prices`: every record's payment is exactly `volume × original_price`.
pub fn payments_match_prices(records: &[CurtailmentRecord]) -> Check {
    let problems: Vec<String> = records
        .iter()
        .filter_map(|r| {
            let want = r.volume.checked_mul(r.original_price);
            (want != Some(r.payment)).then(|| {
                format!(
                    "period {} {}: payment £{} ≠ {} MWh × £{}/MWh{}",
                    r.settlement_period,
                    r.farm_id,
                    r.payment,
                    r.volume,
                    r.original_price,
                    want.map_or_else(|| " (overflows)".to_owned(), |w| format!(" = £{w}"))
                )
            })
        })
        .collect();
    if problems.is_empty() {
        check(
            CheckName::PaymentsMatchPrices,
            true,
            format!(
                "{} records: payment = volume × original price, exactly",
                records.len()
            ),
        )
    } else {
        check(CheckName::PaymentsMatchPrices, false, listed(&problems))
    }
}

/// `bitcoin_rows_recomputed`: every bitcoin row equals `bitcoin-calc`'s figure for its
/// record and model at the difficulty and subsidy in force, and records that difficulty.
///
/// Rows carry no record id, so the rows of one (period, farm, model) are compared, as a
/// sorted list, with the figures of that period's records of the farm.
pub fn bitcoin_rows_recomputed(
    state: &DayState,
    miners: &[MinerModel],
    inputs: &BitcoinInputs,
) -> Check {
    const NAME: CheckName = CheckName::BitcoinRowsRecomputed;
    type Key<'a> = (u8, &'a str, &'a str);
    let mut problems = Vec::new();
    let mut expected: BTreeMap<Key<'_>, Vec<Decimal>> = BTreeMap::new();
    for r in &state.records {
        for m in miners {
            match bitcoin_for_energy(r.energy(), m, inputs.difficulty, inputs.subsidy) {
                Ok(v) => expected
                    .entry((r.settlement_period, r.farm_id.as_str(), m.name.as_str()))
                    .or_default()
                    .push(v),
                Err(e) => problems.push(format!(
                    "period {} {} {}: {e}",
                    r.settlement_period, r.farm_id, m.name
                )),
            }
        }
    }
    let mut stored: BTreeMap<Key<'_>, Vec<Decimal>> = BTreeMap::new();
    for b in &state.bitcoin_rows {
        if b.difficulty != inputs.difficulty {
            problems.push(format!(
                "period {} {} {}: computed at difficulty {}, the difficulty in force is {}",
                b.settlement_period, b.farm_id, b.miner_model, b.difficulty, inputs.difficulty
            ));
        }
        stored
            .entry((
                b.settlement_period,
                b.farm_id.as_str(),
                b.miner_model.as_str(),
            ))
            .or_default()
            .push(b.bitcoin_mined);
    }
    for list in expected.values_mut().chain(stored.values_mut()) {
        list.sort();
    }
    for (key, want) in &expected {
        let got = stored.get(key).map(Vec::as_slice).unwrap_or_default();
        if got.len() == want.len() && got != want.as_slice() {
            problems.push(format!(
                "period {} {} {}: stored {} BTC, recomputed {} BTC",
                key.0,
                key.1,
                key.2,
                join(got),
                join(want)
            ));
        }
    }
    if problems.is_empty() {
        check(
            NAME,
            true,
            format!(
                "{} rows equal bitcoin-calc at difficulty {} ({}) and subsidy {} BTC",
                state.bitcoin_rows.len(),
                inputs.difficulty,
                inputs.origin,
                inputs.subsidy
            ),
        )
    } else {
        check(NAME, false, listed(&problems))
    }
}

fn join(values: &[Decimal]) -> String {
    values
        .iter()
        .map(Decimal::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `one_summary_row_per_key`: exactly one daily, monthly and yearly summary row for the
/// date, and exactly one bitcoin summary row per model for the day, month and year.
pub fn one_summary_row_per_key(state: &DayState, date: SettlementDate, models: &[String]) -> Check {
    const NAME: CheckName = CheckName::OneSummaryRowPerKey;
    let mut problems = Vec::new();
    let tables = ["daily_summaries", "monthly_summaries", "yearly_summaries"];
    for (table, n) in tables.iter().zip(state.summary_row_counts) {
        if n != 1 {
            problems.push(format!("{table}: {n} rows for the key"));
        }
    }
    let mut counts: BTreeMap<(SummaryPeriod, &str), usize> = BTreeMap::new();
    for s in &state.bitcoin_summaries {
        *counts
            .entry((s.period, s.miner_model.as_str()))
            .or_default() += 1;
    }
    let keys = [
        SummaryPeriod::Day(date),
        SummaryPeriod::Month(date.year_month()),
        SummaryPeriod::Year(date.year()),
    ];
    for period in keys {
        for model in models {
            let n = counts.get(&(period, model.as_str())).copied().unwrap_or(0);
            if n != 1 {
                problems.push(format!("bitcoin summary {period} {model}: {n} rows"));
            }
        }
    }
    if problems.is_empty() {
        check(
            NAME,
            true,
            format!(
                "one row each for {date}, {}, {} and per model ({}) in the bitcoin summaries",
                date.year_month(),
                date.year(),
                models.len()
            ),
        )
    } else {
        check(NAME, false, listed(&problems))
    }
}
