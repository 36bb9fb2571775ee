//! [`MemoryStore`] (Cargo feature `memory`, on by default): every role of
//! [`SettlementStore`](crate::SettlementStore) and [`SourceArchive`] over plain collections
//! behind one mutex, with no database behind them — for the tests of a service that embeds
//! the pipeline (or uses the store's traits), and the pipeline's own unit tests.
//!
//! Its day swap is the store's one swap, [`crate::swap::run_swap`], over the memory store's
//! [`SwapSession`](crate::swap::SwapSession) and [`SwapTx`](crate::swap::SwapTx): the same
//! checks of a plan, the same steps in the same order, the same audit rows and errors as
//! [`DieselStore`](crate::DieselStore) on PostgreSQL and SQLite (the store's `conformance`
//! tests run one suite on all three). "One transaction" is a working copy of the tables
//! that replaces them only when the swap commits; swaps are serialised by the one mutex
//! (stricter than the SQL store's per-date lock, and enough for tests).
//!
//! The tables mirror the platform's as far as the traits show them: records and bitcoin
//! rows in insertion order (their ids), one summary row per key with the owned columns only
//! (so no legacy duplicates to collapse), the fetch log per run, backups per run, the audit
//! log in insertion order (its `seq`), evidence and registry snapshots, and the reference
//! data. [`MemoryStore::data`] copies what a swap writes, to compare before and after.
//! The reads a swap shares with [`DaySwap::day_state`](crate::DaySwap::day_state) are in
//! `reads.rs`, the swap's steps in `swap.rs`.
//!
//! # Example
//!
//! A service's test swapping a day in with its own hooks:
//!
//! ```
//! use rust_decimal::Decimal;
//! use settlement_model::{DailySummary, MonthlySummary, PeriodRange, YearlySummary};
//! use store::memory::MemoryStore;
//! use store::prelude::*;
//! use store::{
//!     AuditInfo, DayState, DeriveContext, DerivedRows, HookError, RunStatus, SwapHooks,
//!     SwapPlan,
//! };
//!
//! /// Empty summaries of the date; verification passes.
//! struct Hooks;
//!
//! impl SwapHooks for Hooks {
//!     fn derive(&mut self, ctx: &DeriveContext) -> Result<DerivedRows, HookError> {
//!         let date = "2024-03-21".parse()?;
//!         let zero = Decimal::ZERO;
//!         assert!(ctx.day_records.is_empty());
//!         Ok(DerivedRows {
//!             daily: DailySummary { date, total_curtailed_energy: zero, total_payment: zero },
//!             monthly: MonthlySummary {
//!                 year_month: date.year_month(),
//!                 total_curtailed_energy: zero,
//!                 total_payment: zero,
//!             },
//!             yearly: YearlySummary {
//!                 year: date.year(),
//!                 total_curtailed_energy: zero,
//!                 total_payment: zero,
//!             },
//!             bitcoin_rows: Vec::new(),
//!             bitcoin_summaries: Vec::new(),
//!         })
//!     }
//!
//!     fn verify(&mut self, state: &DayState) -> bool {
//!         state.daily.is_some()
//!     }
//! }
//!
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let store = MemoryStore::new();
//! let date = "2024-03-21".parse()?;
//! let plan = SwapPlan {
//!     date,
//!     periods: PeriodRange::full(date),
//!     records: Vec::new(),
//!     fetch_log: Vec::new(),
//!     audit: AuditInfo {
//!         run_id: "run-1".into(),
//!         kind: store::RunKind::Run,
//!         reason: None,
//!         user: "tester".into(),
//!         host: "test".into(),
//!         tool_version: "0.0.0".into(),
//!         started_at: chrono::Utc::now(),
//!         inputs: None,
//!         range_tag: None,
//!     },
//!     force: false,
//! };
//! let outcome = store.swap(plan, &mut Hooks)?;
//! assert!(outcome.committed);
//! assert_eq!(store.run("run-1")?.map(|r| r.status), Some(RunStatus::Committed));
//! assert!(store.day_state(date)?.daily.is_some());
//! # Ok(())
//! # }
//! ```

