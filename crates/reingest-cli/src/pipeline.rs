//! The pipeline: `fetch → process → (one transaction: backup, clear, insert, summarize,
//! recalc, verify) → audit`, generic over the source and the store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinInputs, BmRegistry, CurtailmentRecord, DayTotals, PeriodRange, SettlementDate,
    SummaryPeriod,
};
use store::{
    AuditInfo, DayState, FetchLogEntry, FetchStatus, SettlementStore, SourceArchive, SwapPlan,
};
use tracing::{info, warn};

use bitcoin_calc::MinerModel;
use elexon_client::SettlementSource;

use crate::error::{blocking, PipelineError};
use crate::ops::feed::DifficultyFeed;
use crate::ops::fetch::{fetch_range, process_fetched, FetchedStack};
use crate::ops::hooks::{PipelineHooks, RecordsFrom};
use crate::ops::reports::{group_unclassified, PeriodChange, RunReport};
use crate::verify::{per_period, Check, Expectations, VerificationReport};

/// Who is running the tool, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// OS user name.
    pub user: String,
    /// Host name.
    pub host: String,
}

impl Operator {
    /// The current user and host, as far as the OS tells.
    pub fn current() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        let host = hostname::get()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".to_owned());
        Self { user, host }
    }
}

/// Settings shared by every operation of a [`Pipeline`].
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Miner models to compute bitcoin for (default: the three the platform uses).
    pub miners: Vec<MinerModel>,
    /// Use this difficulty instead of the store's table (`--difficulty`).
    pub difficulty_override: Option<Decimal>,
    /// Who runs it.
    pub operator: Operator,
    /// This tool's version, for the audit log.
    pub tool_version: String,
    /// What the pipeline takes as now when it refuses dates and periods the API cannot have
    /// published yet (a date after today in Europe/London, a period of today that has not
    /// ended).
    pub clock: Clock,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            miners: bitcoin_calc::MinerCatalog::defaults().models().to_vec(),
            difficulty_override: None,
            operator: Operator::current(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            clock: Clock::System,
        }
    }
}

/// The instant a pipeline takes as now.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use reingest::Clock;
/// let fixed = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
/// assert_eq!(Clock::Fixed(fixed).now(), fixed);
/// assert!(Clock::System.now() > fixed - chrono::Duration::days(36500));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock (the default).
    #[default]
    System,
    /// A fixed instant: for tests, and for replaying a simulated future.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The instant taken as now.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at,
        }
    }
}

/// What `run` is asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The date.
    pub date: SettlementDate,
    /// Only these periods (`--periods`); `None` is the whole day.
    pub periods: Option<PeriodRange>,
    /// Fetch and process, report what would change, write nothing.
    pub dry_run: bool,
    /// Why (`--reason`), for the audit log.
    pub reason: Option<String>,
    /// `--expect-energy` / `--expect-payment` and tolerances.
    pub expectations: Expectations,
    /// Commit even when verification fails.
    pub force: bool,
    /// Accept periods the API does not publish (404), recording them as missing.
    pub allow_missing_periods: bool,
    /// Never refresh the BM unit registry, even when it meets unknown unit ids
    /// (`--no-registry-refresh`).
    pub no_registry_refresh: bool,
    /// The range this run is part of (`reingest range`, [`crate::ops::range::RangeOptions::tag`]),
    /// recorded in the audit log so `range --resume` can skip the date.
    pub range_tag: Option<String>,
}

impl RunOptions {
    /// A full-day run with no options.
    pub fn new(date: SettlementDate) -> Self {
        Self {
            date,
            periods: None,
            dry_run: false,
            reason: None,
            expectations: Expectations::default(),
            force: false,
            allow_missing_periods: false,
            no_registry_refresh: false,
            range_tag: None,
        }
    }
}

/// Progress callbacks (a terminal progress bar, or nothing).
pub trait Progress: Send + Sync {
    /// A date's fetch begins with `requests` requests.
    fn fetch_started(&self, _date: SettlementDate, _requests: usize) {}
    /// One request finished.
    fn request_done(&self) {}
    /// One date of a range (of `total`) finished with `records` records (`ok` false when
    /// it failed or did not verify).
    fn date_done(&self, _total: usize, _records: u64, _ok: bool) {}
}

