//! Building the standard pipeline (HTTP source, diesel store, HTTP difficulty feed) from
//! plain settings: what the binary and `cargo xtask` share.

use std::sync::Arc;
use std::time::Duration;

use bitcoin_calc::MinerCatalog;
use elexon_client::{ClientConfig, Format, HttpSource};
use store::{Backend, DieselStore, StoreConfig};

use crate::error::{InputError, PipelineError};
use crate::ops::feed::HttpDifficultyFeed;
use crate::ops::registry_note::RegistryNote;
use crate::pipeline::{Pipeline, PipelineConfig};

/// The pipeline the binary runs.
pub type StandardPipeline = Pipeline<HttpSource, DieselStore>;

/// Settings of the standard pipeline; the binary fills them from flags and environment.
/// Its `Debug` output redacts the credentials of every URL.
#[derive(Clone)]
pub struct AppSettings {
    /// `sqlite://PATH` or `postgres://…`.
    pub database_url: String,
    /// The Elexon API base URL.
    pub elexon_url: String,
    /// Wire format.
    pub format: Format,
    /// Difficulty-adjustments URL (mempool.space shape).
    pub difficulty_url: String,
    /// Miner models to compute (empty: every model of the catalog).
    pub miners: Vec<String>,
    /// Extra models, `NAME:THS:WATTS[,…]` or a JSON array, or `@FILE` holding either.
    pub miner_models: Option<String>,
    /// Requests per minute for the process.
    pub rate_limit: u32,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Attempts per request.
    pub max_attempts: u32,
    /// Largest response body, bytes.
    pub max_body_bytes: usize,
    /// How long to wait for another run of the same date.
    pub lock_timeout: Duration,
    /// Allow plain http to a non-loopback host.
    pub allow_insecure_http: bool,
    /// Where to keep archived source responses (default: beside an SQLite file, in a table
    /// on PostgreSQL).
    pub archive_dir: Option<std::path::PathBuf>,
    /// PostgreSQL `application_name` of every session (the binary: `reingest <command>`).
    pub application_name: String,
    /// PostgreSQL `statement_timeout` of every session (zero: no limit).
    pub statement_timeout: Duration,
    /// PostgreSQL `idle_in_transaction_session_timeout` of every session (zero: no limit).
    pub idle_in_transaction_timeout: Duration,
    /// What [`AppSettings::build`] does about pending migrations (default: apply them).
    pub migrations: MigrationPolicy,
    /// Database connections in the pool (a range wants about two per date in flight).
    pub pool_size: u32,
    /// How reports word an error they keep as text ([`PipelineConfig::describe_error`]).
    pub describe_error: fn(&PipelineError) -> String,
    /// How a run's report words what it did with the registry
    /// ([`PipelineConfig::describe_registry_note`]).
    pub describe_registry_note: fn(&RegistryNote) -> String,
}

/// What building a pipeline does about the database's pending migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MigrationPolicy {
    /// Apply them (the library's default, and every command on the embedded SQLite).
    Apply,
    /// On PostgreSQL, stop with an error naming `reingest migrate` when any is pending: a
    /// shared database's schema changes only when its DBA says so (the binary's default for
    /// every command but `migrate`). SQLite still migrates.
    Require,
    /// Neither apply nor check (`reingest migrate --dry-run`).
    Skip,
}

impl std::fmt::Debug for AppSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use settlement_model::redact_url;
        f.debug_struct("AppSettings")
            .field("database_url", &redact_url(&self.database_url))
            .field("elexon_url", &redact_url(&self.elexon_url))
            .field("format", &self.format)
            .field("difficulty_url", &redact_url(&self.difficulty_url))
            .field("miners", &self.miners)
            .field("miner_models", &self.miner_models)
            .field("rate_limit", &self.rate_limit)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("lock_timeout", &self.lock_timeout)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("archive_dir", &self.archive_dir)
            .field("application_name", &self.application_name)
            .field("statement_timeout", &self.statement_timeout)
            .field(
                "idle_in_transaction_timeout",
                &self.idle_in_transaction_timeout,
            )
            .finish()
    }
}

impl AppSettings {
    /// Defaults for `database_url` against the API at `elexon_url`; the difficulty feed
    /// defaults to mempool.space.
    pub fn new(database_url: impl Into<String>, elexon_url: impl Into<String>) -> Self {
        let client = ClientConfig::default();
        let store = StoreConfig::default();
        Self {
            database_url: database_url.into(),
            elexon_url: elexon_url.into(),
            format: Format::Json,
            difficulty_url: HttpDifficultyFeed::DEFAULT_URL.to_owned(),
            miners: Vec::new(),
            miner_models: None,
            rate_limit: client.requests_per_minute,
            timeout: client.timeout,
            max_attempts: client.max_attempts,
            max_body_bytes: client.max_body_bytes,
            lock_timeout: store.lock_timeout,
            allow_insecure_http: false,
            archive_dir: None,
            application_name: store.application_name,
            statement_timeout: store.statement_timeout,
            idle_in_transaction_timeout: store.idle_in_transaction_timeout,
            migrations: MigrationPolicy::Apply,
            pool_size: store.pool_size,
            describe_error: PipelineConfig::default().describe_error,
            describe_registry_note: PipelineConfig::default().describe_registry_note,
        }
    }

