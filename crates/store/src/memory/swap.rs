//! The memory store's [`DaySwap`]: the store's one swap ([`run_swap`]) over a
//! [`SwapSession`] holding the store's lock for the whole swap, whose transaction is a
//! working copy of the tables ([`MemoryTx`]) that replaces them only when it commits.

use std::sync::MutexGuard;
use std::time::Duration;

use chrono::Utc;
use settlement_model::{CurtailmentRecord, PeriodRange, SettlementDate, SummaryPeriod};

use super::reads::{day_state, derive_context, records_of};
use super::{Backup, MemoryStore, SettlementData, Tables};
use crate::swap::{run_swap, SwapAbort, SwapSession, SwapTx};
use crate::{
    AuditRow, ConstraintKind, DayState, DaySwap, DeriveContext, DerivedRows, FetchLogEntry,
    RunStatus, StoreError, SwapHooks, SwapOutcome, SwapPlan,
};

/// A swap's hold on the memory store: its tables, locked until the swap ends.
struct MemorySession<'a> {
    tables: MutexGuard<'a, Tables>,
}

/// The swap's transaction: a working copy of the tables.
struct MemoryTx<'a> {
    tables: &'a mut Tables,
}

impl SwapSession for MemorySession<'_> {
    fn insert_running(&mut self, row: &AuditRow) -> Result<(), StoreError> {
        if self.tables.runs.iter().any(|r| r.run_id == row.run_id) {
            return Err(StoreError::Constraint {
                kind: ConstraintKind::Unique,
                table: Some("reingest_runs".to_owned()),
                detail: format!("run id {} is already in the audit log", row.run_id),
            });
        }
        self.tables.runs.push(row.clone());
        Ok(())
    }

    fn running_holder(
        &mut self,
        date: SettlementDate,
        run_id: &str,
    ) -> Result<Option<String>, StoreError> {
        let runs = &self.tables.runs;
        let mine = runs
            .iter()
            .position(|r| r.run_id == run_id)
            .unwrap_or(runs.len());
        Ok(runs[..mine]
            .iter()
            .rev()
            .find(|r| r.settlement_date == date && r.status == RunStatus::Running)
            .map(|r| r.run_id.clone()))
    }

    fn transaction<T>(
        &mut self,
        body: impl FnOnce(&mut dyn SwapTx) -> Result<T, SwapAbort>,
    ) -> Result<T, SwapAbort> {
        let mut work = self.tables.clone();
        let value = body(&mut MemoryTx { tables: &mut work })?;
        *self.tables = work;
        Ok(value)
    }

    fn write_audit(&mut self, row: &AuditRow) -> Result<(), StoreError> {
        self.tables.upsert_run(row.clone());
        Ok(())
    }

    /// Nothing waits for a lock here: the store's mutex is held for the whole swap.
    fn lock_wait(&self) -> Duration {
        Duration::ZERO
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

impl SwapTx for MemoryTx<'_> {
    /// The store's mutex, held for the whole swap, is the date's lock.
    fn lock_date(&mut self, _date: SettlementDate) -> Result<(), StoreError> {
        Ok(())
    }

    fn mark_interrupted(&mut self, date: SettlementDate, run_id: &str) -> Result<(), StoreError> {
        let runs = &mut self.tables.runs;
        let mine = runs
            .iter()
            .position(|r| r.run_id == run_id)
            .unwrap_or(runs.len());
        let detail = format!("the process ended before the run finished (found by run {run_id})");
        for r in runs.iter_mut().take(mine) {
            if r.settlement_date == date && r.status == RunStatus::Running {
                r.status = RunStatus::Interrupted;
                r.detail = Some(detail.clone());
            }
        }
        Ok(())
    }

    fn day_records(&mut self, date: SettlementDate) -> Result<Vec<CurtailmentRecord>, StoreError> {
        Ok(records_of(&self.tables.data, date, None))
    }

    fn backup(
        &mut self,
        run_id: &str,
        date: SettlementDate,
        periods: PeriodRange,
    ) -> Result<(), StoreError> {
        backup(&mut self.tables.data, run_id, date, periods);
        Ok(())
    }

    fn delete_day_rows(
        &mut self,
        date: SettlementDate,
        periods: PeriodRange,
    ) -> Result<(), StoreError> {
        let data = &mut self.tables.data;
        data.records
            .retain(|r| !(r.settlement_date == date && periods.contains(r.settlement_period)));
        data.bitcoin_rows.retain(|r| r.settlement_date != date);
        Ok(())
    }

    fn insert_records(&mut self, records: &[CurtailmentRecord]) -> Result<(), StoreError> {
        self.tables.data.records.extend_from_slice(records);
        Ok(())
    }

    /// The store's mutex, held for the whole swap, is the rollups' lock too.
    fn lock_rollups(&mut self, _date: SettlementDate) -> Result<(), StoreError> {
        Ok(())
    }

    fn derive_context(
        &mut self,
        date: SettlementDate,
        day_records: Vec<CurtailmentRecord>,
    ) -> Result<DeriveContext, StoreError> {
        Ok(derive_context(&self.tables.data, date, day_records))
    }

    /// Summaries in place (one row per key, so no legacy duplicates and no notes), bitcoin
    /// rows appended.
    fn write_derived(&mut self, d: &DerivedRows) -> Result<Vec<String>, StoreError> {
        let data = &mut self.tables.data;
        data.dailies.insert(d.daily.date, d.daily.clone());
        data.monthlies
            .insert(d.monthly.year_month, d.monthly.clone());
        data.yearlies.insert(d.yearly.year, d.yearly.clone());
        data.bitcoin_rows.extend_from_slice(&d.bitcoin_rows);
        for s in &d.bitcoin_summaries {
            data.bitcoin_summaries
                .insert((s.period, s.miner_model.clone()), s.bitcoin_mined);
        }
        Ok(Vec::new())
    }

    fn insert_fetch_log(
        &mut self,
        run_id: &str,
        entries: &[FetchLogEntry],
    ) -> Result<(), StoreError> {
        self.tables
            .data
            .fetch_log
            .extend(entries.iter().map(|e| (run_id.to_owned(), e.clone())));
        Ok(())
    }

    fn day_state(&mut self, date: SettlementDate) -> Result<DayState, StoreError> {
        Ok(day_state(&self.tables.data, date))
    }

    fn upsert_audit(&mut self, row: &AuditRow) -> Result<(), StoreError> {
        self.tables.upsert_run(row.clone());
        Ok(())
    }
}

