//! Persistence of settlement data: the only crate of `reingest` that knows SQL.
//!
//! The pipeline hands the store a [`SwapPlan`] (a date's new curtailment records, its fetch
//! log and audit data) and a [`SwapHooks`] implementation; [`DieselStore::swap`] replaces
//! the date's rows in **one transaction**:
//!
//! 1. take the per-date lock (see *Locking*), and mark older `running` audit rows of the
//!    date whose process died as `interrupted`;
//! 2. read the date's records once, then back up, under the run id, the records of the
//!    swapped periods (returned as [`SwapOutcome::replaced`]), every bitcoin row of
//!    the date, the owned columns of the day's, month's and year's summary rows (with an
//!    `existed` flag) and every bitcoin summary row of the day, month and year;
//! 3. delete the records of those periods and every bitcoin row of the date;
//! 4. insert the new records with multi-row inserts;
//! 5. build, inside the transaction, a [`DeriveContext`] (the day's records are the kept
//!    ones read in step 2 plus the new ones, in the order a read returns them; the month's
//!    and year's other summaries are read) and call [`SwapHooks::derive`];
//!    write what it returns: summary rows are **updated in place** (inserted only when
//!    absent), and only the columns this tool owns (`total_curtailed_energy`,
//!    `total_payment`, `last_updated`/`updated_at`, `bitcoin_mined`) are written, so
//!    `total_wind_generation`, `wind_onshore_generation` and `wind_offshore_generation` keep
//!    whatever other processes put there. Bitcoin summary tables have no unique key and
//!    legacy data holds duplicates: the oldest row of each (key, model) the swap writes is
//!    kept and updated, the others are deleted, and the audit detail says which;
//! 6. write the fetch log, read back the [`DayState`] and ask [`SwapHooks::verify`]: commit
//!    (audit status `committed`, or `forced` with [`SwapPlan::force`]) or roll back (status
//!    `rolled_back`, written afterwards in its own small transaction). Any error rolls back
//!    and is recorded as `failed`. Before the transaction a `running` row is committed, so a
//!    run waiting for the lock can name the one holding it.
//!
//! There is no second write path: a restore is a swap whose records are a run's backup
//! ([`DaySwap::backup_records`]), so it is backed up, recomputed and verified like
//! any run.
//!
//! The sequence above is written once, [`swap::run_swap`], over two narrow traits taking
//! and returning plain data: [`swap::SwapSession`] (the `running` row, the transaction, the
//! audit of a rollback or failure) and [`swap::SwapTx`] (each step inside the transaction).
//! [`DieselStore`] implements them on a connection of either backend; the in-memory store
//! ([`memory::MemoryStore`], feature `memory`) on a copy of its tables; another service's
//! store can implement them too. The plan checks and audit rows they share are the public
//! functions of [`contract`].
//!
//! # Testing a service: the in-memory store
//!
//! With the `memory` feature (on by default; a service with `default-features = false`
//! turns it on in its dev-dependencies), [`memory::MemoryStore`] plays every role of
//! [`SettlementStore`] and [`SourceArchive`] with no database: the pipeline's unit tests
//! run on it, and so can a service's. The store's `conformance` tests (`cargo test -p store
//! conformance`) run one suite of the swap's contract and the reads on it, on SQLite and on
//! PostgreSQL, so what passes on it holds on the databases.
//!
//! # Architecture invariant
//!
//! This crate knows SQL and nothing of HTTP, XML or the Elexon API. It does not know how
//! summaries or bitcoin figures are computed either: the caller's [`SwapHooks`] derive them
//! from the rows the store reads inside the transaction. The rest of the workspace sees
//! only the [`SettlementStore`] trait and plain model types, so another service can put its
//! own store behind the pipeline.
//!
//! # Backends and exact decimals
//!
//! - **PostgreSQL** (`postgres://…`): migration 1 is exactly the platform's
//!   `../shared/platform-schema.sql` (`CREATE TABLE IF NOT EXISTS`, so a no-op on the platform's
//!   database); later migrations only add nullable columns, indexes and tables of our own.
//!   Decimal columns are `numeric`.
//! - **SQLite** (`sqlite://PATH`, the embedded default; `sqlite::memory:` for tests): the
//!   same shape, with every decimal column `TEXT` holding the exact decimal text (a
//!   `NUMERIC` column would silently turn it into a float) and dates as `YYYY-MM-DD` text.
//!
//! Every query is diesel's typed query builder over one schema ([`schema`], checked by the
//! compiler against both backends). Decimals are bound as [`rust_decimal::Decimal`] through
//! one SQL type ([`sql_types::Exact`]: binary `numeric` on PostgreSQL, the exact text on
//! SQLite) and read back as their exact text, parsed with the table and column in hand, so
//! a stored value that does not fit is [`StoreError::CorruptValue`], never a rounding; SQL
//! never sums them. Raw SQL remains only where diesel cannot say it (advisory locks, the
//! transaction's `lock_timeout`, `LOCK TABLE`, SQLite pragmas), each with a comment saying why.
//!
//! # Cargo features: the backends
//!
//! - `postgres` (default): PostgreSQL, through diesel's `postgres` backend, which links the
//!   system's libpq (and with it OpenSSL).
//! - `sqlite` (default): SQLite, bundled (compiled from source, no system library).
//! - `memory` (default): [`memory::MemoryStore`], the in-memory store for tests (no
//!   dependency of its own).
//!
//! A service on one backend turns the other off (`default-features = false, features =
//! ["sqlite"]`): an SQLite-only build links no libpq. Everything above holds for the
//! backends compiled in; a URL of a backend left out is [`StoreError::BackendNotCompiled`],
//! naming the feature, and a build with neither feature stops with a `compile_error!`.
//!
//! # Locking
//!
//! Two swaps of one date never interleave. On PostgreSQL the transaction takes
//! `pg_advisory_xact_lock` on a key derived from the date, with `SET LOCAL lock_timeout`
//! from [`StoreConfig::lock_timeout`], so different dates run concurrently. On SQLite every
//! write transaction is `BEGIN IMMEDIATE` and waits at most [`StoreConfig::busy_timeout`]
//! for the database's single write lock (WAL journal, so readers are never blocked). A
//! timeout is [`StoreError::LockTimeout`], naming the date and, when known, the other run.
//!
//! On PostgreSQL a second advisory lock, on the date's *year*, is taken (always after the
//! date's lock, so they cannot deadlock) just before the month and year rollups are read and
//! written: swaps of different dates in one year overlap in their backups, deletes and
//! inserts but derive and write their rollups one after another, so no monthly or yearly
//! summary is computed from another swap's uncommitted day (a lost update).
//!
//! # Dependencies
//!
//! - `diesel` (with `r2d2`): one mature library for both backends, typed results and
//!   connection pools, with the bundled `libsqlite3-sys` so SQLite needs no system library;
//! - `diesel_migrations`: migrations embedded in the binary, one folder per backend;
//! - `rust_decimal` for exact numbers, `chrono` for dates, `thiserror` for [`StoreError`],
//!   `tracing` for the few warnings, `serde` so audit and state rows serialise.

