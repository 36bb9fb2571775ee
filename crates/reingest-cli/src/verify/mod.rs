//! The verify stage: named checks over a stored day, run inside the swap's transaction and
//! standalone by `reingest verify`.

pub mod check_name;
pub mod fingerprint;
pub(crate) mod recompute;
pub(crate) mod verdict;

use std::collections::{BTreeMap, BTreeSet};

use crate::verify::check_name::CheckName;
use bitcoin_calc::MinerModel;
use rust_decimal::Decimal;
use settlement_model::{
    checked_sum, BitcoinInputs, BitcoinSummary, CurtailmentRecord, DayTotals, PeriodRange,
    SettlementDate, Side, SumOverflow, SummaryPeriod,
};
use store::{DayState, FetchStatus};

pub use crate::verify::recompute::{
    bitcoin_rows_recomputed, one_summary_row_per_key, payments_match_prices,
};
pub(crate) use crate::verify::verdict::check;
pub use crate::verify::verdict::{Check, VerificationReport};

/// Operator expectations: `--expect-energy`, `--expect-payment` and their tolerances.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Expectations {
    /// Expected day energy, MWh.
    pub energy_mwh: Option<Decimal>,
    /// Expected day payment, £.
    pub payment_gbp: Option<Decimal>,
    /// Allowed |difference| in energy (default 0.001 MWh).
    pub tolerance_energy: Option<Decimal>,
    /// Allowed |difference| in payment (default £0.01).
    pub tolerance_payment: Option<Decimal>,
    /// The fingerprint the day must have (a replay `--as-recorded` of a run).
    pub fingerprint: Option<crate::verify::fingerprint::Fingerprint>,
}

/// What a verification compares the stored day against.
#[derive(Debug, Clone)]
pub struct VerifyInputs<'a> {
    /// The date.
    pub date: SettlementDate,
    /// The records just processed (or restored) and the periods they replace (inside a
    /// swap).
    pub processed: Option<(&'a [CurtailmentRecord], PeriodRange)>,
    /// Miner models every record must have a bitcoin row for, recomputed with each.
    pub miners: &'a [MinerModel],
    /// The difficulty and subsidy every bitcoin row must have been computed with.
    pub bitcoin: &'a BitcoinInputs,
    /// Operator expectations.
    pub expectations: &'a Expectations,
    /// Whether the fetch log must cover the periods (not for a restore, which fetches
    /// nothing).
    pub check_fetch_log: bool,
    /// Whether periods missing at the source are acceptable (`--allow-missing-periods`).
    pub missing_allowed: bool,
}

/// Runs every check on `state`.
pub fn check_day(state: &DayState, inputs: &VerifyInputs<'_>) -> VerificationReport {
    let mut checks = Vec::new();
    if inputs.check_fetch_log {
        checks.push(periods_fetched(state, inputs));
    }
    if let Some((processed, range)) = inputs.processed {
        checks.push(records_match_processed(state, processed, range));
    }
    let day = DayTotals::from_records(&state.records);
    let models: Vec<String> = inputs.miners.iter().map(|m| m.name.clone()).collect();
    checks.push(payments_match_prices(&state.records));
    checks.push(one_summary_row_per_key(state, inputs.date, &models));
    checks.push(daily_matches_records(state, day));
    checks.push(monthly_matches_dailies(state));
    checks.push(yearly_matches_monthlies(state));
    checks.push(bitcoin_rows_per_record(state, &models));
    checks.push(bitcoin_rows_recomputed(
        state,
        inputs.miners,
        inputs.bitcoin,
    ));
    checks.extend(bitcoin_rollups(state, inputs.date));
    if let Some(want) = &inputs.expectations.fingerprint {
        checks.push(fingerprint_matches(state, inputs.date, want));
    }
    match day {
        Ok(day) => checks.extend(expectations(day, inputs.expectations)),
        Err(e) => checks.extend(
            expectation_names(inputs.expectations)
                .map(|name| check(name, false, format!("cannot compare: {e}"))),
        ),
    }
    VerificationReport::from_checks(checks)
}

