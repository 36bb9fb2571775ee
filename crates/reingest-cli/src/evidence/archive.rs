//! The source archive at work: recompute a day offline from the responses a run used,
//! explain what changed between two runs, and prune old sources.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::Serialize;
use settlement_model::{
    process_items, BmRegistry, BmUnit, BmUnitList, PeriodRange, SettlementDate, Side,
};
use store::{AuditRow, FetchStatus, RunKind, RunStatus, SettlementStore, SourceArchive};

use elexon_client::{FetchError, Format, SettlementSource, StackResponse};

use crate::error::{blocking, InputError, PipelineError};

/// A [`SettlementSource`] that serves one run's archived responses: no network at all.
#[derive(Debug, Clone)]
pub struct ArchiveSource {
    responses: Arc<HashMap<(u8, Side), Option<StackResponse>>>,
    units: Arc<Vec<BmUnit>>,
}

impl SettlementSource for ArchiveSource {
    fn stack(
        &self,
        date: SettlementDate,
        period: u8,
        side: Side,
    ) -> impl Future<Output = Result<StackResponse, FetchError>> + Send {
        let found = self.responses.get(&(period, side)).cloned().flatten();
        async move { found.ok_or(FetchError::NotPublished { date, period, side }) }
    }

    fn bm_units(&self) -> impl Future<Output = Result<BmUnitList, FetchError>> + Send {
        let units = self.units.as_ref().clone();
        async move { Ok(BmUnitList::from(units)) }
    }
}

/// One run's sources, loaded and checked.
#[derive(Debug, Clone)]
pub struct RunSources {
    /// The run.
    pub run: AuditRow,
    /// Its periods.
    pub periods: PeriodRange,
    /// The source of every period and side (`None`: missing at the API when it ran).
    pub responses: HashMap<(u8, Side), Option<StackResponse>>,
    /// Hash of each period and side's source.
    pub hashes: HashMap<(u8, Side), String>,
}

impl RunSources {
    /// A source serving these responses, with `units` as its BM unit list.
    pub fn source(&self, units: Vec<BmUnit>) -> ArchiveSource {
        ArchiveSource {
            responses: Arc::new(self.responses.clone()),
            units: Arc::new(units),
        }
    }
}

impl RunSources {
    /// A source serving these responses, moved rather than copied, with `units` (shared by
    /// every date of a range) as its BM unit list.
    pub fn into_source(self, units: Arc<Vec<BmUnit>>) -> ArchiveSource {
        ArchiveSource {
            responses: Arc::new(self.responses),
            units,
        }
    }
}

/// The run `run_id`, or the latest committed run of `date` when `None`.
pub(crate) async fn find_run<St: SettlementStore + 'static>(
    store: &Arc<St>,
    date: SettlementDate,
    run_id: Option<&str>,
) -> Result<AuditRow, PipelineError> {
    let s = Arc::clone(store);
    let runs = blocking(move || s.runs(Some(date)).map_err(PipelineError::from)).await?;
    let with_sources = |r: &&AuditRow| r.committed() && r.kind != RunKind::Restore;
    match run_id {
        Some(id) => runs
            .iter()
            .find(|r| r.run_id == id)
            .cloned()
            .ok_or_else(|| {
                InputError::UnknownRunOfDate {
                    run_id: id.to_owned(),
                    date,
                }
                .into()
            }),
        None => runs
            .iter()
            .find(with_sources)
            .cloned()
            .ok_or_else(|| InputError::NoArchivedRun { date }.into()),
    }
}

