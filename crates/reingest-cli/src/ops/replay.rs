//! Replaying a run from the archive: with today's reference data, or `--as-recorded` with
//! exactly the registry, difficulty, subsidy and miner models it recorded (its evidence,
//! `run_evidence`), reproducing its fingerprint.

use std::sync::Arc;

use settlement_model::{BmRegistry, BmUnit};
use store::SettlementStore;

use crate::error::{InputError, PipelineError};
use crate::evidence::{registry_snapshot, EvidenceDocument};
use crate::ops::config::RunOptions;
use crate::ops::context::Context;
use crate::ops::progress::IntoProgress;
use crate::ops::reports::RunReport;
use crate::ops::run;
use crate::ops::run_evidence::{evidence, json_error, recorded_registry};
use elexon_client::SettlementSource;

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
