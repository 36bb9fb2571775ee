//! The audit log a page at a time: the newest runs of a date, or started since a day, at
//! most N of them, with the `LIMIT` in the query, so `reingest runs` never reads a long audit
//! log whole.

use chrono::{NaiveDate, NaiveTime};
use diesel::prelude::*;
use settlement_model::SettlementDate;

use crate::db::on_db;
use crate::diesel_store::DieselStore;
use crate::read::read_runs;
use crate::schema::reingest_runs as rr;
use crate::sql_types::InstantValue;
use crate::{AuditRow, StoreError};

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
