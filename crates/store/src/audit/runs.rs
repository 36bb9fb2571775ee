//! Reading the audit log: one run, a date's runs, a page (newest first, at most N, started
//! since a day: one statement with its `LIMIT`, so `reingest runs` never reads a long audit
//! log whole), and the dates a range already did (through the `range_tag` index, for
//! `reingest range --resume`).

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use settlement_model::{BitcoinInputs, SettlementDate};

use crate::db::{on_db, settlement_date, Db};
use crate::read::{corrupt_key, parse_instant};
use crate::rows::RunRow;
use crate::schema::reingest_runs as rr;
use crate::sql_types::InstantValue;
use crate::status::read_status;
use crate::{AuditRow, RunStatus, StoreError};

/// Which runs [`AuditLog::runs_page`](crate::AuditLog::runs_page) reads: a page of the audit
/// log, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunsQuery {
    /// Only runs of this settlement date.
    pub date: Option<SettlementDate>,
    /// Only runs started on or after this day (from 00:00 UTC).
    pub since: Option<NaiveDate>,
    /// At most this many runs, the newest.
    pub limit: usize,
}

impl Default for RunsQuery {
    /// Every date, any time, the newest 50.
    fn default() -> Self {
        Self {
            date: None,
            since: None,
            limit: 50,
        }
    }
}

/// Which rows [`read_runs`] reads; every filter given applies.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Select<'a> {
    /// Only runs of this settlement date.
    pub(crate) date: Option<SettlementDate>,
    /// Only the run with this id.
    pub(crate) run_id: Option<&'a str>,
    /// Only runs started on or after this day (from 00:00 UTC).
    pub(crate) since: Option<NaiveDate>,
    /// At most this many, the newest.
    pub(crate) limit: Option<usize>,
    /// Only runs of the settlement dates `from..=to` (`reingest status` over a range).
    pub(crate) between: Option<(SettlementDate, SettlementDate)>,
}

impl<'a> From<&RunsQuery> for Select<'a> {
    fn from(q: &RunsQuery) -> Self {
        Select {
            date: q.date,
            run_id: None,
            since: q.since,
            limit: Some(q.limit),
            between: None,
        }
    }
}

/// The bitcoin inputs an audit row recorded, when it recorded them all.
fn run_inputs(r: &RunRow) -> Result<Option<BitcoinInputs>, StoreError> {
    const T: &str = "reingest_runs";
    let (Some(d), Some(src), Some(sub)) = (&r.difficulty, &r.difficulty_source, &r.block_subsidy)
    else {
        return Ok(None);
    };
    Ok(Some(BitcoinInputs {
        difficulty: d.parse(T, "difficulty")?,
        difficulty_date: r.difficulty_date,
        origin: src
            .parse()
            .map_err(|reason| corrupt_key(T, "difficulty_source", src, reason))?,
        subsidy: sub.parse(T, "block_subsidy")?,
    }))
}

/// Audit rows, newest first: of one date, or of one run id.
pub(crate) fn read_runs(db: &mut Db<'_>, select: &Select<'_>) -> Result<Vec<AuditRow>, StoreError> {
    const T: &str = "reingest_runs";
    let since = select
        .since
        .map(|day| InstantValue(day.and_time(NaiveTime::MIN).and_utc()));
    let limit = select.limit.map(|n| i64::try_from(n).unwrap_or(i64::MAX));
    let rows: Vec<RunRow> = on_db!(db, c => {
        let mut q = rr::table
            .select(RunRow::as_select())
            .order(rr::seq.desc())
            .into_boxed();
        if let Some(d) = select.date {
            q = q.filter(rr::settlement_date.eq(d.naive()));
        }
        if let Some(id) = select.run_id {
            q = q.filter(rr::run_id.eq(id));
        }
        if let Some((from, to)) = select.between {
            q = q.filter(rr::settlement_date.between(from.naive(), to.naive()));
        }
        if let Some(t) = since {
            q = q.filter(rr::started_at.ge(t));
        }
        if let Some(n) = limit {
            q = q.limit(n);
        }
        q.load(c)
    })?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditRow {
                inputs: run_inputs(&r)?,
                backup_pruned_at: r
                    .backup_pruned_at
                    .as_ref()
                    .map(|t| parse_instant(T, "backup_pruned_at", &t.0))
                    .transpose()?,
                settlement_date: settlement_date(T, "settlement_date", r.settlement_date)?,
                energy_before: r.energy_before.parse(T, "energy_before")?,
                energy_after: r.energy_after.parse(T, "energy_after")?,
                payment_before: r.payment_before.parse(T, "payment_before")?,
                payment_after: r.payment_after.parse(T, "payment_after")?,
                started_at: parse_instant(T, "started_at", &r.started_at.0)?,
                run_id: r.run_id,
                kind: read_status(T, "kind", &r.kind)?,
                periods: r.periods,
                reason: r.reason,
                user: r.user_name,
                host: r.host,
                status: read_status(T, "status", &r.status)?,
                records_before: r.records_before,
                records_after: r.records_after,
                per_period_counts: r.per_period_counts,
                duration_ms: r.duration_ms,
                tool_version: r.tool_version,
                detail: r.detail,
                range_tag: r.range_tag,
            })
        })
        .collect()
}

