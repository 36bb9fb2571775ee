//! The pipeline's facade: [`Pipeline`] holds the shared context of its operations (source,
//! store, settings) and hands each call to the operation's own module under
//! [`crate::ops`]; `fetch → process → (one transaction: backup, clear, insert, summarize,
//! recalc, verify) → audit`, generic over the source and the store.

use std::sync::Arc;

use rust_decimal::Decimal;
use settlement_model::{BitcoinInputs, BmRegistry, BmUnitList, RegistryOrigin, SettlementDate};
use store::{AuditRow, SettlementStore, SourceArchive};

use elexon_client::SettlementSource;

use crate::error::PipelineError;
use crate::evidence::archive::{DiffReport, PruneReport};
use crate::evidence::EvidenceDocument;
use crate::ops::assess::{AssessOptions, Assessment};
use crate::ops::context::Context;
use crate::ops::feed::DifficultyFeed;
use crate::ops::range::{RangeOptions, RangeReport, ReconcileOptions, ReconcileReport};
use crate::ops::registry_report::RegistryReport;
use crate::ops::reports::{RunReport, VerifyReport};
use crate::ops::run_evidence::RunListing;
use crate::ops::run_ref::RunRef;
use crate::ops::verify_day::VerifyOptions;
use crate::ops::{
    archive_ops, assess, inputs, range, registry, replay, restore, run, run_evidence, verify_day,
};
use crate::output::document::{self, RunDocument};

pub use crate::ops::config::{Clock, Operator, PipelineConfig, RunOptions};
pub use crate::ops::progress::{IntoProgress, NoProgress, Progress};

