//! [`DieselStore`]: the [`SettlementStore`](crate::SettlementStore) on PostgreSQL or SQLite,
//! and its roles, each delegating to the module that does the work: connecting
//! ([`crate::connect`]), migrations, reference data, the day swap (the one sequence in
//! [`crate::swap`], its steps on a connection in `diesel_swap.rs`), the audit log and its
//! evidence ([`crate::audit`]), and the source archive.

use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use settlement_model::{
    BmUnit, CurtailmentRecord, DifficultyEntry, Halving, PeriodRange, RegistryCounts,
    RegistryOrigin, SettlementDate,
};

use crate::archive::{self, ArchiveLocation, ArchivedSource, SourceArchive};
use crate::audit::evidence;
use crate::audit::runs::{dates_done_in_range, read_runs, Select};
use crate::audit::write::upsert_audit;
use crate::audit::RunsQuery;
use crate::connect::{Backend, Conn, Pools, StoreConfig};
use crate::diesel_swap::SwapEnv;
use crate::error::{redact_text, redact_url};
use crate::read::{read_day_state, read_records, read_run_fetch_log};
use crate::swap;
use crate::{
    AuditInfo, AuditLog, AuditRow, DayState, DaySwap, DifficultyAround, DifficultyTable,
    FetchLogEntry, Migrations, RegistryState, RunEvidence, StoreError, SwapHooks, SwapOutcome,
    SwapPlan, UnitRegistry,
};

/// The [`SettlementStore`](crate::SettlementStore) on PostgreSQL (`postgres://…`) or SQLite (`sqlite://PATH`,
/// `sqlite::memory:`). Cheap to clone; every clone shares one connection pool, so one store
/// serves many threads.
#[derive(Clone)]
pub struct DieselStore {
    inner: Arc<Inner>,
}

struct Inner {
    pools: Pools,
    config: StoreConfig,
    url: String,
    archive: ArchiveLocation,
}

impl std::fmt::Debug for DieselStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DieselStore")
            .field("url", &self.inner.url)
            .field("config", &self.inner.config)
            .finish()
    }
}

impl DieselStore {
    /// Connects to `url`: `sqlite://PATH` (the file is created if missing),
    /// `sqlite::memory:`, or `postgres://` / `postgresql://`. Does not migrate.
    pub fn connect(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        let redacted = redact_url(url);
        let (pools, sqlite_file) = Pools::open(url, &redacted, &config)?;
        let archive = match (&config.archive_dir, sqlite_file) {
            (Some(dir), _) => ArchiveLocation::Folder(dir.clone()),
            (None, Some(file)) => {
                ArchiveLocation::Folder(std::path::PathBuf::from(format!("{file}.archive")))
            }
            (None, None) => ArchiveLocation::Table,
        };
        Ok(Self {
            inner: Arc::new(Inner {
                pools,
                config,
                url: redacted,
                archive,
            }),
        })
    }

    /// Connects with [`StoreConfig::default`] and applies pending migrations.
    pub fn open(url: &str) -> Result<Self, StoreError> {
        let store = Self::connect(url, StoreConfig::default())?;
        store.migrate()?;
        Ok(store)
    }

    /// The pending migrations, each with the SQL it would run (for `migrate --dry-run`).
    pub fn pending_migration_sql(&self) -> Result<Vec<(String, &'static str)>, StoreError> {
        let mut conn = self.conn()?;
        let names = crate::migrations::pending(&mut conn)?;
        Ok(crate::migrations::sql_of(&conn, &names))
    }

    /// The backend this store talks to.
    pub fn backend(&self) -> Backend {
        self.inner.pools.backend()
    }

    /// The database URL with its password redacted.
    pub fn redacted_url(&self) -> &str {
        &self.inner.url
    }

    /// Where archived source responses are kept: a folder, or `None` for the database's
    /// `source_archive` table.
    pub fn archive_dir(&self) -> Option<&std::path::Path> {
        match &self.inner.archive {
            ArchiveLocation::Folder(p) => Some(p),
            ArchiveLocation::Table => None,
        }
    }

    /// The configuration in force.
    pub fn config(&self) -> &StoreConfig {
        &self.inner.config
    }

    /// One pooled connection.
    pub(crate) fn conn(&self) -> Result<Conn, StoreError> {
        self.inner.pools.get()
    }

    /// How long a write waits for a lock on this store's backend.
    pub(crate) fn lock_wait(&self) -> Duration {
        self.inner.config.lock_wait(self.backend())
    }

