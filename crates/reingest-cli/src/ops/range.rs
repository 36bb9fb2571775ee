//! Ranges of dates (`reingest range`) and reconciliation (`reingest reconcile`).
//!
//! A range runs N dates at once through one [`Pipeline`](crate::Pipeline): they share its source (one rate
//! limiter, one HTTP connection pool) and its store (one database pool). A failed date is
//! reported and the others go on.

use std::time::Instant;

use futures::stream::{self, StreamExt};
use rust_decimal::Decimal;
use serde::Serialize;
use settlement_model::{DayTotals, SettlementDate};
use store::SettlementStore;

use elexon_client::SettlementSource;

use crate::error::{blocking, InputError, PipelineError, EXIT_ERROR, EXIT_MISMATCH, EXIT_OK};
use crate::ops::assess::{AssessOptions, DayAssessment, DayHealth};
use crate::ops::config::RunOptions;
use crate::ops::context::Context;
use crate::ops::progress::{IntoProgress, Progress};
pub use crate::ops::range_archive::ArchiveReplay;
use crate::ops::range_archive::{ArchiveDates, Replayed};
use crate::ops::{assess, inputs, registry, run};
use crate::verify::check_name::CheckName;

/// The most dates a range runs at once.
pub const MAX_JOBS: usize = crate::error::MAX_JOBS;

/// What `range` is asked to do.
#[derive(Debug, Clone)]
pub struct RangeOptions {
    from: SettlementDate,
    to: SettlementDate,
    jobs: usize,
    reason: Option<String>,
    resume: bool,
    archive: Option<ArchiveReplay>,
}

impl RangeOptions {
    /// Validates the range (`from <= to`) and the job count (1..=64).
    pub fn new(
        from: SettlementDate,
        to: SettlementDate,
        jobs: usize,
        reason: Option<String>,
    ) -> Result<Self, InputError> {
        if from > to {
            return Err(InputError::RangeBackwards { from, to });
        }
        if !(1..=MAX_JOBS).contains(&jobs) {
            return Err(InputError::Jobs {
                jobs,
                max: MAX_JOBS,
            });
        }
        Ok(Self {
            from,
            to,
            jobs,
            reason,
            resume: false,
            archive: None,
        })
    }

    /// Recompute every date from its archived responses instead of fetching it: no
    /// network, the registry, difficulty table and miner models read once for the range,
    /// each date through the same verified swap as any run. Dates without an archived run
    /// end [`DateStatus::NoArchive`] (or are fetched, with [`ArchiveReplay::fetch_missing`]).
    #[must_use]
    pub fn from_archive(mut self, replay: ArchiveReplay) -> Self {
        self.archive = Some(replay);
        self
    }

    /// How the range replays the archive, if it does.
    pub fn archive(&self) -> Option<ArchiveReplay> {
        self.archive
    }

    /// Each date's reason in the audit log: `--reason` (if any) and `[range TAG]`.
    pub(crate) fn audit_reason(&self) -> String {
        let note = format!("[range {}]", self.tag());
        match &self.reason {
            Some(r) => format!("{r} {note}"),
            None => note,
        }
    }

    /// Skip dates that an earlier run of this same range already committed (after an
    /// interruption, redo only what did not finish).
    #[must_use]
    pub fn resume(mut self, resume: bool) -> Self {
        self.resume = resume;
        self
    }

    /// The range's tag, `FROM..TO`: recorded with each date's run (the audit log's
    /// `range_tag`), which `resume` looks for, and named in each run's reason as
    /// `[range FROM..TO]` for people reading the log.
    ///
    /// A range from the archive has its own tag (`FROM..TO from-archive`, and
    /// `as-recorded`), so resuming it never skips a date a live range did, nor the reverse.
    pub fn tag(&self) -> String {
        let mode = match self.archive {
            None => "",
            Some(ArchiveReplay {
                as_recorded: false, ..
            }) => " from-archive",
            Some(ArchiveReplay {
                as_recorded: true, ..
            }) => " from-archive as-recorded",
        };
        format!("{}..{}{mode}", self.from, self.to)
    }

    /// The dates, in order.
    pub fn dates(&self) -> Vec<SettlementDate> {
        self.from.through(self.to).collect()
    }
}

