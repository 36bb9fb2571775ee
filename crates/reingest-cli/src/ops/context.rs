//! What every operation of a pipeline shares: the source, the store, the settings, the
//! optional difficulty feed and source archive, and the pipeline's once-per-life work (one
//! difficulty sync, one registry refresh). Each operation is a module of `ops` taking a
//! [`Context`]; the public [`Pipeline`](crate::Pipeline) is a thin facade over one.

use std::sync::Arc;

use chrono::Utc;
use settlement_model::{BitcoinInputs, BmRegistry};
use store::{AuditInfo, RunKind, SettlementStore, SourceArchive, StoreError};

use crate::error::{blocking, PipelineError};
use crate::ops::config::PipelineConfig;
use crate::ops::feed::DifficultyFeed;

/// The outcome of the one refresh of the registry a pipeline makes: the summary of what was
/// stored, or why the API's list could not be taken (shared by every date that asks).
pub(crate) type RegistryRefresh = Result<String, Arc<PipelineError>>;

/// The shared state of a pipeline's operations.
pub(crate) struct Context<S, St> {
    pub(crate) source: S,
    pub(crate) store: Arc<St>,
    pub(crate) config: PipelineConfig,
    pub(crate) difficulty_feed: Option<Arc<dyn DifficultyFeed>>,
    /// The one sync of the difficulty feed this pipeline makes, shared by every date.
    pub(crate) feed_synced: tokio::sync::OnceCell<Result<usize, Arc<PipelineError>>>,
    /// The one refresh of the BM unit registry this pipeline makes, shared by every date.
    pub(crate) registry_refreshed: tokio::sync::OnceCell<RegistryRefresh>,
    /// Reference data a replay `--as-recorded` fixes: the registry and the bitcoin inputs
    /// the original run recorded, instead of today's.
    pub(crate) recorded: Option<(BmRegistry, BitcoinInputs)>,
    pub(crate) archive: Option<Arc<dyn SourceArchive>>,
}

impl<S, St> Context<S, St>
where
    St: SettlementStore + 'static,
{
    /// A context over `source` and `store`, with no feed and no archive.
    pub(crate) fn new(source: S, store: Arc<St>, config: PipelineConfig) -> Self {
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

    /// A context over `source` sharing this one's store and archive, with no network
    /// feeds: what a replay from the archive runs on.
    pub(crate) fn offline<S2>(
        &self,
        source: S2,
        config: PipelineConfig,
        recorded: Option<(BmRegistry, BitcoinInputs)>,
    ) -> Context<S2, St> {
        Context {
            recorded,
            archive: self.archive.clone(),
            ..Context::new(source, Arc::clone(&self.store), config)
        }
    }

    /// `f` on the store, on tokio's blocking pool.
    pub(crate) async fn with_store<T, F>(&self, f: F) -> Result<T, PipelineError>
    where
        F: FnOnce(&St) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let store = Arc::clone(&self.store);
        blocking(move || f(&store).map_err(PipelineError::from)).await
    }

    /// A new audit row's identity: a fresh run id, `kind`, `reason`, who and when.
    pub(crate) fn audit_info(&self, kind: RunKind, reason: Option<String>) -> AuditInfo {
        AuditInfo {
            run_id: uuid::Uuid::new_v4().to_string(),
            kind,
            reason,
            user: self.config.operator.user.clone(),
            host: self.config.operator.host.clone(),
            tool_version: self.config.tool_version.clone(),
            started_at: Utc::now(),
            inputs: None,
            range_tag: None,
        }
    }
}
