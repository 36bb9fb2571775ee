//! One assessment per date, shared by `reingest status` and `reingest reconcile`: for a
//! range of dates it reads what is stored in a fixed number of statements
//! ([`store::DaySwap::day_states`] and [`store::AuditLog::runs_between`], however many dates
//! the range has), runs `verify`'s checks on each date's state in Rust, and gives each date
//! one [`DayHealth`] with its figures and its newest run.
//!
//! With `--against-api` each date is fetched from the API again (that part is per date, as
//! it must be: it calls the API), `jobs` dates at a time.
//!
//! The bitcoin figures are checked against the inputs the date's newest committed run
//! recorded. A date holding data that no recording run wrote (rows loaded before the audit
//! log recorded inputs) is checked against the inputs in force now, which reads the
//! difficulty table for that date: the only per-date statements, and only for such dates.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt};
use rust_decimal::Decimal;
use serde::Serialize;
use settlement_model::{BitcoinInputs, DayTotals, DifficultyOrigin, SettlementDate, Side};
use store::{AuditRow, DayState, FetchStatus, RunStatus, SettlementStore};

use crate::error::{blocking, PipelineError};
use crate::ops::context::Context;
use crate::ops::progress::Progress;
use crate::ops::reports::PeriodChange;
use crate::ops::run::day_bitcoin;
use crate::ops::{inputs, verify_day};
use crate::verify::check_name::CheckName;
use crate::verify::{check_day, Check, Expectations, VerifyInputs};
use elexon_client::SettlementSource;

/// The one state of a date (printed and serialised through [`DayHealth::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(into = "&'static str")]
pub enum DayHealth {
    /// Every check passes (and, with `--against-api`, every period matches the API).
    Verified,
    /// Some check other than the periods' fetch fails: the stored rows do not add up.
    Inconsistent,
    /// Consistent, but some periods were missing at the source or never fetched.
    Incomplete,
    /// Consistent, but some periods differ from what the API says now (`--against-api`).
    Drift,
    /// The date's newest run failed, was rolled back or was interrupted.
    Failed,
    /// No run and no data.
    NeverRun,
}

impl DayHealth {
    /// Every state, in the order reports list them.
    pub const ALL: [DayHealth; 6] = [
        DayHealth::Verified,
        DayHealth::Incomplete,
        DayHealth::Drift,
        DayHealth::Inconsistent,
        DayHealth::Failed,
        DayHealth::NeverRun,
    ];

    /// `verified`, `inconsistent`, `incomplete`, `drift`, `failed`, `never_run`.
    pub const fn as_str(self) -> &'static str {
        match self {
            DayHealth::Verified => "verified",
            DayHealth::Inconsistent => "inconsistent",
            DayHealth::Incomplete => "incomplete",
            DayHealth::Drift => "drift",
            DayHealth::Failed => "failed",
            DayHealth::NeverRun => "never_run",
        }
    }

    /// What the state means, in a few words for a legend.
    pub const fn meaning(self) -> &'static str {
        match self {
            DayHealth::Verified => "every check passes",
            DayHealth::Inconsistent => "stored rows do not add up",
            DayHealth::Incomplete => "periods missing or never fetched",
            DayHealth::Drift => "differs from the API now",
            DayHealth::Failed => "newest run failed or rolled back",
            DayHealth::NeverRun => "no run, no data",
        }
    }
}

impl From<DayHealth> for &'static str {
    fn from(s: DayHealth) -> Self {
        s.as_str()
    }
}

/// The newest run of a date, as the assessment shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewestRun {
    /// The run id (`reingest report RUN_ID`).
    pub run_id: String,
    /// When it started.
    pub started_at: DateTime<Utc>,
    /// How it stands.
    pub status: RunStatus,
    /// The reason given.
    pub reason: Option<String>,
    /// Who ran it.
    pub user: String,
    /// Where.
    pub host: String,
    /// The error or the failed verification, if any.
    pub detail: Option<String>,
}

