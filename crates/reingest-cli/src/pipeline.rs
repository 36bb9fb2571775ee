//! The pipeline: `fetch → process → (one transaction: backup, clear, insert, summarize,
//! recalc, verify) → audit`, generic over the source and the store.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use chrono::{NaiveDate, Utc};
use futures::future::BoxFuture;
use rust_decimal::Decimal;
use settlement_model::{
    BmRegistry, CurtailmentRecord, DayTotals, PeriodRange, SettlementDate, SummaryPeriod,
};
use store::{
    AuditInfo, DayState, FetchLogEntry, FetchStatus, SettlementStore, SourceArchive, SwapPlan,
};
use tracing::{info, warn};

use bitcoin_calc::MinerModel;
use elexon_client::SettlementSource;

use crate::error::{blocking, PipelineError};
use crate::fetch::{fetch_range, process_fetched, FetchedStack};
use crate::hooks::PipelineHooks;
use crate::report::{group_unclassified, PeriodChange, RunReport, VerifyReport};
use crate::verify::{check_day, per_period, Check, Expectations, VerificationReport, VerifyInputs};

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
    /// Miner models to compute bitcoin for (default: the three of `elexon-api.md` §5).
    pub miners: Vec<MinerModel>,
    /// Use this difficulty instead of the store's table (`--difficulty`).
    pub difficulty_override: Option<Decimal>,
    /// Who runs it.
    pub operator: Operator,
    /// This tool's version, for the audit log.
    pub tool_version: String,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            miners: bitcoin_calc::MinerCatalog::defaults().models().to_vec(),
            difficulty_override: None,
            operator: Operator::current(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
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

/// Where missing difficulty comes from (e.g. a mempool.space-compatible URL).
pub trait DifficultyFeed: Send + Sync {
    /// Every known `(date, difficulty)` entry.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<(NaiveDate, Decimal)>, String>>;
    /// Where it reads from, for messages.
    fn describe(&self) -> String;
}

/// A difficulty feed in the mempool.space difficulty-adjustments shape, over HTTP.
#[derive(Debug, Clone)]
pub struct HttpDifficultyFeed {
    http: elexon_client::HttpSource,
    url: String,
}

impl HttpDifficultyFeed {
    /// The default public feed.
    pub const DEFAULT_URL: &'static str =
        "https://mempool.space/api/v1/mining/difficulty-adjustments";

    /// A feed reading `url` with `http`'s limits and retries.
    pub fn new(http: elexon_client::HttpSource, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
        }
    }
}

impl DifficultyFeed for HttpDifficultyFeed {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<(NaiveDate, Decimal)>, String>> {
        Box::pin(async move {
            let body = self
                .http
                .get_bytes(&self.url)
                .await
                .map_err(|e| e.to_string())?;
            let text = std::str::from_utf8(&body).map_err(|e| format!("not UTF-8: {e}"))?;
            bitcoin_calc::parse_mempool_adjustments(text).map_err(|e| e.to_string())
        })
    }

    fn describe(&self) -> String {
        settlement_model::redact_url(&self.url)
    }
}

/// The reingestion pipeline over a source `S` and a store `St`.
///
/// Another service can embed it with its own source or store:
///
/// ```no_run
/// # async fn demo() -> Result<(), reingest::PipelineError> {
/// use std::sync::Arc;
/// use reingest::{Pipeline, PipelineConfig, RunOptions};
/// use elexon_client::{ClientConfig, HttpSource};
/// use store::{DieselStore, StoreConfig};
///
/// let source = HttpSource::new(ClientConfig::default())?;
/// let store = Arc::new(DieselStore::connect("sqlite://reingest.db", StoreConfig::default())?);
/// let pipeline = Pipeline::new(source, store, PipelineConfig::default());
/// pipeline.prepare().await?;
/// let report = pipeline.run(&RunOptions::new("2024-03-21".parse()?), &reingest::NoProgress).await?;
/// println!("{} records, {} MWh, verified: {}", report.records, report.energy_mwh, report.verification.ok);
/// # Ok(()) }
/// ```
pub struct Pipeline<S, St> {
    source: S,
    store: Arc<St>,
    config: PipelineConfig,
    difficulty_feed: Option<Arc<dyn DifficultyFeed>>,
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