#[cfg(not(any(feature = "postgres", feature = "sqlite")))]
compile_error!(
    "the store needs at least one backend: enable its `postgres` or `sqlite` feature \
     (both are on by default; reingest-cli forwards features of the same names)"
);

pub mod archive;
mod audit;
mod connect;
pub mod contract;
mod db;
mod diesel_store;
mod diesel_swap;
mod error;
mod faults;
mod locks;
#[cfg(feature = "memory")]
pub mod memory;
mod migrations;
mod range_read;
mod read;
mod reference;
mod rows;
pub mod schema;
pub mod sql_types;
mod status;
pub mod swap;
mod write;

pub use archive::{source_hash, ArchivedSource, SourceArchive};
pub use audit::RunsQuery;
pub use connect::{Backend, StoreConfig};
pub use diesel_store::DieselStore;
pub use error::{redact_url, ConstraintKind, StoreError};
#[cfg(feature = "postgres")]
pub use migrations::POSTGRES_MIGRATIONS;
#[cfg(feature = "sqlite")]
pub use migrations::SQLITE_MIGRATIONS;
pub use status::{FetchStatus, RunKind, RunStatus, UnknownStatus};

use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use settlement_model::{
    BitcoinInputs, BitcoinRow, BitcoinSummary, BmUnit, CurtailmentRecord, DailySummary,
    DifficultyEntry, Halving, MonthlySummary, PeriodRange, RegistryCounts, RegistryOrigin,
    SettlementDate, Side, YearlySummary,
};

