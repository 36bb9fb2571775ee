//! `range FROM TO --from-archive`: every date of a range recomputed from its archived
//! responses, in one process, with the work a date shares done once for the range.
//!
//! Read once per range: the BM unit registry (or, `--as-recorded`, each distinct registry
//! snapshot the dates' runs recorded), the whole difficulty table and the halving days (each
//! date's bitcoin inputs are then resolved in memory by the same trust rules as a run's), and
//! the miner models (the pipeline's settings). The migrations were checked when the pipeline
//! was built. Per date: the newest committed run, its fetch log and its archived bodies (one
//! read for the day's bodies), then the same verified swap as any run, filing nothing in the
//! archive again. Dates stream through `--jobs` at a time; a date's responses are dropped
//! when its swap is done, so memory holds at most `jobs` days.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use futures::stream::{self, StreamExt};
use settlement_model::{
    BitcoinInputs, BmRegistry, BmUnit, DifficultyEntry, DifficultyOrigin, Halving, SettlementDate,
};
use store::{AuditRow, DifficultyAround, SettlementStore};

use elexon_client::SettlementSource;

use crate::error::{InputError, PipelineError};
use crate::evidence::EvidenceDocument;
use crate::ops::config::{PipelineConfig, RunOptions};
use crate::ops::context::Context;
use crate::ops::inputs::settle_inputs;
use crate::ops::progress::NoProgress;
use crate::ops::reports::RunReport;
use crate::ops::{inputs, registry, run, run_evidence};

/// How a range recomputes from the archive (`range --from-archive`): see
/// [`crate::ops::range::RangeOptions::from_archive`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ArchiveReplay {
    /// Replay each date's newest committed run exactly, with the registry, difficulty,
    /// subsidy and miner models it recorded, and fail the date unless it reproduces the
    /// run's fingerprint (`--as-recorded`). Without it, today's reference data apply.
    pub as_recorded: bool,
    /// Fetch the dates that have no archived run from the API instead of listing them
    /// (`--fetch-missing`), rate-limited as a live range.
    pub fetch_missing: bool,
}

/// How one date of a range from the archive ended, before the range reports it.
pub(crate) enum Replayed {
    /// Done by an earlier run of the same range (`--resume`).
    Skipped,
    /// Recomputed from the archive, or fetched (`--fetch-missing`): the run's report or
    /// the error that stopped it.
    Ran(Box<Result<RunReport, PipelineError>>),
    /// Nothing archived to recompute from: why.
    NoArchive(PipelineError),
}

/// The dates of a range from the archive and how to record them.
pub(crate) struct ArchiveDates<'a> {
    /// The dates, in order.
    pub dates: Vec<SettlementDate>,
    /// Dates in flight at once.
    pub jobs: usize,
    /// How to replay.
    pub replay: ArchiveReplay,
    /// Each date's reason in the audit log.
    pub reason: &'a str,
    /// The range's tag.
    pub tag: &'a str,
    /// Dates an earlier run of the range committed (`--resume`).
    pub done: &'a [SettlementDate],
}

/// A registry and its units as an archive source serves them, shared by the dates.
type SharedRegistry = (BmRegistry, Arc<Vec<BmUnit>>);

/// What every date of the range rests on, read once.
struct RangeInputs {
    /// Today's registry (not read `--as-recorded`).
    today: Option<SharedRegistry>,
    /// The whole difficulty table (empty `--as-recorded`).
    difficulties: Vec<DifficultyEntry>,
    /// The halving days (empty `--as-recorded`).
    halvings: Vec<Halving>,
    /// Miner models and the rest of the pipeline's settings.
    config: PipelineConfig,
    /// `--as-recorded`: the registry snapshots met so far, by hash.
    snapshots: Mutex<HashMap<String, SharedRegistry>>,
}

fn shared(registry: BmRegistry) -> SharedRegistry {
    let units = Arc::new(registry.units().cloned().collect());
    (registry, units)
}

impl RangeInputs {
    async fn load<S, St>(cx: &Context<S, St>, replay: ArchiveReplay) -> Result<Self, PipelineError>
    where
        S: SettlementSource,
        St: SettlementStore + 'static,
    {
        let mut inputs = Self {
            today: None,
            difficulties: Vec::new(),
            halvings: Vec::new(),
            config: cx.config.clone(),
            snapshots: Mutex::new(HashMap::new()),
        };
        if !replay.as_recorded {
            inputs.today = Some(shared(registry::ensure_registry(cx).await?));
            inputs.difficulties = cx.with_store(|s| s.difficulty_entries()).await?;
            inputs.halvings = cx.with_store(|s| s.halvings()).await?;
        }
        Ok(inputs)
    }

    /// Today's bitcoin inputs of `date` from the table read for the range; when the table
    /// does not settle them, the per-date path (which syncs the feed once, or says why not).
    async fn bitcoin_inputs<S, St>(
        &self,
        cx: &Context<S, St>,
        date: SettlementDate,
    ) -> Result<BitcoinInputs, PipelineError>
    where
        S: SettlementSource,
        St: SettlementStore + 'static,
    {
        let around = DifficultyAround::within(&self.difficulties, date.naive());
        let settled = settle_inputs(
            date,
            &around,
            &self.halvings,
            self.config.difficulty_override,
            DifficultyOrigin::Table,
        );
        match settled {
            Ok(inputs) => Ok(inputs),
            Err(_) => inputs::bitcoin_inputs(cx, date).await,
        }
    }

