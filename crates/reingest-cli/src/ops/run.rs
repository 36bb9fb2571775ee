//! `run`: one date (or period range) through the whole pipeline — fetch, process, then the
//! store's one transaction (backup, clear, insert, summarize, recalc, verify) and the audit
//! log — and the run's report.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::Utc;
use elexon_client::SettlementSource;
use rust_decimal::Decimal;
use settlement_model::{CurtailmentRecord, DayTotals, PeriodRange, SettlementDate, SummaryPeriod};
use store::{AuditInfo, DayState, FetchLogEntry, FetchStatus, RunKind, SettlementStore, SwapPlan};
use tracing::{info, warn};

use crate::error::{blocking, PipelineError};
use crate::ops::config::RunOptions;
use crate::ops::context::Context;
use crate::ops::fetch::{fetch_range, process_fetched, FetchedStack};
use crate::ops::hooks::{PipelineHooks, RecordsFrom};
use crate::ops::progress::{IntoProgress, Progress};
use crate::ops::registry_note::RegistryNote;
use crate::ops::reports::{group_unclassified, PeriodChange, RunReport};
use crate::ops::{archive_ops, inputs, registry, run_evidence};
use crate::verify::check_name::CheckName;
use crate::verify::{per_period, Check, VerificationReport};

/// Reingests a date (or period range): the whole pipeline (see `ARCHITECTURE.md`).
/// `progress`: `None`, or callbacks ([`IntoProgress`]).
pub(crate) async fn run<'p, S, St>(
    cx: &Context<S, St>,
    opts: &RunOptions,
    progress: impl IntoProgress<'p>,
) -> Result<RunReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let progress = progress.into_progress();
    let started = Instant::now();
    let date = opts.date;
    let range = opts.periods.unwrap_or_else(|| PeriodRange::full(date));
    let audit = AuditInfo {
        range_tag: opts.range_tag.clone(),
        ..cx.audit_info(RunKind::Run, opts.reason.clone())
    };
    let result = run_inner(cx, opts, range, &audit, progress, started).await;
    if let Err(e) = &result {
        if !opts.dry_run {
            let (a, detail) = (audit.clone(), (cx.config.describe_error)(e));
            // Best effort: the failure itself is what the operator must see.
            if let Err(log_err) = cx
                .with_store(move |s| s.record_failed_run(&a, date, range, &detail))
                .await
            {
                warn!(message = "could not record the failed run in the audit log", error = %crate::error::describe(&log_err));
            }
        }
    }
    result
}

