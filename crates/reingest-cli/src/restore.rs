//! What a restore needs from the audit log: the runs after the one restored whose periods
//! overlap it, and the fetch log that stood before it.

use std::collections::BTreeSet;

use settlement_model::{PeriodRange, SettlementDate, Side};
use store::{AuditRow, FetchLogEntry, SettlementStore, StoreError};

/// Whether an audit status means the run's rows were committed.
pub(crate) fn committed(status: &str) -> bool {
    status == "committed" || status == "forced"
}

/// The audit rows of one date (newest first) split around `run_id`: the runs after it and
/// the runs before it.
pub(crate) fn split_at_run<'a>(
    runs: &'a [AuditRow],
    run_id: &str,
) -> (&'a [AuditRow], &'a [AuditRow]) {
    match runs.iter().position(|r| r.run_id == run_id) {
        Some(i) => (&runs[..i], &runs[i + 1..]),
        None => (runs, &[]),
    }
}

/// Committed runs among `newer` whose periods overlap `periods`, as `RUN_ID (periods A-B)`.
pub(crate) fn later_overlapping(
    newer: &[AuditRow],
    periods: PeriodRange,
    date: SettlementDate,
) -> Vec<String> {
    newer
        .iter()
        .filter(|r| committed(&r.status))
        .filter(|r| {
            PeriodRange::parse(&r.periods, date).map_or(true, |p| {
                p.first() <= periods.last() && periods.first() <= p.last()
            })
        })
        .map(|r| format!("{} (periods {}, {})", r.run_id, r.periods, r.kind))
        .collect()
}

/// The fetch log of `periods` as it stood before the restored run: for each period and side,
/// the entry of the newest committed run among `older` (newest first) that logged it.
/// Periods no earlier run fetched (legacy data) have no entry.
pub(crate) fn fetch_log_before<St: SettlementStore + ?Sized>(
    store: &St,
    older: &[String],
    periods: PeriodRange,
) -> Result<Vec<FetchLogEntry>, StoreError> {
    let wanted = periods.len() * Side::BOTH.len();
    let mut covered: BTreeSet<(u8, Side)> = BTreeSet::new();
    let mut out = Vec::new();
    for run_id in older {
        if covered.len() == wanted {
            break;
        }
        for e in store.run_fetch_log(run_id)? {
            if periods.contains(e.settlement_period)
                && covered.insert((e.settlement_period, e.side))
            {
                out.push(e);
            }
        }
    }
    out.sort_by_key(|e| (e.settlement_period, e.side));
    Ok(out)
}