    /// The settings from the same environment variables the binary reads
    /// (`DATABASE_URL`, `ELEXON_BASE_URL`, `ELEXON_FORMAT`, `REINGEST_DIFFICULTY_URL`,
    /// `REINGEST_MINERS`, `REINGEST_MINER_MODELS`), with the binary's defaults.
    pub fn from_env() -> Result<Self, PipelineError> {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let mut s = Self::new(
            var("DATABASE_URL").unwrap_or_else(|| "sqlite://reingest.db".into()),
            var("ELEXON_BASE_URL").unwrap_or_else(|| ClientConfig::default().base_url),
        );
        if let Some(f) = var("ELEXON_FORMAT") {
            s.format = match f.as_str() {
                "xml" => Format::Xml,
                "json" => Format::Json,
                other => {
                    return Err(InputError::FormatSetting {
                        value: other.to_owned(),
                    }
                    .into())
                }
            };
        }
        if let Some(u) = var("REINGEST_DIFFICULTY_URL") {
            s.difficulty_url = u;
        }
        if let Some(m) = var("REINGEST_MINERS") {
            s.miners = m.split(',').map(|x| x.trim().to_owned()).collect();
        }
        s.miner_models = var("REINGEST_MINER_MODELS");
        Ok(s)
    }

    /// The miner models selected by these settings (validated: unknown names are an error
    /// that lists the known ones).
    pub fn pipeline_config(&self) -> Result<PipelineConfig, PipelineError> {
        let mut catalog = MinerCatalog::defaults();
        if let Some(spec) = &self.miner_models {
            let text = match spec.strip_prefix('@') {
                Some(path) => {
                    std::fs::read_to_string(path).map_err(|source| InputError::MinerModelsFile {
                        path: path.to_owned(),
                        source,
                    })?
                }
                None => spec.clone(),
            };
            for m in bitcoin_calc::parse_models(&text).map_err(InputError::from)? {
                catalog = catalog.with_custom(m).map_err(InputError::from)?;
            }
        }
        let miners = if self.miners.is_empty() {
            catalog.models().to_vec()
        } else {
            catalog.select(&self.miners).map_err(InputError::from)?
        };
        Ok(PipelineConfig {
            miners,
            describe_error: self.describe_error,
            describe_registry_note: self.describe_registry_note,
            ..PipelineConfig::default()
        })
    }

    /// The HTTP client settings.
    pub fn client_config(&self) -> ClientConfig {
        ClientConfig {
            base_url: self.elexon_url.clone(),
            format: self.format,
            requests_per_minute: self.rate_limit,
            timeout: self.timeout,
            max_attempts: self.max_attempts,
            max_body_bytes: self.max_body_bytes,
            allow_insecure_http: self.allow_insecure_http,
            ..ClientConfig::default()
        }
    }

    /// Validates the settings, connects to the database, migrates it, and returns the
    /// pipeline with the difficulty feed and the archive. Bad settings fail before any
    /// connection is made. The connection ([`DieselStore::connect`] blocks) and the
    /// migrations run on tokio's blocking pool. [`crate::Pipeline::builder`] is the same with
    /// methods to change what differs.
    pub async fn build(&self) -> Result<StandardPipeline, PipelineError> {
        self.assemble(true, true).await
    }

    /// [`AppSettings::build`], with or without the difficulty feed and the archive.
    pub(crate) async fn assemble(
        &self,
        difficulty_feed: bool,
        archive: bool,
    ) -> Result<StandardPipeline, PipelineError> {
        let config = self.pipeline_config()?;
        let source = HttpSource::new(self.client_config())?;
        let url = self.database_url.clone();
        let store_config = StoreConfig {
            lock_timeout: self.lock_timeout,
            // On SQLite the per-date lock is the file's write lock: the same wait applies.
            busy_timeout: self.lock_timeout,
            archive_dir: self.archive_dir.clone(),
            application_name: self.application_name.clone(),
            statement_timeout: self.statement_timeout,
            idle_in_transaction_timeout: self.idle_in_transaction_timeout,
            pool_size: self.pool_size.max(1),
        };
        let store = crate::error::blocking(move || {
            DieselStore::connect(&url, store_config).map_err(PipelineError::from)
        })
        .await?;
        let store = Arc::new(store);
        let mut pipeline = Pipeline::new(source.clone(), Arc::clone(&store), config);
        if difficulty_feed {
            let feed = HttpDifficultyFeed::new(source, self.difficulty_url.clone());
            pipeline = pipeline.with_difficulty_feed(Arc::new(feed));
        }
        if archive {
            let archive: Arc<dyn store::SourceArchive> = store;
            pipeline = pipeline.with_archive(archive);
        }
        match self.migrations {
            MigrationPolicy::Apply => pipeline.prepare().await?,
            MigrationPolicy::Skip => {}
            MigrationPolicy::Require if pipeline.store().backend() == Backend::Sqlite => {
                pipeline.prepare().await?;
            }
            MigrationPolicy::Require => {
                let pending = pipeline.pending_migrations().await?;
                if !pending.is_empty() {
                    return Err(InputError::MigrationsPending { pending }.into());
                }
            }
        }
        Ok(pipeline)
    }
}
