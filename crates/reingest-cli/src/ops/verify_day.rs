//! `verify DATE [--against-api]`: the checks over a stored day, and per-period drift from a
//! fresh fetch of the API, attributed to Elexon or to our database.

use std::collections::BTreeMap;

use settlement_model::{DayTotals, PeriodRange, SettlementDate};
use store::SettlementStore;

use crate::error::PipelineError;
use crate::ops::context::Context;
use crate::ops::fetch::{fetch_range, process_fetched};
use crate::ops::progress::{IntoProgress, Progress};
use crate::ops::reports::{DriftCause, PeriodChange, VerifyReport};
use crate::ops::run::{count_fetched_periods, day_bitcoin};
use crate::ops::{inputs, registry};
use crate::verify::check_name::CheckName;
use crate::verify::{check_day, per_period, Check, Expectations, VerifyInputs};
use elexon_client::SettlementSource;

/// What [`Pipeline::verify`](crate::Pipeline::verify) checks besides the stored day.
///
/// ```
/// use reingest::VerifyOptions;
/// let stored_only = VerifyOptions::default();
/// let with_drift = VerifyOptions::default().against_api(true);
/// # assert!(!stored_only.against_api && with_drift.against_api);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// Also fetch the day from the API and report per-period drift (`--against-api`).
    pub against_api: bool,
}

impl VerifyOptions {
    /// Also fetch the day from the API and report per-period drift.
    #[must_use]
    pub fn against_api(mut self, yes: bool) -> Self {
        self.against_api = yes;
        self
    }
}

/// The bare `against_api` flag of earlier versions, so their calls still compile.
impl From<bool> for VerifyOptions {
    fn from(against_api: bool) -> Self {
        Self { against_api }
    }
}

/// The work of [`Pipeline::verify`](crate::Pipeline::verify).
pub(crate) async fn verify<'p, S, St>(
    cx: &Context<S, St>,
    date: SettlementDate,
    options: impl Into<VerifyOptions>,
    progress: impl IntoProgress<'p>,
) -> Result<VerifyReport, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let against_api = options.into().against_api;
    let progress = progress.into_progress();
    let state = cx.with_store(move |s| s.day_state(date)).await?;
    let runs = cx.with_store(move |s| s.runs(Some(date))).await?;
    let latest = runs.iter().find(|r| r.committed());
    // The inputs the day's figures were computed with: those its latest swap recorded,
    // or (for a day no recording run wrote) the ones in force now.
    let bitcoin = match latest.and_then(|r| r.inputs) {
        Some(inputs) => inputs,
        None => inputs::bitcoin_inputs(cx, date).await?,
    };
    let expectations = Expectations::default();
    let mut verification = check_day(
        &state,
        &VerifyInputs {
            date,
            processed: None,
            miners: &cx.config.miners,
            bitcoin: &bitcoin,
            expectations: &expectations,
            check_fetch_log: true,
            missing_allowed: false,
        },
    );
    let mut drift = Vec::new();
    if against_api {
        let (periods, check) = api_drift(cx, date, &state, progress).await?;
        drift = periods;
        verification.checks.push(check);
        verification.ok = verification.checks.iter().all(|c| c.ok);
    }
    let totals = DayTotals::from_records(&state.records)?;
    let periods_fetched = count_fetched_periods(&state, date);
    Ok(VerifyReport {
        date,
        periods_expected: usize::from(date.periods()),
        periods_fetched,
        records: totals.records,
        energy_mwh: totals.energy_mwh,
        payment_gbp: totals.payment_gbp,
        bitcoin: day_bitcoin(&state, date),
        verification,
        run_id: latest.map(|r| r.run_id.clone()),
        drift,
    })
}

/// Fetches `date` from the API again and compares it per period with `state` (what is
/// stored): the periods that differ, each attributed to Elexon or to our database, and
/// the `matches_api` check saying so. `verify --against-api` and `status --against-api`
/// (for each date) call it.
pub(crate) async fn api_drift<S, St>(
    cx: &Context<S, St>,
    date: SettlementDate,
    state: &store::DayState,
    progress: &dyn Progress,
) -> Result<(Vec<PeriodChange>, Check), PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let range = PeriodRange::full(date);
    settlement_model::ensure_periods_ended(date, range, cx.config.clock.now())?;
    let registry = registry::ensure_registry(cx).await?;
    progress.fetch_started(date, range.len() * 2);
    let fetched = fetch_range(&cx.source, date, range, false, &|| progress.request_done()).await?;
    let outcome = process_fetched(date, &fetched, &registry)?;
    let stored = per_period(&state.records)?;
    let api = per_period(&outcome.records)?;
    let logged: BTreeMap<(u8, settlement_model::Side), Option<String>> = state
        .fetch_log
        .iter()
        .map(|e| ((e.settlement_period, e.side), e.source_hash.clone()))
        .collect();
    let cause = |p: u8| -> DriftCause {
        let mut unknown = false;
        for f in fetched.iter().filter(|f| f.period == p) {
            match logged.get(&(p, f.side)).cloned().flatten() {
                None => unknown = true,
                Some(h) if Some(&h) != f.source_hash().as_ref() => return DriftCause::Source,
                Some(_) => {}
            }
        }
        if unknown {
            DriftCause::Unknown
        } else {
            DriftCause::Database
        }
    };
    let drift: Vec<PeriodChange> = range
        .numbers()
        .filter_map(|p| {
            let before = stored.get(&p).copied().unwrap_or_default();
            let after = api.get(&p).copied().unwrap_or_default();
            (before != after).then(|| PeriodChange {
                period: p,
                before,
                after,
                changed: true,
                cause: Some(cause(p)),
            })
        })
        .collect();
    let detail = if drift.is_empty() {
        format!("all {} periods match the API", range.len())
    } else {
        let by = |c: DriftCause| -> Vec<String> {
            drift
                .iter()
                .filter(|d| d.cause == Some(c))
                .map(|d| d.period.to_string())
                .collect()
        };
        let mut parts = Vec::new();
        for c in [
            DriftCause::Source,
            DriftCause::Database,
            DriftCause::Unknown,
        ] {
            let label = c.meaning();
            let list = by(c);
            if !list.is_empty() {
                parts.push(format!("{label}: periods {}", list.join(",")));
            }
        }
        format!(
            "{} periods differ from the API ({})",
            drift.len(),
            parts.join("; ")
        )
    };
    let check = Check {
        name: CheckName::MatchesApi,
        ok: drift.is_empty(),
        detail,
    };
    Ok((drift, check))
}
