//! The day swap, written once: the checks of a plan before any write, the `running` audit
//! row, the one transaction (lock, mark older runs interrupted, read the day, back up, clear,
//! insert, derive through the caller's hooks, read back, verify, audit), the audit of a
//! rollback or failure, and the context a lock timeout is reported with.
//!
//! The sequence ([`run_swap`]) is written over two narrow traits that take and return plain
//! data: [`SwapSession`] (what happens outside the transaction: the `running` row, the
//! transaction itself, the audit of a rollback or failure) and [`SwapTx`] (each step inside
//! it). The SQL store implements them on a pooled connection of either backend
//! (`diesel_swap.rs`); the in-memory store of the `memory` feature on a copy of its tables
//! ([`crate::memory`]). Another service's store can implement them too and get the same
//! sequence, audit rows and errors.

use std::time::Duration;

use settlement_model::{CurtailmentRecord, DayTotals, PeriodRange, SettlementDate};

use crate::contract::{
    blank_audit_row, check_derived, check_plan, fill_totals, ms_since, per_period_counts,
    sort_records, totals_in,
};
use crate::{
    AuditRow, DayState, DeriveContext, DerivedRows, FetchLogEntry, RunStatus, StoreError,
    SwapHooks, SwapOutcome, SwapPlan,
};

/// The steps of a swap inside its one transaction, in the order [`run_swap`] calls them:
/// [`lock_date`](SwapTx::lock_date), [`mark_interrupted`](SwapTx::mark_interrupted),
/// [`day_records`](SwapTx::day_records), [`backup`](SwapTx::backup),
/// [`delete_day_rows`](SwapTx::delete_day_rows), [`insert_records`](SwapTx::insert_records),
/// [`lock_rollups`](SwapTx::lock_rollups), [`derive_context`](SwapTx::derive_context),
/// [`write_derived`](SwapTx::write_derived), [`insert_fetch_log`](SwapTx::insert_fetch_log),
/// [`day_state`](SwapTx::day_state) and, when it commits, [`upsert_audit`](SwapTx::upsert_audit).
/// Every write must be undone if the transaction does not commit.
pub trait SwapTx {
    /// Takes the per-date lock (a store whose transactions already exclude each other has
    /// nothing to take).
    fn lock_date(&mut self, date: SettlementDate) -> Result<(), StoreError>;
    /// Marks the `running` audit rows of `date` written before `run_id`'s as `interrupted`
    /// (their process died), with a detail naming `run_id`.
    fn mark_interrupted(&mut self, date: SettlementDate, run_id: &str) -> Result<(), StoreError>;
    /// Every record of `date`, in the order [`crate::contract::sort_records`] gives.
    fn day_records(&mut self, date: SettlementDate) -> Result<Vec<CurtailmentRecord>, StoreError>;
    /// Backs up, under `run_id`, the records of `periods`, every bitcoin row of `date`, the
    /// day's, month's and year's summaries (or their absence) and every bitcoin summary of
    /// the day, month and year (what [`crate::DaySwap::backup_records`] reads back).
    fn backup(
        &mut self,
        run_id: &str,
        date: SettlementDate,
        periods: PeriodRange,
    ) -> Result<(), StoreError>;
    /// Deletes the records of `periods` of `date` and every bitcoin row of `date`.
    fn delete_day_rows(
        &mut self,
        date: SettlementDate,
        periods: PeriodRange,
    ) -> Result<(), StoreError>;
    /// Inserts the new records (after any kept record of the date).
    fn insert_records(&mut self, records: &[CurtailmentRecord]) -> Result<(), StoreError>;
    /// Takes the lock of `date`'s year before its month and year rollups are read and
    /// written (a store whose transactions already exclude each other has nothing to take).
    fn lock_rollups(&mut self, date: SettlementDate) -> Result<(), StoreError>;
    /// What the hooks derive from: `day_records` (the day after the insert, sorted) and the
    /// month's and year's *other* summaries (see [`DeriveContext`]).
    fn derive_context(
        &mut self,
        date: SettlementDate,
        day_records: Vec<CurtailmentRecord>,
    ) -> Result<DeriveContext, StoreError>;
    /// Writes the derived rows (summaries in place, bitcoin rows inserted); returns notes
    /// for the audit row's detail (legacy duplicates collapsed), if any.
    fn write_derived(&mut self, derived: &DerivedRows) -> Result<Vec<String>, StoreError>;
    /// Inserts the fetch log of the run `run_id`.
    fn insert_fetch_log(
        &mut self,
        run_id: &str,
        entries: &[FetchLogEntry],
    ) -> Result<(), StoreError>;
    /// The stored state of `date` as [`crate::DaySwap::day_state`] reads it, inside the
    /// transaction.
    fn day_state(&mut self, date: SettlementDate) -> Result<DayState, StoreError>;
    /// Writes (inserts or replaces by run id) a run's final audit row.
    fn upsert_audit(&mut self, row: &AuditRow) -> Result<(), StoreError>;
}

