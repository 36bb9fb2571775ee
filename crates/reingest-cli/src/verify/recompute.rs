//! Verification checks that recompute rather than add up: each record's payment from its
//! volume and price, each bitcoin row from `bitcoin-calc`, and one summary row per key.

use std::collections::BTreeMap;

use bitcoin_calc::{MinerModel, ModelAtDifficulty};
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
///
/// Both sides are flat lists of `(period, farm, model, bitcoin)` sorted once (a year's
/// assessment recomputes some 720,000 rows, so no map or list per key), and each model's
/// divisor at the day's difficulty is worked out once ([`ModelAtDifficulty`]).
pub fn bitcoin_rows_recomputed(
    state: &DayState,
    miners: &[MinerModel],
    inputs: &BitcoinInputs,
) -> Check {
    const NAME: CheckName = CheckName::BitcoinRowsRecomputed;
    let mut problems = Vec::new();
    let models: Vec<ModelAtDifficulty<'_>> = miners
        .iter()
        .map(|m| ModelAtDifficulty::new(m, inputs.difficulty, inputs.subsidy))
        .collect();
    let mut expected: Vec<Keyed<'_>> = Vec::with_capacity(state.records.len() * models.len());
    for r in &state.records {
        let energy = r.energy();
        for at in &models {
            let m = at.model();
            match at.bitcoin_for_energy(energy) {
                Ok(v) => expected.push((
                    (r.settlement_period, r.farm_id.as_str(), m.name.as_str()),
                    v,
                )),
                Err(e) => problems.push(format!(
                    "period {} {} {}: {e}",
                    r.settlement_period, r.farm_id, m.name
                )),
            }
        }
    }
    let mut stored: Vec<Keyed<'_>> = Vec::with_capacity(state.bitcoin_rows.len());
    for b in &state.bitcoin_rows {
        if b.difficulty != inputs.difficulty {
            problems.push(format!(
                "period {} {} {}: computed at difficulty {}, the difficulty in force is {}",
                b.settlement_period, b.farm_id, b.miner_model, b.difficulty, inputs.difficulty
            ));
        }
        stored.push((
            (
                b.settlement_period,
                b.farm_id.as_str(),
                b.miner_model.as_str(),
            ),
            b.bitcoin_mined,
        ));
    }
    // Stable sorts: values equal as numbers keep the order they came in, as each key's
    // list did when it was sorted on its own.
    expected.sort();
    stored.sort();
    let mut got_groups = stored.chunk_by(|a, b| a.0 == b.0).peekable();
    for want in expected.chunk_by(|a, b| a.0 == b.0) {
        let key = want[0].0;
        while got_groups.next_if(|g| g[0].0 < key).is_some() {}
        let got = got_groups.next_if(|g| g[0].0 == key).unwrap_or_default();
        let same = got.len() == want.len() && got.iter().zip(want).all(|(g, w)| g.1 == w.1);
        if got.len() == want.len() && !same {
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

/// A bitcoin figure under its (period, farm, model).
type Keyed<'a> = ((u8, &'a str, &'a str), Decimal);

fn join(values: &[Keyed<'_>]) -> String {
    values
        .iter()
        .map(|(_, v)| v.to_string())
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
