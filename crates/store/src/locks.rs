//! Locking: the per-date lock every swap and restore takes first, and the lock of a year's
//! rollups taken after it. PostgreSQL's transaction-scoped advisory locks, waited for at most
//! the store's lock timeout; SQLite's write transaction (`BEGIN IMMEDIATE`) already excludes
//! every other writer, so there is nothing more to take there.

use std::time::Instant;

use chrono::Datelike;
#[cfg(feature = "postgres")]
use diesel::prelude::*;
#[cfg(feature = "postgres")]
use diesel::sql_types::BigInt;
use settlement_model::SettlementDate;

use crate::db::Db;
use crate::error::{classify, detail_of};
use crate::faults::waited_out;
use crate::{StoreConfig, StoreError};

/// The advisory-lock key of a date: "REIN" in the high half, the day number in the low half.
pub(crate) fn lock_key(date: SettlementDate) -> i64 {
    (0x5245_494E_i64 << 32) | i64::from(date.naive().num_days_from_ce())
}

/// Takes the per-date lock. On PostgreSQL a transaction-scoped advisory lock, waited for
/// at most `lock_timeout`; on SQLite the transaction already holds the database's write
/// lock (`BEGIN IMMEDIATE`), so there is nothing more to take.
pub(crate) fn lock_date(
    db: &mut Db<'_>,
    date: SettlementDate,
    config: &StoreConfig,
) -> Result<(), StoreError> {
    if !db.is_pg() {
        return Ok(());
    }
    // PostgreSQL's lock_timeout is an int of milliseconds (at most about 24.8 days).
    let ms = config.lock_timeout.as_millis().clamp(1, i32::MAX as u128);
    let started = Instant::now();
    // diesel keeps 55P03 to itself: this statement only waits, under the timeout it sets.
    lock_with_timeout(db, lock_key(date), &format!("{ms}ms"))
        .map_err(|e| lock_error(&e, started, date, config, None))
}

/// A failed lock statement as a [`StoreError`]: [`StoreError::LockTimeout`] when it waited
/// out the lock timeout (the statement only waits, so that is what its failure means), with
/// `waiting_for` after the driver's detail; any other failure classified as usual.
fn lock_error(
    e: &diesel::result::Error,
    started: Instant,
    date: SettlementDate,
    config: &StoreConfig,
    waiting_for: Option<String>,
) -> StoreError {
    if !waited_out(e, started, config.lock_timeout) {
        return classify(e);
    }
    let detail = match waiting_for {
        Some(what) => format!("{} ({what})", detail_of(e)),
        None => detail_of(e),
    };
    StoreError::LockTimeout {
        date: Some(date),
        other_run: None,
        waited: config.lock_timeout,
        detail,
    }
}

/// Sets the transaction's `lock_timeout` and then waits for the advisory lock `key`, in one
/// round trip: the lock is taken in the outer query, which reads the CTE that sets the
/// timeout first (`set_config(…, true)` is `SET LOCAL`), so the wait is bounded.
fn lock_with_timeout(db: &mut Db<'_>, key: i64, timeout: &str) -> diesel::QueryResult<()> {
    match db {
        #[cfg(feature = "postgres")]
        Db::Pg(c) => {
            // Raw SQL: diesel has neither `set_config` nor a typed `void` result to select.
            diesel::sql_query(
                "WITH timeout AS (SELECT set_config('lock_timeout', $1, true)) \
                 SELECT pg_advisory_xact_lock($2) FROM timeout",
            )
            .bind::<diesel::sql_types::Text, _>(timeout)
            .bind::<BigInt, _>(key)
            .execute(&mut **c)?;
            Ok(())
        }
        #[cfg(feature = "sqlite")]
        Db::Lite(_) => {
            let _no_lock_to_take = (key, timeout);
            Ok(())
        }
    }
}

/// Takes PostgreSQL's transaction-scoped advisory lock `key` (a no-op on SQLite, whose write
/// transaction already excludes every other writer).
fn advisory_xact_lock(db: &mut Db<'_>, key: i64) -> diesel::QueryResult<()> {
    match db {
        #[cfg(feature = "postgres")]
        Db::Pg(c) => {
            // Raw SQL: pg_advisory_xact_lock returns `void`, which diesel's typed DSL cannot
            // select.
            diesel::sql_query("SELECT pg_advisory_xact_lock($1)")
                .bind::<BigInt, _>(key)
                .execute(&mut **c)?;
            Ok(())
        }
        #[cfg(feature = "sqlite")]
        Db::Lite(_) => {
            let _no_lock_to_take = key;
            Ok(())
        }
    }
}

/// The advisory-lock key of a year's rollups ("REYR" in the high half).
pub(crate) fn rollup_lock_key(year: i32) -> i64 {
    (0x5245_5952_i64 << 32) | i64::from(year)
}

/// Takes the lock of `date`'s year before its month and year rollups are read and written,
/// so concurrent swaps of different dates in one year never compute a monthly or yearly
/// summary from each other's uncommitted days (a lost update), nor insert the same summary
/// row twice. Always taken after the date's lock, so the two locks cannot deadlock. On
/// SQLite the write transaction already excludes every other writer.
pub(crate) fn lock_rollups(
    db: &mut Db<'_>,
    date: SettlementDate,
    config: &StoreConfig,
) -> Result<(), StoreError> {
    if !db.is_pg() {
        return Ok(());
    }
    let started = Instant::now();
    // As in `lock_date`: the lock_timeout set there bounds this wait too.
    advisory_xact_lock(db, rollup_lock_key(date.year())).map_err(|e| {
        let waiting_for = format!("waiting for the rollups of {}", date.year());
        lock_error(&e, started, date, config, Some(waiting_for))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_date_and_carry_a_prefix() {
        let a = lock_key("2024-03-21".parse().unwrap());
        let b = lock_key("2024-03-22".parse().unwrap());
        assert_ne!(a, b);
        assert_eq!(a >> 32, 0x5245_494E);
    }
}