/// Reports no progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a call's `progress` argument may be: `None` (no progress reported), a reference to
/// any [`Progress`] (`&my_bar`, and `&NoProgress` as before), or a `&dyn Progress`.
///
/// ```
/// # async fn demo(pipeline: &reingest::StandardPipeline) -> Result<(), reingest::PipelineError> {
/// use reingest::{RunOptions, SettlementDate};
/// let date: SettlementDate = "2024-03-21".parse()?;
/// let report = pipeline.run(&RunOptions::new(date), None).await?;
/// # Ok(()) }
/// ```
pub trait IntoProgress<'a> {
    /// The callbacks to report to.
    fn into_progress(self) -> &'a dyn Progress;
}

impl<'a, P: Progress> IntoProgress<'a> for &'a P {
    fn into_progress(self) -> &'a dyn Progress {
        self
    }
}

impl<'a> IntoProgress<'a> for &'a dyn Progress {
    fn into_progress(self) -> &'a dyn Progress {
        self
    }
}

impl<'a> IntoProgress<'a> for Option<&'a dyn Progress> {
    fn into_progress(self) -> &'a dyn Progress {
        self.unwrap_or(&NoProgress)
    }
}

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
    source: S,
    store: Arc<St>,
    config: PipelineConfig,
    difficulty_feed: Option<Arc<dyn DifficultyFeed>>,
    /// The one sync of the difficulty feed this pipeline makes, shared by every date.
    feed_synced: tokio::sync::OnceCell<Result<usize, Arc<PipelineError>>>,
    /// The one refresh of the BM unit registry this pipeline makes, shared by every date.
    registry_refreshed: tokio::sync::OnceCell<Result<String, String>>,
    /// Reference data a replay `--as-recorded` fixes: the registry and the bitcoin inputs
    /// the original run recorded, instead of today's.
    recorded: Option<(BmRegistry, BitcoinInputs)>,
    archive: Option<Arc<dyn SourceArchive>>,
}

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// A pipeline over `source` and `store`.
    pub fn new(source: S, store: Arc<St>, config: PipelineConfig) -> Self {
        Self {
            source,
            store,
            config,
            difficulty_feed: None,
            feed_synced: tokio::sync::OnceCell::new(),
            registry_refreshed: tokio::sync::OnceCell::new(),
            recorded: None,
            archive: None,
        }
    }

    /// Keep every raw response a run uses in `archive` (by content hash), so the day can be
    /// recomputed offline ([`Pipeline::run_from_archive`]) and compared ([`Pipeline::diff`]).
    pub fn with_archive(mut self, archive: Arc<dyn SourceArchive>) -> Self {
        self.archive = Some(archive);
        self
    }

    /// Where to fetch a difficulty the store does not know.
    pub fn with_difficulty_feed(mut self, feed: Arc<dyn DifficultyFeed>) -> Self {
        self.difficulty_feed = Some(feed);
        self
    }

    /// Use `difficulty` for every date instead of the store's table (`--difficulty`).
    pub fn with_difficulty_override(mut self, difficulty: Decimal) -> Self {
        self.config.difficulty_override = Some(difficulty);
        self
    }

    /// Take `clock` as now when refusing dates and periods not published yet (see
    /// [`PipelineConfig::clock`]).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.config.clock = clock;
        self
    }

    /// The store.
    pub fn store(&self) -> &Arc<St> {
        &self.store
    }

    /// The source.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The settings.
    pub fn config(&self) -> &PipelineConfig {
        &self.config
    }

    pub(crate) fn difficulty_feed(&self) -> Option<Arc<dyn DifficultyFeed>> {
        self.difficulty_feed.clone()
    }

    pub(crate) fn feed_synced(&self) -> &tokio::sync::OnceCell<Result<usize, Arc<PipelineError>>> {
        &self.feed_synced
    }

    pub(crate) fn registry_refreshed(&self) -> &tokio::sync::OnceCell<Result<String, String>> {
        &self.registry_refreshed
    }

    /// The registry and inputs a replay `--as-recorded` fixes, if this is one.
    pub(crate) fn recorded(&self) -> Option<&(BmRegistry, BitcoinInputs)> {
        self.recorded.as_ref()
    }

    pub(crate) fn archive(&self) -> Option<Arc<dyn SourceArchive>> {
        self.archive.clone()
    }

    /// A pipeline over `source` sharing this one's store and settings, with no network
    /// feeds: what a replay from the archive runs on.
    pub(crate) fn offline<S2: SettlementSource>(
        &self,
        source: S2,
        config: PipelineConfig,
        recorded: Option<(BmRegistry, BitcoinInputs)>,
    ) -> Pipeline<S2, St> {
        Pipeline {
            source,
            store: Arc::clone(&self.store),
            config,
            difficulty_feed: None,
            feed_synced: tokio::sync::OnceCell::new(),
            registry_refreshed: tokio::sync::OnceCell::new(),
            recorded,
            archive: self.archive.clone(),
        }
    }

    /// This pipeline filing nothing in the archive: what a range from the archive runs
    /// each date on (its responses are filed already; compressing them again is waste).
    pub(crate) fn without_archive_writes(mut self) -> Self {
        self.archive = None;
        self
    }

    pub(crate) async fn with_store<T, F>(&self, f: F) -> Result<T, PipelineError>
    where
        F: FnOnce(&St) -> Result<T, store::StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        blocking(move || f(&store).map_err(PipelineError::from)).await
    }

    /// Applies the store's migrations.
    pub async fn prepare(&self) -> Result<(), PipelineError> {
        self.with_store(|s| s.migrate()).await
    }

    /// Reingests a date (or period range): the whole pipeline (see `ARCHITECTURE.md`).
    /// `progress`: `None`, or callbacks ([`IntoProgress`]).
    pub async fn run<'p>(
        &self,
        opts: &RunOptions,
        progress: impl IntoProgress<'p>,
    ) -> Result<RunReport, PipelineError> {
        let progress = progress.into_progress();
        let started = Instant::now();
        let date = opts.date;
        let range = opts.periods.unwrap_or_else(|| PeriodRange::full(date));
        let audit = AuditInfo {
            range_tag: opts.range_tag.clone(),
            ..self.audit_info("run", opts.reason.clone())
        };
        let result = self.run_inner(opts, range, &audit, progress, started).await;
        if let Err(e) = &result {
            if !opts.dry_run {
                let (a, detail) = (audit.clone(), e.to_string());
                // Best effort: the failure itself is what the operator must see.
                if let Err(log_err) = self
                    .with_store(move |s| s.record_failed_run(&a, date, range, &detail))
                    .await
                {
                    warn!(message = "could not record the failed run in the audit log", error = %log_err);
                }
            }
        }
        result
    }

    pub(crate) fn audit_info(&self, kind: &str, reason: Option<String>) -> AuditInfo {
        AuditInfo {
            run_id: uuid::Uuid::new_v4().to_string(),
            kind: kind.to_owned(),
            reason,
            user: self.config.operator.user.clone(),
            host: self.config.operator.host.clone(),
            tool_version: self.config.tool_version.clone(),
            started_at: Utc::now(),
            inputs: None,
            range_tag: None,
        }
    }

    async fn run_inner(
        &self,
        opts: &RunOptions,
        range: PeriodRange,
        audit: &AuditInfo,
        progress: &dyn Progress,
        started: Instant,
    ) -> Result<RunReport, PipelineError> {
        let date = opts.date;
        // Before any request: the API has nothing for a period that has not ended.
        settlement_model::ensure_periods_ended(date, range, self.config.clock.now())?;
        let (registry, fill_note) = self.ensure_registry_noted().await?;
        let inputs = self.bitcoin_inputs(date).await?;

        progress.fetch_started(date, range.len() * 2);
        let fetched = fetch_range(
            &self.source,
            date,
            range,
            opts.allow_missing_periods,
            &|| progress.request_done(),
        )
        .await?;
        // The curtailment rule over every item is CPU work: on the blocking pool, so the
        // dates of a range process on every core.
        let reg = registry.clone();
        let (fetched, mut outcome) = blocking(move || {
            let outcome = process_fetched(date, &fetched, &reg)?;
            Ok((fetched, outcome))
        })
        .await?;
        let mut registry_note = fill_note;
        if !outcome.unclassified.is_empty() {
            let (fresh, note) = self
                .refresh_registry_for_unknown_ids(opts.no_registry_refresh)
                .await?;
            if let Some(fresh) = fresh {
                outcome = process_fetched(date, &fetched, &fresh)?;
            }
            if !outcome.unclassified.is_empty() {
                warn!(
                    message = "stack items with ids missing from the BM unit registry (not counted as curtailment)",
                    %date,
                    items = outcome.unclassified.len(),
                    registry = %note
                );
            }
            registry_note = Some(match registry_note {
                Some(fill) => format!("{fill}; {note}"),
                None => note,
            });
        }
        let missing: Vec<u8> = missing_periods(&fetched);
        let periods_fetched = range.len() - missing.len();
        let fetch_log = fetch_log(date, &fetched, &outcome.records);

        let range_after = outcome.totals()?;
        let unclassified = group_unclassified(&outcome.unclassified);

        let mut report = RunReport::new(date, range, inputs, audit.run_id.clone());
        report.periods_expected = range.len();
        report.periods_fetched = periods_fetched;
        report.periods_missing = missing;
        report.dry_run = opts.dry_run;
        report.after = range_after;
        report.items_seen = outcome.items_seen;
        report.unclassified = unclassified;
        report.null_id_items = outcome.null_id_items;
        report.registry = registry_note;

        if opts.dry_run {
            let before_records = self.with_store(move |s| s.day_records(date)).await?;
            let (range_before, other): (Vec<_>, Vec<_>) = before_records
                .into_iter()
                .partition(|r| range.contains(r.settlement_period));
            report.before = DayTotals::from_records(&range_before)?;
            report.per_period = period_changes(range, &range_before, &outcome.records)?;
            // The whole day as it would be: other periods as stored, these as processed.
            let mut day: Vec<CurtailmentRecord> = other;
            day.extend(outcome.records.iter().cloned());
            let totals = DayTotals::from_records(&day)?;
            report.records = totals.records;
            report.energy_mwh = totals.energy_mwh;
            report.payment_gbp = totals.payment_gbp;
            let rows = bitcoin_calc::bitcoin_rows(
                &day,
                &self.config.miners,
                inputs.difficulty,
                inputs.subsidy,
            )?;
            for m in &self.config.miners {
                let sum = settlement_model::checked_sum(
                    "bitcoin",
                    rows.iter()
                        .filter(|r| r.miner_model == m.name)
                        .map(|r| r.bitcoin_mined),
                )?;
                report.bitcoin.insert(m.name.clone(), sum);
            }
            report.verification = VerificationReport::from_checks(vec![Check {
                name: "dry_run".into(),
                ok: true,
                detail: "nothing was written; checks run in a real run".into(),
            }]);
            report.duration_ms = elapsed_ms(started);
            return Ok(report);
        }

        self.archive_sources(&fetched).await?;
        let plan = SwapPlan {
            date,
            periods: range,
            records: outcome.records.clone(),
            fetch_log,
            audit: AuditInfo {
                inputs: Some(inputs),
                ..audit.clone()
            },
            force: opts.force,
        };
        let mut hooks = PipelineHooks::new(
            date,
            self.config.miners.clone(),
            inputs,
            RecordsFrom::Fetched {
                records: outcome.records.clone(),
                range,
                missing_allowed: opts.allow_missing_periods,
            },
            opts.expectations.clone(),
        );
        let outcome_records = outcome.records;
        let store = Arc::clone(&self.store);
        let (swap, hooks) = blocking(move || {
            let out = store.swap(plan, &mut hooks);
            Ok((out, hooks))
        })
        .await?;
        let swap = swap?;
        report.committed = swap.committed;
        report.before = swap.before;
        report.after = swap.after;
        // What the swap replaced, as it read it inside its transaction: no read of our own.
        report.per_period = period_changes(range, &swap.replaced, &outcome_records)?;
        let range_before_records = swap.replaced;
        report.verification = hooks.report.clone().unwrap_or_default();
        report.forced = swap.committed && !report.verification.ok;
        if let Some(state) = &hooks.state {
            fill_day_figures(&mut report, state, date)?;
        }
        if let (true, Some(state)) = (swap.committed, &hooks.state) {
            let fingerprint = crate::evidence::Fingerprint::of(state, date);
            report.fingerprint = Some(fingerprint.total.clone());
            let created = created_per_period(&fetched);
            let (units_appeared, units_vanished) =
                crate::evidence::unit_changes(&range_before_records, &outcome_records);
            let doc = crate::evidence::EvidenceDocument {
                fingerprint,
                registry_hash: String::new(),
                registry_units: registry.len(),
                miners: self.config.miners.clone(),
                inputs,
                tool_version: self.config.tool_version.clone(),
                verification: report.verification.clone(),
                per_period: report
                    .per_period
                    .iter()
                    .map(|p| crate::evidence::PeriodEvidence {
                        period: p.period,
                        before: p.before,
                        after: p.after,
                        created: created.get(&p.period).copied(),
                    })
                    .collect(),
                units_appeared,
                units_vanished,
            };
            // Best effort after the commit: a run without evidence is listed as such by
            // `reingest runs`, never rolled back for it.
            if let Err(e) = self.record_evidence(&report.run_id, doc, &registry).await {
                warn!(message = "the run committed but its evidence could not be recorded", run_id = %report.run_id, error = %e);
            }
        }
        report.duration_ms = elapsed_ms(started);
        if swap.committed {
            info!(message = "day swapped", %date, periods = %range, records = report.records, run_id = %report.run_id);
        } else {
            warn!(message = "verification failed: the transaction was rolled back and nothing changed", %date, failed = ?report.verification.failed());
        }
        Ok(report)
    }
}