impl From<&AuditRow> for NewestRun {
    fn from(r: &AuditRow) -> Self {
        Self {
            run_id: r.run_id.clone(),
            started_at: r.started_at,
            status: r.status,
            reason: r.reason.clone(),
            user: r.user.clone(),
            host: r.host.clone(),
            detail: r.detail.clone(),
        }
    }
}

/// One date's assessment.
#[derive(Debug, Clone, Serialize)]
pub struct DayAssessment {
    /// The date.
    pub date: SettlementDate,
    /// Its one state.
    pub state: DayHealth,
    /// The checks that fail (empty when verified); the names say which.
    pub failed_checks: Vec<Check>,
    /// Periods missing at the source or never fetched (both stacks are needed).
    pub missing_periods: Vec<u8>,
    /// With `--against-api`: the periods whose stored figures differ from the API's.
    pub drift_periods: Vec<u8>,
    /// Stored records.
    pub records: u64,
    /// Stored energy, MWh (exact).
    pub energy_mwh: Decimal,
    /// Stored payment, £ (exact).
    pub payment_gbp: Decimal,
    /// Stored bitcoin of the day per miner model, BTC (exact).
    pub bitcoin: BTreeMap<String, Decimal>,
    /// The date's newest run, if any.
    pub newest_run: Option<NewestRun>,
    /// Why the date could not be checked: no bitcoin inputs for it yet (a date past the
    /// difficulty feed), or (with `--against-api`) the API could not be fetched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// With `--against-api`: the per-period drift (for `reconcile`'s thresholds).
    #[serde(skip)]
    pub drift: Vec<PeriodChange>,
}

impl DayAssessment {
    /// Whether the date needs attention (anything but verified).
    pub fn needs_attention(&self) -> bool {
        self.state != DayHealth::Verified || self.error.is_some()
    }
}

/// The assessment of a range of dates.
#[derive(Debug, Clone, Serialize)]
pub struct Assessment {
    /// First date.
    pub from: SettlementDate,
    /// Last date, inclusive.
    pub to: SettlementDate,
    /// Whether the dates were compared with the API.
    pub against_api: bool,
    /// Every date, in order.
    pub days: Vec<DayAssessment>,
}

impl Assessment {
    /// How many dates are in each state, in [`DayHealth::ALL`]'s order (zeros included).
    pub fn counts(&self) -> Vec<(DayHealth, usize)> {
        DayHealth::ALL
            .iter()
            .map(|s| (*s, self.days.iter().filter(|d| d.state == *s).count()))
            .collect()
    }

    /// The dates that need attention, in order.
    pub fn attention(&self) -> impl Iterator<Item = &DayAssessment> {
        self.days.iter().filter(|d| d.needs_attention())
    }
}

/// What to assess.
#[derive(Debug, Clone, Copy)]
pub struct AssessOptions {
    /// First date.
    pub from: SettlementDate,
    /// Last date, inclusive.
    pub to: SettlementDate,
    /// Also fetch each date from the API and compare per period.
    pub against_api: bool,
    /// Dates fetched from the API at once.
    pub jobs: usize,
}

/// What one date's checks need, gathered before they run.
struct Pending {
    date: SettlementDate,
    state: DayState,
    runs: Vec<AuditRow>,
    inputs: Option<BitcoinInputs>,
    error: Option<String>,
}

