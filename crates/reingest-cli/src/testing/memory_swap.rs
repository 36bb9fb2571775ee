//! The memory store's [`DaySwap`]: the contract of `store`'s crate docs, step for step,
//! with "one transaction" meaning a working copy of the tables that replaces them only when
//! the swap commits.
//!
//! 1. a `running` audit row is recorded before anything else (it stays, whatever happens);
//! 2. on the copy: older `running` rows of the date become `interrupted`; the records of the
//!    swapped periods, every bitcoin row of the date, the day's, month's and year's summary
//!    rows (or their absence) and their bitcoin summaries are backed up under the run id;
//! 3. the records of those periods and every bitcoin row of the date are deleted, the new
//!    records inserted;
//! 4. a [`DeriveContext`] is read and [`SwapHooks::derive`] called; its rows must belong to
//!    the date, its month and its year ([`StoreError::Hook`] otherwise); summaries are
//!    written in place (one row per key), bitcoin rows inserted;
//! 5. the fetch log is written, the [`DayState`](store::DayState) read back and
//!    [`SwapHooks::verify`] asked: the copy replaces the tables with the audit row
//!    `committed` (or `forced` with [`SwapPlan::force`]); otherwise the copy is dropped and
//!    the audit row says `rolled_back`. Any error drops the copy and records `failed`.
//!
//! Swaps are serialised by the store's one mutex (the SQL store locks per date; one lock
//! is stricter and enough for tests).

use chrono::Utc;
use settlement_model::{CurtailmentRecord, DayTotals, PeriodRange, SettlementDate, SummaryPeriod};
use store::{
    AuditRow, DayState, DaySwap, DerivedRows, RunStatus, StoreError, SwapHooks, SwapOutcome,
    SwapPlan,
};

use store::contract::{
    blank_audit_row, check_derived, check_plan, fill_totals, ms_since, per_period_counts, totals_in,
};

use crate::testing::memory_reads::{day_state, derive_context, records_of};
use crate::testing::memory_store::{Backup, MemoryStore, SettlementData, Tables};

/// Why a swap's transaction did not commit.
enum TxFail {
    /// Verification failed and the swap was not forced: totals for the audit row.
    Rejected {
        before: DayTotals,
        after: DayTotals,
        counts: String,
        replaced: Vec<CurtailmentRecord>,
    },
    /// An error: everything is rolled back and the run recorded as failed.
    Store(StoreError),
}

impl From<StoreError> for TxFail {
    fn from(e: StoreError) -> Self {
        TxFail::Store(e)
    }
}

impl From<settlement_model::SumOverflow> for TxFail {
    fn from(e: settlement_model::SumOverflow) -> Self {
        TxFail::Store(e.into())
    }
}

/// Older `running` rows of `date` (before `run_id`'s) are runs whose process died.
fn mark_interrupted(t: &mut Tables, date: SettlementDate, run_id: &str) {
    let mine = t
        .runs
        .iter()
        .position(|r| r.run_id == run_id)
        .unwrap_or(t.runs.len());
    let detail = format!("the process ended before the run finished (found by run {run_id})");
    for r in t.runs.iter_mut().take(mine) {
        if r.settlement_date == date && r.status == RunStatus::Running {
            r.status = RunStatus::Interrupted;
            r.detail = Some(detail.clone());
        }
    }
}

/// Backs up what the swap of `periods` of `date` replaces, under `run_id`.
fn backup(data: &mut SettlementData, run_id: &str, date: SettlementDate, periods: PeriodRange) {
    let ours = [
        SummaryPeriod::Day(date),
        SummaryPeriod::Month(date.year_month()),
        SummaryPeriod::Year(date.year()),
    ];
    let summaries = vec![
        (
            ours[0],
            data.dailies
                .get(&date)
                .map(|d| (d.total_curtailed_energy, d.total_payment)),
        ),
        (
            ours[1],
            data.monthlies
                .get(&date.year_month())
                .map(|m| (m.total_curtailed_energy, m.total_payment)),
        ),
        (
            ours[2],
            data.yearlies
                .get(&date.year())
                .map(|y| (y.total_curtailed_energy, y.total_payment)),
        ),
    ];
    let backup = Backup {
        records: data
            .records
            .iter()
            .filter(|r| r.settlement_date == date && periods.contains(r.settlement_period))
            .cloned()
            .collect(),
        bitcoin_rows: data
            .bitcoin_rows
            .iter()
            .filter(|r| r.settlement_date == date)
            .cloned()
            .collect(),
        summaries,
        bitcoin_summaries: data
            .bitcoin_summaries
            .iter()
            .filter(|((p, _), _)| ours.contains(p))
            .map(|((p, m), v)| (*p, m.clone(), *v))
            .collect(),
    };
    data.backups.insert(run_id.to_owned(), backup);
}

