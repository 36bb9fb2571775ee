//! The swap's contract as functions, for anyone implementing the store's role traits: the
//! SQL store uses them, and so does the pipeline's in-memory store in its unit tests, so the
//! two check plans, audit runs and count periods alike. Another service's store behind the
//! pipeline can use them too.

use rust_decimal::Decimal;
use settlement_model::{CurtailmentRecord, DayTotals, PeriodRange, SettlementDate, SummaryPeriod};

use crate::{AuditInfo, AuditRow, DerivedRows, RunStatus, StoreError, SwapPlan};

/// The order records are read in: by period, side, sequence number and farm, ties in their
/// stored (id) order. A stable sort, so records appended in insert order sort as a read
/// would return them, and sums over them round the same way. A store that is not SQL returns
/// a day's records in this order too.
pub fn sort_records(records: &mut [CurtailmentRecord]) {
    records.sort_by(|a, b| {
        (a.settlement_period, a.side, a.sequence_number, &a.farm_id).cmp(&(
            b.settlement_period,
            b.side,
            b.sequence_number,
            &b.farm_id,
        ))
    });
}

/// An audit row for `audit` with `status` and no totals yet.
pub fn blank_audit_row(
    audit: &AuditInfo,
    date: SettlementDate,
    periods: PeriodRange,
    status: RunStatus,
) -> AuditRow {
    AuditRow {
        run_id: audit.run_id.clone(),
        kind: audit.kind,
        settlement_date: date,
        periods: periods.to_string(),
        reason: audit.reason.clone(),
        user: audit.user.clone(),
        host: audit.host.clone(),
        status,
        records_before: 0,
        records_after: 0,
        energy_before: Decimal::ZERO,
        energy_after: Decimal::ZERO,
        payment_before: Decimal::ZERO,
        payment_after: Decimal::ZERO,
        per_period_counts: "{}".into(),
        started_at: audit.started_at,
        duration_ms: 0,
        tool_version: audit.tool_version.clone(),
        detail: None,
        inputs: audit.inputs,
        backup_pruned_at: None,
        range_tag: audit.range_tag.clone(),
    }
}

/// The audit row of a run that failed before its swap (a fetch error, say): status
/// `failed`, its duration counted from the run's start, and `detail` as the store keeps it.
pub fn failed_run_row(
    audit: &AuditInfo,
    date: SettlementDate,
    periods: PeriodRange,
    detail: String,
) -> AuditRow {
    AuditRow {
        duration_ms: ms_since(audit.started_at),
        detail: Some(detail),
        ..blank_audit_row(audit, date, periods, RunStatus::Failed)
    }
}

/// Milliseconds from `started_at` to now, as the audit row stores a run's duration: the
/// run's wall time from its start (before fetching, [`AuditInfo::started_at`]) to the
/// moment its outcome is written, not the swap's share of it. A clock stepped back reads 0.
pub fn ms_since(started_at: chrono::DateTime<chrono::Utc>) -> i64 {
    (chrono::Utc::now() - started_at).num_milliseconds().max(0)
}

/// Fills an audit row's before and after totals, per-period counts and duration (from the
/// row's `started_at`, see [`ms_since`]).
pub fn fill_totals(row: &mut AuditRow, before: DayTotals, after: DayTotals, counts: String) {
    row.records_before = i64::try_from(before.records).unwrap_or(i64::MAX);
    row.records_after = i64::try_from(after.records).unwrap_or(i64::MAX);
    row.energy_before = before.energy_mwh;
    row.energy_after = after.energy_mwh;
    row.payment_before = before.payment_gbp;
    row.payment_after = after.payment_gbp;
    row.per_period_counts = counts;
    row.duration_ms = ms_since(row.started_at);
}

/// Rejects text PostgreSQL cannot store (a NUL byte), on both backends alike.
pub fn check_text(what: &str, value: &str) -> Result<(), StoreError> {
    if value.contains('\0') {
        return Err(StoreError::InvalidInput {
            reason: format!("{what} {value:?} contains a NUL byte"),
        });
    }
    Ok(())
}

/// Rejects a plan before any write: periods the date does not have, records or fetch log
/// entries outside the swapped date and periods, text PostgreSQL cannot store.
pub fn check_plan(plan: &SwapPlan) -> Result<(), StoreError> {
    let invalid = |reason: String| Err(StoreError::InvalidInput { reason });
    if plan.periods.last() > plan.date.periods() {
        return invalid(format!(
            "periods {} do not exist on {} (it has {})",
            plan.periods,
            plan.date,
            plan.date.periods()
        ));
    }
    for r in &plan.records {
        if r.settlement_date != plan.date || !plan.periods.contains(r.settlement_period) {
            return invalid(format!(
                "a record of {} period {} is outside the swap of {} periods {}",
                r.settlement_date, r.settlement_period, plan.date, plan.periods
            ));
        }
        check_text("farm id", &r.farm_id)?;
        if let Some(name) = &r.lead_party_name {
            check_text("lead party name", name)?;
        }
    }
    for e in &plan.fetch_log {
        if e.settlement_date != plan.date {
            return invalid(format!(
                "a fetch log entry of {} in the swap of {}",
                e.settlement_date, plan.date
            ));
        }
    }
    check_text("run id", &plan.audit.run_id)?;
    Ok(())
}

/// Checks that derived rows belong to `date`, its month and its year.
pub fn check_derived(date: SettlementDate, d: &DerivedRows) -> Result<(), StoreError> {
    let wrong = |what: String| StoreError::Hook {
        detail: format!("derived {what}, but the swap is of {date}"),
    };
    if d.daily.date != date {
        return Err(wrong(format!("a daily summary of {}", d.daily.date)));
    }
    if d.monthly.year_month != date.year_month() {
        return Err(wrong(format!(
            "a monthly summary of {}",
            d.monthly.year_month
        )));
    }
    if d.yearly.year != date.year() {
        return Err(wrong(format!("a yearly summary of {}", d.yearly.year)));
    }
    if let Some(r) = d.bitcoin_rows.iter().find(|r| r.settlement_date != date) {
        return Err(wrong(format!("a bitcoin row of {}", r.settlement_date)));
    }
    let ok_period = |p: SummaryPeriod| {
        p == SummaryPeriod::Day(date)
            || p == SummaryPeriod::Month(date.year_month())
            || p == SummaryPeriod::Year(date.year())
    };
    if let Some(s) = d.bitcoin_summaries.iter().find(|s| !ok_period(s.period)) {
        return Err(wrong(format!("a bitcoin summary of {}", s.period)));
    }
    Ok(())
}

/// `{"1": 3, "2": 0, …}` for every period of `periods`, counting `records`.
pub fn per_period_counts(periods: PeriodRange, records: &[CurtailmentRecord]) -> String {
    let parts: Vec<String> = periods
        .numbers()
        .map(|p| {
            let n = records.iter().filter(|r| r.settlement_period == p).count();
            format!("\"{p}\": {n}")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Totals of the records of `periods`.
pub fn totals_in(
    periods: PeriodRange,
    records: &[CurtailmentRecord],
) -> Result<DayTotals, StoreError> {
    Ok(records
        .iter()
        .filter(|r| periods.contains(r.settlement_period))
        .try_fold(DayTotals::default(), |acc, r| acc.with_record(r))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_period_counts_list_every_period_in_order() {
        let d: SettlementDate = "2024-03-21".parse().unwrap();
        let r = PeriodRange::parse("9-11", d).unwrap();
        assert_eq!(per_period_counts(r, &[]), r#"{"9": 0, "10": 0, "11": 0}"#);
    }
}
