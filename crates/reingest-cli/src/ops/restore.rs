//! `restore RUN`: the restored run's backup put back through the one verified swap, after
//! checking the audit log for later runs over the same periods; and the fetch log that stood
//! before the run.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Instant;

use settlement_model::{PeriodRange, SettlementDate, Side};
use store::{AuditInfo, AuditRow, FetchLogEntry, RunKind, SettlementStore, StoreError, SwapPlan};
use tracing::warn;

use crate::error::{blocking, InputError, PipelineError};
use crate::ops::context::Context;
use crate::ops::hooks::{PipelineHooks, RecordsFrom};
use crate::ops::inputs;
use crate::ops::reports::RunReport;
use crate::ops::run::{elapsed_ms, fill_day_figures};
use crate::verify::Expectations;
use elexon_client::SettlementSource;

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
        .filter(|r| r.committed())
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

/// The work of [`Pipeline::restore`](crate::Pipeline::restore).
pub(crate) async fn restore<S, St>(
    cx: &Context<S, St>,
    run_id: &str,
    force: bool,
) -> Result<RunReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let started = Instant::now();
    // The audit row's duration counts from here, like the report's.
    let started_at = chrono::Utc::now();
    let wanted = run_id.to_owned();
    let run = cx
        .with_store(move |s| s.run(&wanted))
        .await?
        .ok_or_else(|| InputError::UnknownRun {
            run_id: run_id.to_owned(),
        })?;
    if !run.committed() {
        return Err(store::StoreError::RunNotRestorable {
            run_id: run.run_id,
            status: run.status,
        }
        .into());
    }
    if let Some(when) = run.backup_pruned_at {
        return Err(InputError::BackupPruned {
            run_id: run.run_id,
            pruned_at: when,
            date: run.settlement_date,
        }
        .into());
    }
    let date = run.settlement_date;
    let periods = PeriodRange::parse(&run.periods, date)?;
    let runs = cx.with_store(move |s| s.runs(Some(date))).await?;
    let (newer, older) = crate::ops::restore::split_at_run(&runs, &run.run_id);
    let later = crate::ops::restore::later_overlapping(newer, periods, date);
    if !later.is_empty() && !force {
        return Err(store::StoreError::LaterRuns {
            run_id: run.run_id,
            later,
        }
        .into());
    }
    let id = run.run_id.clone();
    let records = cx.with_store(move |s| s.backup_records(&id)).await?;
    let older_ids: Vec<String> = older
        .iter()
        .filter(|r| r.committed())
        .map(|r| r.run_id.clone())
        .collect();
    let fetch_log = cx
        .with_store(move |s| crate::ops::restore::fetch_log_before(s, &older_ids, periods))
        .await?;
    let inputs = inputs::bitcoin_inputs(cx, date).await?;
    let audit = AuditInfo {
        inputs: Some(inputs),
        started_at,
        ..cx.audit_info(
            RunKind::Restore,
            Some(format!("restore of run {}", run.run_id)),
        )
    };
    let plan = SwapPlan {
        date,
        periods,
        records: records.clone(),
        fetch_log,
        audit: audit.clone(),
        force: false,
    };
    let mut hooks = PipelineHooks::new(
        date,
        cx.config.miners.clone(),
        inputs,
        RecordsFrom::Restored {
            records,
            range: periods,
        },
        Expectations::default(),
    );
    let store = Arc::clone(&cx.store);
    let (swap, hooks) = blocking(move || {
        let out = store.swap(plan, &mut hooks);
        Ok((out, hooks))
    })
    .await?;
    let swap = swap?;
    let mut report = RunReport::new(date, periods, inputs, audit.run_id);
    report.verification = hooks.report.clone().unwrap_or_default();
    report.committed = swap.committed;
    report.before = swap.before;
    report.after = swap.after;
    if let Some(state) = &hooks.state {
        fill_day_figures(&mut report, state, date)?;
    }
    report.duration_ms = elapsed_ms(started);
    if !swap.committed {
        warn!(message = "the restore did not verify: it was rolled back and nothing changed", %date, failed = ?report.verification.failed());
    }
    Ok(report)
}