/// Writes derived rows: summaries in place (one row per key), bitcoin rows appended.
fn write_derived(data: &mut SettlementData, d: DerivedRows) {
    data.dailies.insert(d.daily.date, d.daily);
    data.monthlies.insert(d.monthly.year_month, d.monthly);
    data.yearlies.insert(d.yearly.year, d.yearly);
    data.bitcoin_rows.extend(d.bitcoin_rows);
    for s in d.bitcoin_summaries {
        data.bitcoin_summaries
            .insert((s.period, s.miner_model), s.bitcoin_mined);
    }
}

/// The swap's transaction on the working copy `t`; returns the totals before and after.
// Test code: a large error variant costs nothing worth boxing here.
#[allow(clippy::result_large_err)]
fn transaction(
    t: &mut Tables,
    plan: SwapPlan,
    running: &AuditRow,
    hooks: &mut dyn SwapHooks,
) -> Result<(DayTotals, DayTotals, Vec<CurtailmentRecord>), TxFail> {
    let SwapPlan {
        date,
        periods,
        records,
        fetch_log,
        audit,
        force,
    } = plan;
    let run_id = audit.run_id;
    mark_interrupted(t, date, &run_id);
    let replaced = records_of(&t.data, date, Some(periods));
    let before = totals_in(periods, &replaced)?;
    backup(&mut t.data, &run_id, date, periods);

    t.data
        .records
        .retain(|r| !(r.settlement_date == date && periods.contains(r.settlement_period)));
    t.data.bitcoin_rows.retain(|r| r.settlement_date != date);
    t.data.records.extend(records);
    let ctx = derive_context(&t.data, date);
    let derived = hooks
        .derive(&ctx)
        .map_err(|source| StoreError::Derive { source })?;
    check_derived(date, &derived)?;
    write_derived(&mut t.data, derived);
    t.data
        .fetch_log
        .extend(fetch_log.into_iter().map(|e| (run_id.clone(), e)));

    let state: DayState = day_state(&t.data, date);
    let verified = hooks.verify(&state);
    let after = totals_in(periods, &state.records)?;
    let counts = per_period_counts(periods, &state.records);
    if !verified && !force {
        return Err(TxFail::Rejected {
            before,
            after,
            counts,
            replaced,
        });
    }
    let mut done = running.clone();
    fill_totals(&mut done, before, after, counts);
    if verified {
        done.status = RunStatus::Committed;
    } else {
        done.status = RunStatus::Forced;
        done.detail = Some("verification failed; committed with --force".into());
    }
    t.upsert_run(done);
    Ok((before, after, replaced))
}

impl DaySwap for MemoryStore {
    fn day_state(&self, date: SettlementDate) -> Result<DayState, StoreError> {
        Ok(day_state(&self.lock().data, date))
    }

    fn swap(&self, plan: SwapPlan, hooks: &mut dyn SwapHooks) -> Result<SwapOutcome, StoreError> {
        check_plan(&plan)?;
        let (date, periods, run_id) = (plan.date, plan.periods, plan.audit.run_id.clone());
        let mut tables = self.lock();
        if tables.runs.iter().any(|r| r.run_id == run_id) {
            return Err(StoreError::Constraint {
                detail: format!("run id {run_id} is already in the audit log"),
            });
        }
        let mut row = blank_audit_row(&plan.audit, date, periods, RunStatus::Running);
        tables.upsert_run(row.clone());

        let mut work = tables.clone();
        match transaction(&mut work, plan, &row, hooks) {
            Ok((before, after, replaced)) => {
                *tables = work;
                Ok(SwapOutcome {
                    run_id,
                    committed: true,
                    before,
                    after,
                    replaced,
                })
            }
            Err(TxFail::Rejected {
                before,
                after,
                counts,
                replaced,
            }) => {
                fill_totals(&mut row, before, after, counts);
                row.status = RunStatus::RolledBack;
                row.detail = Some("verification failed: every change was rolled back".into());
                tables.upsert_run(row);
                Ok(SwapOutcome {
                    run_id,
                    committed: false,
                    before,
                    after,
                    replaced,
                })
            }
            Err(TxFail::Store(e)) => {
                row.status = RunStatus::Failed;
                row.duration_ms = ms_since(row.started_at);
                row.detail = Some(e.to_string());
                tables.upsert_run(row);
                Err(e)
            }
        }
    }