/// The query of [`dates_done_in_range`]: one expression, checked against both backends (and
/// its SQLite plan by a test).
macro_rules! done_in_range_query {
    ($range_tag:expr) => {{
        let later = diesel::alias!(crate::schema::reingest_runs as later);
        rr::table
            .filter(rr::range_tag.eq($range_tag))
            .filter(rr::status.eq(RunStatus::Committed.as_str()))
            .filter(diesel::dsl::not(diesel::dsl::exists(
                later
                    .filter(later.field(rr::settlement_date).eq(rr::settlement_date))
                    .filter(later.field(rr::seq).gt(rr::seq)),
            )))
            .order(rr::settlement_date)
            .select(rr::settlement_date)
    }};
}

/// The dates whose newest run is a committed run tagged `range_tag`, oldest first. The
/// tagged rows come from the partial index on `(range_tag, settlement_date)`; each is kept
/// only when no later run of its date exists.
pub(crate) fn dates_done_in_range(
    db: &mut Db<'_>,
    range_tag: &str,
) -> Result<Vec<SettlementDate>, StoreError> {
    let days: Vec<NaiveDate> = on_db!(db, c => done_in_range_query!(range_tag).load(c))?;
    days.into_iter()
        .map(|d| settlement_date("reingest_runs", "settlement_date", d))
        .collect()
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use diesel::sql_types::Text;
    use diesel::sqlite::Sqlite;
    use diesel::{Connection, QueryableByName, SqliteConnection};
    use diesel_migrations::MigrationHarness;

    use super::*;

    /// `range --resume` never reads the audit log whole: on SQLite the query's plan finds the
    /// tagged rows through `reingest_runs_range_tag_idx` (and probes later runs of each date
    /// through the date's index), scanning no table.
    #[test]
    fn the_resume_query_reads_the_range_tag_index() {
        #[derive(QueryableByName)]
        struct Step {
            #[diesel(sql_type = Text)]
            detail: String,
        }
        let mut c = SqliteConnection::establish(":memory:").unwrap();
        c.run_pending_migrations(crate::SQLITE_MIGRATIONS).unwrap();
        let tag = "2024-01-01..2024-01-31";
        let query = done_in_range_query!(tag);
        let sql = diesel::debug_query::<Sqlite, _>(&query).to_string();
        let sql = sql.split(" -- binds:").next().unwrap();
        let plan: Vec<Step> = diesel::sql_query(format!("EXPLAIN QUERY PLAN {sql}"))
            .bind::<Text, _>(tag)
            .bind::<Text, _>(RunStatus::Committed.as_str())
            .load(&mut c)
            .unwrap();
        let steps: Vec<&str> = plan.iter().map(|s| s.detail.as_str()).collect();
        assert!(
            steps
                .iter()
                .any(|s| s.contains("USING INDEX reingest_runs_range_tag_idx")),
            "{steps:?}"
        );
        assert!(!steps.iter().any(|s| s.starts_with("SCAN")), "{steps:?}");
    }
}
