//! The day swap's machinery: the checks of a plan before any write, the `running` audit row,
//! the one transaction (lock, backup, clear and insert, derive, read back, verify, audit),
//! the audit of a rollback or failure, and the context a lock timeout is reported with.

use std::time::Duration;

use settlement_model::{CurtailmentRecord, DayTotals, PeriodRange, SettlementDate};

use crate::audit::write::{insert_running, mark_interrupted, running_holder, upsert_audit};
use crate::connect::Conn;
use crate::contract::{
    blank_audit_row, check_derived, check_plan, fill_totals, ms_since, per_period_counts,
    sort_records, totals_in,
};
use crate::db::Db;
use crate::error::classify;
use crate::faults::TxError;
use crate::locks::{lock_date, lock_rollups};
use crate::read::{read_day_state, read_derive_context, read_records};
use crate::write::{backup, delete_day_rows, insert_fetch_log, insert_records, write_derived};
use crate::{AuditInfo, RunStatus, StoreConfig, StoreError, SwapHooks, SwapOutcome, SwapPlan};

/// Why a swap's transaction ended without committing.
enum TxFail {
    Store(StoreError),
    /// Verification failed (boxed: the replaced records make it large).
    Rejected(Box<Rejected>),
}

/// What a rejected swap reports and audits.
struct Rejected {
    before: DayTotals,
    after: DayTotals,
    counts: String,
    replaced: Vec<CurtailmentRecord>,
}

impl From<diesel::result::Error> for TxFail {
    fn from(e: diesel::result::Error) -> Self {
        TxFail::Store(classify(&e))
    }
}

impl From<StoreError> for TxFail {
    fn from(e: StoreError) -> Self {
        TxFail::Store(e)
    }
}

impl TxError for TxFail {
    fn as_store(&self) -> Option<&StoreError> {
        match self {
            TxFail::Store(e) => Some(e),
            TxFail::Rejected { .. } => None,
        }
    }
}

/// Where a swap runs: a connection of the store, its settings, and how long a write waits
/// for a lock on its backend.
pub(crate) struct SwapEnv<'a> {
    pub(crate) conn: Conn,
    pub(crate) config: &'a StoreConfig,
    pub(crate) lock_wait: Duration,
}

/// The day swap of `plan` in `env` (see [`crate::DaySwap::swap`]): the date's records of
/// the plan's periods replaced, summaries and bitcoin rows derived by `hooks`, verified, and
/// committed or rolled back.
pub(crate) fn swap(
    env: SwapEnv<'_>,
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
    replace_day(
        env,
        &audit,
        date,
        periods,
        force,
        hooks,
        |db, hooks, config, kept| {
            delete_day_rows(db, date, periods)?;
            insert_records(db, &records)?;
            lock_rollups(db, date, config)?;
            // The day after the insert, known without reading it back (verification reads
            // it back), in the order a read returns it, so every sum rounds alike.
            let mut day_records = kept;
            day_records.extend(records.iter().cloned());
            sort_records(&mut day_records);
            let ctx = read_derive_context(db, date, day_records)?;
            let derived = hooks
                .derive(&ctx)
                .map_err(|source| StoreError::Derive { source })?;
            check_derived(date, &derived)?;
            let notes = write_derived(db, &derived)?;
            insert_fetch_log(db, &run_id, &fetch_log)?;
            Ok(notes)
        },
    )
}

/// The swap's machinery: running row, one transaction (lock, backup, `body`, read back,
/// verify, audit), and the audit of a rollback or failure. `body` returns notes for the
/// audit row's detail (legacy duplicates it removed); it is handed the day's records the
/// swap keeps (those of other periods), read once with the records it replaces.
#[allow(clippy::too_many_arguments)]
fn replace_day(
    env: SwapEnv<'_>,
    audit: &AuditInfo,
    date: SettlementDate,
    periods: PeriodRange,
    force: bool,
    hooks: &mut dyn SwapHooks,
    body: impl FnOnce(
        &mut Db<'_>,
        &mut dyn SwapHooks,
        &StoreConfig,
        Vec<CurtailmentRecord>,
    ) -> Result<Vec<String>, StoreError>,
) -> Result<SwapOutcome, StoreError> {
    let mut row = blank_audit_row(audit, date, periods, RunStatus::Running);
    let SwapEnv {
        mut conn,
        config,
        lock_wait,
    } = env;
    // One statement, committed on its own: other runs must see it while this one waits.
    if let Err(e) = conn.single_write(|db| insert_running(db, &row)) {
        // On SQLite the database's write lock may be what we waited for.
        let holder = match &e {
            StoreError::LockTimeout { .. } => conn
                .read_tx(|db| running_holder(db, date, &audit.run_id))
                .ok()
                .flatten(),
            _ => None,
        };
        return Err(with_lock_context(e, date, holder, lock_wait));
    }

    let result = conn.write_tx(
        |db| -> Result<(DayTotals, DayTotals, Vec<CurtailmentRecord>), TxFail> {
            lock_date(db, date, config)?;
            mark_interrupted(db, date, &audit.run_id)?;
            // The whole day, once: the swapped periods' totals before, and the records the
            // swap keeps (those of other periods).
            let day_before = read_records(db, date, None)?;
            let before = totals_in(periods, &day_before)?;
            let (replaced, kept): (Vec<_>, Vec<_>) = day_before
                .into_iter()
                .partition(|r| periods.contains(r.settlement_period));
            backup(db, &audit.run_id, date, periods)?;
            let notes = body(db, hooks, config, kept)?;
            let state = read_day_state(db, date)?;
            let verified = hooks.verify(&state);
            let after = totals_in(periods, &state.records)?;
            let counts = per_period_counts(periods, &state.records);
            if !verified && !force {
                return Err(TxFail::Rejected(Box::new(Rejected {
                    before,
                    after,
                    counts,
                    replaced,
                })));
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
            upsert_audit(db, &done)?;
            Ok((before, after, replaced))
        },
    );
    match result {
        Ok((before, after, replaced)) => Ok(SwapOutcome {
            run_id: audit.run_id.clone(),
            committed: true,
            before,
            after,
            replaced,
        }),
        Err(TxFail::Rejected(rejected)) => {
            let Rejected {
                before,
                after,
                counts,
                replaced,
            } = *rejected;
            fill_totals(&mut row, before, after, counts);
            row.status = RunStatus::RolledBack;
            row.detail = Some("verification failed: every change was rolled back".into());
            conn.write_tx(|db| upsert_audit(db, &row))?;
            Ok(SwapOutcome {
                run_id: audit.run_id.clone(),
                committed: false,
                before,
                after,
                replaced,
            })
        }
        Err(TxFail::Store(e)) => {
            let holder = conn
                .read_tx(|db| running_holder(db, date, &audit.run_id))
                .ok()
                .flatten();
            let e = with_lock_context(e, date, holder, lock_wait);
            row.status = RunStatus::Failed;
            row.duration_ms = ms_since(row.started_at);
            row.detail = Some(e.to_string());
            if let Err(audit_error) = conn.write_tx(|db| upsert_audit(db, &row)) {
                tracing::warn!(
                    message = "could not record the failed run",
                    run_id = %audit.run_id,
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
