//! The one entry point for a service that embeds the pipeline: [`Pipeline::builder`], from a
//! database URL and an API URL to a ready [`StandardPipeline`], with the difficulty feed and
//! the source archive on, as the `reingest` binary runs it.

use std::path::PathBuf;
use std::time::Duration;

use elexon_client::{Format, HttpSource};
use store::DieselStore;

use crate::app::{AppSettings, StandardPipeline};
use crate::pipeline::Pipeline;
use crate::PipelineError;

impl Pipeline<HttpSource, DieselStore> {
    /// A builder of the standard pipeline over the database at `database_url`
    /// (`sqlite://PATH` or `postgres://…`) and the Elexon API at `api_url` (e.g.
    /// `https://data.elexon.co.uk/bmrs/api/v1`). See [`PipelineBuilder`].
    pub fn builder(database_url: impl Into<String>, api_url: impl Into<String>) -> PipelineBuilder {
        PipelineBuilder::new(database_url, api_url)
    }
}

/// Builds the standard pipeline ([`StandardPipeline`]: the HTTP source, the diesel store)
/// the way the `reingest` binary does, for a service that embeds it.
///
/// By default it has everything a run on a fresh database needs:
///
/// - the **difficulty feed** (mempool.space, or [`PipelineBuilder::difficulty_url`]), which
///   a run syncs once when the store knows no current Bitcoin difficulty;
/// - the **source archive**, which keeps every raw response a run uses (a folder
///   `PATH.archive/` beside an SQLite file, a table on PostgreSQL, or
///   [`PipelineBuilder::archive_dir`]), for [`Pipeline::run_from_archive`] and
///   [`Pipeline::diff`];
/// - the BM unit registry, filled from the API by the first run.
///
/// [`PipelineBuilder::build`] is async all the way: it connects to the database (which
/// blocks: [`DieselStore::connect`] opens and probes connections) on tokio's blocking pool,
/// then applies the store's migrations there too. It needs a tokio runtime.
///
/// ```
/// # #[tokio::main] async fn main() -> Result<(), Box<dyn std::error::Error>> {
/// # let sim = elexon_sim::Simulator::start(elexon_sim::SimConfig::default()).await?;
/// # let dir = tempfile::tempdir()?;
/// # let database_url = format!("sqlite://{}", dir.path().join("curtailment.db").display());
/// # let api_url = sim.base_url();
/// use reingest::{NoProgress, Pipeline, RunOptions};
///
/// let pipeline = Pipeline::builder(&database_url, &api_url)
/// #   .difficulty_url(sim.difficulty_url())
///     .build()
///     .await?;
/// let report = pipeline.run(&RunOptions::new("2024-03-21".parse()?), &NoProgress).await?;
/// assert!(report.verification.ok);
/// # Ok(()) }
/// ```
///
/// Anything else the binary's flags set is in [`AppSettings`]:
/// [`PipelineBuilder::settings_mut`], or [`PipelineBuilder::from_settings`].
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` is awaited"]
pub struct PipelineBuilder {
    settings: AppSettings,
    difficulty_feed: bool,
    archive: bool,
}

impl PipelineBuilder {
    /// The binary's defaults for `database_url` and `api_url` (see [`Pipeline::builder`]).
    pub fn new(database_url: impl Into<String>, api_url: impl Into<String>) -> Self {
        Self::from_settings(AppSettings::new(database_url, api_url))
    }

    /// A builder from settings filled by hand (e.g. [`AppSettings::from_env`]), with the
    /// difficulty feed and the archive on.
    pub fn from_settings(settings: AppSettings) -> Self {
        Self {
            settings,
            difficulty_feed: true,
            archive: true,
        }
    }

    /// The settings, to change what has no method here (timeouts, rate limit, …).
    pub fn settings_mut(&mut self) -> &mut AppSettings {
        &mut self.settings
    }

    /// The API's wire format (default JSON).
    pub fn format(mut self, format: Format) -> Self {
        self.settings.format = format;
        self
    }

    /// Where the difficulty feed reads (any URL serving mempool.space's
    /// difficulty-adjustments shape).
    pub fn difficulty_url(mut self, url: impl Into<String>) -> Self {
        self.settings.difficulty_url = url.into();
        self
    }

    /// No difficulty feed: runs use only the store's difficulty table (fill it with
    /// [`store::DifficultyTable::upsert_difficulties`]) or
    /// [`Pipeline::with_difficulty_override`].
    pub fn without_difficulty_feed(mut self) -> Self {
        self.difficulty_feed = false;
        self
    }

    /// Keep archived source responses in `dir` instead of the backend's default place.
    pub fn archive_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.archive_dir = Some(dir.into());
        self
    }

    /// No source archive: runs keep no raw responses, so they cannot be replayed or diffed.
    pub fn without_archive(mut self) -> Self {
        self.archive = false;
        self
    }

    /// Compute bitcoin for these miner models only (default: every known model).
    pub fn miners<I, M>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = M>,
        M: Into<String>,
    {
        self.settings.miners = names.into_iter().map(Into::into).collect();
        self
    }

    /// Requests per minute to the API, for this process (default 4,500; the API allows
    /// 5,000).
    pub fn rate_limit(mut self, requests_per_minute: u32) -> Self {
        self.settings.rate_limit = requests_per_minute;
        self
    }

    /// The PostgreSQL `application_name` of every session (default `reingest`), so the
    /// service's DBA can tell its sessions apart.
    pub fn application_name(mut self, name: impl Into<String>) -> Self {
        self.settings.application_name = name.into();
        self
    }

    /// How long a run waits for another run of the same date (default 60 s).
    pub fn lock_timeout(mut self, timeout: Duration) -> Self {
        self.settings.lock_timeout = timeout;
        self
    }

    /// Validates the settings (bad ones fail before any connection), connects to the
    /// database and applies its migrations on tokio's blocking pool, and returns the
    /// pipeline with the difficulty feed and the archive unless switched off.
    pub async fn build(self) -> Result<StandardPipeline, PipelineError> {
        self.settings
            .assemble(self.difficulty_feed, self.archive)
            .await
    }
}