    fn backup_records(
        &self,
        run_id: &str,
    ) -> Result<Vec<settlement_model::CurtailmentRecord>, StoreError> {
        Ok(self
            .lock()
            .data
            .backups
            .get(run_id)
            .map(|b| b.records.clone())
            .unwrap_or_default())
    }

    fn delete_backups(&self, run_ids: &[String]) -> Result<u64, StoreError> {
        let mut t = self.lock();
        let mut deleted = 0u64;
        for id in run_ids {
            if let Some(b) = t.data.backups.remove(id) {
                deleted = deleted.saturating_add(b.rows());
            }
        }
        let now = Utc::now();
        for r in t.runs.iter_mut() {
            if run_ids.contains(&r.run_id) && r.backup_pruned_at.is_none() {
                r.backup_pruned_at = Some(now);
            }
        }
        Ok(deleted)
    }
}

#[cfg(test)]
mod tests {
    //! The double's own contract, where the pipeline's tests cannot reach it: hooks that
    //! misbehave.

    use chrono::Utc;
    use rust_decimal::Decimal;
    use settlement_model::{DailySummary, MonthlySummary, PeriodRange, YearlySummary};
    use store::{
        AuditInfo, AuditLog, DaySwap, DeriveContext, DerivedRows, HookError, RunStatus, StoreError,
        SwapHooks, SwapPlan,
    };

    use crate::testing::MemoryStore;

    fn day(text: &str) -> settlement_model::SettlementDate {
        text.parse().unwrap()
    }

    /// Derives empty summaries of `derive_for` and answers `verdict`.
    struct Hooks {
        derive_for: settlement_model::SettlementDate,
        verdict: bool,
    }

    impl SwapHooks for Hooks {
        fn derive(&mut self, _ctx: &DeriveContext) -> Result<DerivedRows, HookError> {
            let d = self.derive_for;
            Ok(DerivedRows {
                daily: DailySummary {
                    date: d,
                    total_curtailed_energy: Decimal::ZERO,
                    total_payment: Decimal::ZERO,
                },
                monthly: MonthlySummary {
                    year_month: d.year_month(),
                    total_curtailed_energy: Decimal::ZERO,
                    total_payment: Decimal::ZERO,
                },
                yearly: YearlySummary {
                    year: d.year(),
                    total_curtailed_energy: Decimal::ZERO,
                    total_payment: Decimal::ZERO,
                },
                bitcoin_rows: Vec::new(),
                bitcoin_summaries: Vec::new(),
            })
        }

        fn verify(&mut self, _state: &store::DayState) -> bool {
            self.verdict
        }
    }

    fn plan(run_id: &str, date: settlement_model::SettlementDate) -> SwapPlan {
        SwapPlan {
            date,
            periods: PeriodRange::full(date),
            records: Vec::new(),
            fetch_log: Vec::new(),
            audit: AuditInfo {
                run_id: run_id.into(),
                kind: "run".into(),
                reason: None,
                user: "tester".into(),
                host: "memory".into(),
                tool_version: "test".into(),
                started_at: Utc::now(),
                inputs: None,
                range_tag: None,
            },
            force: false,
        }
    }

    #[test]
    fn rows_derived_for_another_date_are_a_hook_error_and_change_nothing() {
        let store = MemoryStore::new();
        let date = day("2024-03-21");
        let mut hooks = Hooks {
            derive_for: day("2024-03-22"),
            verdict: true,
        };
        let err = store.swap(plan("a", date), &mut hooks).unwrap_err();
        assert!(matches!(err, StoreError::Hook { .. }), "{err:?}");
        assert_eq!(store.data(), Default::default());
        assert_eq!(store.run("a").unwrap().unwrap().status, RunStatus::Failed);
    }

    #[test]
    fn a_rejected_swap_is_audited_rolled_back_and_a_run_id_is_used_once() {
        let store = MemoryStore::new();
        let date = day("2024-03-21");
        let mut hooks = Hooks {
            derive_for: date,
            verdict: false,
        };
        let out = store.swap(plan("a", date), &mut hooks).unwrap();
        assert!(!out.committed);
        assert_eq!(store.data(), Default::default());
        assert_eq!(
            store.run("a").unwrap().unwrap().status,
            RunStatus::RolledBack
        );
        let mut forced = plan("b", date);
        forced.force = true;
        assert!(store.swap(forced, &mut hooks).unwrap().committed);
        assert_eq!(store.run("b").unwrap().unwrap().status, RunStatus::Forced);
        assert!(store.day_state(date).unwrap().daily.is_some());
        let again = store.swap(plan("b", date), &mut hooks).unwrap_err();
        assert!(matches!(again, StoreError::Constraint { .. }), "{again:?}");
    }
}
