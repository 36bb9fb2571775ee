//! The day swap on a pooled connection of either backend: [`SwapEnv`] is the
//! [`SwapSession`] of [`DieselStore::swap`](crate::DaySwap::swap) and [`DieselTx`] the
//! [`SwapTx`] inside its write transaction, each step one of the store's SQL functions
//! (`read.rs`, `write.rs`, `locks.rs`, `audit/write.rs`). The sequence itself is
//! [`crate::swap::run_swap`], shared with every other store.

use std::time::Duration;

use settlement_model::{CurtailmentRecord, PeriodRange, SettlementDate};

use crate::audit::write::{insert_running, mark_interrupted, running_holder, upsert_audit};
use crate::connect::Conn;
use crate::db::Db;
use crate::error::classify;
use crate::faults::TxError;
use crate::locks::{lock_date, lock_rollups};
use crate::read::{read_day_state, read_derive_context, read_records};
use crate::swap::{Abort, SwapAbort, SwapSession, SwapTx};
use crate::write::{backup, delete_day_rows, insert_fetch_log, insert_records, write_derived};
use crate::{
    AuditRow, DayState, DeriveContext, DerivedRows, FetchLogEntry, StoreConfig, StoreError,
};

/// Where a swap runs: a connection of the store, its settings, and how long a write waits
/// for a lock on its backend.
pub(crate) struct SwapEnv<'a> {
    pub(crate) conn: Conn,
    pub(crate) config: &'a StoreConfig,
    pub(crate) lock_wait: Duration,
}

/// The swap's write transaction: the connection inside it and the store's settings.
struct DieselTx<'a, 'c> {
    db: &'a mut Db<'c>,
    config: &'a StoreConfig,
}

/// A failure of the transaction's own statements (`BEGIN`, `COMMIT`), classified.
impl From<diesel::result::Error> for SwapAbort {
    fn from(e: diesel::result::Error) -> Self {
        SwapAbort(Abort::Store(classify(&e)))
    }
}

impl TxError for SwapAbort {
    fn as_store(&self) -> Option<&StoreError> {
        SwapAbort::as_store(self)
    }
}

impl SwapSession for SwapEnv<'_> {
    fn insert_running(&mut self, row: &AuditRow) -> Result<(), StoreError> {
        self.conn.single_write(|db| insert_running(db, row))
    }

    fn running_holder(
        &mut self,
        date: SettlementDate,
        run_id: &str,
    ) -> Result<Option<String>, StoreError> {
        self.conn.read_tx(|db| running_holder(db, date, run_id))
    }

    fn transaction<T>(
        &mut self,
        body: impl FnOnce(&mut dyn SwapTx) -> Result<T, SwapAbort>,
    ) -> Result<T, SwapAbort> {
        let config = self.config;
        self.conn.write_tx(|db| body(&mut DieselTx { db, config }))
    }

    fn write_audit(&mut self, row: &AuditRow) -> Result<(), StoreError> {
        self.conn.write_tx(|db| upsert_audit(db, row))
    }

    fn lock_wait(&self) -> Duration {
        self.lock_wait
    }
}

impl SwapTx for DieselTx<'_, '_> {
    fn lock_date(&mut self, date: SettlementDate) -> Result<(), StoreError> {
        lock_date(self.db, date, self.config)
    }

    fn mark_interrupted(&mut self, date: SettlementDate, run_id: &str) -> Result<(), StoreError> {
        mark_interrupted(self.db, date, run_id).map(drop)
    }

    fn day_records(&mut self, date: SettlementDate) -> Result<Vec<CurtailmentRecord>, StoreError> {
        read_records(self.db, date, None)
    }

    fn backup(
        &mut self,
        run_id: &str,
        date: SettlementDate,
        periods: PeriodRange,
    ) -> Result<(), StoreError> {
        backup(self.db, run_id, date, periods)
    }

    fn delete_day_rows(
        &mut self,
        date: SettlementDate,
        periods: PeriodRange,
    ) -> Result<(), StoreError> {
        delete_day_rows(self.db, date, periods)
    }

    fn insert_records(&mut self, records: &[CurtailmentRecord]) -> Result<(), StoreError> {
        insert_records(self.db, records).map(drop)
    }

    fn lock_rollups(&mut self, date: SettlementDate) -> Result<(), StoreError> {
        lock_rollups(self.db, date, self.config)
    }

    fn derive_context(
        &mut self,
        date: SettlementDate,
        day_records: Vec<CurtailmentRecord>,
    ) -> Result<DeriveContext, StoreError> {
        read_derive_context(self.db, date, day_records)
    }

    fn write_derived(&mut self, derived: &DerivedRows) -> Result<Vec<String>, StoreError> {
        write_derived(self.db, derived)
    }

    fn insert_fetch_log(
        &mut self,
        run_id: &str,
        entries: &[FetchLogEntry],
    ) -> Result<(), StoreError> {
        insert_fetch_log(self.db, run_id, entries).map(drop)
    }

    fn day_state(&mut self, date: SettlementDate) -> Result<DayState, StoreError> {
        read_day_state(self.db, date)
    }

    fn upsert_audit(&mut self, row: &AuditRow) -> Result<(), StoreError> {
        upsert_audit(self.db, row)
    }
}
