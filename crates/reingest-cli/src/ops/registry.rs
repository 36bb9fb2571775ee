//! The BM unit registry: filled from the API on first use, refreshed (at most once a day)
//! when a run meets unit ids it does not know, and left alone when the operator imported it.
//! Every replacement goes through the registry's rules for real lists (null ids, repeated
//! ids: [`settlement_model::admit_bm_units`]) and reports what they did
//! ([`RegistryReport`]).

use chrono::{Duration, Utc};
use settlement_model::{admit_bm_units, BmRegistry, BmUnitList, RegistryOrigin};
use store::SettlementStore;
use tracing::{info, warn};

use crate::error::{PipelineError, RegistryError};
use crate::ops::registry_report::RegistryReport;
use crate::pipeline::Pipeline;
use elexon_client::SettlementSource;

/// How often a run may refresh a registry filled from the API.
const REFRESH_AT_MOST_EVERY_HOURS: i64 = 24;

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// Replaces the BM unit registry with the source's list, under the registry's rules
    /// ([`settlement_model::admit_bm_units`]): units without an Elexon id left out and
    /// counted, repeated ids that agree merged, the first kept of those that differ in other
    /// fields than the fuel type. A fuel-type conflict is [`RegistryError::FuelTypeConflict`]
    /// and nothing is written.
    pub async fn sync_bm_units(&self) -> Result<RegistryReport, PipelineError> {
        let list = self
            .source()
            .bm_units()
            .await
            .map_err(RegistryError::ApiUnreadable)?;
        if list.units.is_empty() && list.without_id.is_empty() {
            return Err(RegistryError::ApiEmpty.into());
        }
        self.replace_registry(list, RegistryOrigin::Api).await
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
        let admitted = admit_bm_units(list).map_err(RegistryError::FuelTypeConflict)?;
        if admitted.units.is_empty() {
            return Err(RegistryError::NoUnitsWithId {
                without_id: admitted.without_id.len(),
            }
            .into());
        }
        let counts = admitted.counts();
        let (admitted, stored) = self
            .with_store(move |s| {
                let n = s.replace_bm_units(&admitted.units, origin, counts)?;
                Ok((admitted, n))
            })
            .await?;
        let report = RegistryReport::new(&admitted, stored, origin);
        for warning in report.warnings() {
            warn!(message = "BM unit list", %warning);
        }
        Ok(report)
    }

    /// The registry, filled from the source first when it is empty.
    pub async fn ensure_registry(&self) -> Result<BmRegistry, PipelineError> {
        Ok(self.ensure_registry_noted().await?.0)
    }

    /// The registry, filled from the source first when it is empty; then also a note for the
    /// run's report of what the fill stored, left out and merged.
    pub(crate) async fn ensure_registry_noted(
        &self,
    ) -> Result<(BmRegistry, Option<String>), PipelineError> {
        if let Some((registry, _)) = self.recorded() {
            return Ok((registry.clone(), None));
        }
        let mut units = self.with_store(|s| s.bm_units()).await?;
        let mut note = None;
        if units.is_empty() {
            info!(message = "BM unit registry is empty: filling it from the API");
            let report = self.sync_bm_units().await?;
            let summary = report.summary();
            info!(message = "BM unit registry filled", counts = %summary);
            note = Some(format!("filled from the API: {summary}"));
            units = self.with_store(|s| s.bm_units()).await?;
        }
        let registry = BmRegistry::new(units);
        if registry.wind_count() == 0 {
            return Err(RegistryError::NoWindUnits.into());
        }
        Ok((registry, note))
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
                self.sync_bm_units()
                    .await
                    .map(|report| report.summary())
                    .map_err(|e| e.to_string())
            })
            .await
            .clone();
        match result {
            Ok(summary) => Ok((
                Some(self.ensure_registry().await?),
                format!("refreshed from the API for unknown unit ids: {summary}"),
            )),
            Err(e) => Ok((None, format!("could not be refreshed from the API: {e}"))),
        }
    }
}
