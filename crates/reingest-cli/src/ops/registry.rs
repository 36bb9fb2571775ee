//! The BM unit registry: filled from the API on first use, refreshed (at most once a day)
//! when a run meets unit ids it does not know, and left alone when the operator imported it.
//! Every replacement goes through the registry's rules for real lists (null ids, repeated
//! ids: [`settlement_model::admit_bm_units`]) and reports what they did
//! ([`RegistryReport`]).

use std::sync::Arc;

use chrono::{Duration, Utc};
use settlement_model::{admit_bm_units, BmRegistry, BmUnitList, RegistryOrigin};
use store::SettlementStore;
use tracing::{info, warn};

use crate::error::{PipelineError, RegistryError};
use crate::ops::context::Context;
use crate::ops::registry_note::RegistryNote;
use crate::ops::registry_report::RegistryReport;
use elexon_client::SettlementSource;

/// How often a run may refresh a registry filled from the API.
const REFRESH_AT_MOST_EVERY_HOURS: i64 = 24;

/// The work of [`Pipeline::sync_bm_units`](crate::Pipeline::sync_bm_units).
pub(crate) async fn sync_bm_units<S, St>(
    cx: &Context<S, St>,
) -> Result<RegistryReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let list = cx
        .source
        .bm_units()
        .await
        .map_err(RegistryError::ApiUnreadable)?;
    if list.units.is_empty() && list.without_id.is_empty() {
        return Err(RegistryError::ApiEmpty.into());
    }
    replace_registry(cx, list, RegistryOrigin::Api).await
}

/// The work of [`Pipeline::replace_registry`](crate::Pipeline::replace_registry).
pub(crate) async fn replace_registry<S, St>(
    cx: &Context<S, St>,
    list: BmUnitList,
    origin: RegistryOrigin,
) -> Result<RegistryReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let admitted = admit_bm_units(list).map_err(RegistryError::FuelTypeConflict)?;
    if admitted.units.is_empty() {
        return Err(RegistryError::NoUnitsWithId {
            without_id: admitted.without_id.len(),
        }
        .into());
    }
    let counts = admitted.counts();
    let (admitted, stored) = cx
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

/// The work of [`Pipeline::ensure_registry`](crate::Pipeline::ensure_registry).
pub(crate) async fn ensure_registry<S, St>(cx: &Context<S, St>) -> Result<BmRegistry, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    Ok(ensure_registry_noted(cx).await?.0)
}

/// The registry, filled from the source first when it is empty; then also a note for the
/// run's report of what the fill stored, left out and merged.
pub(crate) async fn ensure_registry_noted<S, St>(
    cx: &Context<S, St>,
) -> Result<(BmRegistry, Option<RegistryNote>), PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    if let Some((registry, _)) = cx.recorded.as_ref() {
        return Ok((registry.clone(), None));
    }
    let mut units = cx.with_store(|s| s.bm_units()).await?;
    let mut note = None;
    if units.is_empty() {
        info!(message = "BM unit registry is empty: filling it from the API");
        let report = sync_bm_units(cx).await?;
        let summary = report.summary();
        info!(message = "BM unit registry filled", counts = %summary);
        note = Some(RegistryNote::Filled { summary });
        units = cx.with_store(|s| s.bm_units()).await?;
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
pub(crate) async fn refresh_registry_for_unknown_ids<S, St>(
    cx: &Context<S, St>,
    forbidden: bool,
) -> Result<(Option<BmRegistry>, RegistryNote), PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    if forbidden {
        return Ok((None, RegistryNote::KeptFixed));
    }
    let state = cx.with_store(|s| s.registry_state()).await?;
    let Some(state) = state else {
        return Ok((None, RegistryNote::OriginUnknown));
    };
    if state.origin == RegistryOrigin::File {
        return Ok((None, RegistryNote::ImportedFromFile));
    }
    let fresh_enough =
        Utc::now() - state.refreshed_at < Duration::hours(REFRESH_AT_MOST_EVERY_HOURS);
    if fresh_enough && cx.registry_refreshed.get().is_none() {
        return Ok((
            None,
            RegistryNote::RefreshedRecently {
                at: state.refreshed_at,
            },
        ));
    }
    let result = cx
        .registry_refreshed
        .get_or_init(|| async {
            info!(message = "unknown unit ids: refreshing the BM unit registry from the API");
            sync_bm_units(cx)
                .await
                .map(|report| report.summary())
                .map_err(Arc::new)
        })
        .await
        .clone();
    match result {
        Ok(summary) => Ok((
            Some(ensure_registry(cx).await?),
            RegistryNote::Refreshed { summary },
        )),
        Err(error) => Ok((None, RegistryNote::RefreshFailed { error })),
    }
}