/// One row of the per-period fetch log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FetchLogEntry {
    /// The settlement date.
    pub settlement_date: SettlementDate,
    /// The period.
    pub settlement_period: u8,
    /// The stack side.
    pub side: Side,
    /// `fetched` or `missing` (a 404 allowed by `--allow-missing-periods`).
    pub status: FetchStatus,
    /// Items the API returned.
    pub items_received: u64,
    /// Curtailment records kept from them.
    pub records_kept: u64,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
    /// SHA-256 (hex) of the raw response body, when archived.
    pub source_hash: Option<String>,
}

/// Who runs a swap and why; written to the audit log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditInfo {
    /// The run's id (a UUID, text).
    pub run_id: String,
    /// What the run does.
    pub kind: RunKind,
    /// The operator's reason (`--reason`).
    pub reason: Option<String>,
    /// The OS user.
    pub user: String,
    /// The host name.
    pub host: String,
    /// This tool's version.
    pub tool_version: String,
    /// When the run started (before fetching).
    pub started_at: DateTime<Utc>,
    /// The difficulty and subsidy its bitcoin figures use, recorded in the audit row.
    pub inputs: Option<BitcoinInputs>,
    /// The range the run is part of (`reingest range`, as `FROM..TO`), recorded in its own
    /// column so [`AuditLog::dates_done_in_range`] finds it.
    #[serde(default)]
    pub range_tag: Option<String>,
}

/// Where the BM unit registry came from and when it was last replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RegistryState {
    /// The API or the operator's file.
    pub origin: RegistryOrigin,
    /// When it was last replaced.
    pub refreshed_at: DateTime<Utc>,
    /// What the registry's rules left out or merged then (`None`: replaced before this
    /// version recorded it).
    pub counts: Option<RegistryCounts>,
}

/// The evidence a run recorded: the fingerprint of what it wrote, the registry it classified
/// with (by hash) and the caller's document (JSON) of everything else its figures came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunEvidence {
    /// The run.
    pub run_id: String,
    /// SHA-256 (hex) over the canonical rows the run wrote.
    pub fingerprint: String,
    /// SHA-256 (hex) of the registry snapshot.
    pub registry_hash: String,
    /// The caller's evidence document (JSON).
    pub document: String,
}

/// The difficulty table around a date: what is in force, what comes next, and the nearest
/// adjustments whose block height is known (they tell the subsidy's epoch).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DifficultyAround {
    /// The newest entry on or before the date.
    pub in_force: Option<DifficultyEntry>,
    /// The oldest entry after the date.
    pub next: Option<DifficultyEntry>,
    /// The newest entry with a block height on or before the date.
    pub height_on_or_before: Option<DifficultyEntry>,
    /// The oldest entry with a block height after the date.
    pub height_after: Option<DifficultyEntry>,
}

impl DifficultyAround {
    /// The table `entries` (any order, one entry per date) around `date`: the same answer as
    /// [`DifficultyTable::difficulty_around`] gives from the store, computed from a table
    /// read once ([`DifficultyTable::difficulty_entries`]).
    pub fn within(entries: &[DifficultyEntry], date: NaiveDate) -> Self {
        let newest_before = |with_height: bool| {
            entries
                .iter()
                .filter(|e| e.date <= date && (!with_height || e.height.is_some()))
                .max_by_key(|e| e.date)
                .copied()
        };
        let oldest_after = |with_height: bool| {
            entries
                .iter()
                .filter(|e| e.date > date && (!with_height || e.height.is_some()))
                .min_by_key(|e| e.date)
                .copied()
        };
        Self {
            in_force: newest_before(false),
            next: oldest_after(false),
            height_on_or_before: newest_before(true),
            height_after: oldest_after(true),
        }
    }
}

/// Everything a swap replaces the date's (or period range's) rows with.
#[derive(Debug, Clone)]
pub struct SwapPlan {
    /// The date.
    pub date: SettlementDate,
    /// The periods whose records are replaced (the full day for a normal run).
    pub periods: PeriodRange,
    /// The new records for those periods.
    pub records: Vec<CurtailmentRecord>,
    /// The fetch log of those periods.
    pub fetch_log: Vec<FetchLogEntry>,
    /// Audit data.
    pub audit: AuditInfo,
    /// Commit even when verification fails (`--force`).
    pub force: bool,
}

/// How many summary rows a swap found for each of its keys before it collapsed legacy
/// duplicates (exactly one is kept; see [`DaySwap::swap`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DuplicatesRemoved {
    /// `(table, key, model, rows removed)` for every key that had more than one row.
    pub removed: Vec<(String, String, String, u64)>,
}