/// Loads and checks the archived responses of `run`. A missing or corrupt entry is an
/// error naming it: nothing is recomputed from sources that are not whole.
pub(crate) async fn load_run_sources<St>(
    store: &Arc<St>,
    archive: &Arc<dyn SourceArchive>,
    run: AuditRow,
) -> Result<RunSources, PipelineError>
where
    St: SettlementStore + 'static,
{
    let date = run.settlement_date;
    let periods = PeriodRange::parse(&run.periods, date)?;
    let (s, id) = (Arc::clone(store), run.run_id.clone());
    let log = blocking(move || s.run_fetch_log(&id).map_err(PipelineError::from)).await?;
    if log.is_empty() {
        return Err(InputError::NoFetchLog {
            run_id: run.run_id,
            kind: run.kind,
            status: run.status,
        }
        .into());
    }
    let archive = Arc::clone(archive);
    let entries = log.clone();
    let loaded = blocking(move || {
        let mut wanted = Vec::new();
        for e in &entries {
            if let (FetchStatus::Fetched, None) = (&e.status, &e.source_hash) {
                return Err(InputError::NoSourceHash {
                    period: e.settlement_period,
                    side: e.side,
                }
                .into());
            }
            if let (FetchStatus::Fetched, Some(hash)) = (&e.status, &e.source_hash) {
                wanted.push(hash.clone());
            }
        }
        // The day's bodies in one read, not one per period and side.
        let mut sources = archive.get_sources(&wanted)?.into_iter();
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let item = match (e.status, e.source_hash) {
                (FetchStatus::Fetched, Some(hash)) => sources.next().map(|src| (hash, src)),
                _ => None,
            };
            out.push((e.settlement_period, e.side, item));
        }
        Ok(out)
    })
    .await?;
    let mut responses = HashMap::new();
    let mut hashes = HashMap::new();
    for (period, side, item) in loaded {
        let response = match item {
            None => None,
            Some((hash, src)) => {
                let format: Format =
                    src.format.parse().map_err(|_| InputError::ArchivedFormat {
                        hash: hash.clone(),
                        format: src.format.clone(),
                    })?;
                let items = format
                    .parse_stack(&src.body, date, period, side)
                    .map_err(|e| PipelineError::Fetch(FetchError::Parse(e)))?;
                hashes.insert((period, side), hash);
                Some(StackResponse {
                    items,
                    body: src.body.into(),
                    format,
                })
            }
        };
        responses.insert((period, side), response);
    }
    for p in periods.numbers() {
        for side in Side::BOTH {
            if !responses.contains_key(&(p, side)) {
                return Err(InputError::SourceNotLogged {
                    run_id: run.run_id,
                    period: p,
                    side,
                }
                .into());
            }
        }
    }
    Ok(RunSources {
        run,
        periods,
        responses,
        hashes,
    })
}

/// One farm's change in one period between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FarmChange {
    /// The BM unit id.
    pub farm_id: String,
    /// `added`, `removed` or `changed`.
    pub change: String,
    /// Σ volume in run A, MWh.
    pub volume_a: Decimal,
    /// Σ volume in run B, MWh.
    pub volume_b: Decimal,
    /// Σ payment in run A, £.
    pub payment_a: Decimal,
    /// Σ payment in run B, £.
    pub payment_b: Decimal,
}

/// One period's changes between two runs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodDiff {
    /// The period.
    pub period: u8,
    /// Whether the raw responses differ (hash).
    pub source_changed: bool,
    /// The latest `createdDateTime` of run A's responses: the calculation run behind them.
    pub created_a: Option<DateTime<Utc>>,
    /// The same for run B.
    pub created_b: Option<DateTime<Utc>>,
    /// Farms whose records changed.
    pub farms: Vec<FarmChange>,
}

/// What changed in a date between two runs, from their archived sources.
#[derive(Debug, Clone, Serialize)]
pub struct DiffReport {
    /// The date.
    pub date: SettlementDate,
    /// The older run.
    pub run_a: String,
    /// The newer run.
    pub run_b: String,
    /// Periods whose source or records differ.
    pub periods: Vec<PeriodDiff>,
    /// Records added (farm-periods only in B).
    pub records_added: usize,
    /// Records removed (farm-periods only in A).
    pub records_removed: usize,
    /// Σ volume B − Σ volume A, MWh.
    pub volume_delta: Decimal,
    /// Σ payment B − Σ payment A, £.
    pub payment_delta: Decimal,
}

type FarmTotals = BTreeMap<(u8, String), (usize, Decimal, Decimal)>;

fn farm_totals(sources: &RunSources, registry: &BmRegistry) -> Result<FarmTotals, PipelineError> {
    let date = sources.run.settlement_date;
    let out = process_items(
        date,
        sources.responses.iter().flat_map(|((_, side), r)| {
            r.iter()
                .flat_map(move |r| r.items.iter().map(move |i| (*side, i)))
        }),
        registry,
    )?;
    let mut totals = FarmTotals::new();
    for r in out.records {
        let e = totals
            .entry((r.settlement_period, r.farm_id.clone()))
            .or_default();
        e.0 += 1;
        e.1 += r.volume;
        e.2 += r.payment;
    }
    Ok(totals)
}

fn created(sources: &RunSources, period: u8) -> Option<DateTime<Utc>> {
    Side::BOTH
        .iter()
        .filter_map(|s| sources.responses.get(&(period, *s)).cloned().flatten())
        .flat_map(|r| r.items.into_iter().filter_map(|i| i.created_date_time))
        .max()
}

