//! Reading only what is asked of the audit log: a page at a time (the newest runs of a date,
//! or started since a day, at most N of them, with the `LIMIT` in the query, so `reingest
//! runs` never reads a long audit log whole), and the dates a range already did (through the
//! `range_tag` index, for `reingest range --resume`).

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use settlement_model::SettlementDate;

use crate::db::{on_db, settlement_date, Db};
use crate::diesel_store::DieselStore;
use crate::read::read_runs;
use crate::schema::reingest_runs as rr;
use crate::sql_types::InstantValue;
use crate::{AuditRow, RunStatus, StoreError};

/// Which runs [`DieselStore::recent_runs`] reads.
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

impl DieselStore {
    /// The newest runs matching `query`, newest first, in one consistent read: a query with
    /// a `LIMIT`, ordered by the primary key, picks the run ids, then each row is read by its
    /// (unique, indexed) run id.
    pub fn recent_runs(&self, query: &RunsQuery) -> Result<Vec<AuditRow>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| {
            let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
            let since = query
                .since
                .map(|day| InstantValue(day.and_time(NaiveTime::MIN).and_utc()));
            let ids: Vec<String> = on_db!(db, c => {
                let mut q = rr::table
                    .select(rr::run_id)
                    .order(rr::seq.desc())
                    .limit(limit)
                    .into_boxed();
                if let Some(date) = query.date {
                    q = q.filter(rr::settlement_date.eq(date.naive()));
                }
                if let Some(t) = since {
                    q = q.filter(rr::started_at.ge(t));
                }
                q.load(c)
            })?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.extend(read_runs(db, None, Some(&id))?);
            }
            Ok(rows)
        })
    }
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