/// What the store hands the caller, inside the swap's transaction, to derive summaries.
#[derive(Debug, Clone, Default)]
pub struct DeriveContext {
    /// Every record of the date after the new ones were inserted (all periods).
    pub day_records: Vec<CurtailmentRecord>,
    /// The daily summaries of the month's *other* days.
    pub month_other_dailies: Vec<DailySummary>,
    /// The monthly summaries of the year's *other* months.
    pub year_other_monthlies: Vec<MonthlySummary>,
    /// Bitcoin daily summaries of the month's other days (all miner models).
    pub month_other_bitcoin_dailies: Vec<BitcoinSummary>,
    /// Bitcoin monthly summaries of the year's other months (all miner models).
    pub year_other_bitcoin_monthlies: Vec<BitcoinSummary>,
}

/// What the caller derived; the store writes it in the same transaction.
#[derive(Debug, Clone)]
pub struct DerivedRows {
    /// The date's daily summary.
    pub daily: DailySummary,
    /// The month's summary.
    pub monthly: MonthlySummary,
    /// The year's summary.
    pub yearly: YearlySummary,
    /// Bitcoin rows for every record of the date (all periods, all models): the store
    /// replaces all of the date's bitcoin rows with these.
    pub bitcoin_rows: Vec<BitcoinRow>,
    /// Bitcoin daily, monthly and yearly summaries for the date, its month and its year,
    /// one per miner model.
    pub bitcoin_summaries: Vec<BitcoinSummary>,
}

/// The stored state of one date, as read back (also used outside swaps, by verify).
#[derive(Debug, Clone, Default, Serialize)]
pub struct DayState {
    /// The date's records (all periods), ordered by period, side, sequence, farm.
    pub records: Vec<CurtailmentRecord>,
    /// The date's daily summary, if any.
    pub daily: Option<DailySummary>,
    /// The month's summary, if any.
    pub monthly: Option<MonthlySummary>,
    /// The year's summary, if any.
    pub yearly: Option<YearlySummary>,
    /// Every daily summary of the date's month (including the date).
    pub month_dailies: Vec<DailySummary>,
    /// Every monthly summary of the date's year.
    pub year_monthlies: Vec<MonthlySummary>,
    /// The date's bitcoin rows.
    pub bitcoin_rows: Vec<BitcoinRow>,
    /// Bitcoin summaries of the day, its month and its year (every model). Where legacy
    /// duplicates exist, every row is returned.
    pub bitcoin_summaries: Vec<BitcoinSummary>,
    /// Bitcoin daily summaries of the month's days (every model).
    pub month_bitcoin_dailies: Vec<BitcoinSummary>,
    /// Bitcoin monthly summaries of the year's months (every model).
    pub year_bitcoin_monthlies: Vec<BitcoinSummary>,
    /// The fetch log of the date (latest entry per period and side).
    pub fetch_log: Vec<FetchLogEntry>,
    /// How many rows the daily, monthly and yearly summary tables hold for the date's keys
    /// (the platform's primary keys make more than one impossible there; zero is possible).
    pub summary_row_counts: [u64; 3],
}

/// Why the caller's hooks could not derive the rows of a swap (the store rolls back and
/// reports it as [`StoreError::Hook`]).
pub type HookError = Box<dyn std::error::Error + Send + Sync>;

/// The caller's verdict on the state read back inside the transaction.
pub trait SwapHooks {
    /// Derives summaries and bitcoin rows from the context.
    fn derive(&mut self, ctx: &DeriveContext) -> Result<DerivedRows, HookError>;
    /// Checks the state read back; `true` commits, `false` rolls back (unless forced).
    fn verify(&mut self, state: &DayState) -> bool;
}

/// The result of a committed or rolled-back swap.
#[derive(Debug, Clone, Serialize)]
pub struct SwapOutcome {
    /// The run id.
    pub run_id: String,
    /// Whether the transaction committed.
    pub committed: bool,
    /// Totals of the replaced periods before the swap.
    pub before: settlement_model::DayTotals,
    /// Totals of the replaced periods after the swap.
    pub after: settlement_model::DayTotals,
    /// The records of the replaced periods before the swap (what it backed up), in their
    /// stored order: the caller compares them with the new ones without reading the day.
    #[serde(skip)]
    pub replaced: Vec<CurtailmentRecord>,
}