mod reads;
mod swap;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use chrono::{NaiveDate, Utc};
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinRow, BmUnit, CurtailmentRecord, DailySummary, DifficultyEntry, Halving, MonthlySummary,
    PeriodRange, RegistryOrigin, SettlementDate, SummaryPeriod, YearMonth, YearlySummary,
};

use crate::{
    ArchivedSource, AuditInfo, AuditLog, AuditRow, DifficultyAround, DifficultyTable,
    FetchLogEntry, Migrations, RegistryState, RunEvidence, RunStatus, SourceArchive, StoreError,
    UnitRegistry,
};

/// What one run's swap backed up before it replaced anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backup {
    /// The records of the swapped periods, in their stored order.
    pub records: Vec<CurtailmentRecord>,
    /// Every bitcoin row of the date.
    pub bitcoin_rows: Vec<BitcoinRow>,
    /// The owned columns `(energy, payment)` of the day's, month's and year's summary rows;
    /// `None` when the row did not exist (the `existed` flag of the SQL backup).
    pub summaries: Vec<(SummaryPeriod, Option<(Decimal, Decimal)>)>,
    /// Every bitcoin summary row of the day, month and year.
    pub bitcoin_summaries: Vec<(SummaryPeriod, String, Decimal)>,
}

impl Backup {
    /// How many backed-up rows this is (what
    /// [`DaySwap::delete_backups`](crate::DaySwap::delete_backups) counts).
    pub fn rows(&self) -> u64 {
        let n = self.records.len()
            + self.bitcoin_rows.len()
            + self.summaries.len()
            + self.bitcoin_summaries.len();
        u64::try_from(n).unwrap_or(u64::MAX)
    }
}

/// The settlement data a swap writes: everything a rolled-back swap must leave as it was.
/// (The audit log is not part of it: a rolled-back or failed run is recorded there.)
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettlementData {
    /// Curtailment records of every date, in insertion (id) order.
    pub records: Vec<CurtailmentRecord>,
    /// Bitcoin rows of every date, in insertion (id) order.
    pub bitcoin_rows: Vec<BitcoinRow>,
    /// Daily summaries by day.
    pub dailies: BTreeMap<SettlementDate, DailySummary>,
    /// Monthly summaries by month.
    pub monthlies: BTreeMap<YearMonth, MonthlySummary>,
    /// Yearly summaries by year.
    pub yearlies: BTreeMap<i32, YearlySummary>,
    /// Bitcoin summaries by (day, month or year; miner model): one row per key.
    pub bitcoin_summaries: BTreeMap<(SummaryPeriod, String), Decimal>,
    /// The fetch log: `(run id, entry)` in insertion order.
    pub fetch_log: Vec<(String, FetchLogEntry)>,
    /// Backups by run id.
    pub backups: BTreeMap<String, Backup>,
    /// Run evidence by run id.
    pub evidence: BTreeMap<String, RunEvidence>,
    /// Registry snapshots (JSON) by hash.
    pub snapshots: BTreeMap<String, String>,
}

/// Every table of the memory store.
#[derive(Debug, Clone, Default)]
pub(crate) struct Tables {
    /// What swaps write.
    pub(crate) data: SettlementData,
    /// The audit log in insertion (`seq`) order: oldest first.
    pub(crate) runs: Vec<AuditRow>,
    /// The BM unit registry, ordered by Elexon id.
    pub(crate) units: Vec<BmUnit>,
    /// Where the registry came from.
    pub(crate) registry: Option<RegistryState>,
    /// The difficulty table by day.
    pub(crate) difficulties: BTreeMap<NaiveDate, DifficultyEntry>,
    /// Halving days by height.
    pub(crate) halvings: BTreeMap<u64, Halving>,
    /// The source archive by hash.
    pub(crate) archive: BTreeMap<String, ArchivedSource>,
}

impl Tables {
    /// Inserts `row`, or replaces the row of its run id where it stands (its `seq` is kept,
    /// as the SQL upsert keeps it).
    pub(crate) fn upsert_run(&mut self, row: AuditRow) {
        match self.runs.iter_mut().find(|r| r.run_id == row.run_id) {
            Some(stored) => *stored = row,
            None => self.runs.push(row),
        }
    }
}