/// Compares two runs' archived sources, period by period and farm by farm.
pub(crate) fn diff_runs(
    a: &RunSources,
    b: &RunSources,
    registry: &BmRegistry,
) -> Result<DiffReport, PipelineError> {
    let ta = farm_totals(a, registry)?;
    let tb = farm_totals(b, registry)?;
    let periods: BTreeSet<u8> = a.periods.numbers().chain(b.periods.numbers()).collect();
    let mut out = Vec::new();
    let (mut added, mut removed) = (0, 0);
    let (mut dv, mut dp) = (Decimal::ZERO, Decimal::ZERO);
    for p in periods {
        let source_changed = Side::BOTH
            .iter()
            .any(|s| a.hashes.get(&(p, *s)) != b.hashes.get(&(p, *s)));
        let farms_in = |t: &FarmTotals| -> BTreeSet<String> {
            t.keys()
                .filter(|(q, _)| *q == p)
                .map(|(_, f)| f.clone())
                .collect()
        };
        let farms: BTreeSet<String> = farms_in(&ta).union(&farms_in(&tb)).cloned().collect();
        let mut changes = Vec::new();
        for farm in farms {
            let key = (p, farm.clone());
            let va = ta.get(&key).copied();
            let vb = tb.get(&key).copied();
            let change = match (va, vb) {
                (None, Some(x)) => {
                    added += x.0;
                    "added"
                }
                (Some(x), None) => {
                    removed += x.0;
                    "removed"
                }
                (Some(x), Some(y)) if x != y => "changed",
                _ => continue,
            };
            let (_, volume_a, payment_a) = va.unwrap_or_default();
            let (_, volume_b, payment_b) = vb.unwrap_or_default();
            dv += volume_b - volume_a;
            dp += payment_b - payment_a;
            changes.push(FarmChange {
                farm_id: farm,
                change: change.into(),
                volume_a,
                volume_b,
                payment_a,
                payment_b,
            });
        }
        if source_changed || !changes.is_empty() {
            out.push(PeriodDiff {
                period: p,
                source_changed,
                created_a: created(a, p),
                created_b: created(b, p),
                farms: changes,
            });
        }
    }
    Ok(DiffReport {
        date: a.run.settlement_date,
        run_a: a.run.run_id.clone(),
        run_b: b.run.run_id.clone(),
        periods: out,
        records_added: added,
        records_removed: removed,
        volume_delta: dv,
        payment_delta: dp,
    })
}

/// The report of `archive prune`.
#[derive(Debug, Clone, Serialize)]
pub struct PruneReport {
    /// Entries kept.
    pub kept: usize,
    /// Entries deleted.
    pub deleted: usize,
    /// Runs whose sources were kept.
    pub runs_kept: usize,
    /// Runs whose backups (the rows they replaced) were kept: the newest `keep_last`
    /// committed runs of every date.
    pub backups_kept: usize,
    /// Backed-up rows deleted (of older runs, which can no longer be restored).
    pub backup_rows_deleted: u64,
}

/// How long a `running` audit row may be a live run; older ones are of processes that died.
const LIVE_RUN_HOURS: i64 = 24;

/// Runs that may still be in progress (started in the last day, not finished): their
/// sources are archived but not yet in a committed fetch log, so a prune must wait.
pub(crate) fn unfinished(runs: &[AuditRow]) -> Vec<String> {
    let since = chrono::Utc::now() - chrono::Duration::hours(LIVE_RUN_HOURS);
    runs.iter()
        .filter(|r| r.status == RunStatus::Running && r.started_at > since)
        .map(|r| format!("{} ({})", r.run_id, r.settlement_date))
        .collect()
}

/// The runs whose backups to keep: the newest `keep_last` (at least one) committed runs of
/// every date; and the rest of the committed runs, whose backups go.
pub(crate) fn backups_to_keep(runs: &[AuditRow], keep_last: usize) -> (Vec<String>, Vec<String>) {
    let mut per_date: BTreeMap<SettlementDate, usize> = BTreeMap::new();
    let (mut keep, mut drop) = (Vec::new(), Vec::new());
    for r in runs.iter().filter(|r| r.committed()) {
        let n = per_date.entry(r.settlement_date).or_default();
        if *n < keep_last.max(1) {
            *n += 1;
            keep.push(r.run_id.clone());
        } else {
            drop.push(r.run_id.clone());
        }
    }
    (keep, drop)
}

/// Hashes to keep: the sources of the newest `keep_last` runs (with sources) of every date.
pub(crate) fn hashes_to_keep(
    runs: &[AuditRow],
    keep_last: usize,
    fetch_log_of: &mut dyn FnMut(&str) -> Result<Vec<String>, PipelineError>,
) -> Result<(BTreeSet<String>, usize), PipelineError> {
    let mut per_date: BTreeMap<SettlementDate, usize> = BTreeMap::new();
    let mut keep = BTreeSet::new();
    let mut runs_kept = 0;
    // `runs` is newest first.
    for r in runs {
        let n = per_date.entry(r.settlement_date).or_default();
        if *n >= keep_last.max(1) {
            continue;
        }
        let hashes = fetch_log_of(&r.run_id)?;
        if hashes.is_empty() {
            continue;
        }
        *n += 1;
        runs_kept += 1;
        keep.extend(hashes);
    }
    Ok((keep, runs_kept))
}