/// Each period's totals before and after, for the periods of `range`.
fn period_changes(
    range: PeriodRange,
    before: &[CurtailmentRecord],
    after: &[CurtailmentRecord],
) -> Result<Vec<PeriodChange>, PipelineError> {
    let before_pp = per_period(before)?;
    let after_pp = per_period(after)?;
    Ok(range
        .numbers()
        .map(|p| {
            let before = before_pp.get(&p).copied().unwrap_or_default();
            let after = after_pp.get(&p).copied().unwrap_or_default();
            PeriodChange {
                period: p,
                before,
                after,
                changed: before != after,
                cause: None,
            }
        })
        .collect())
}

pub(crate) fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// The newest `createdDateTime` of each period's responses.
fn created_per_period(fetched: &[FetchedStack]) -> BTreeMap<u8, chrono::DateTime<Utc>> {
    let mut out: BTreeMap<u8, chrono::DateTime<Utc>> = BTreeMap::new();
    for f in fetched {
        for t in f.items().iter().filter_map(|i| i.created_date_time) {
            let e = out.entry(f.period).or_insert(t);
            *e = (*e).max(t);
        }
    }
    out
}

fn missing_periods(fetched: &[FetchedStack]) -> Vec<u8> {
    let mut out: Vec<u8> = fetched
        .iter()
        .filter(|f| f.response.is_none())
        .map(|f| f.period)
        .collect();
    out.dedup();
    out
}