    /// The registry `doc`'s run classified with, read once per snapshot for the range.
    async fn recorded_registry<S, St>(
        &self,
        cx: &Context<S, St>,
        doc: &EvidenceDocument,
    ) -> Result<SharedRegistry, PipelineError>
    where
        S: SettlementSource,
        St: SettlementStore + 'static,
    {
        let cached = self
            .snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&doc.registry_hash)
            .cloned();
        if let Some(found) = cached {
            return Ok(found);
        }
        let loaded = shared(run_evidence::recorded_registry(cx, doc).await?);
        self.snapshots
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(doc.registry_hash.clone(), loaded.clone());
        Ok(loaded)
    }
}

/// Recomputes every date of `plan` from the archive, `jobs` at a time (see the module
/// docs); `finish` turns each date's end into what the caller keeps (in the order dates
/// finish) as soon as it is known, so only that is held.
pub(crate) async fn replay_dates<S, St, T>(
    cx: &Context<S, St>,
    plan: ArchiveDates<'_>,
    finish: &(dyn Fn(SettlementDate, Replayed) -> T + Sync),
) -> Result<Vec<T>, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
    T: Send,
{
    cx.archive.clone().ok_or(InputError::NoArchive)?;
    let inputs = RangeInputs::load(cx, plan.replay).await?;
    let (inputs, plan) = (&inputs, &plan);
    Ok(stream::iter(plan.dates.iter().copied())
        .map(|date| async move {
            let replayed = if plan.done.contains(&date) {
                Replayed::Skipped
            } else {
                one_date(cx, inputs, date, plan).await
            };
            finish(date, replayed)
        })
        .buffer_unordered(plan.jobs.max(1))
        .collect()
        .await)
}

/// Whether an error means the date has nothing archived to recompute from.
fn nothing_archived(e: &PipelineError) -> bool {
    matches!(
        e,
        PipelineError::Input(
            InputError::NoArchivedRun { .. }
                | InputError::NoFetchLog { .. }
                | InputError::NoSourceHash { .. }
        )
    )
}

async fn one_date<S, St>(
    cx: &Context<S, St>,
    inputs: &RangeInputs,
    date: SettlementDate,
    plan: &ArchiveDates<'_>,
) -> Replayed
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let (reason, tag) = (plan.reason, plan.tag);
    let result = match crate::evidence::archive::find_run(&cx.store, date, None).await {
        Ok(run) => replay_run(cx, inputs, run, plan.replay, reason, tag).await,
        Err(e) => Err(e),
    };
    match result {
        Err(e) if nothing_archived(&e) && plan.replay.fetch_missing => {
            let mut run = RunOptions::new(date);
            run.reason = Some(format!("{reason} (not archived: fetched from the API)"));
            run.range_tag = Some(tag.to_owned());
            Replayed::Ran(Box::new(run::run(cx, &run, &NoProgress).await))
        }
        Err(e) if nothing_archived(&e) => Replayed::NoArchive(e),
        result => Replayed::Ran(Box::new(result)),
    }
}

/// Replays `run`'s archived responses as a new run of the range.
async fn replay_run<S, St>(
    cx: &Context<S, St>,
    inputs: &RangeInputs,
    run: AuditRow,
    replay: ArchiveReplay,
    reason: &str,
    tag: &str,
) -> Result<RunReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let archive = cx.archive.clone().ok_or(InputError::NoArchive)?;
    let date = run.settlement_date;
    let sources = crate::evidence::archive::load_run_sources(&cx.store, &archive, run).await?;
    let run_id = sources.run.run_id.clone();
    let mut o = RunOptions::new(date);
    o.periods = Some(sources.periods);
    o.allow_missing_periods = sources.responses.values().any(Option::is_none);
    // The registry is fixed for the whole range: read once, never refreshed per date.
    o.no_registry_refresh = true;
    o.range_tag = Some(tag.to_owned());
    let mode = if replay.as_recorded {
        ", as recorded"
    } else {
        ""
    };
    o.reason = Some(format!("{reason} (from archive of run {run_id}{mode})"));

    // Today's registry is read for the range unless it replays as recorded.
    let (config, recorded, units) = if let Some((registry, units)) = &inputs.today {
        let today = inputs.bitcoin_inputs(cx, date).await?;
        (
            inputs.config.clone(),
            (registry.clone(), today),
            Arc::clone(units),
        )
    } else {
        let doc = run_evidence::evidence(cx, &run_id)
            .await?
            .ok_or(InputError::NoEvidence { run_id })?;
        let (registry, units) = inputs.recorded_registry(cx, &doc).await?;
        let mut config = inputs.config.clone();
        config.miners = doc.miners;
        o.expectations.fingerprint = Some(doc.fingerprint);
        (config, (registry, doc.inputs), units)
    };
    // Its responses are filed already: compressing them again is waste.
    let mut offline = cx.offline(sources.into_source(units), config, Some(recorded));
    offline.archive = None;
    run::run(&offline, &o, &NoProgress).await
}