/// How one date of a range ended (printed and serialised through [`DateStatus::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "&'static str")]
pub enum DateStatus {
    /// Reingested and verified.
    Ok,
    /// Verification failed: rolled back, nothing changed.
    Mismatch,
    /// An error stopped the date before or during its swap.
    Error,
    /// Done by an earlier run of the same range (`--resume`).
    Skipped,
    /// `range --from-archive`: the date has no committed run whose responses are archived
    /// (never fetched); nothing changed. `--fetch-missing` fetches such dates instead.
    NoArchive,
}

impl DateStatus {
    /// `ok`, `mismatch`, `error`, `skipped`, `no-archive`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DateStatus::Ok => "ok",
            DateStatus::Mismatch => "mismatch",
            DateStatus::Error => "error",
            DateStatus::Skipped => "skipped",
            DateStatus::NoArchive => "no-archive",
        }
    }

    /// Whether the date is done (reingested now or before).
    pub fn succeeded(&self) -> bool {
        matches!(self, DateStatus::Ok | DateStatus::Skipped)
    }
}

impl From<DateStatus> for &'static str {
    fn from(s: DateStatus) -> Self {
        s.as_str()
    }
}

/// One date's outcome in a range.
#[derive(Debug, Clone, Serialize)]
pub struct DateOutcome {
    /// The date.
    pub date: SettlementDate,
    /// How the date ended.
    pub status: DateStatus,
    /// Periods fetched.
    pub periods: usize,
    /// Records of the day.
    pub records: u64,
    /// Energy, MWh.
    pub energy_mwh: Decimal,
    /// Payment, £.
    pub payment_gbp: Decimal,
    /// Wall time, ms.
    pub duration_ms: u64,
    /// The run id.
    pub run_id: Option<String>,
    /// The error or the failed checks.
    pub detail: Option<String>,
}

/// The report of `range`.
#[derive(Debug, Clone, Serialize)]
pub struct RangeReport {
    /// Every date, in order.
    pub dates: Vec<DateOutcome>,
    /// Wall time, ms.
    pub duration_ms: u64,
}

impl RangeReport {
    /// Whether every date succeeded (or was already done).
    pub fn all_ok(&self) -> bool {
        self.dates.iter().all(|d| d.status.succeeded())
    }

    /// The dates that have no archived run (`range --from-archive`), in order.
    pub fn without_archive(&self) -> Vec<SettlementDate> {
        self.dates
            .iter()
            .filter(|d| d.status == DateStatus::NoArchive)
            .map(|d| d.date)
            .collect()
    }

    /// 0 when all succeeded, 2 when any date failed with an error, else 1 (a mismatch, or a
    /// date without an archive).
    pub fn exit_code(&self) -> i32 {
        if self.all_ok() {
            EXIT_OK
        } else if self.dates.iter().any(|d| d.status == DateStatus::Error) {
            EXIT_ERROR
        } else {
            EXIT_MISMATCH
        }
    }
}

/// The work of [`Pipeline::range`](crate::Pipeline::range).
pub(crate) async fn range<'p, S, St>(
    cx: &Context<S, St>,
    opts: &RangeOptions,
    progress: impl IntoProgress<'p>,
) -> Result<RangeReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let progress = progress.into_progress();
    if let Some(replay) = opts.archive {
        return run_from_archive(cx, opts, replay, progress).await;
    }
    let started = Instant::now();
    // Fail fast, once, on what every date needs; fetch a missing difficulty once rather
    // than in every date in flight (a failure here is reported by each date instead).
    registry::ensure_registry(cx).await?;
    if let Err(e) = inputs::bitcoin_inputs(cx, opts.from).await {
        tracing::warn!(message = "no difficulty for the range's first date yet", error = %crate::error::describe(&e));
    }
    let dates = opts.dates();
    let tag = opts.tag();
    let done = dates_done(cx, opts.resume, &tag).await?;
    let reason = opts.audit_reason();
    Ok(run_dates(
        cx,
        dates,
        opts.jobs,
        (&reason, Some(&tag)),
        &done,
        progress,
        started,
    )
    .await)
}

/// With `--resume`, the dates the range tagged `tag` already committed (see
/// [`store::AuditLog::dates_done_in_range`]); without it, none.
async fn dates_done<S, St>(
    cx: &Context<S, St>,
    resume: bool,
    tag: &str,
) -> Result<Vec<SettlementDate>, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    if !resume {
        return Ok(Vec::new());
    }
    let (store, tag) = (std::sync::Arc::clone(&cx.store), tag.to_owned());
    blocking(move || store.dates_done_in_range(&tag).map_err(PipelineError::from)).await
}

