//! The BM unit registry: filled from the API on first use, refreshed (at most once a day)
//! when a run meets unit ids it does not know, and left alone when the operator imported it.

use chrono::{Duration, Utc};
use settlement_model::{BmRegistry, RegistryOrigin};
use store::SettlementStore;
use tracing::info;

use crate::error::{PipelineError, RegistryError};
use crate::pipeline::Pipeline;
use elexon_client::SettlementSource;

/// How often a run may refresh a registry filled from the API.
const REFRESH_AT_MOST_EVERY_HOURS: i64 = 24;

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// Replaces the BM unit registry with the source's list; returns how many units.
    pub async fn sync_bm_units(&self) -> Result<usize, PipelineError> {
        let units = self
            .source()
            .bm_units()
            .await
            .map_err(RegistryError::ApiUnreadable)?;
        if units.is_empty() {
            return Err(RegistryError::ApiEmpty.into());
        }
        self.with_store(move |s| s.replace_bm_units(&units, RegistryOrigin::Api))
            .await
    }

    /// The registry, filled from the source first when it is empty.
    pub async fn ensure_registry(&self) -> Result<BmRegistry, PipelineError> {
        if let Some((registry, _)) = self.recorded() {
            return Ok(registry.clone());
        }
        let mut units = self.with_store(|s| s.bm_units()).await?;
        if units.is_empty() {
            info!(message = "BM unit registry is empty: filling it from the API");
            let n = self.sync_bm_units().await?;
            info!(message = "BM unit registry filled", units = n);
            units = self.with_store(|s| s.bm_units()).await?;
        }
        let registry = BmRegistry::new(units);
        if registry.wind_count() == 0 {
            return Err(RegistryError::NoWindUnits.into());
        }
        Ok(registry)
    }

    /// A run met unit ids the registry does not know. A registry filled from the API and
    /// not refreshed in the last day is refreshed once (for this pipeline's life) and
    /// returned; otherwise `None`. The note says what was done, or why not, for the report.
    pub(crate) async fn refresh_registry_for_unknown_ids(
        &self,
        forbidden: bool,
    ) -> Result<(Option<BmRegistry>, String), PipelineError> {
        if forbidden {
            return Ok((None, "kept fixed (--no-registry-refresh)".into()));
        }
        let state = self.with_store(|s| s.registry_state()).await?;
        let Some(state) = state else {
            return Ok((
                None,
                "its origin is not recorded (filled before this version): left as it is; \
                 `reingest bmu sync` refreshes it from the API"
                    .into(),
            ));
        };
        if state.origin == RegistryOrigin::File {
            return Ok((
                None,
                "imported from a file: left as the operator made it (`reingest bmu import \
                 FILE` again, or `reingest bmu sync` to take the API's)"
                    .into(),
            ));
        }
        let fresh_enough =
            Utc::now() - state.refreshed_at < Duration::hours(REFRESH_AT_MOST_EVERY_HOURS);
        if fresh_enough && self.registry_refreshed().get().is_none() {
            return Ok((
                None,
                format!(
                    "refreshed from the API at {} (at most once a day); the ids are not there",
                    state.refreshed_at.format("%Y-%m-%d %H:%M UTC")
                ),
            ));
        }
        let result = self
            .registry_refreshed()
            .get_or_init(|| async {
                info!(message = "unknown unit ids: refreshing the BM unit registry from the API");
                self.sync_bm_units().await.map_err(|e| e.to_string())
            })
            .await
            .clone();
        match result {
            Ok(n) => Ok((
                Some(self.ensure_registry().await?),
                format!("refreshed from the API for unknown unit ids ({n} units)"),
            )),
            Err(e) => Ok((None, format!("could not be refreshed from the API: {e}"))),
        }
    }
}