/// One run of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditRow {
    /// Run id.
    pub run_id: String,
    /// What the run did.
    pub kind: RunKind,
    /// The date.
    pub settlement_date: SettlementDate,
    /// The periods, `A-B`.
    pub periods: String,
    /// The reason.
    pub reason: Option<String>,
    /// The user.
    pub user: String,
    /// The host.
    pub host: String,
    /// How the run stands.
    pub status: RunStatus,
    /// Records before.
    pub records_before: i64,
    /// Records after.
    pub records_after: i64,
    /// Energy before, MWh.
    pub energy_before: Decimal,
    /// Energy after, MWh.
    pub energy_after: Decimal,
    /// Payment before, £.
    pub payment_before: Decimal,
    /// Payment after, £.
    pub payment_after: Decimal,
    /// Per-period record counts after, JSON object `{"1": 3, …}`.
    pub per_period_counts: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How long it took, ms: wall time from `started_at` (before fetching) to the moment
    /// its outcome was written, which for a committed run is in the commit's transaction.
    pub duration_ms: i64,
    /// Tool version.
    pub tool_version: String,
    /// The error or verification failure, if any.
    pub detail: Option<String>,
    /// The difficulty and subsidy its bitcoin figures used (runs before this was recorded
    /// have none).
    pub inputs: Option<BitcoinInputs>,
    /// When `archive prune` deleted the run's backup (it can no longer be restored).
    pub backup_pruned_at: Option<DateTime<Utc>>,
    /// The range the run was part of (`FROM..TO`); runs outside a range, and runs from
    /// before this was recorded, have none.
    #[serde(default)]
    pub range_tag: Option<String>,
}

impl AuditRow {
    /// Whether the run's rows were committed (`committed`, or `forced` past failed checks).
    pub fn committed(&self) -> bool {
        self.status.committed()
    }
}

/// The schema: migrations of the store's own tables.
pub trait Migrations: Send + Sync {
    /// Applies pending migrations (idempotent).
    fn migrate(&self) -> Result<(), StoreError>;
    /// The names of the migrations not yet applied (empty: the schema is current).
    fn pending_migrations(&self) -> Result<Vec<String>, StoreError>;
}

/// The BM unit registry and where it came from.
pub trait UnitRegistry: Send + Sync {
    /// The BM unit registry.
    fn bm_units(&self) -> Result<Vec<BmUnit>, StoreError>;
    /// Replaces the registry with `units` from `origin`, recording `counts` (what the
    /// registry's rules, [`settlement_model::admit_bm_units`], left out or merged) in its state
    /// row; returns how many were written. Units must have distinct ids (the rules see to
    /// it): a list that repeats one is [`StoreError::InvalidInput`] naming it, nothing written.
    fn replace_bm_units(
        &self,
        units: &[BmUnit],
        origin: RegistryOrigin,
        counts: RegistryCounts,
    ) -> Result<usize, StoreError>;
    /// Where the registry came from and when (`None`: filled before this was recorded).
    fn registry_state(&self) -> Result<Option<RegistryState>, StoreError>;
}

/// The difficulty table (with block heights) and the halving days.
pub trait DifficultyTable: Send + Sync {
    /// The difficulty table around `date` (see [`DifficultyAround`]).
    fn difficulty_around(&self, date: NaiveDate) -> Result<DifficultyAround, StoreError>;
    /// The whole difficulty table, oldest first, in one read: what a range of dates resolves
    /// every date's difficulty from ([`DifficultyAround::within`]) instead of a read per date.
    fn difficulty_entries(&self) -> Result<Vec<DifficultyEntry>, StoreError>;
    /// Inserts or replaces difficulty entries (a known block height is kept when an entry
    /// without one replaces it); returns how many were written.
    fn upsert_difficulties(&self, rows: &[DifficultyEntry]) -> Result<usize, StoreError>;
    /// Every known halving, by height.
    fn halvings(&self) -> Result<Vec<Halving>, StoreError>;
    /// Records the day of a halving (`source`: who said so, e.g. `operator`).
    fn upsert_halving(&self, halving: Halving, source: &str) -> Result<(), StoreError>;
}