/// An in-memory [`SettlementStore`](crate::SettlementStore) and [`SourceArchive`]: every
/// role the pipeline is written against, with no database behind it (see the
/// [module docs](self)).
#[derive(Debug, Default)]
pub struct MemoryStore {
    tables: Mutex<Tables>,
}

impl MemoryStore {
    /// An empty store: no registry, no difficulty, no halvings, no data.
    pub fn new() -> Self {
        Self::default()
    }

    /// The tables, locked. A panic in a caller's hook while the lock was held poisons it,
    /// but never leaves a half-done swap behind (a swap works on a copy and replaces the
    /// tables only when it commits), so the data is taken as it is.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A copy of the settlement data, to compare before and after an operation.
    pub fn data(&self) -> SettlementData {
        self.lock().data.clone()
    }
}

impl Migrations for MemoryStore {
    /// Nothing to migrate: the tables are the types.
    fn migrate(&self) -> Result<(), StoreError> {
        Ok(())
    }

    fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        Ok(Vec::new())
    }
}

impl UnitRegistry for MemoryStore {
    fn bm_units(&self) -> Result<Vec<BmUnit>, StoreError> {
        Ok(self.lock().units.clone())
    }

    fn replace_bm_units(
        &self,
        units: &[BmUnit],
        origin: RegistryOrigin,
        counts: settlement_model::RegistryCounts,
    ) -> Result<usize, StoreError> {
        let mut sorted = units.to_vec();
        sorted.sort_by(|a, b| a.elexon_bm_unit.cmp(&b.elexon_bm_unit));
        if let Some(w) = sorted
            .windows(2)
            .find(|w| w[0].elexon_bm_unit == w[1].elexon_bm_unit)
        {
            return Err(StoreError::InvalidInput {
                reason: format!(
                    "the BM unit list names {} more than once; nothing was written",
                    w[0].elexon_bm_unit
                ),
            });
        }
        let mut t = self.lock();
        t.units = sorted;
        t.registry = Some(RegistryState {
            origin,
            refreshed_at: Utc::now(),
            counts: Some(counts),
        });
        Ok(units.len())
    }

    fn registry_state(&self) -> Result<Option<RegistryState>, StoreError> {
        Ok(self.lock().registry)
    }
}

impl DifficultyTable for MemoryStore {
    fn difficulty_around(&self, date: NaiveDate) -> Result<DifficultyAround, StoreError> {
        let t = self.lock();
        let on_or_before = || t.difficulties.range(..=date).rev().map(|(_, e)| *e);
        let after = || {
            t.difficulties
                .range(date..)
                .filter(move |(d, _)| **d > date)
                .map(|(_, e)| *e)
        };
        Ok(DifficultyAround {
            in_force: on_or_before().next(),
            next: after().next(),
            height_on_or_before: on_or_before().find(|e| e.height.is_some()),
            height_after: after().find(|e| e.height.is_some()),
        })
    }

    fn difficulty_entries(&self) -> Result<Vec<DifficultyEntry>, StoreError> {
        Ok(self.lock().difficulties.values().copied().collect())
    }

    fn upsert_difficulties(&self, rows: &[DifficultyEntry]) -> Result<usize, StoreError> {
        let mut t = self.lock();
        for e in rows {
            let kept_height = t.difficulties.get(&e.date).and_then(|old| old.height);
            let entry = DifficultyEntry {
                height: e.height.or(kept_height),
                ..*e
            };
            t.difficulties.insert(e.date, entry);
        }
        Ok(rows.len())
    }

    fn halvings(&self) -> Result<Vec<Halving>, StoreError> {
        Ok(self.lock().halvings.values().copied().collect())
    }

    fn upsert_halving(&self, halving: Halving, _source: &str) -> Result<(), StoreError> {
        self.lock().halvings.insert(halving.height, halving);
        Ok(())
    }
}

impl AuditLog for MemoryStore {
    fn run(&self, run_id: &str) -> Result<Option<AuditRow>, StoreError> {
        Ok(self
            .lock()
            .runs
            .iter()
            .find(|r| r.run_id == run_id)
            .cloned())
    }

