//! A run's evidence in the store: recording it with the registry it classified with,
//! reading it back, the registry snapshot it names, and the evidence state of listed runs.

use serde::Serialize;
use settlement_model::{BmRegistry, BmUnit};
use store::{AuditRow, RunEvidence, RunKind, SettlementStore};

use crate::error::{InputError, PipelineError};
use crate::evidence::{registry_snapshot, EvidenceDocument};
use crate::ops::context::Context;
use elexon_client::SettlementSource;

/// Whether a run's evidence is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceState {
    /// The evidence document and its registry snapshot are stored: the run can be replayed
    /// `--as-recorded` and documented.
    Complete,
    /// The document is stored but its registry snapshot is not.
    Incomplete,
    /// A committed run without evidence (it predates this version, or recording failed).
    Missing,
    /// Nothing to record (the run did not commit rows, or is a restore).
    None,
}

impl EvidenceState {
    /// `complete`, `incomplete`, `missing`, `-`.
    pub fn as_str(&self) -> &'static str {
        match self {
            EvidenceState::Complete => "complete",
            EvidenceState::Incomplete => "incomplete",
            EvidenceState::Missing => "missing",
            EvidenceState::None => "-",
        }
    }
}

/// One run of `reingest runs`: its audit row, fingerprint and evidence.
#[derive(Debug, Clone, Serialize)]
pub struct RunListing {
    /// The audit row.
    #[serde(flatten)]
    pub run: AuditRow,
    /// The fingerprint of what it wrote, when recorded.
    pub fingerprint: Option<String>,
    /// Whether its evidence is stored.
    pub evidence: EvidenceState,
}

pub(crate) fn json_error(what: &str) -> impl FnOnce(serde_json::Error) -> PipelineError + '_ {
    move |source| PipelineError::Evidence {
        what: what.to_owned(),
        source,
    }
}

/// Stores a committed run's evidence with the registry it classified with.
pub(crate) async fn record_evidence<S, St>(
    cx: &Context<S, St>,
    run_id: &str,
    mut doc: EvidenceDocument,
    registry: &BmRegistry,
) -> Result<(), PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let (hash, json) = registry_snapshot(registry).map_err(json_error("registry snapshot"))?;
    doc.registry_hash = hash.clone();
    let evidence = RunEvidence {
        run_id: run_id.to_owned(),
        fingerprint: doc.fingerprint.total.clone(),
        registry_hash: hash,
        document: serde_json::to_string(&doc).map_err(json_error("evidence"))?,
    };
    cx.with_store(move |s| s.record_evidence(&evidence, &json))
        .await
}

/// The work of [`Pipeline::evidence`](crate::Pipeline::evidence).
pub(crate) async fn evidence<S, St>(
    cx: &Context<S, St>,
    run_id: &str,
) -> Result<Option<EvidenceDocument>, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let id = run_id.to_owned();
    let Some(stored) = cx.with_store(move |s| s.evidence(&id)).await? else {
        return Ok(None);
    };
    serde_json::from_str(&stored.document)
        .map(Some)
        .map_err(json_error(&format!("the evidence of run {run_id}")))
}

/// The work of [`Pipeline::listing`](crate::Pipeline::listing).
pub(crate) async fn listing<S, St>(
    cx: &Context<S, St>,
    runs: Vec<AuditRow>,
) -> Result<Vec<RunListing>, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let mut out = Vec::with_capacity(runs.len());
    for run in runs {
        let id = run.run_id.clone();
        let stored = cx.with_store(move |s| s.evidence(&id)).await?;
        let (fingerprint, evidence) = match stored {
            Some(e) => {
                let hash = e.registry_hash.clone();
                let snapshot = cx.with_store(move |s| s.registry_snapshot(&hash)).await?;
                let state = if snapshot.is_some() {
                    EvidenceState::Complete
                } else {
                    EvidenceState::Incomplete
                };
                (Some(e.fingerprint), state)
            }
            None if run.committed() && run.kind == RunKind::Run => (None, EvidenceState::Missing),
            None => (None, EvidenceState::None),
        };
        out.push(RunListing {
            run,
            fingerprint,
            evidence,
        });
    }
    Ok(out)
}

/// The registry run evidence names, from its content-addressed snapshot.
pub(crate) async fn recorded_registry<S, St>(
    cx: &Context<S, St>,
    doc: &EvidenceDocument,
) -> Result<BmRegistry, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let hash = doc.registry_hash.clone();
    let json = cx
        .with_store(move |s| s.registry_snapshot(&hash))
        .await?
        .ok_or_else(|| InputError::RegistrySnapshotMissing {
            hash: doc.registry_hash.clone(),
        })?;
    let units: Vec<BmUnit> =
        serde_json::from_str(&json).map_err(json_error("registry snapshot"))?;
    Ok(BmRegistry::new(units))
}
