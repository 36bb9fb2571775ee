//! Recording a run's evidence, and replaying a run from the archive: with today's reference
//! data, or `--as-recorded` with exactly the registry, difficulty, subsidy and miner models it
//! recorded, reproducing its fingerprint.

use std::sync::Arc;

use serde::Serialize;
use settlement_model::{BmRegistry, BmUnit};
use store::{AuditRow, RunEvidence, RunKind, SettlementStore};

use crate::error::{InputError, PipelineError};
use crate::evidence::{registry_snapshot, EvidenceDocument};
use crate::ops::config::RunOptions;
use crate::ops::context::Context;
use crate::ops::progress::IntoProgress;
use crate::ops::reports::RunReport;
use crate::ops::run;
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

fn json_error(what: &str) -> impl FnOnce(serde_json::Error) -> PipelineError + '_ {
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

/// The work of [`Pipeline::run_from_archive`](crate::Pipeline::run_from_archive).
pub(crate) async fn run_from_archive<'p, S, St>(
    cx: &Context<S, St>,
    opts: &RunOptions,
    run_id: Option<&str>,
    as_recorded: bool,
    progress: impl IntoProgress<'p>,
) -> Result<RunReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let progress = progress.into_progress();
    let archive = cx.archive.clone().ok_or(InputError::NoArchive)?;
    let store = Arc::clone(&cx.store);
    let run = crate::evidence::archive::find_run(&store, opts.date, run_id).await?;
    let sources = crate::evidence::archive::load_run_sources(&store, &archive, run).await?;
    let original = evidence(cx, &sources.run.run_id).await?;
    let mut o = opts.clone();
    o.periods = Some(sources.periods);
    o.allow_missing_periods = sources.responses.values().any(Option::is_none);
    // The archive's registry is today's; a refresh would only replace it with itself.
    o.no_registry_refresh = true;
    let mode = if as_recorded { ", as recorded" } else { "" };
    let note = format!("from archive of run {}{mode}", sources.run.run_id);
    o.reason = Some(match &opts.reason {
        Some(r) => format!("{r} ({note})"),
        None => note,
    });

    if as_recorded {
        let doc = original.ok_or_else(|| InputError::NoEvidence {
            run_id: sources.run.run_id.clone(),
        })?;
        let registry = recorded_registry(cx, &doc).await?;
        let mut config = cx.config.clone();
        config.miners = doc.miners.clone();
        let units: Vec<BmUnit> = registry.units().cloned().collect();
        let offline = cx.offline(sources.source(units), config, Some((registry, doc.inputs)));
        o.expectations.fingerprint = Some(doc.fingerprint);
        return run::run(&offline, &o, progress).await;
    }

    let units = cx.with_store(|s| s.bm_units()).await?;
    let offline = cx.offline(sources.source(units), cx.config.clone(), None);
    let mut report = run::run(&offline, &o, progress).await?;
    if let Some(doc) = original {
        report.reference_changes = reference_changes(cx, &doc, &report).await?;
    }
    Ok(report)
}

/// Which of today's reference data differ from what `doc`'s run used.
pub(crate) async fn reference_changes<S, St>(
    cx: &Context<S, St>,
    doc: &EvidenceDocument,
    report: &RunReport,
) -> Result<Vec<String>, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let mut changes = Vec::new();
    let today = BmRegistry::new(cx.with_store(|s| s.bm_units()).await?);
    let (hash, _) = registry_snapshot(&today).map_err(json_error("registry"))?;
    if hash != doc.registry_hash {
        changes.push(format!(
            "BM unit registry: {} units now, {} when the run classified (snapshot {})",
            today.len(),
            doc.registry_units,
            doc.registry_hash.get(..12).unwrap_or(&doc.registry_hash)
        ));
    }
    if report.inputs.difficulty != doc.inputs.difficulty {
        changes.push(format!(
            "difficulty: {} ({}) now, {} ({}) then",
            report.inputs.difficulty,
            report.inputs.origin,
            doc.inputs.difficulty,
            doc.inputs.origin
        ));
    }
    if report.inputs.subsidy != doc.inputs.subsidy {
        changes.push(format!(
            "block subsidy: {} BTC now, {} BTC then",
            report.inputs.subsidy, doc.inputs.subsidy
        ));
    }
    if cx.config.miners != doc.miners {
        let names = |m: &[bitcoin_calc::MinerModel]| {
            m.iter()
                .map(|m| m.name.clone())
                .collect::<Vec<_>>()
                .join(",")
        };
        changes.push(format!(
            "miner models: {} now, {} then",
            names(&cx.config.miners),
            names(&doc.miners)
        ));
    }
    Ok(changes)
}