/// Where a swap runs: what [`run_swap`] does outside its transaction, and the transaction.
pub trait SwapSession {
    /// Writes the run's `running` audit row, committed on its own so other runs see it
    /// while this one waits. A run id already in the audit log is
    /// [`StoreError::Constraint`].
    fn insert_running(&mut self, row: &AuditRow) -> Result<(), StoreError>;
    /// The newest other `running` run of `date` started before `run_id`: the likely holder
    /// of the date's lock, named in a lock timeout.
    fn running_holder(
        &mut self,
        date: SettlementDate,
        run_id: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Runs `body` in one transaction: committed when it returns `Ok`, every write undone
    /// when it returns `Err` (which is handed back as it is).
    fn transaction<T>(
        &mut self,
        body: impl FnOnce(&mut dyn SwapTx) -> Result<T, SwapAbort>,
    ) -> Result<T, SwapAbort>;
    /// Writes (inserts or replaces by run id) an audit row in its own small transaction:
    /// the `rolled_back` or `failed` row after the swap's transaction did not commit.
    fn write_audit(&mut self, row: &AuditRow) -> Result<(), StoreError>;
    /// How long a write waits for a lock: what a lock timeout that does not know it says.
    fn lock_wait(&self) -> Duration;
}

/// Why a swap's transaction ended without committing: an error, or verification's
/// rejection. Opaque: a [`SwapSession::transaction`] hands it back as it is, and a
/// [`SwapTx`] step's error becomes one through `From<StoreError>`.
#[derive(Debug)]
pub struct SwapAbort(pub(crate) Abort);

/// What [`SwapAbort`] holds.
#[derive(Debug)]
pub(crate) enum Abort {
    Store(StoreError),
    /// Verification failed (boxed: the replaced records make it large).
    Rejected(Box<Rejected>),
}

/// What a rejected swap reports and audits.
#[derive(Debug)]
pub(crate) struct Rejected {
    before: DayTotals,
    after: DayTotals,
    counts: String,
    replaced: Vec<CurtailmentRecord>,
}

impl SwapAbort {
    /// The store error this is, if it is one (not a rejection).
    pub fn as_store(&self) -> Option<&StoreError> {
        match &self.0 {
            Abort::Store(e) => Some(e),
            Abort::Rejected(_) => None,
        }
    }
}

impl From<StoreError> for SwapAbort {
    fn from(e: StoreError) -> Self {
        SwapAbort(Abort::Store(e))
    }
}

/// The day swap of `plan` in `session` (see [`crate::DaySwap::swap`] and the crate docs):
/// the plan checked, a `running` row written, then in one transaction the date's records of
/// the plan's periods replaced, summaries and bitcoin rows derived by `hooks`, the day read
/// back and verified, and committed (`committed`, or `forced` with [`SwapPlan::force`]) or
/// rolled back (`rolled_back`, audited afterwards). Any error rolls back and is audited
/// `failed`; a lock timeout names the date, the wait and the probable holder.
pub fn run_swap<S: SwapSession>(
    session: &mut S,
    plan: SwapPlan,
    hooks: &mut dyn SwapHooks,
) -> Result<SwapOutcome, StoreError> {
    check_plan(&plan)?;
    let SwapPlan {
        date,
        periods,
        records,
        fetch_log,
        audit,
        force,
    } = plan;
    let run_id = audit.run_id.clone();
    let lock_wait = session.lock_wait();
    let mut row = blank_audit_row(&audit, date, periods, RunStatus::Running);
    // One statement, committed on its own: other runs must see it while this one waits.
    if let Err(e) = session.insert_running(&row) {
        // On SQLite the database's write lock may be what we waited for.
        let holder = match &e {
            StoreError::LockTimeout { .. } => session.running_holder(date, &run_id).ok().flatten(),
            _ => None,
        };
        return Err(with_lock_context(e, date, holder, lock_wait));
    }

    let result = session.transaction(|tx| {
        tx.lock_date(date)?;
        tx.mark_interrupted(date, &run_id)?;
        // The whole day, once: the swapped periods' totals before, and the records the
        // swap keeps (those of other periods).
        let day_before = tx.day_records(date)?;
        let before = totals_in(periods, &day_before)?;
        let (replaced, kept): (Vec<_>, Vec<_>) = day_before
            .into_iter()
            .partition(|r| periods.contains(r.settlement_period));
        tx.backup(&run_id, date, periods)?;
        tx.delete_day_rows(date, periods)?;
        tx.insert_records(&records)?;
        tx.lock_rollups(date)?;
        // The day after the insert, known without reading it back (verification reads it
        // back), in the order a read returns it, so every sum rounds alike.
        let mut day_records = kept;
        day_records.extend(records.iter().cloned());
        sort_records(&mut day_records);
        let ctx = tx.derive_context(date, day_records)?;
        let derived = hooks
            .derive(&ctx)
            .map_err(|hook| StoreError::Derive { hook })?;
        check_derived(date, &derived)?;
        let notes = tx.write_derived(&derived)?;
        tx.insert_fetch_log(&run_id, &fetch_log)?;
        let state = tx.day_state(date)?;
        let verified = hooks.verify(&state);
        let after = totals_in(periods, &state.records)?;
        let counts = per_period_counts(periods, &state.records);
        if !verified && !force {
            return Err(SwapAbort(Abort::Rejected(Box::new(Rejected {
                before,
                after,
                counts,
                replaced,
            }))));
        }
        let mut done = row.clone();
        fill_totals(&mut done, before, after, counts);
        let mut detail = notes;
        if verified {
            done.status = RunStatus::Committed;
        } else {
            done.status = RunStatus::Forced;
            detail.insert(0, "verification failed; committed with --force".into());
        }
        done.detail = (!detail.is_empty()).then(|| detail.join("; "));
        tx.upsert_audit(&done)?;
        Ok((before, after, replaced))
    });
    match result {
        Ok((before, after, replaced)) => Ok(SwapOutcome {
            run_id,
            committed: true,
            before,
            after,
            replaced,
        }),
        Err(SwapAbort(Abort::Rejected(rejected))) => {
            let Rejected {
                before,
                after,
                counts,
                replaced,
            } = *rejected;
            fill_totals(&mut row, before, after, counts);
            row.status = RunStatus::RolledBack;
            row.detail = Some("verification failed: every change was rolled back".into());
            session.write_audit(&row)?;
            Ok(SwapOutcome {
                run_id,
                committed: false,
                before,
                after,
                replaced,
            })
        }
        Err(SwapAbort(Abort::Store(e))) => {
            let holder = session.running_holder(date, &run_id).ok().flatten();
            let e = with_lock_context(e, date, holder, lock_wait);
            row.status = RunStatus::Failed;
            row.duration_ms = ms_since(row.started_at);
            row.detail = Some(e.to_string());
            if let Err(audit_error) = session.write_audit(&row) {
                tracing::warn!(
                    message = "could not record the failed run",
                    run_id = %run_id,
                    error = %audit_error
                );
            }
            Err(e)
        }
    }
}

/// Fills in how long a lock timeout outside a swap waited (`waited`, the driver does not
/// say), so the message never reads "timed out after 0ns".
pub(crate) fn with_wait(e: StoreError, waited: Duration) -> StoreError {
    match e {
        StoreError::LockTimeout {
            date,
            other_run,
            waited: zero,
            detail,
        } if zero.is_zero() => StoreError::LockTimeout {
            date,
            other_run,
            waited,
            detail,
        },
        other => other,
    }
}

/// Adds the date, the wait (`waited`, unless the error knows it) and the probable holder to
/// a lock timeout.
fn with_lock_context(
    e: StoreError,
    date: SettlementDate,
    holder: Option<String>,
    waited: Duration,
) -> StoreError {
    match e {
        StoreError::LockTimeout {
            other_run,
            detail,
            waited: known,
            ..
        } => StoreError::LockTimeout {
            date: Some(date),
            other_run: other_run.or(holder),
            waited: if known.is_zero() { waited } else { known },
            detail,
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(waited: Duration, other_run: Option<&str>) -> StoreError {
        StoreError::LockTimeout {
            date: None,
            other_run: other_run.map(str::to_owned),
            waited,
            detail: "canceling statement due to lock timeout".into(),
        }
    }

    #[test]
    fn a_lock_timeout_in_a_swap_names_the_date_the_wait_and_the_holder() {
        let date: SettlementDate = "2024-03-21".parse().unwrap();
        let wait = Duration::from_secs(5);
        let e = with_lock_context(timeout(Duration::ZERO, None), date, Some("a".into()), wait);
        let StoreError::LockTimeout {
            date: d,
            other_run,
            waited,
            ..
        } = e
        else {
            panic!("{e:?}");
        };
        assert_eq!(
            (d, other_run.as_deref(), waited),
            (Some(date), Some("a"), wait)
        );
        // What the error knows stands.
        let known = timeout(Duration::from_secs(1), Some("b"));
        let e = with_lock_context(known, date, Some("a".into()), wait);
        assert!(
            matches!(&e, StoreError::LockTimeout { other_run: Some(b), waited, .. }
                if b == "b" && *waited == Duration::from_secs(1)),
            "{e:?}"
        );
        // Other errors pass through.
        let other = StoreError::InvalidInput { reason: "x".into() };
        assert!(matches!(
            with_lock_context(other, date, Some("a".into()), wait),
            StoreError::InvalidInput { .. }
        ));
    }

    #[test]
    fn with_wait_fills_only_a_wait_the_driver_did_not_say() {
        let wait = Duration::from_secs(7);
        let filled = with_wait(timeout(Duration::ZERO, None), wait);
        assert!(matches!(filled, StoreError::LockTimeout { waited, .. } if waited == wait));
        let kept = with_wait(timeout(Duration::from_secs(2), None), wait);
        assert!(
            matches!(kept, StoreError::LockTimeout { waited, .. } if waited == Duration::from_secs(2))
        );
    }
}