    /// A lock timeout outside a swap, with the wait filled in.
    fn with_wait(&self, e: StoreError) -> StoreError {
        swap::with_wait(e, self.lock_wait())
    }
}

impl Migrations for DieselStore {
    fn migrate(&self) -> Result<(), StoreError> {
        let mut conn = self.conn()?;
        // Nothing pending (the common case): no lock taken at all.
        if crate::migrations::pending(&mut conn)?.is_empty() {
            return Ok(());
        }
        crate::migrations::migrate(&mut conn).map_err(|e| self.with_wait(e))
    }

    fn pending_migrations(&self) -> Result<Vec<String>, StoreError> {
        let mut conn = self.conn()?;
        crate::migrations::pending(&mut conn)
    }
}

impl UnitRegistry for DieselStore {
    fn bm_units(&self) -> Result<Vec<BmUnit>, StoreError> {
        self.conn()?.single(crate::reference::bm_units)
    }

    fn replace_bm_units(
        &self,
        units: &[BmUnit],
        origin: RegistryOrigin,
        counts: RegistryCounts,
    ) -> Result<usize, StoreError> {
        let mut ids = std::collections::HashSet::with_capacity(units.len());
        for u in units {
            if !ids.insert(u.elexon_bm_unit.as_str()) {
                return Err(StoreError::InvalidInput {
                    reason: format!(
                        "the BM unit list names {} more than once; nothing was written \
                         (the registry's rules, `settlement_model::admit_bm_units`, merge or \
                         refuse repeated ids before a list is stored)",
                        u.elexon_bm_unit
                    ),
                });
            }
            let texts = [
                Some(u.elexon_bm_unit.as_str()),
                u.national_grid_bm_unit.as_deref(),
                u.bm_unit_name.as_deref(),
                u.lead_party_name.as_deref(),
                u.fuel_type.as_deref(),
            ];
            for t in texts.into_iter().flatten() {
                crate::contract::check_text("BM unit field", t)?;
            }
        }
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::reference::replace_bm_units(db, units, origin, counts))
            .map_err(|e| self.with_wait(e))
    }

    fn registry_state(&self) -> Result<Option<RegistryState>, StoreError> {
        self.conn()?.single(crate::reference::registry_state)
    }
}

impl DifficultyTable for DieselStore {
    fn difficulty_around(&self, date: NaiveDate) -> Result<DifficultyAround, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::reference::difficulty_around(db, date))
    }

    fn difficulty_entries(&self) -> Result<Vec<DifficultyEntry>, StoreError> {
        self.conn()?.single(crate::reference::difficulty_entries)
    }

    fn upsert_difficulties(&self, rows: &[DifficultyEntry]) -> Result<usize, StoreError> {
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::reference::upsert_difficulties(db, rows))
            .map_err(|e| self.with_wait(e))
    }

    fn halvings(&self) -> Result<Vec<Halving>, StoreError> {
        self.conn()?.single(crate::reference::halvings)
    }

    fn upsert_halving(&self, halving: Halving, source: &str) -> Result<(), StoreError> {
        crate::contract::check_text("source", source)?;
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::reference::upsert_halving(db, halving, source))
            .map_err(|e| self.with_wait(e))
    }
}

impl DaySwap for DieselStore {
    fn day_state(&self, date: SettlementDate) -> Result<DayState, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| read_day_state(db, date))
    }

    fn day_states(
        &self,
        from: SettlementDate,
        to: SettlementDate,
    ) -> Result<Vec<(SettlementDate, DayState)>, StoreError> {
        let mut conn = self.conn()?;
        let second = self.inner.pools.second_pg();
        conn.read_tx(|db| crate::range_read::read_day_states(db, second, from, to))
    }

    fn day_records(&self, date: SettlementDate) -> Result<Vec<CurtailmentRecord>, StoreError> {
        self.conn()?.single(|db| read_records(db, date, None))
    }

    fn swap(&self, plan: SwapPlan, hooks: &mut dyn SwapHooks) -> Result<SwapOutcome, StoreError> {
        let mut env = SwapEnv {
            conn: self.conn()?,
            config: self.config(),
            lock_wait: self.lock_wait(),
        };
        swap::run_swap(&mut env, plan, hooks)
    }

    fn backup_records(&self, run_id: &str) -> Result<Vec<CurtailmentRecord>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| crate::read::read_backup_records(db, run_id))
    }

    fn delete_backups(&self, run_ids: &[String]) -> Result<u64, StoreError> {
        let mut conn = self.conn()?;
        conn.write_tx(|db| crate::write::delete_backups(db, run_ids))
            .map_err(|e| self.with_wait(e))
    }
}

