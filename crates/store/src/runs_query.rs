//! The audit log a page at a time: the newest runs of a date, or started since a day, at
//! most N of them, with the `LIMIT` in the query, so `reingest runs` never reads a long audit
//! log whole.

use chrono::{NaiveDate, NaiveTime};
use diesel::sql_types::Text;
use diesel::QueryableByName;
use settlement_model::SettlementDate;

use crate::db::{Kind, Val};
use crate::diesel_store::DieselStore;
use crate::read::read_runs;
use crate::write::instant_text;
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

#[derive(QueryableByName)]
struct RunId {
    #[diesel(sql_type = Text)]
    run_id: String,
}

impl DieselStore {
    /// The newest runs matching `query`, newest first, in one consistent read: a query with
    /// a `LIMIT`, ordered by the primary key, picks the run ids, then each row is read by its
    /// (unique, indexed) run id.
    pub fn recent_runs(&self, query: &RunsQuery) -> Result<Vec<AuditRow>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| {
            let mut conditions = Vec::new();
            let mut binds = Vec::new();
            if let Some(date) = query.date {
                binds.push(Val::date(date));
                conditions.push(format!(
                    "settlement_date = {}",
                    db.param(binds.len(), Kind::Date)
                ));
            }
            if let Some(day) = query.since {
                binds.push(Val::text(instant_text(
                    day.and_time(NaiveTime::MIN).and_utc(),
                )));
                conditions.push(format!(
                    "started_at >= {}",
                    db.param(binds.len(), Kind::Instant)
                ));
            }
            let mut sql = "SELECT run_id FROM reingest_runs".to_owned();
            if !conditions.is_empty() {
                sql.push_str(" WHERE ");
                sql.push_str(&conditions.join(" AND "));
            }
            let limit = i64::try_from(query.limit).unwrap_or(i64::MAX);
            sql.push_str(&format!(" ORDER BY seq DESC LIMIT {limit}"));
            let ids: Vec<RunId> = db.load(&sql, &binds)?;
            let mut rows = Vec::with_capacity(ids.len());
            for id in ids {
                rows.extend(read_runs(db, None, Some(&id.run_id))?);
            }
            Ok(rows)
        })
    }
}