    fn model_names(&self) -> Vec<String> {
        self.config.miners.iter().map(|m| m.name.clone()).collect()
    }

    async fn with_store<T, F>(&self, f: F) -> Result<T, PipelineError>
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

    /// Replaces the BM unit registry with the source's list; returns how many units.
    pub async fn sync_bm_units(&self) -> Result<usize, PipelineError> {
        let units = self.source.bm_units().await.map_err(|e| {
            PipelineError::Registry(format!(
                "cannot fill the BM unit registry from the API: {e}; \
                 try `reingest bmu import FILE` with the platform's mapping file"
            ))
        })?;
        if units.is_empty() {
            return Err(PipelineError::Registry(
                "the API returned an empty BM unit list; try `reingest bmu import FILE`".into(),
            ));
        }
        self.with_store(move |s| s.replace_bm_units(&units)).await
    }

    /// The registry, filled from the source first when it is empty.
    pub async fn ensure_registry(&self) -> Result<BmRegistry, PipelineError> {
        let mut units = self.with_store(|s| s.bm_units()).await?;
        if units.is_empty() {
            info!(message = "BM unit registry is empty: filling it from the API");
            let n = self.sync_bm_units().await?;
            info!(message = "BM unit registry filled", units = n);
            units = self.with_store(|s| s.bm_units()).await?;
        }
        let registry = BmRegistry::new(units);
        if registry.wind_count() == 0 {
            return Err(PipelineError::Registry(
                "the BM unit registry holds no wind units; run `reingest bmu sync` or `reingest bmu import FILE`"
                    .into(),
            ));
        }
        Ok(registry)
    }

    /// Fetches the difficulty feed into the store; returns how many entries were written.
    pub async fn sync_difficulty(&self) -> Result<usize, PipelineError> {
        let feed = self.difficulty_feed.clone().ok_or_else(|| {
            PipelineError::Difficulty("no difficulty source is configured".into())
        })?;
        let rows = feed.fetch().await.map_err(|e| {
            PipelineError::Difficulty(format!(
                "cannot read difficulty from {}: {e}; use `reingest difficulty set DATE VALUE` or `reingest difficulty import FILE`",
                feed.describe()
            ))
        })?;
        self.with_store(move |s| s.upsert_difficulties(&rows)).await
    }

    /// The difficulty in force on `date`: the override, the store's table, or (when the
    /// table has no entry on or before the date) the feed, saved to the store.
    pub async fn difficulty_for(&self, date: SettlementDate) -> Result<Decimal, PipelineError> {
        if let Some(d) = self.config.difficulty_override {
            return Ok(d);
        }
        let day = date.naive();
        if let Some((_, d)) = self.with_store(move |s| s.difficulty_on(day)).await? {
            return Ok(d);
        }
        let not_found = |why: String| {
            PipelineError::Difficulty(format!(
                "no Bitcoin difficulty is known for {date}{why}; add one with `reingest difficulty sync`, \
                 `reingest difficulty set {date} VALUE`, `reingest difficulty import FILE`, or pass --difficulty"
            ))
        };
        if self.difficulty_feed.is_none() {
            return Err(not_found(String::new()));
        }
        info!(message = "no difficulty stored for the date: fetching the difficulty feed", %date);
        match self.sync_difficulty().await {
            Ok(n) => info!(message = "difficulty feed saved", entries = n),
            Err(e) => return Err(not_found(format!(" and the feed failed ({e})"))),
        }
        match self.with_store(move |s| s.difficulty_on(day)).await? {
            Some((_, d)) => Ok(d),
            None => Err(not_found(" (the feed has no entry on or before it)".into())),
        }
    }