fn fetch_log(
    date: SettlementDate,
    fetched: &[FetchedStack],
    records: &[CurtailmentRecord],
) -> Vec<FetchLogEntry> {
    fetched
        .iter()
        .map(|f| FetchLogEntry {
            settlement_date: date,
            settlement_period: f.period,
            side: f.side,
            status: if f.response.is_some() {
                FetchStatus::Fetched
            } else {
                FetchStatus::Missing
            },
            items_received: f.items().len() as u64,
            records_kept: records
                .iter()
                .filter(|r| r.settlement_period == f.period && r.side == f.side)
                .count() as u64,
            fetched_at: f.fetched_at,
            source_hash: f.source_hash(),
        })
        .collect()
}

pub(crate) fn count_fetched_periods(state: &DayState, date: SettlementDate) -> usize {
    date.all_periods()
        .filter(|p| {
            settlement_model::Side::BOTH.iter().all(|side| {
                state.fetch_log.iter().any(|e| {
                    e.settlement_period == p.number()
                        && e.side == *side
                        && e.status == FetchStatus::Fetched
                })
            })
        })
        .count()
}

pub(crate) fn day_bitcoin(state: &DayState, date: SettlementDate) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for s in &state.bitcoin_summaries {
        if s.period == SummaryPeriod::Day(date) {
            out.entry(s.miner_model.clone()).or_insert(s.bitcoin_mined);
        }
    }
    out
}

pub(crate) fn fill_day_figures(
    report: &mut RunReport,
    state: &DayState,
    date: SettlementDate,
) -> Result<(), PipelineError> {
    let totals = DayTotals::from_records(&state.records)?;
    report.records = totals.records;
    report.energy_mwh = totals.energy_mwh;
    report.payment_gbp = totals.payment_gbp;
    report.bitcoin = day_bitcoin(state, date);
    Ok(())
}

#[cfg(test)]
#[path = "pipeline_tests.rs"]
mod tests;