/// The work of [`Pipeline::assess`](crate::Pipeline::assess).
pub(crate) async fn assess<S, St>(
    cx: &Context<S, St>,
    opts: &AssessOptions,
    progress: &dyn Progress,
) -> Result<Assessment, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let (from, to) = (opts.from, opts.to);
    let states = cx.with_store(move |s| s.day_states(from, to)).await?;
    let all_runs = cx.with_store(move |s| s.runs_between(from, to)).await?;
    let mut runs_by_date: BTreeMap<SettlementDate, Vec<AuditRow>> = BTreeMap::new();
    for r in all_runs {
        runs_by_date.entry(r.settlement_date).or_default().push(r);
    }
    let mut pending = Vec::with_capacity(states.len());
    for (date, state) in states {
        let runs = runs_by_date.remove(&date).unwrap_or_default();
        let recorded = runs.iter().find(|r| r.committed()).and_then(|r| r.inputs);
        let inputs = match recorded {
            Some(i) => Some(i),
            None if has_rows(&state) => Some(inputs::bitcoin_inputs(cx, date).await?),
            None => None,
        };
        pending.push(Pending {
            date,
            state,
            runs,
            inputs,
            error: None,
        });
    }
    note_unready_dates(cx, &mut pending).await;
    let miners = cx.config.miners.clone();
    let keep_states = opts.against_api;
    let checked = blocking(move || check_all(pending, &miners, keep_states)).await?;
    let total = checked.len();
    let mut days: Vec<DayAssessment> = stream::iter(checked)
        .map(|(mut day, state)| async move {
            if let Some(state) = state.filter(|_| opts.against_api) {
                match verify_day::api_drift(cx, day.date, &state, &NoBar).await {
                    Ok((drift, check)) => {
                        day.drift_periods = drift.iter().map(|d| d.period).collect();
                        day.drift = drift;
                        if !check.ok {
                            day.failed_checks.push(check);
                            if day.state == DayHealth::Verified {
                                day.state = DayHealth::Drift;
                            }
                        }
                    }
                    Err(e) => day.error = Some((cx.config.describe_error)(&e)),
                }
            }
            progress.date_done(total, day.records, !day.needs_attention());
            day
        })
        .buffer_unordered(opts.jobs.max(1))
        .collect()
        .await;
    days.sort_by_key(|d| d.date);
    Ok(Assessment {
        from,
        to,
        against_api: opts.against_api,
        days,
    })
}

/// Whether the dates holding nothing could be ingested now: a run needs the bitcoin
/// inputs in force, and a date past the difficulty feed (or before any difficulty) has
/// none, which the assessment reports as the date's error ("could not be checked" in
/// `reconcile`). Only the first and the last such date are asked (a fixed number of
/// statements): the inputs are missing at the ends of time, so when both ends fail every
/// such date between fails too, and when one fails, that end is reported.
async fn note_unready_dates<S, St>(cx: &Context<S, St>, pending: &mut [Pending])
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let empty: Vec<usize> = pending
        .iter()
        .enumerate()
        .filter(|(_, p)| p.inputs.is_none())
        .map(|(i, _)| i)
        .collect();
    let (Some(&first), Some(&last)) = (empty.first(), empty.last()) else {
        return;
    };
    let first_err = inputs::bitcoin_inputs(cx, pending[first].date).await.err();
    let last_err = if last == first {
        first_err.as_ref().map(cx.config.describe_error)
    } else {
        inputs::bitcoin_inputs(cx, pending[last].date)
            .await
            .err()
            .map(|e| (cx.config.describe_error)(&e))
    };
    let first_err = first_err.map(|e| (cx.config.describe_error)(&e));
    match (first_err, last_err) {
        (Some(a), Some(b)) => {
            for &i in &empty {
                pending[i].error = Some(if i == last { b.clone() } else { a.clone() });
            }
        }
        (Some(a), None) => pending[first].error = Some(a),
        (None, Some(b)) => pending[last].error = Some(b),
        (None, None) => {}
    }
}

/// Runs every date's checks, on as many threads as there are cores (a year recomputes
/// every bitcoin row), keeping the dates' order. Each date's stored state is kept only with
/// `keep_states` (for the comparison with the API); otherwise it is freed on the thread that
/// checked it, as soon as it is checked.
fn check_all(
    pending: Vec<Pending>,
    miners: &[bitcoin_calc::MinerModel],
    keep_states: bool,
) -> Result<Vec<(DayAssessment, Option<DayState>)>, PipelineError> {
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZeroUsize::get)
        .clamp(1, 8);
    // The threads take the next date from one queue (dates differ tenfold in rows, so equal
    // shares of dates would leave a core idle), and the results are put back in date order:
    // the first date whose figures cannot be summed is the error, as one after another.
    let queue = std::sync::Mutex::new(pending.into_iter().enumerate());
    let next = || {
        queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .next()
    };
    let mut checked = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut part = Vec::new();
                    while let Some((i, p)) = next() {
                        let day = assess_stored(p, miners)
                            .map(|(day, state)| (day, keep_states.then_some(state)));
                        part.push((i, day));
                    }
                    part
                })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            match h.join() {
                Ok(part) => out.extend(part),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        out
    });
    checked.sort_by_key(|(i, _)| *i);
    checked.into_iter().map(|(_, day)| day).collect()
}