/// `range --from-archive` (see [`RangeOptions::from_archive`]).
async fn run_from_archive<S, St>(
    cx: &Context<S, St>,
    opts: &RangeOptions,
    replay: ArchiveReplay,
    progress: &dyn Progress,
) -> Result<RangeReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let started = Instant::now();
    let tag = opts.tag();
    let done = dates_done(cx, opts.resume, &tag).await?;
    let reason = opts.audit_reason();
    let dates = opts.dates();
    let total = dates.len();
    let describe = cx.config.describe_error;
    let finish = |date, replayed| {
        let outcome = match replayed {
            Replayed::Skipped => skipped(date),
            Replayed::Ran(result) => outcome_of(describe, date, *result),
            Replayed::NoArchive(why) => DateOutcome {
                status: DateStatus::NoArchive,
                ..outcome_of(describe, date, Err(why))
            },
        };
        progress.date_done(total, outcome.records, outcome.status.succeeded());
        outcome
    };
    let plan = ArchiveDates {
        dates,
        jobs: opts.jobs,
        replay,
        reason: &reason,
        tag: &tag,
        done: &done,
    };
    let mut outcomes = crate::ops::range_archive::replay_dates(cx, plan, &finish).await?;
    outcomes.sort_by_key(|o| o.date);
    Ok(RangeReport {
        dates: outcomes,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    })
}

/// Reingests `dates`, `jobs` at a time, skipping `done`, each run with `reason` and the
/// range's tag (if any); the report is in date order.
async fn run_dates<S, St>(
    cx: &Context<S, St>,
    dates: Vec<SettlementDate>,
    jobs: usize,
    (reason, range_tag): (&str, Option<&str>),
    done: &[SettlementDate],
    progress: &dyn Progress,
    started: Instant,
) -> RangeReport
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let total = dates.len();
    let mut outcomes: Vec<DateOutcome> = stream::iter(dates)
        .map(|date| async move {
            let outcome = if done.contains(&date) {
                skipped(date)
            } else {
                let mut run = RunOptions::new(date);
                run.reason = Some(reason.to_owned());
                run.range_tag = range_tag.map(str::to_owned);
                outcome_of(
                    cx.config.describe_error,
                    date,
                    run::run(cx, &run, &NoBar).await,
                )
            };
            progress.date_done(total, outcome.records, outcome.status.succeeded());
            outcome
        })
        .buffer_unordered(jobs.max(1))
        .collect()
        .await;
    outcomes.sort_by_key(|o| o.date);
    RangeReport {
        dates: outcomes,
        duration_ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
    }
}

/// Per-date progress is not shown inside a range: the bar counts dates.
struct NoBar;
impl Progress for NoBar {}

fn skipped(date: SettlementDate) -> DateOutcome {
    DateOutcome {
        date,
        status: DateStatus::Skipped,
        periods: 0,
        records: 0,
        energy_mwh: Decimal::ZERO,
        payment_gbp: Decimal::ZERO,
        duration_ms: 0,
        run_id: None,
        detail: Some("already committed by an earlier run of this range".into()),
    }
}

fn outcome_of(
    describe: fn(&PipelineError) -> String,
    date: SettlementDate,
    result: Result<crate::RunReport, PipelineError>,
) -> DateOutcome {
    match result {
        Ok(r) => DateOutcome {
            date,
            status: if r.verification.ok && r.committed {
                DateStatus::Ok
            } else {
                DateStatus::Mismatch
            },
            periods: r.periods_fetched,
            records: r.records,
            energy_mwh: r.energy_mwh,
            payment_gbp: r.payment_gbp,
            duration_ms: r.duration_ms,
            run_id: Some(r.run_id),
            detail: (!r.verification.ok).then(|| r.verification.failed().join(", ")),
        },
        Err(e) => DateOutcome {
            date,
            status: DateStatus::Error,
            periods: 0,
            records: 0,
            energy_mwh: Decimal::ZERO,
            payment_gbp: Decimal::ZERO,
            duration_ms: 0,
            run_id: None,
            detail: Some(describe(&e)),
        },
    }
}

/// What `reconcile` is asked to do.
#[derive(Debug, Clone)]
pub struct ReconcileOptions {
    /// First date.
    pub from: SettlementDate,
    /// Last date, inclusive.
    pub to: SettlementDate,
    /// Also compare with the API.
    pub against_api: bool,
    /// Reingest the dates found.
    pub fix: bool,
    /// Drift threshold, MWh.
    pub threshold_energy: Decimal,
    /// Drift threshold, £.
    pub threshold_payment: Decimal,
    /// Dates in flight at once.
    pub jobs: usize,
}