impl AuditLog for DieselStore {
    fn record_evidence(
        &self,
        evidence: &RunEvidence,
        registry_json: &str,
    ) -> Result<(), StoreError> {
        // No transaction: the snapshot goes first and is idempotent, so the evidence row
        // never names a missing one, and an orphan snapshot is harmless.
        self.conn()?
            .single_write(|db| evidence::record(db, evidence, registry_json))
            .map_err(|e| self.with_wait(e))
    }

    fn evidence(&self, run_id: &str) -> Result<Option<RunEvidence>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| evidence::read(db, run_id))
    }

    fn registry_snapshot(&self, hash: &str) -> Result<Option<String>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| evidence::registry_snapshot(db, hash))
    }

    fn run(&self, run_id: &str) -> Result<Option<AuditRow>, StoreError> {
        let mut conn = self.conn()?;
        Ok(conn
            .read_tx(|db| {
                let select = Select {
                    run_id: Some(run_id),
                    ..Select::default()
                };
                read_runs(db, &select)
            })?
            .into_iter()
            .next())
    }

    fn runs(&self, date: Option<SettlementDate>) -> Result<Vec<AuditRow>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| {
            let select = Select {
                date,
                ..Select::default()
            };
            read_runs(db, &select)
        })
    }

    fn runs_page(&self, query: &RunsQuery) -> Result<Vec<AuditRow>, StoreError> {
        self.conn()?
            .single(|db| read_runs(db, &Select::from(query)))
    }

    fn runs_between(
        &self,
        from: SettlementDate,
        to: SettlementDate,
    ) -> Result<Vec<AuditRow>, StoreError> {
        self.conn()?
            .single(|db| crate::range_read::read_runs_between(db, from, to))
    }

    fn run_fetch_log(&self, run_id: &str) -> Result<Vec<FetchLogEntry>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| read_run_fetch_log(db, run_id))
    }

    fn dates_done_in_range(&self, range_tag: &str) -> Result<Vec<SettlementDate>, StoreError> {
        let mut conn = self.conn()?;
        conn.read_tx(|db| dates_done_in_range(db, range_tag))
    }

    fn record_failed_run(
        &self,
        audit: &AuditInfo,
        date: SettlementDate,
        periods: PeriodRange,
        detail: &str,
    ) -> Result<(), StoreError> {
        // PostgreSQL text cannot hold NUL.
        let detail = redact_text(detail).replace('\0', "\u{FFFD}");
        let row = crate::contract::failed_run_row(audit, date, periods, detail);
        let mut conn = self.conn()?;
        conn.write_tx(|db| upsert_audit(db, &row))
            .map_err(|e| self.with_wait(e))
    }
}

impl SourceArchive for DieselStore {
    fn put_source(&self, format: &str, body: &[u8]) -> Result<String, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_put(dir, format, body),
            ArchiveLocation::Table => self
                .conn()?
                .single_write(|db| archive::table_put(db, format, body)),
        }
    }

    fn put_sources(&self, sources: &[(&str, &[u8])]) -> Result<Vec<String>, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => sources
                .iter()
                .map(|(format, body)| archive::folder_put(dir, format, body))
                .collect(),
            // One statement for a day's responses; no transaction, as entries are
            // content-addressed and idempotent (a partial write is whole entries).
            ArchiveLocation::Table => self
                .conn()?
                .single_write(|db| archive::table_put_many(db, sources)),
        }
    }

    fn get_source(&self, hash: &str) -> Result<ArchivedSource, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_get(dir, hash),
            ArchiveLocation::Table => self.conn()?.single(|db| archive::table_get(db, hash)),
        }
    }

    fn get_sources(&self, hashes: &[String]) -> Result<Vec<ArchivedSource>, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => hashes
                .iter()
                .map(|hash| archive::folder_get(dir, hash))
                .collect(),
            ArchiveLocation::Table => self
                .conn()?
                .single(|db| archive::table_get_many(db, hashes)),
        }
    }

    fn source_hashes(&self) -> Result<Vec<String>, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_hashes(dir),
            ArchiveLocation::Table => self.conn()?.read_tx(archive::table_hashes),
        }
    }

    fn delete_sources(&self, hashes: &[String]) -> Result<usize, StoreError> {
        match &self.inner.archive {
            ArchiveLocation::Folder(dir) => archive::folder_delete(dir, hashes),
            ArchiveLocation::Table => self
                .conn()?
                .write_tx(|db| archive::table_delete(db, hashes)),
        }
    }
}
