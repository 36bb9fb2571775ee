//! Writing the audit log: a run's `running` row (committed on its own, so other runs see it
//! while this one waits), its final row, the rows of runs whose process died, and who
//! probably holds a date's lock.

use chrono::Utc;
use diesel::prelude::*;
use settlement_model::SettlementDate;

use crate::db::{coalesce, on_db, Db};
use crate::rows::NewAuditRow;
use crate::sql_types::{ExactDecimal, InstantValue};
use crate::{AuditRow, RunStatus, StoreError};

/// Marks older `running` rows of `date` as interrupted: their process died holding no lock.
pub(crate) fn mark_interrupted(
    db: &mut Db<'_>,
    date: SettlementDate,
    run_id: &str,
) -> Result<usize, StoreError> {
    use crate::schema::reingest_runs as rr;
    let me = diesel::alias!(crate::schema::reingest_runs as me);
    let my_seq = me
        .filter(me.field(rr::run_id).eq(run_id))
        .select(me.field(rr::seq))
        .single_value();
    let detail = format!("the process ended before the run finished (found by run {run_id})");
    Ok(on_db!(db, c => diesel::update(
        rr::table
            .filter(rr::settlement_date.eq(date.naive()))
            .filter(rr::status.eq(RunStatus::Running.as_str()))
            .filter(rr::run_id.ne(run_id))
            .filter(rr::seq.nullable().lt(my_seq)),
    )
    .set((
        rr::status.eq(RunStatus::Interrupted.as_str()),
        rr::detail.eq(&detail),
    ))
    .execute(c))?)
}

/// The newest other `running` run of `date` started before `run_id`: the likely lock holder.
pub(crate) fn running_holder(
    db: &mut Db<'_>,
    date: SettlementDate,
    run_id: &str,
) -> Result<Option<String>, StoreError> {
    use crate::schema::reingest_runs as rr;
    let me = diesel::alias!(crate::schema::reingest_runs as me);
    let my_seq = me
        .filter(me.field(rr::run_id).eq(run_id))
        .select(me.field(rr::seq))
        .single_value();
    Ok(on_db!(db, c => rr::table
        .filter(rr::settlement_date.eq(date.naive()))
        .filter(rr::status.eq(RunStatus::Running.as_str()))
        .filter(rr::run_id.ne(run_id))
        .filter(rr::seq.nullable().lt(coalesce(my_seq, (rr::seq + 1).nullable())))
        .order(rr::seq.desc())
        .select(rr::run_id)
        .first(c)
        .optional())?)
}

/// An audit row as written: final rows get a finish time.
pub(crate) fn insert_running(db: &mut Db<'_>, row: &AuditRow) -> Result<(), StoreError> {
    write_audit(db, row, false)
}

/// Writes (inserts or replaces by run id) a run's final audit row.
pub(crate) fn upsert_audit(db: &mut Db<'_>, row: &AuditRow) -> Result<(), StoreError> {
    write_audit(db, row, true)
}

fn write_audit(db: &mut Db<'_>, row: &AuditRow, upsert: bool) -> Result<(), StoreError> {
    use crate::schema::reingest_runs as rr;
    let inputs = row.inputs.as_ref();
    let new = NewAuditRow {
        run_id: &row.run_id,
        kind: row.kind.as_str(),
        settlement_date: row.settlement_date.naive(),
        periods: &row.periods,
        reason: row.reason.as_deref(),
        user_name: &row.user,
        host: &row.host,
        status: row.status.as_str(),
        records_before: row.records_before,
        records_after: row.records_after,
        energy_before: ExactDecimal(row.energy_before),
        energy_after: ExactDecimal(row.energy_after),
        payment_before: ExactDecimal(row.payment_before),
        payment_after: ExactDecimal(row.payment_after),
        per_period_counts: &row.per_period_counts,
        started_at: InstantValue(row.started_at),
        finished_at: upsert.then(|| InstantValue(Utc::now())),
        duration_ms: row.duration_ms,
        tool_version: &row.tool_version,
        detail: row.detail.as_deref(),
        difficulty: inputs.map(|i| ExactDecimal(i.difficulty)),
        difficulty_date: inputs.and_then(|i| i.difficulty_date),
        difficulty_source: inputs.map(|i| i.origin.as_str()),
        block_subsidy: inputs.map(|i| ExactDecimal(i.subsidy)),
        range_tag: row.range_tag.as_deref(),
    };
    if upsert {
        on_db!(db, c => diesel::insert_into(rr::table)
            .values(&new)
            .on_conflict(rr::run_id)
            .do_update()
            .set(&new)
            .execute(c))?;
    } else {
        on_db!(db, c => diesel::insert_into(rr::table).values(&new).execute(c))?;
    }
    Ok(())
}