/// Per-date progress is not shown inside an assessment: the bar counts dates.
struct NoBar;
impl Progress for NoBar {}

/// Whether anything of the date is stored (a day with no run may still hold legacy rows).
fn has_rows(state: &DayState) -> bool {
    !state.records.is_empty()
        || !state.bitcoin_rows.is_empty()
        || state.daily.is_some()
        || !state.fetch_log.is_empty()
}

/// Inputs for a date with nothing stored: no bitcoin row is recomputed with them, so any
/// will do, and none is read for it.
fn no_inputs() -> BitcoinInputs {
    BitcoinInputs {
        difficulty: Decimal::ONE,
        difficulty_date: None,
        origin: DifficultyOrigin::Override,
        subsidy: Decimal::ZERO,
    }
}

/// The checks of one date's stored state, and its state before any comparison with the API.
fn assess_stored(
    p: Pending,
    miners: &[bitcoin_calc::MinerModel],
) -> Result<(DayAssessment, DayState), PipelineError> {
    let Pending {
        date,
        state,
        runs,
        inputs,
        error,
    } = p;
    let inputs = inputs.unwrap_or_else(no_inputs);
    let expectations = Expectations::default();
    let verification = check_day(
        &state,
        &VerifyInputs {
            date,
            processed: None,
            miners,
            bitcoin: &inputs,
            expectations: &expectations,
            check_fetch_log: true,
            missing_allowed: false,
        },
    );
    let failed_checks: Vec<Check> = verification.checks.into_iter().filter(|c| !c.ok).collect();
    let newest = runs.first();
    let state_of = if newest.is_some_and(|r| {
        matches!(
            r.status,
            RunStatus::Failed | RunStatus::RolledBack | RunStatus::Interrupted
        )
    }) {
        DayHealth::Failed
    } else if newest.is_none() && !has_rows(&state) {
        DayHealth::NeverRun
    } else if failed_checks
        .iter()
        .any(|c| c.name != CheckName::PeriodsFetched)
    {
        DayHealth::Inconsistent
    } else if !failed_checks.is_empty() {
        DayHealth::Incomplete
    } else {
        DayHealth::Verified
    };
    let missing_periods = match state_of {
        DayHealth::NeverRun => Vec::new(),
        _ => missing_periods(&state, date),
    };
    let totals = DayTotals::from_records(&state.records)?;
    let day = DayAssessment {
        date,
        state: state_of,
        failed_checks,
        missing_periods,
        drift_periods: Vec::new(),
        records: totals.records,
        energy_mwh: totals.energy_mwh,
        payment_gbp: totals.payment_gbp,
        bitcoin: day_bitcoin(&state, date),
        newest_run: newest.map(NewestRun::from),
        error,
        drift: Vec::new(),
    };
    Ok((day, state))
}

/// The periods of the day not logged as fetched on both stacks.
fn missing_periods(state: &DayState, date: SettlementDate) -> Vec<u8> {
    let fetched: std::collections::BTreeSet<(u8, Side)> = state
        .fetch_log
        .iter()
        .filter(|e| e.status == FetchStatus::Fetched)
        .map(|e| (e.settlement_period, e.side))
        .collect();
    date.all_periods()
        .map(|p| p.number())
        .filter(|p| Side::BOTH.iter().any(|s| !fetched.contains(&(*p, *s))))
        .collect()
}