    /// Reingests a date (or period range): the whole pipeline of DESIGN.md.
    pub async fn run(
        &self,
        opts: &RunOptions,
        progress: &dyn Progress,
    ) -> Result<RunReport, PipelineError> {
        let started = Instant::now();
        let date = opts.date;
        let range = opts.periods.unwrap_or_else(|| PeriodRange::full(date));
        let audit = self.audit_info("run", opts.reason.clone());
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

    fn audit_info(&self, kind: &str, reason: Option<String>) -> AuditInfo {
        AuditInfo {
            run_id: uuid::Uuid::new_v4().to_string(),
            kind: kind.to_owned(),
            reason,
            user: self.config.operator.user.clone(),
            host: self.config.operator.host.clone(),
            tool_version: self.config.tool_version.clone(),
            started_at: Utc::now(),
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
        let registry = self.ensure_registry().await?;
        let difficulty = self.difficulty_for(date).await?;

        progress.fetch_started(date, range.len() * 2);
        let fetched = fetch_range(
            &self.source,
            date,
            range,
            opts.allow_missing_periods,
            &|| progress.request_done(),
        )
        .await?;
        let outcome = process_fetched(date, &fetched, &registry)?;
        if !outcome.unclassified.is_empty() {
            warn!(
                message = "stack items with ids missing from the BM unit registry (not counted as curtailment); run `reingest bmu sync` if the registry is stale",
                %date,
                items = outcome.unclassified.len()
            );
        }
        let missing: Vec<u8> = missing_periods(&fetched);
        let periods_fetched = range.len() - missing.len();
        let fetch_log = fetch_log(date, &fetched, &outcome.records);

        let before_state = self.with_store(move |s| s.day_state(date)).await?;
        let before_pp = per_period(&before_state.records);
        let after_pp = per_period(&outcome.records);
        let per_period_changes = range
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
            .collect::<Vec<_>>();
        let range_before = DayTotals::from_records(
            &before_state
                .records
                .iter()
                .filter(|r| range.contains(r.settlement_period))
                .cloned()
                .collect::<Vec<_>>(),
        );
        let range_after = outcome.totals();
        let unclassified = group_unclassified(&outcome.unclassified);

        let mut report = RunReport {
            date,
            periods: range.to_string(),
            periods_expected: range.len(),
            periods_fetched,
            periods_missing: missing,
            records: 0,
            energy_mwh: Decimal::ZERO,
            payment_gbp: Decimal::ZERO,
            bitcoin: BTreeMap::new(),
            difficulty,
            verification: VerificationReport::default(),
            run_id: audit.run_id.clone(),
            dry_run: opts.dry_run,
            committed: false,
            forced: false,
            before: range_before,
            after: range_after,
            per_period: per_period_changes,
            items_seen: outcome.items_seen,
            unclassified,
            null_id_items: outcome.null_id_items,
            duration_ms: 0,
        };

        if opts.dry_run {
            // The whole day as it would be: other periods as stored, these as processed.
            let mut day: Vec<CurtailmentRecord> = before_state
                .records
                .iter()
                .filter(|r| !range.contains(r.settlement_period))
                .cloned()
                .collect();
            day.extend(outcome.records.iter().cloned());
            let totals = DayTotals::from_records(&day);
            report.records = totals.records;
            report.energy_mwh = totals.energy_mwh;
            report.payment_gbp = totals.payment_gbp;
            let rows = bitcoin_calc::bitcoin_rows(&day, &self.config.miners, difficulty)
                .map_err(|e| PipelineError::Calc(e.to_string()))?;
            for m in &self.config.miners {
                let sum: Decimal = rows
                    .iter()
                    .filter(|r| r.miner_model == m.name)
                    .map(|r| r.bitcoin_mined)
                    .sum();
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
            audit: audit.clone(),
            force: opts.force,
        };
        let mut hooks = PipelineHooks::new(
            date,
            self.config.miners.clone(),
            difficulty,
            Some((outcome.records, range)),
            opts.expectations.clone(),
            opts.allow_missing_periods,
        );
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
        report.verification = hooks.report.clone().unwrap_or_default();
        report.forced = swap.committed && !report.verification.ok;
        if let Some(state) = &hooks.state {
            fill_day_figures(&mut report, state, date);
        }
        report.duration_ms = elapsed_ms(started);
        if swap.committed {
            info!(message = "day swapped", %date, periods = %range, records = report.records, run_id = %report.run_id);
        } else {
            warn!(message = "verification failed: the transaction was rolled back and nothing changed", %date, failed = ?report.verification.failed());
        }
        Ok(report)
    }

    /// Verifies the stored date without changing it; with `against_api`, also fetches the
    /// day again and reports per-period drift.
    pub async fn verify(
        &self,
        date: SettlementDate,
        against_api: bool,
        progress: &dyn Progress,
    ) -> Result<VerifyReport, PipelineError> {
        let state = self.with_store(move |s| s.day_state(date)).await?;
        let models = self.model_names();
        let expectations = Expectations::default();
        let mut verification = check_day(
            &state,
            &VerifyInputs {
                date,
                processed: None,
                models: &models,
                expectations: &expectations,
                missing_allowed: false,
            },
        );
        let mut drift = Vec::new();
        if against_api {
            let registry = self.ensure_registry().await?;
            let range = PeriodRange::full(date);
            progress.fetch_started(date, range.len() * 2);
            let fetched = fetch_range(&self.source, date, range, false, &|| {
                progress.request_done()
            })
            .await?;
            let outcome = process_fetched(date, &fetched, &registry)?;
            let stored = per_period(&state.records);
            let api = per_period(&outcome.records);
            let logged: BTreeMap<(u8, settlement_model::Side), Option<String>> = state
                .fetch_log
                .iter()
                .map(|e| ((e.settlement_period, e.side), e.source_hash.clone()))
                .collect();
            let cause = |p: u8| -> String {
                let mut unknown = false;
                for f in fetched.iter().filter(|f| f.period == p) {
                    match logged.get(&(p, f.side)).cloned().flatten() {
                        None => unknown = true,
                        Some(h) if Some(&h) != f.source_hash().as_ref() => return "source".into(),
                        Some(_) => {}
                    }
                }
                if unknown { "unknown" } else { "database" }.into()
            };
            drift = range
                .numbers()
                .filter_map(|p| {
                    let before = stored.get(&p).copied().unwrap_or_default();
                    let after = api.get(&p).copied().unwrap_or_default();
                    (before != after).then(|| PeriodChange {
                        period: p,
                        before,
                        after,
                        changed: true,
                        cause: Some(cause(p)),
                    })
                })
                .collect();
            let detail = if drift.is_empty() {
                format!("all {} periods match the API", range.len())
            } else {
                let by = |c: &str| -> Vec<String> {
                    drift
                        .iter()
                        .filter(|d| d.cause.as_deref() == Some(c))
                        .map(|d| d.period.to_string())
                        .collect()
                };
                let mut parts = Vec::new();
                for (c, label) in [
                    ("source", "Elexon republished"),
                    (
                        "database",
                        "rows changed in the database since the last run",
                    ),
                    ("unknown", "no source hash logged"),
                ] {
                    let list = by(c);
                    if !list.is_empty() {
                        parts.push(format!("{label}: periods {}", list.join(",")));
                    }
                }
                format!(
                    "{} periods differ from the API ({})",
                    drift.len(),
                    parts.join("; ")
                )
            };
            verification.checks.push(Check {
                name: "matches_api".into(),
                ok: drift.is_empty(),
                detail,
            });
            verification.ok = verification.checks.iter().all(|c| c.ok);
        }
        let runs = self.with_store(move |s| s.runs(Some(date))).await?;
        let totals = DayTotals::from_records(&state.records);
        let periods_fetched = count_fetched_periods(&state, date);
        Ok(VerifyReport {
            date,
            periods_expected: usize::from(date.periods()),
            periods_fetched,
            records: totals.records,
            energy_mwh: totals.energy_mwh,
            payment_gbp: totals.payment_gbp,
            bitcoin: day_bitcoin(&state, date),
            verification,
            run_id: runs
                .iter()
                .find(|r| r.status == "committed" || r.status == "forced")
                .map(|r| r.run_id.clone()),
            drift,
        })
    }

    /// Puts back the rows run `run_id` replaced, as a new audited run.
    pub async fn restore(&self, run_id: &str) -> Result<RunReport, PipelineError> {
        let started = Instant::now();
        let wanted = run_id.to_owned();
        let runs = self.with_store(|s| s.runs(None)).await?;
        let run = runs
            .into_iter()
            .find(|r| r.run_id == wanted)
            .ok_or_else(|| {
                PipelineError::Input(format!(
                    "no run {wanted:?} in the audit log; see `reingest runs`"
                ))
            })?;
        let date = run.settlement_date;
        let difficulty = self.difficulty_for(date).await?;
        let audit = self.audit_info("restore", Some(format!("restore of run {wanted}")));
        let mut hooks = PipelineHooks::new(
            date,
            self.config.miners.clone(),
            difficulty,
            None,
            Expectations::default(),
            true,
        )
        .accept_any();
        let store = Arc::clone(&self.store);
        let (a, id) = (audit.clone(), wanted.clone());
        let (swap, hooks) = blocking(move || {
            let out = store.restore(&id, a, &mut hooks);
            Ok((out, hooks))
        })
        .await?;
        let swap = swap?;
        let mut report = RunReport {
            date,
            periods: run.periods.clone(),
            periods_expected: 0,
            periods_fetched: 0,
            periods_missing: Vec::new(),
            records: 0,
            energy_mwh: Decimal::ZERO,
            payment_gbp: Decimal::ZERO,
            bitcoin: BTreeMap::new(),
            difficulty,
            verification: hooks.report.clone().unwrap_or_default(),
            run_id: audit.run_id,
            dry_run: false,
            committed: swap.committed,
            forced: false,
            before: swap.before,
            after: swap.after,
            per_period: Vec::new(),
            items_seen: 0,
            unclassified: Vec::new(),
            null_id_items: 0,
            duration_ms: 0,
        };
        if let Some(state) = &hooks.state {
            fill_day_figures(&mut report, state, date);
        }
        report.duration_ms = elapsed_ms(started);
        Ok(report)
    }
}

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// Files every fetched body in the archive (if there is one) before the swap; an entry
    /// is whole or absent, so a failed run leaves nothing a later run could misread.
    async fn archive_sources(&self, fetched: &[FetchedStack]) -> Result<(), PipelineError> {
        let Some(archive) = self.archive.clone() else {
            return Ok(());
        };
        let bodies: Vec<(&'static str, bytes::Bytes)> = fetched
            .iter()
            .filter_map(|f| {
                f.response
                    .as_ref()
                    .map(|r| (r.format.as_str(), r.body.clone()))
            })
            .collect();
        blocking(move || {
            let sources: Vec<(&str, &[u8])> =
                bodies.iter().map(|(f, b)| (*f, b.as_ref())).collect();
            archive.put_sources(&sources)?;
            Ok(())
        })
        .await
    }

    /// Recomputes a date from the responses run `run_id` (default: the date's latest
    /// committed run) used, with no network, as a new audited run.
    pub async fn run_from_archive(
        &self,
        opts: &RunOptions,
        run_id: Option<&str>,
        progress: &dyn Progress,
    ) -> Result<RunReport, PipelineError> {
        let archive = self
            .archive
            .clone()
            .ok_or_else(|| PipelineError::Input("this pipeline has no source archive".into()))?;
        let run = crate::archive::find_run(&self.store, opts.date, run_id).await?;
        let sources = crate::archive::load_run_sources(&self.store, &archive, run).await?;
        let units = self.with_store(|s| s.bm_units()).await?;
        let offline = Pipeline {
            source: sources.source(units),
            store: Arc::clone(&self.store),
            config: self.config.clone(),
            difficulty_feed: None,
            archive: Some(archive),
        };
        let mut o = opts.clone();
        o.periods = Some(sources.periods);
        o.allow_missing_periods = sources.responses.values().any(Option::is_none);
        let note = format!("from archive of run {}", sources.run.run_id);
        o.reason = Some(match &opts.reason {
            Some(r) => format!("{r} ({note})"),
            None => note,
        });
        offline.run(&o, progress).await
    }

    /// What changed in `date` between two runs, from their archived sources. Defaults: the
    /// date's last two runs with sources (`run_b` the newer).
    pub async fn diff(
        &self,
        date: SettlementDate,
        run_a: Option<&str>,
        run_b: Option<&str>,
    ) -> Result<crate::archive::DiffReport, PipelineError> {
        let archive = self
            .archive
            .clone()
            .ok_or_else(|| PipelineError::Input("this pipeline has no source archive".into()))?;
        let runs = self.with_store(move |s| s.runs(Some(date))).await?;
        let mut with_sources = Vec::new();
        for r in runs
            .iter()
            .filter(|r| r.kind != "restore" && matches!(r.status.as_str(), "committed" | "forced"))
        {
            with_sources.push(r.run_id.clone());
        }
        let (a, b) = match (run_a, run_b) {
            (Some(a), Some(b)) => (a.to_owned(), b.to_owned()),
            (Some(a), None) => (
                a.to_owned(),
                with_sources.first().cloned().ok_or_else(|| PipelineError::Input(format!("{date} has no committed run")))?,
            ),
            _ => match with_sources.as_slice() {
                [b, a, ..] => (a.clone(), b.clone()),
                _ => {
                    return Err(PipelineError::Input(format!(
                        "{date} has fewer than two committed runs to compare; name them: reingest diff {date} RUN_A RUN_B"
                    )))
                }
            },
        };
        let run_a = crate::archive::find_run(&self.store, date, Some(&a)).await?;
        let run_b = crate::archive::find_run(&self.store, date, Some(&b)).await?;
        let sa = crate::archive::load_run_sources(&self.store, &archive, run_a).await?;
        let sb = crate::archive::load_run_sources(&self.store, &archive, run_b).await?;
        let registry = BmRegistry::new(self.with_store(|s| s.bm_units()).await?);
        crate::archive::diff_runs(&sa, &sb, &registry)
    }

    /// Deletes archived sources except those of the newest `keep_last` runs of every date
    /// (at least the newest run of each date is always kept).
    pub async fn prune_archive(
        &self,
        keep_last: usize,
    ) -> Result<crate::archive::PruneReport, PipelineError> {
        let archive = self
            .archive
            .clone()
            .ok_or_else(|| PipelineError::Input("this pipeline has no source archive".into()))?;
        let store = Arc::clone(&self.store);
        blocking(move || {
            let runs = store.runs(None)?;
            let mut log_of = |id: &str| -> Result<Vec<String>, PipelineError> {
                Ok(store
                    .run_fetch_log(id)?
                    .into_iter()
                    .filter_map(|e| e.source_hash)
                    .collect())
            };
            let (keep, runs_kept) = crate::archive::hashes_to_keep(&runs, keep_last, &mut log_of)?;
            let all = archive.source_hashes()?;
            let doomed: Vec<String> = all.iter().filter(|h| !keep.contains(*h)).cloned().collect();
            let deleted = archive.delete_sources(&doomed)?;
            Ok(crate::archive::PruneReport {
                kept: all.len() - doomed.len(),
                deleted,
                runs_kept,
            })
        })
        .await
    }
}

fn elapsed_ms(started: Instant) -> u64 {
    u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX)
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

fn count_fetched_periods(state: &DayState, date: SettlementDate) -> usize {
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

fn day_bitcoin(state: &DayState, date: SettlementDate) -> BTreeMap<String, Decimal> {
    let mut out = BTreeMap::new();
    for s in &state.bitcoin_summaries {
        if s.period == SummaryPeriod::Day(date) {
            out.entry(s.miner_model.clone()).or_insert(s.bitcoin_mined);
        }
    }
    out
}

fn fill_day_figures(report: &mut RunReport, state: &DayState, date: SettlementDate) {
    let totals = DayTotals::from_records(&state.records);
    report.records = totals.records;
    report.energy_mwh = totals.energy_mwh;
    report.payment_gbp = totals.payment_gbp;
    report.bitcoin = day_bitcoin(state, date);
}