async fn run_inner<S, St>(
    cx: &Context<S, St>,
    opts: &RunOptions,
    range: PeriodRange,
    audit: &AuditInfo,
    progress: &dyn Progress,
    started: Instant,
) -> Result<RunReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let date = opts.date;
    // Before any request: the API has nothing for a period that has not ended.
    settlement_model::ensure_periods_ended(date, range, cx.config.clock.now())?;
    let (registry, fill_note) = registry::ensure_registry_noted(cx).await?;
    let inputs = inputs::bitcoin_inputs(cx, date).await?;

    progress.fetch_started(date, range.len() * 2);
    let fetched = fetch_range(&cx.source, date, range, opts.allow_missing_periods, &|| {
        progress.request_done()
    })
    .await?;
    // The curtailment rule over every item is CPU work: on the blocking pool, so the
    // dates of a range process on every core.
    let reg = registry.clone();
    let (fetched, mut outcome) = blocking(move || {
        let outcome = process_fetched(date, &fetched, &reg)?;
        Ok((fetched, outcome))
    })
    .await?;
    let mut registry_notes: Vec<RegistryNote> = fill_note.into_iter().collect();
    if !outcome.unclassified.is_empty() {
        let (fresh, note) =
            registry::refresh_registry_for_unknown_ids(cx, opts.no_registry_refresh).await?;
        if let Some(fresh) = fresh {
            outcome = process_fetched(date, &fetched, &fresh)?;
        }
        if !outcome.unclassified.is_empty() {
            warn!(
                message = "stack items with ids missing from the BM unit registry (not counted as curtailment)",
                %date,
                items = outcome.unclassified.len(),
                registry = %(cx.config.describe_registry_note)(&note)
            );
        }
        registry_notes.push(note);
    }
    let missing: Vec<u8> = missing_periods(&fetched);
    let periods_fetched = range.len() - missing.len();
    let fetch_log = fetch_log(date, &fetched, &outcome.records);

    let range_after = outcome.totals()?;
    let unclassified = group_unclassified(&outcome.unclassified);

    let mut report = RunReport::new(date, range, inputs, audit.run_id.clone());
    report.periods_expected = range.len();
    report.periods_fetched = periods_fetched;
    report.periods_missing = missing;
    report.dry_run = opts.dry_run;
    report.after = range_after;
    report.items_seen = outcome.items_seen;
    report.unclassified = unclassified;
    report.null_id_items = outcome.null_id_items;
    report.registry = (!registry_notes.is_empty()).then(|| {
        let words: Vec<String> = registry_notes
            .iter()
            .map(cx.config.describe_registry_note)
            .collect();
        words.join("; ")
    });
    report.registry_notes = registry_notes;

    if opts.dry_run {
        let before_records = cx.with_store(move |s| s.day_records(date)).await?;
        let (range_before, other): (Vec<_>, Vec<_>) = before_records
            .into_iter()
            .partition(|r| range.contains(r.settlement_period));
        report.before = DayTotals::from_records(&range_before)?;
        report.per_period = period_changes(range, &range_before, &outcome.records)?;
        // The whole day as it would be: other periods as stored, these as processed.
        let mut day: Vec<CurtailmentRecord> = other;
        day.extend(outcome.records.iter().cloned());
        let totals = DayTotals::from_records(&day)?;
        report.records = totals.records;
        report.energy_mwh = totals.energy_mwh;
        report.payment_gbp = totals.payment_gbp;
        let rows =
            bitcoin_calc::bitcoin_rows(&day, &cx.config.miners, inputs.difficulty, inputs.subsidy)?;
        for m in &cx.config.miners {
            let sum = settlement_model::checked_sum(
                "bitcoin",
                rows.iter()
                    .filter(|r| r.miner_model == m.name)
                    .map(|r| r.bitcoin_mined),
            )?;
            report.bitcoin.insert(m.name.clone(), sum);
        }
        report.verification = VerificationReport::from_checks(vec![Check {
            name: CheckName::DryRun,
            ok: true,
            detail: "nothing was written; checks run in a real run".into(),
        }]);
        report.duration_ms = elapsed_ms(started);
        return Ok(report);
    }

    archive_ops::archive_sources(cx, &fetched).await?;
    let plan = SwapPlan {
        date,
        periods: range,
        records: outcome.records.clone(),
        fetch_log,
        audit: AuditInfo {
            inputs: Some(inputs),
            ..audit.clone()
        },
        force: opts.force,
    };
    let mut hooks = PipelineHooks::new(
        date,
        cx.config.miners.clone(),
        inputs,
        RecordsFrom::Fetched {
            records: outcome.records.clone(),
            range,
            missing_allowed: opts.allow_missing_periods,
        },
        opts.expectations.clone(),
    );
    let outcome_records = outcome.records;
    let store = Arc::clone(&cx.store);
    let (swap, hooks) = blocking(move || {
        let out = store.swap(plan, &mut hooks);
        Ok((out, hooks))
    })
    .await?;
    let swap = swap?;
    report.committed = swap.committed;
    report.before = swap.before;
    report.after = swap.after;
    // What the swap replaced, as it read it inside its transaction: no read of our own.
    report.per_period = period_changes(range, &swap.replaced, &outcome_records)?;
    let range_before_records = swap.replaced;
    report.verification = hooks.report.clone().unwrap_or_default();
    report.forced = swap.committed && !report.verification.ok;
    if let Some(state) = &hooks.state {
        fill_day_figures(&mut report, state, date)?;
    }
    if let (true, Some(state)) = (swap.committed, &hooks.state) {
        let fingerprint = crate::evidence::Fingerprint::of(state, date);
        report.fingerprint = Some(fingerprint.total.clone());
        let created = created_per_period(&fetched);
        let (units_appeared, units_vanished) =
            crate::evidence::unit_changes(&range_before_records, &outcome_records);
        let doc = crate::evidence::EvidenceDocument {
            fingerprint,
            registry_hash: String::new(),
            registry_units: registry.len(),
            miners: cx.config.miners.clone(),
            inputs,
            tool_version: cx.config.tool_version.clone(),
            verification: report.verification.clone(),
            per_period: report
                .per_period
                .iter()
                .map(|p| crate::evidence::PeriodEvidence {
                    period: p.period,
                    before: p.before,
                    after: p.after,
                    created: created.get(&p.period).copied(),
                })
                .collect(),
            units_appeared,
            units_vanished,
        };
        // Best effort after the commit: a run without evidence is listed as such by
        // `reingest runs`, never rolled back for it.
        if let Err(e) = run_evidence::record_evidence(cx, &report.run_id, doc, &registry).await {
            warn!(message = "the run committed but its evidence could not be recorded", run_id = %report.run_id, error = %crate::error::describe(&e));
        }
    }
    report.duration_ms = elapsed_ms(started);
    if swap.committed {
        info!(message = "day swapped", %date, periods = %range, records = report.records, run_id = %report.run_id);
    } else {
        warn!(message = "verification failed: the transaction was rolled back and nothing changed", %date, failed = ?report.verification.failed());
    }
    Ok(report)
}