fn periods_fetched(state: &DayState, inputs: &VerifyInputs<'_>) -> Check {
    let range = inputs
        .processed
        .map(|(_, r)| r)
        .unwrap_or_else(|| PeriodRange::full(inputs.date));
    let mut logged: BTreeMap<(u8, Side), FetchStatus> = BTreeMap::new();
    for e in &state.fetch_log {
        logged.insert((e.settlement_period, e.side), e.status);
    }
    let mut never = BTreeSet::new();
    let mut missing = BTreeSet::new();
    for p in range.numbers() {
        for side in Side::BOTH {
            match logged.get(&(p, side)) {
                None => {
                    never.insert(p);
                }
                Some(FetchStatus::Missing) => {
                    missing.insert(p);
                }
                Some(FetchStatus::Fetched) => {}
            }
        }
    }
    let fetched = range.len() - never.union(&missing).count();
    let mut detail = format!(
        "{fetched} of {} periods ({range}) fetched and logged (both stacks)",
        range.len()
    );
    if !never.is_empty() {
        detail.push_str(&format!("; never fetched: {}", list(&never)));
    }
    if !missing.is_empty() {
        detail.push_str(&format!(
            "; not published at the source (404, or both stacks empty): {}{}",
            list(&missing),
            if inputs.missing_allowed {
                " (allowed by --allow-missing-periods)"
            } else {
                ""
            }
        ));
    }
    let ok = never.is_empty() && (missing.is_empty() || inputs.missing_allowed);
    check(CheckName::PeriodsFetched, ok, detail)
}