/// The day swap, the stored state it verifies, and the backups it leaves (restores are
/// swaps of a backup).
pub trait DaySwap: Send + Sync {
    /// Reads the stored state of `date`.
    fn day_state(&self, date: SettlementDate) -> Result<DayState, StoreError>;
    /// Reads only the records of `date` (what a run compares its new records with); a
    /// store can answer it without reading the rest of the day's state.
    fn day_records(&self, date: SettlementDate) -> Result<Vec<CurtailmentRecord>, StoreError> {
        Ok(self.day_state(date)?.records)
    }
    /// Reads the stored state of every date `from..=to`, in date order: what `reingest
    /// status` and `reconcile` assess. The default reads one date at a time; the SQL store
    /// reads the whole range in a fixed number of statements, however many dates it has.
    fn day_states(
        &self,
        from: SettlementDate,
        to: SettlementDate,
    ) -> Result<Vec<(SettlementDate, DayState)>, StoreError> {
        from.through(to)
            .map(|d| Ok((d, self.day_state(d)?)))
            .collect()
    }
    /// The day swap, in one transaction (see the crate docs). Every write of the day's
    /// records goes through here: runs, partial runs, recomputes and restores.
    fn swap(&self, plan: SwapPlan, hooks: &mut dyn SwapHooks) -> Result<SwapOutcome, StoreError>;
    /// The records run `run_id` replaced (its backup), in their original order.
    fn backup_records(&self, run_id: &str) -> Result<Vec<CurtailmentRecord>, StoreError>;
    /// Deletes the backups of these runs (they can no longer be restored); returns how many
    /// backed-up rows were deleted.
    fn delete_backups(&self, run_ids: &[String]) -> Result<u64, StoreError>;
}

/// The audit log: runs, their fetch logs, and runs that failed before their swap.
pub trait AuditLog: Send + Sync {
    /// One run of the audit log.
    fn run(&self, run_id: &str) -> Result<Option<AuditRow>, StoreError>;
    /// Records a run's evidence, and the registry snapshot (`registry_json`, stored once per
    /// hash) it names.
    fn record_evidence(
        &self,
        evidence: &RunEvidence,
        registry_json: &str,
    ) -> Result<(), StoreError>;
    /// The evidence `run_id` recorded, if any.
    fn evidence(&self, run_id: &str) -> Result<Option<RunEvidence>, StoreError>;
    /// The registry snapshot filed under `hash`, as stored.
    fn registry_snapshot(&self, hash: &str) -> Result<Option<String>, StoreError>;
    /// The audit log, newest first, optionally for one date: every run (a restore needs a
    /// date's whole history). To show the log, read a page with [`AuditLog::runs_page`].
    fn runs(&self, date: Option<SettlementDate>) -> Result<Vec<AuditRow>, StoreError>;
    /// The audit rows of every date `from..=to`, newest first. The default reads one date
    /// at a time; the SQL store reads them in one statement.
    fn runs_between(
        &self,
        from: SettlementDate,
        to: SettlementDate,
    ) -> Result<Vec<AuditRow>, StoreError> {
        let mut all = Vec::new();
        for d in from.through(to) {
            all.extend(self.runs(Some(d))?);
        }
        all.sort_by_key(|r| std::cmp::Reverse(r.started_at));
        Ok(all)
    }
    /// A page of the audit log, newest first: at most `query.limit` runs, of one date and
    /// started since a day when the query says so, read in one statement.
    fn runs_page(&self, query: &RunsQuery) -> Result<Vec<AuditRow>, StoreError>;
    /// The fetch log a run wrote: which source (hash) each period and side came from.
    fn run_fetch_log(&self, run_id: &str) -> Result<Vec<FetchLogEntry>, StoreError>;
    /// The dates whose newest run is a committed run of the range `range_tag` (see
    /// [`AuditInfo::range_tag`]), oldest first: what `reingest range --resume` skips. Read
    /// through the column's index, not the audit log whole; a reason that merely mentions
    /// the range does not count.
    fn dates_done_in_range(&self, range_tag: &str) -> Result<Vec<SettlementDate>, StoreError>;
    /// Writes an audit row for a run that failed before its swap (e.g. a fetch error).
    fn record_failed_run(
        &self,
        audit: &AuditInfo,
        date: SettlementDate,
        periods: PeriodRange,
        detail: &str,
    ) -> Result<(), StoreError>;
}

/// The persistence stage: every role a store plays for the pipeline. Implemented for
/// anything that implements all of them, so another service can put its own store (or only
/// some roles of it, in tests) behind the pipeline.
pub trait SettlementStore:
    Migrations + UnitRegistry + DifficultyTable + DaySwap + AuditLog
{
}

impl<T> SettlementStore for T where
    T: Migrations + UnitRegistry + DifficultyTable + DaySwap + AuditLog + ?Sized
{
}

/// The store's traits, for callers that use a concrete store's methods.
pub mod prelude {
    pub use crate::{
        AuditLog, DaySwap, DifficultyTable, Migrations, SettlementStore, SourceArchive,
        UnitRegistry,
    };
}