/// One date that needs attention, and why.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// The date.
    pub date: SettlementDate,
    /// Why: the failed checks, or the drift.
    pub reasons: Vec<String>,
    /// The error that stopped the date's check (its reasons then say only that).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The report of `reconcile`.
#[derive(Debug, Clone, Serialize)]
pub struct ReconcileReport {
    /// Dates checked.
    pub checked: usize,
    /// Dates needing attention.
    pub findings: Vec<Finding>,
    /// With `--fix`: the reingestion of those dates.
    pub fixed: Option<RangeReport>,
}

impl ReconcileReport {
    /// 0 when nothing was found (or everything found was fixed), 1 otherwise, 2 when a
    /// date could not be checked or a fix failed with an error.
    pub fn exit_code(&self) -> i32 {
        match &self.fixed {
            _ if self.findings.is_empty() => EXIT_OK,
            Some(r) => r.exit_code(),
            None if self.findings.iter().any(|f| f.error.is_some()) => crate::EXIT_ERROR,
            None => EXIT_MISMATCH,
        }
    }
}

/// What `reconcile` says of one assessed date: the failed checks (and a failed newest
/// run), and a drift from the API above the thresholds; `None` when there is nothing.
fn finding(day: &DayAssessment, opts: &ReconcileOptions) -> Option<Finding> {
    if let Some(error) = &day.error {
        return Some(Finding {
            date: day.date,
            reasons: vec![format!("could not be checked: {error}")],
            error: Some(error.clone()),
        });
    }
    let mut reasons = Vec::new();
    if let (DayHealth::Failed, Some(run)) = (day.state, &day.newest_run) {
        reasons.push(format!(
            "newest run {} {}{}",
            run.run_id,
            run.status.as_str(),
            run.detail
                .as_deref()
                .map(|d| format!(": {d}"))
                .unwrap_or_default()
        ));
    }
    reasons.extend(
        day.failed_checks
            .iter()
            .filter(|c| c.name != CheckName::MatchesApi)
            .map(|c| format!("{}: {}", c.name, c.detail)),
    );
    if opts.against_api {
        // A drift too large to sum is certainly above any threshold.
        let net = |f: fn(&DayTotals) -> Decimal| {
            day.drift.iter().try_fold(Decimal::ZERO, |acc, d| {
                f(&d.after)
                    .checked_sub(f(&d.before))
                    .and_then(|x| acc.checked_add(x))
            })
        };
        let energy = net(|t| t.energy_mwh).unwrap_or(Decimal::MAX);
        let payment = net(|t| t.payment_gbp).unwrap_or(Decimal::MAX);
        if energy.abs() > opts.threshold_energy || payment.abs() > opts.threshold_payment {
            let detail = day
                .failed_checks
                .iter()
                .find(|c| c.name == CheckName::MatchesApi)
                .map(|c| c.detail.clone())
                .unwrap_or_default();
            reasons.push(format!(
                "drift from the API: energy {energy:+} MWh, payment £{payment:+}; {detail}"
            ));
        }
    }
    (!reasons.is_empty()).then_some(Finding {
        date: day.date,
        reasons,
        error: None,
    })
}

/// The work of [`Pipeline::reconcile`](crate::Pipeline::reconcile).
pub(crate) async fn reconcile<'p, S, St>(
    cx: &Context<S, St>,
    opts: &ReconcileOptions,
    progress: impl IntoProgress<'p>,
) -> Result<ReconcileReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let progress = progress.into_progress();
    RangeOptions::new(opts.from, opts.to, opts.jobs, None)?;
    let assessment = assess::assess(
        cx,
        &AssessOptions {
            from: opts.from,
            to: opts.to,
            against_api: opts.against_api,
            jobs: opts.jobs,
        },
        progress,
    )
    .await?;
    let total = assessment.days.len();
    let findings: Vec<Finding> = assessment
        .days
        .iter()
        .filter_map(|day| finding(day, opts))
        .collect();
    let fixed = if opts.fix && !findings.is_empty() {
        let dates: Vec<SettlementDate> = findings.iter().map(|f| f.date).collect();
        let report = run_dates(
            cx,
            dates,
            opts.jobs,
            ("reconcile --fix", None),
            &[],
            &NoBar,
            Instant::now(),
        )
        .await;
        Some(report)
    } else {
        None
    };
    Ok(ReconcileReport {
        checked: total,
        findings,
        fixed,
    })
}