impl DaySwap for MemoryStore {
    fn day_state(&self, date: SettlementDate) -> Result<DayState, StoreError> {
        Ok(day_state(&self.lock().data, date))
    }

    fn swap(&self, plan: SwapPlan, hooks: &mut dyn SwapHooks) -> Result<SwapOutcome, StoreError> {
        let mut session = MemorySession {
            tables: self.lock(),
        };
        run_swap(&mut session, plan, hooks)
    }

    fn backup_records(&self, run_id: &str) -> Result<Vec<CurtailmentRecord>, StoreError> {
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
    use std::sync::Mutex;

    use settlement_model::PeriodRange;

    use super::*;
    use crate::contract::blank_audit_row;
    use crate::AuditInfo;

    fn row(run_id: &str, date: &str, status: RunStatus) -> AuditRow {
        let date: SettlementDate = date.parse().unwrap();
        let audit = AuditInfo {
            run_id: run_id.into(),
            kind: crate::RunKind::Run,
            reason: None,
            user: "tester".into(),
            host: "memory".into(),
            tool_version: "test".into(),
            started_at: Utc::now(),
            inputs: None,
            range_tag: None,
        };
        blank_audit_row(&audit, date, PeriodRange::full(date), status)
    }

    /// The likely lock holder, as the SQL store names it: the newest `running` run of the
    /// date written before this one, not one of another date, a finished one or a later one.
    #[test]
    fn the_running_holder_is_the_newest_earlier_running_run_of_the_date() {
        let tables = Mutex::new(Tables::default());
        let mut session = MemorySession {
            tables: tables.lock().unwrap(),
        };
        for r in [
            row("old", "2024-03-21", RunStatus::Running),
            row("holder", "2024-03-21", RunStatus::Running),
            row("other-date", "2024-03-22", RunStatus::Running),
            row("done", "2024-03-21", RunStatus::Committed),
            row("me", "2024-03-21", RunStatus::Running),
            row("later", "2024-03-21", RunStatus::Running),
        ] {
            session.insert_running(&r).unwrap();
        }
        let date = "2024-03-21".parse().unwrap();
        assert_eq!(
            session.running_holder(date, "me").unwrap().as_deref(),
            Some("holder")
        );
        assert_eq!(session.running_holder(date, "old").unwrap(), None);
        let again = session.insert_running(&row("me", "2024-03-21", RunStatus::Running));
        assert!(
            matches!(again, Err(StoreError::Constraint { .. })),
            "{again:?}"
        );
    }
}