fn list(periods: &BTreeSet<u8>) -> String {
    periods
        .iter()
        .map(u8::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Per-period totals of records (checked sums).
pub fn per_period(records: &[CurtailmentRecord]) -> Result<BTreeMap<u8, DayTotals>, SumOverflow> {
    let mut out: BTreeMap<u8, DayTotals> = BTreeMap::new();
    for r in records {
        let t = out.entry(r.settlement_period).or_default();
        *t = t.with_record(r)?;
    }
    Ok(out)
}

fn records_match_processed(
    state: &DayState,
    processed: &[CurtailmentRecord],
    range: PeriodRange,
) -> Check {
    let (stored, expected, total) = match (
        per_period(&state.records),
        per_period(processed),
        DayTotals::from_records(processed),
    ) {
        (Ok(s), Ok(e), Ok(t)) => (s, e, t),
        (Err(e), _, _) | (_, Err(e), _) | (_, _, Err(e)) => {
            return check(
                CheckName::RecordsMatchProcessed,
                false,
                format!("cannot compare: {e}"),
            )
        }
    };
    let differing: Vec<String> = range
        .numbers()
        .filter_map(|p| {
            let s = stored.get(&p).copied().unwrap_or_default();
            let e = expected.get(&p).copied().unwrap_or_default();
            (s != e).then(|| {
                format!(
                    "period {p}: stored {} records {} MWh £{}, processed {} records {} MWh £{}",
                    s.records, s.energy_mwh, s.payment_gbp, e.records, e.energy_mwh, e.payment_gbp
                )
            })
        })
        .collect();
    if differing.is_empty() {
        check(
            CheckName::RecordsMatchProcessed,
            true,
            format!(
                "periods {range}: {} records, {} MWh, £{} stored as processed",
                total.records, total.energy_mwh, total.payment_gbp
            ),
        )
    } else {
        check(
            CheckName::RecordsMatchProcessed,
            false,
            differing.join("; "),
        )
    }
}

fn daily_matches_records(state: &DayState, day: Result<DayTotals, SumOverflow>) -> Check {
    let day = match day {
        Ok(day) => day,
        Err(e) => {
            return check(
                CheckName::DailyMatchesRecords,
                false,
                format!("Σ records: {e}"),
            )
        }
    };
    match &state.daily {
        None => check(
            CheckName::DailyMatchesRecords,
            false,
            "no daily summary row",
        ),
        Some(d) => {
            let ok =
                d.total_curtailed_energy == day.energy_mwh && d.total_payment == day.payment_gbp;
            check(
                CheckName::DailyMatchesRecords,
                ok,
                format!(
                    "daily {} MWh £{}; Σ {} records {} MWh £{}",
                    d.total_curtailed_energy,
                    d.total_payment,
                    day.records,
                    day.energy_mwh,
                    day.payment_gbp
                ),
            )
        }
    }
}

fn monthly_matches_dailies(state: &DayState) -> Check {
    // Summed in date order, as the summaries were (`summaries::in_key_order`: a sum that
    // rounds in its last digit rounds the same way).
    let days = summaries::in_key_order(&state.month_dailies, |d| d.date);
    let sums = checked_sum(
        "daily energy",
        days.iter().map(|d| d.total_curtailed_energy),
    )
    .and_then(|e| {
        checked_sum("daily payment", days.iter().map(|d| d.total_payment)).map(|p| (e, p))
    });
    let (energy, payment) = match sums {
        Ok(sums) => sums,
        Err(e) => return check(CheckName::MonthlyMatchesDailies, false, e.to_string()),
    };
    match &state.monthly {
        None => check(
            CheckName::MonthlyMatchesDailies,
            false,
            "no monthly summary row",
        ),
        Some(m) => check(
            CheckName::MonthlyMatchesDailies,
            m.total_curtailed_energy == energy && m.total_payment == payment,
            format!(
                "{} monthly {} MWh £{}; Σ {} dailies {} MWh £{}",
                m.year_month,
                m.total_curtailed_energy,
                m.total_payment,
                state.month_dailies.len(),
                energy,
                payment
            ),
        ),
    }
}

fn yearly_matches_monthlies(state: &DayState) -> Check {
    // Summed in month order, as the summaries were (see `monthly_matches_dailies`).
    let months = summaries::in_key_order(&state.year_monthlies, |m| m.year_month);
    let sums = checked_sum(
        "monthly energy",
        months.iter().map(|m| m.total_curtailed_energy),
    )
    .and_then(|e| {
        checked_sum("monthly payment", months.iter().map(|m| m.total_payment)).map(|p| (e, p))
    });
    let (energy, payment) = match sums {
        Ok(sums) => sums,
        Err(e) => return check(CheckName::YearlyMatchesMonthlies, false, e.to_string()),
    };
    match &state.yearly {
        None => check(
            CheckName::YearlyMatchesMonthlies,
            false,
            "no yearly summary row",
        ),
        Some(y) => check(
            CheckName::YearlyMatchesMonthlies,
            y.total_curtailed_energy == energy && y.total_payment == payment,
            format!(
                "{} yearly {} MWh £{}; Σ {} monthlies {} MWh £{}",
                y.year,
                y.total_curtailed_energy,
                y.total_payment,
                state.year_monthlies.len(),
                energy,
                payment
            ),
        ),
    }
}

/// Each model has as many rows per (period, farm) as there are records: the sorted keys of
/// each model's rows equal the sorted keys of the records (one pass over the rows, no map).
fn bitcoin_rows_per_record(state: &DayState, models: &[String]) -> Check {
    let mut records: Vec<(u8, &str)> = state
        .records
        .iter()
        .map(|r| (r.settlement_period, r.farm_id.as_str()))
        .collect();
    records.sort_unstable();
    let mut rows: Vec<Vec<(u8, &str)>> = models
        .iter()
        .map(|_| Vec::with_capacity(records.len()))
        .collect();
    for b in &state.bitcoin_rows {
        if let Some(i) = models.iter().position(|m| *m == b.miner_model) {
            if let Some(list) = rows.get_mut(i) {
                list.push((b.settlement_period, b.farm_id.as_str()));
            }
        }
    }
    for list in &mut rows {
        list.sort_unstable();
    }
    let mut problems = Vec::new();
    for model in models {
        // A name listed twice has its rows under its first place.
        let rows = models
            .iter()
            .position(|m| m == model)
            .and_then(|i| rows.get(i))
            .map(Vec::as_slice)
            .unwrap_or_default();
        if rows != records.as_slice() {
            let n = rows.len();
            problems.push(format!(
                "{model}: {n} rows for {} records",
                state.records.len()
            ));
        }
    }
    if problems.is_empty() {
        check(
            CheckName::BitcoinRowsPerRecord,
            true,
            format!(
                "{} records × {} models ({}) = {} rows",
                state.records.len(),
                models.len(),
                models.join(", "),
                state.records.len() * models.len()
            ),
        )
    } else {
        check(CheckName::BitcoinRowsPerRecord, false, problems.join("; "))
    }
}

/// Σ per model; a model whose sum overflows maps to `None` (its check then fails).
fn sum_by_model<'a>(
    rows: impl Iterator<Item = (&'a str, Decimal)>,
) -> BTreeMap<&'a str, Option<Decimal>> {
    let mut out: BTreeMap<&str, Option<Decimal>> = BTreeMap::new();
    for (m, v) in rows {
        let sum = out.entry(m).or_insert(Some(Decimal::ZERO));
        *sum = sum.and_then(|s| s.checked_add(v));
    }
    out
}

/// Every summary row of `level` for `model` must equal `expected` (legacy duplicates are
/// checked one by one).
fn compare_summaries(
    name: CheckName,
    summaries: &[&BitcoinSummary],
    expected: &BTreeMap<&str, Option<Decimal>>,
    what: &str,
) -> Check {
    let mut problems = Vec::new();
    let models: BTreeSet<&str> = summaries
        .iter()
        .map(|s| s.miner_model.as_str())
        .chain(expected.keys().copied())
        .collect();
    for model in &models {
        let Some(want) = expected.get(model).copied().unwrap_or(Some(Decimal::ZERO)) else {
            problems.push(format!("{model}: Σ {what} overflows a 28-digit decimal"));
            continue;
        };
        let rows: Vec<&&BitcoinSummary> = summaries
            .iter()
            .filter(|s| s.miner_model == *model)
            .collect();
        if rows.is_empty() {
            problems.push(format!("{model}: no row (Σ {what} {want})"));
        }
        for row in rows {
            if row.bitcoin_mined != want {
                problems.push(format!("{model}: {} ≠ Σ {what} {want}", row.bitcoin_mined));
            }
        }
    }
    if problems.is_empty() {
        check(
            name,
            true,
            format!("{} models equal Σ {what}", models.len()),
        )
    } else {
        check(name, false, problems.join("; "))
    }
}

fn bitcoin_rollups(state: &DayState, date: SettlementDate) -> Vec<Check> {
    let ym = date.year_month();
    let day_rows: Vec<&BitcoinSummary> = state
        .bitcoin_summaries
        .iter()
        .filter(|s| s.period == SummaryPeriod::Day(date))
        .collect();
    let month_rows: Vec<&BitcoinSummary> = state
        .bitcoin_summaries
        .iter()
        .filter(|s| s.period == SummaryPeriod::Month(ym))
        .collect();
    let year_rows: Vec<&BitcoinSummary> = state
        .bitcoin_summaries
        .iter()
        .filter(|s| s.period == SummaryPeriod::Year(date.year()))
        .collect();
    let from_rows = sum_by_model(
        state
            .bitcoin_rows
            .iter()
            .map(|b| (b.miner_model.as_str(), b.bitcoin_mined)),
    );
    // In the order of their periods, as the summaries were (see `monthly_matches_dailies`).
    let from_dailies = sum_by_model(
        summaries::in_key_order(dedup_by_key(&state.month_bitcoin_dailies), |b| b.period)
            .into_iter()
            .map(|b| (b.miner_model.as_str(), b.bitcoin_mined)),
    );
    let from_monthlies = sum_by_model(
        summaries::in_key_order(dedup_by_key(&state.year_bitcoin_monthlies), |b| b.period)
            .into_iter()
            .map(|b| (b.miner_model.as_str(), b.bitcoin_mined)),
    );
    vec![
        compare_summaries(
            CheckName::BitcoinDailyMatchesRows,
            &day_rows,
            &from_rows,
            "bitcoin rows",
        ),
        compare_summaries(
            CheckName::BitcoinMonthlyMatchesDailies,
            &month_rows,
            &from_dailies,
            "daily bitcoin summaries",
        ),
        compare_summaries(
            CheckName::BitcoinYearlyMatchesMonthlies,
            &year_rows,
            &from_monthlies,
            "monthly bitcoin summaries",
        ),
    ]
}

/// Legacy tables may hold duplicate summary rows for one key; a sum counts each key once.
fn dedup_by_key(rows: &[BitcoinSummary]) -> Vec<&BitcoinSummary> {
    let mut seen = BTreeSet::new();
    rows.iter()
        .filter(|r| seen.insert((r.period, r.miner_model.clone())))
        .collect()
}

/// `fingerprint_matches_recorded`: the day as written has the fingerprint the replayed run
/// recorded; otherwise names the parts that differ.
fn fingerprint_matches(
    state: &DayState,
    date: SettlementDate,
    want: &crate::verify::fingerprint::Fingerprint,
) -> Check {
    let got = crate::verify::fingerprint::Fingerprint::of(state, date);
    let differs = got.differences(want);
    if differs.is_empty() && got == *want {
        check(
            CheckName::FingerprintMatchesRecorded,
            true,
            format!("fingerprint {} reproduced exactly", got.short()),
        )
    } else {
        check(
            CheckName::FingerprintMatchesRecorded,
            false,
            format!(
                "fingerprint {} ≠ recorded {}: {} differ",
                got.short(),
                want.short(),
                differs.join(", ")
            ),
        )
    }
}

/// The names of the expectation checks `e` asks for.
fn expectation_names(e: &Expectations) -> impl Iterator<Item = CheckName> {
    [
        e.energy_mwh.map(|_| CheckName::ExpectedEnergy),
        e.payment_gbp.map(|_| CheckName::ExpectedPayment),
    ]
    .into_iter()
    .flatten()
}

fn expectations(day: DayTotals, e: &Expectations) -> Vec<Check> {
    let mut out = Vec::new();
    if let Some(want) = e.energy_mwh {
        let tol = e.tolerance_energy.unwrap_or(Decimal::new(1, 3));
        out.push(expectation(
            CheckName::ExpectedEnergy,
            "",
            " MWh",
            day.energy_mwh,
            want,
            tol,
        ));
    }
    if let Some(want) = e.payment_gbp {
        let tol = e.tolerance_payment.unwrap_or(Decimal::new(1, 2));
        out.push(expectation(
            CheckName::ExpectedPayment,
            "£",
            "",
            day.payment_gbp,
            want,
            tol,
        ));
    }
    out
}

/// `|actual − want| ≤ tol`; a difference too large for a decimal fails the check.
fn expectation(
    name: CheckName,
    pre: &str,
    post: &str,
    actual: Decimal,
    want: Decimal,
    tol: Decimal,
) -> Check {
    match actual.checked_sub(want).map(|d| d.abs()) {
        Some(diff) => check(
            name,
            diff <= tol,
            format!("{pre}{actual}{post}, expected {pre}{want}{post} ± {pre}{tol}{post} (difference {pre}{diff}{post})"),
        ),
        None => check(
            name,
            false,
            format!("{pre}{actual}{post}, expected {pre}{want}{post}: the difference is too large to represent"),
        ),
    }
}