    fn record_evidence(
        &self,
        evidence: &RunEvidence,
        registry_json: &str,
    ) -> Result<(), StoreError> {
        let mut t = self.lock();
        t.data
            .snapshots
            .entry(evidence.registry_hash.clone())
            .or_insert_with(|| registry_json.to_owned());
        t.data
            .evidence
            .insert(evidence.run_id.clone(), evidence.clone());
        Ok(())
    }

    fn evidence(&self, run_id: &str) -> Result<Option<RunEvidence>, StoreError> {
        Ok(self.lock().data.evidence.get(run_id).cloned())
    }

    fn registry_snapshot(&self, hash: &str) -> Result<Option<String>, StoreError> {
        Ok(self.lock().data.snapshots.get(hash).cloned())
    }

    fn runs(&self, date: Option<SettlementDate>) -> Result<Vec<AuditRow>, StoreError> {
        Ok(self
            .lock()
            .runs
            .iter()
            .rev()
            .filter(|r| date.is_none_or(|d| r.settlement_date == d))
            .cloned()
            .collect())
    }

    fn runs_page(&self, query: &crate::RunsQuery) -> Result<Vec<AuditRow>, StoreError> {
        Ok(self
            .lock()
            .runs
            .iter()
            .rev()
            .filter(|r| query.date.is_none_or(|d| r.settlement_date == d))
            .filter(|r| {
                query
                    .since
                    .is_none_or(|day| r.started_at.date_naive() >= day)
            })
            .take(query.limit)
            .cloned()
            .collect())
    }

    fn dates_done_in_range(&self, range_tag: &str) -> Result<Vec<SettlementDate>, StoreError> {
        let t = self.lock();
        // Oldest first: each date ends up with its newest run.
        let mut newest: BTreeMap<SettlementDate, &AuditRow> = BTreeMap::new();
        for r in &t.runs {
            newest.insert(r.settlement_date, r);
        }
        Ok(newest
            .into_iter()
            .filter(|(_, r)| {
                r.status == RunStatus::Committed && r.range_tag.as_deref() == Some(range_tag)
            })
            .map(|(d, _)| d)
            .collect())
    }

    fn run_fetch_log(&self, run_id: &str) -> Result<Vec<FetchLogEntry>, StoreError> {
        let t = self.lock();
        Ok(reads::latest_per_period_and_side(
            t.data
                .fetch_log
                .iter()
                .filter(|(id, _)| id == run_id)
                .map(|(_, e)| e),
        ))
    }

    fn record_failed_run(
        &self,
        audit: &AuditInfo,
        date: SettlementDate,
        periods: PeriodRange,
        detail: &str,
    ) -> Result<(), StoreError> {
        let detail = settlement_model::redact_url(detail);
        let row = crate::contract::failed_run_row(audit, date, periods, detail);
        self.lock().upsert_run(row);
        Ok(())
    }
}

impl SourceArchive for MemoryStore {
    fn put_source(&self, format: &str, body: &[u8]) -> Result<String, StoreError> {
        let hash = crate::source_hash(body);
        self.lock()
            .archive
            .entry(hash.clone())
            .or_insert_with(|| ArchivedSource {
                format: format.to_owned(),
                body: body.to_vec(),
            });
        Ok(hash)
    }

    fn get_source(&self, hash: &str) -> Result<ArchivedSource, StoreError> {
        let found = self.lock().archive.get(hash).cloned();
        let source = found.ok_or_else(|| StoreError::ArchiveMissing {
            hash: hash.to_owned(),
        })?;
        if crate::source_hash(&source.body) != hash {
            return Err(StoreError::ArchiveCorrupt {
                hash: hash.to_owned(),
                reason: "the body does not hash to its name".into(),
            });
        }
        Ok(source)
    }

    fn source_hashes(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().archive.keys().cloned().collect())
    }

    fn delete_sources(&self, hashes: &[String]) -> Result<usize, StoreError> {
        let mut t = self.lock();
        Ok(hashes
            .iter()
            .filter(|h| t.archive.remove(h.as_str()).is_some())
            .count())
    }
}