/// Each period's totals before and after, for the periods of `range`.
fn period_changes(
    range: PeriodRange,
    before: &[CurtailmentRecord],
    after: &[CurtailmentRecord],
) -> Result<Vec<PeriodChange>, PipelineError> {
    let before_pp = per_period(before)?;
    let after_pp = per_period(after)?;
    Ok(range
        .numbers()
        .map(|p| {
            let before = before_pp.get(&p).copied().unwrap_or_default();
            let after = after_pp.get(&p).copied().unwrap_or_default();
            PeriodChange {
                period: p,
                before,
                after,
                changed: before != after,
                cause: None,
            }
        })
        .collect())
}

pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The newest `createdDateTime` of each period's responses.
fn created_per_period(fetched: &[FetchedStack]) -> BTreeMap<u8, chrono::DateTime<Utc>> {
    let mut out: BTreeMap<u8, chrono::DateTime<Utc>> = BTreeMap::new();
    for f in fetched {
        for t in f.items().iter().filter_map(|i| i.created_date_time) {
            let e = out.entry(f.period).or_insert(t);
            *e = (*e).max(t);
        }
    }
    out
}

fn missing_periods(fetched: &[FetchedStack]) -> Vec<u8> {
    let mut out: Vec<u8> = fetched
        .iter()
        .filter(|f| f.response.is_none())
        .map(|f| f.period)
        .collect();
    out.dedup();
    out
}

fn fetch_log(
    date: SettlementDate,
    fetched: &[FetchedStack],
    records: &[CurtailmentRecord],
) -> Vec<FetchLogEntry> {
    fetched
        .iter()
        .map(|f| FetchLogEntry {
            settlement_date: date,
            settlement_period: f.period,
            side: f.side,
            status: if f.response.is_some() {
                FetchStatus::Fetched
            } else {
                FetchStatus::Missing
            },
            items_received: f.items().len() as u64,
            records_kept: records
                .iter()
                .filter(|r| r.settlement_period == f.period && r.side == f.side)
                .count() as u64,
            fetched_at: f.fetched_at,
            source_hash: f.source_hash(),
        })
        .collect()
}

pub(crate) fn count_fetched_periods(state: &DayState, date: SettlementDate) -> usize {
    date.all_periods()
        .filter(|p| {
            settlement_model::Side::BOTH.iter().all(|side| {
                state.fetch_log.iter().any(|e| {
                    e.settlement_period == p.number()
                        && e.side == *side
                        && e.status == FetchStatus::Fetched
                })
            })
        })
        .count()
}

pub(crate) fn day_bitcoin(state: &DayState, date: SettlementDate) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for s in &state.bitcoin_summaries {
        if s.period == SummaryPeriod::Day(date) {
            out.entry(s.miner_model.clone()).or_insert(s.bitcoin_mined);
        }
    }
    out
}

pub(crate) fn fill_day_figures(
    report: &mut RunReport,
    state: &DayState,
    date: SettlementDate,
) -> Result<(), PipelineError> {
    let totals = DayTotals::from_records(&state.records)?;
    report.records = totals.records;
    report.energy_mwh = totals.energy_mwh;
    report.payment_gbp = totals.payment_gbp;
    report.bitcoin = day_bitcoin(state, date);
    Ok(())
}