/// The reingestion pipeline over a source `S` and a store `St`.
///
/// **Start with [`Pipeline::builder`]**: from a database URL and an API URL it builds the
/// pipeline the `reingest` binary runs ([`StandardPipeline`](crate::StandardPipeline)),
/// with the difficulty feed and the source archive on, connected and migrated without
/// blocking the async runtime. On a fresh database the first run fills the BM unit registry
/// from the API and the difficulty table from the feed:
///
/// ```
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = elexon_sim::Simulator::start(elexon_sim::SimConfig::default()).await?;
/// # let dir = tempfile::tempdir()?;
/// # let database_url = format!("sqlite://{}", dir.path().join("curtailment.db").display());
/// # let api_url = sim.base_url(); // the bundled simulator stands in for the Elexon API
/// use reingest::{Pipeline, RunOptions};
///
/// let pipeline = Pipeline::builder(&database_url, &api_url)
/// #   .difficulty_url(sim.difficulty_url())
///     .build()
///     .await?;
/// let report = pipeline.run(&RunOptions::new("2024-03-21".parse()?), None).await?;
/// println!("{} records, {} MWh, verified: {}", report.records, report.energy_mwh, report.verification.ok);
/// # assert!(report.verification.ok);
/// # Ok(()) }
/// ```
///
/// With your own source or store, [`Pipeline::new`] takes them as they are; add what the
/// builder adds by default: [`Pipeline::with_difficulty_feed`] (else a run on a store with
/// no current difficulty stops, see [`Pipeline::sync_difficulty`]) and
/// [`Pipeline::with_archive`], then [`Pipeline::prepare`] (migrations).
/// [`store::DieselStore::connect`] blocks (it opens and probes connections): call it on
/// tokio's blocking pool, as the builder does.
///
/// ```no_run
/// # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
/// use std::sync::Arc;
/// use reingest::{HttpDifficultyFeed, Pipeline, PipelineConfig};
/// use elexon_client::{ClientConfig, HttpSource};
/// use store::{DieselStore, StoreConfig};
///
/// let source = HttpSource::new(ClientConfig::default())?;
/// let store = tokio::task::spawn_blocking(|| {
///     DieselStore::connect("sqlite://reingest.db", StoreConfig::default())
/// })
/// .await??;
/// let store = Arc::new(store);
/// let feed = HttpDifficultyFeed::new(source.clone(), HttpDifficultyFeed::DEFAULT_URL);
/// let pipeline = Pipeline::new(source, Arc::clone(&store), PipelineConfig::default())
///     .with_difficulty_feed(Arc::new(feed))
///     .with_archive(store);
/// pipeline.prepare().await?;
/// # Ok(()) }
/// ```
pub struct Pipeline<S, St> {
    cx: Context<S, St>,
}

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// A pipeline over `source` and `store`.
    pub fn new(source: S, store: Arc<St>, config: PipelineConfig) -> Self {
        Self {
            cx: Context::new(source, store, config),
        }
    }

    /// Keep every raw response a run uses in `archive` (by content hash), so the day can be
    /// recomputed offline ([`Pipeline::run_from_archive`]) and compared ([`Pipeline::diff`]).
    pub fn with_archive(mut self, archive: Arc<dyn SourceArchive>) -> Self {
        self.cx.archive = Some(archive);
        self
    }

    /// Where to fetch a difficulty the store does not know.
    pub fn with_difficulty_feed(mut self, feed: Arc<dyn DifficultyFeed>) -> Self {
        self.cx.difficulty_feed = Some(feed);
        self
    }

    /// Use `difficulty` for every date instead of the store's table (`--difficulty`).
    pub fn with_difficulty_override(mut self, difficulty: Decimal) -> Self {
        self.cx.config.difficulty_override = Some(difficulty);
        self
    }

    /// Take `clock` as now when refusing dates and periods not published yet (see
    /// [`PipelineConfig::clock`]).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.cx.config.clock = clock;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<St> {
        &self.cx.store
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.cx.source
    }

    /// The settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.cx.config
    }

    /// The store's migrations not applied yet (empty when it is current).
    pub async fn pending_migrations(&self) -> Result<Vec<String>, PipelineError> {
        self.cx.with_store(|s| s.pending_migrations()).await
    }

    /// Applies the store's migrations.
    pub async fn prepare(&self) -> Result<(), PipelineError> {
        self.cx.with_store(|s| s.migrate()).await
    }

    /// Reingests a date (or period range): the whole pipeline (see `ARCHITECTURE.md`).
    /// `progress`: `None`, or callbacks ([`IntoProgress`]).
    pub async fn run<'p>(
        &self,
        opts: &RunOptions,
        progress: impl IntoProgress<'p>,
    ) -> Result<RunReport, PipelineError> {
        run::run(&self.cx, opts, progress).await
    }

    /// Reingests every date of `opts`, `jobs` at a time: fetched from the API, or (with
    /// [`RangeOptions::from_archive`]) recomputed from the archive, in one call.
    /// `progress`: `None`, or callbacks ([`IntoProgress`]; [`Progress::date_done`] counts
    /// the dates).
    ///
    /// ```no_run
    /// # async fn demo(pipeline: &reingest::StandardPipeline) -> Result<(), reingest::PipelineError> {
    /// use reingest::{ArchiveReplay, RangeOptions, SettlementDate};
    /// let (from, to): (SettlementDate, SettlementDate) = ("2024-01-01".parse()?, "2024-12-31".parse()?);
    /// let opts = RangeOptions::new(from, to, 4, Some("add S21".into()))?
    ///     .from_archive(ArchiveReplay::default());
    /// let report = pipeline.range(&opts, None).await?;
    /// println!("{} dates, exit code {}", report.dates.len(), report.exit_code());
    /// # Ok(()) }
    /// ```
    pub async fn range<'p>(
        &self,
        opts: &RangeOptions,
        progress: impl IntoProgress<'p>,
    ) -> Result<RangeReport, PipelineError> {
        range::range(&self.cx, opts, progress).await
    }

    /// Finds dates whose data is missing, inconsistent, whose newest run failed, or (with the
    /// API) drifted; optionally reingests them. It is the assessment
    /// ([`Pipeline::assess`], which `status` prints) plus `--fix`: one code path.
    pub async fn reconcile<'p>(
        &self,
        opts: &ReconcileOptions,
        progress: impl IntoProgress<'p>,
    ) -> Result<ReconcileReport, PipelineError> {
        range::reconcile(&self.cx, opts, progress).await
    }

    /// Assesses every date of the range (see the module docs): the stored state and audit
    /// rows of the whole range in a fixed number of statements, `verify`'s checks on each
    /// date, and (with `against_api`) each date compared with the API.
    pub async fn assess(
        &self,
        opts: &AssessOptions,
        progress: &dyn Progress,
    ) -> Result<Assessment, PipelineError> {
        assess::assess(&self.cx, opts, progress).await
    }

    /// Verifies the stored date without changing it; with
    /// [`VerifyOptions::against_api`], also fetches the day again and reports per-period
    /// drift. `progress`: `None`, or callbacks ([`crate::IntoProgress`]).
    pub async fn verify<'p>(
        &self,
        date: SettlementDate,
        options: impl Into<VerifyOptions>,
        progress: impl IntoProgress<'p>,
    ) -> Result<VerifyReport, PipelineError> {
        verify_day::verify(&self.cx, date, options, progress).await
    }

    /// Restores run `run_id` through the one verified swap: the periods it replaced hold
    /// again what they held before it, every other period keeps what it holds now, and
    /// summaries and bitcoin are recomputed and verified (a failed check changes nothing).
    /// When a later committed run replaced any of the same periods, the restore stops with
    /// [`store::StoreError::LaterRuns`] unless `force`.
    pub async fn restore(&self, run_id: &str, force: bool) -> Result<RunReport, PipelineError> {
        restore::restore(&self.cx, run_id, force).await
    }

    /// Recomputes a date from the responses run `run_id` (default: the date's latest
    /// committed run) used, with no network, as a new audited run.
    ///
    /// With `as_recorded`, the replay uses exactly the reference data the run recorded (its
    /// registry snapshot, difficulty, subsidy and miner models) and must reproduce its
    /// fingerprint: a mismatch fails verification (`fingerprint_matches_recorded`), rolls
    /// back and exits 1. Without it, today's registry and difficulty are used (the way to
    /// apply a fixed registry to archived days) and the report lists which reference data
    /// differed from the original run's.
    pub async fn run_from_archive<'p>(
        &self,
        opts: &RunOptions,
        run_id: Option<&str>,
        as_recorded: bool,
        progress: impl IntoProgress<'p>,
    ) -> Result<RunReport, PipelineError> {
        replay::run_from_archive(&self.cx, opts, run_id, as_recorded, progress).await
    }

    /// The evidence document `run_id` recorded, if any.
    pub async fn evidence(&self, run_id: &str) -> Result<Option<EvidenceDocument>, PipelineError> {
        run_evidence::evidence(&self.cx, run_id).await
    }

    /// The audit rows with each run's fingerprint and whether its evidence is complete (the
    /// evidence document and the registry snapshot it names are both stored).
    pub async fn listing(&self, runs: Vec<AuditRow>) -> Result<Vec<RunListing>, PipelineError> {
        run_evidence::listing(&self.cx, runs).await
    }

    /// What changed in `date` between two runs, from their archived sources. Defaults: the
    /// date's last two runs with sources (`run_b` the newer).
    pub async fn diff(
        &self,
        date: SettlementDate,
        run_a: Option<&str>,
        run_b: Option<&str>,
    ) -> Result<DiffReport, PipelineError> {
        archive_ops::diff(&self.cx, date, run_a, run_b).await
    }

    /// Deletes archived sources except those of the newest `keep_last` runs of every date,
    /// and the backups of all but the newest `keep_last` committed runs of every date (at
    /// least the newest run of each date always keeps both). Refused while a run is in
    /// progress.
    pub async fn prune_archive(&self, keep_last: usize) -> Result<PruneReport, PipelineError> {
        archive_ops::prune_archive(&self.cx, keep_last).await
    }

    /// The document of run `what` (a run id), or of the newest committed run of a date
    /// (`YYYY-MM-DD`).
    pub async fn report(&self, what: &RunRef) -> Result<RunDocument, PipelineError> {
        document::report(&self.cx, what).await
    }

    /// Fetches the difficulty feed into the store; returns how many entries were written.
    pub async fn sync_difficulty(&self) -> Result<usize, PipelineError> {
        inputs::sync_difficulty(&self.cx).await
    }

    /// What the bitcoin figures of `date` rest on, by the trust rules: the difficulty in
    /// force (the override, or the table's newest adjustment on or before the date when a
    /// later one is known or it is at most 21 days old, else the feed is synced once) and
    /// the block subsidy (from the halving days and the adjustments' block heights). Any
    /// input that cannot be established is an error before anything is written.
    pub async fn bitcoin_inputs(
        &self,
        date: SettlementDate,
    ) -> Result<BitcoinInputs, PipelineError> {
        inputs::bitcoin_inputs(&self.cx, date).await
    }

    /// Replaces the BM unit registry with the source's list, under the registry's rules
    /// ([`settlement_model::admit_bm_units`]): units without an Elexon id left out and
    /// counted, repeated ids that agree merged, the first kept of those that differ in other
    /// fields than the fuel type. A fuel-type conflict is [`RegistryError::FuelTypeConflict`](crate::RegistryError::FuelTypeConflict)
    /// and nothing is written.
    pub async fn sync_bm_units(&self) -> Result<RegistryReport, PipelineError> {
        registry::sync_bm_units(&self.cx).await
    }

    /// Replaces the BM unit registry with `list` from `origin` under the registry's rules
    /// (see [`Pipeline::sync_bm_units`]); the counts go to the registry's state row
    /// ([`store::RegistryState::counts`]) and into the returned report. `bmu import` calls
    /// it with the platform's file.
    pub async fn replace_registry(
        &self,
        list: BmUnitList,
        origin: RegistryOrigin,
    ) -> Result<RegistryReport, PipelineError> {
        registry::replace_registry(&self.cx, list, origin).await
    }

    /// The registry, filled from the source first when it is empty.
    pub async fn ensure_registry(&self) -> Result<BmRegistry, PipelineError> {
        registry::ensure_registry(&self.cx).await
    }
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
