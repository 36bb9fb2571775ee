//! Fetching every period of a date (or a period range), both stacks, concurrently.

use chrono::{DateTime, Utc};
use futures::stream::{self, StreamExt, TryStreamExt};
use settlement_model::{
    process_items, BmRegistry, PeriodList, PeriodRange, ProcessError, ProcessOutcome,
    SettlementDate, Side, StackItem,
};

use elexon_client::{FetchError, Format, SettlementSource, StackResponse};

use crate::error::PipelineError;

/// How many stack requests one date keeps in flight; the source's own limiter and
/// semaphore bound the process as a whole.
const IN_FLIGHT_PER_DATE: usize = 32;

/// One side of one period, as fetched.
#[derive(Debug, Clone)]
pub struct FetchedStack {
    /// The period.
    pub period: u8,
    /// The side.
    pub side: Side,
    /// When the response arrived.
    pub fetched_at: DateTime<Utc>,
    /// The response, or `None` when the period is not published (a 404, or both stacks
    /// empty) and missing periods are allowed.
    pub response: Option<StackResponse>,
}

impl FetchedStack {
    /// The parsed items (none for a missing period).
    pub fn items(&self) -> &[StackItem] {
        self.response.as_ref().map_or(&[], |r| r.items.as_slice())
    }

    /// SHA-256 (hex) of the raw body, when there is one.
    pub fn source_hash(&self) -> Option<String> {
        self.response.as_ref().map(|r| store::source_hash(&r.body))
    }

    /// The wire format of the body.
    pub fn format(&self) -> Option<Format> {
        self.response.as_ref().map(|r| r.format)
    }
}

/// Fetches both stacks of every period in `range`. The first failure ends the fetch (after
/// the source's own retries).
///
/// **Unpublished is not zero.** A period is not published when the API answers 404 for a
/// side, or answers both sides with no items: every published period has items in at
/// least one of its stacks (the system operator acts every half hour), so two empty stacks
/// are a period not published yet or an outage, never a period without curtailment. Such
/// periods are [`PipelineError::Unpublished`], all of them named, unless `allow_missing`:
/// then both their sides are returned with no response, and the run records them as
/// missing. `on_done` is called once per finished request (for progress bars).
pub async fn fetch_range<S: SettlementSource>(
    source: &S,
    date: SettlementDate,
    range: PeriodRange,
    allow_missing: bool,
    on_done: &(dyn Fn() + Sync),
) -> Result<Vec<FetchedStack>, PipelineError> {
    let jobs = range
        .numbers()
        .flat_map(|p| Side::BOTH.into_iter().map(move |s| (p, s)));
    let mut fetched: Vec<FetchedStack> = stream::iter(jobs)
        .map(|(period, side)| async move {
            let result = source.stack(date, period, side).await;
            on_done();
            let response = match result {
                Ok(r) => Some(r),
                Err(FetchError::NotPublished { .. }) if allow_missing => None,
                Err(e) => return Err(e),
            };
            Ok(FetchedStack {
                period,
                side,
                fetched_at: Utc::now(),
                response,
            })
        })
        .buffer_unordered(IN_FLIGHT_PER_DATE)
        .try_collect()
        .await?;
    fetched.sort_by_key(|f| (f.period, f.side));
    let unpublished = both_stacks_empty(&fetched);
    if !unpublished.is_empty() {
        if !allow_missing {
            return Err(PipelineError::Unpublished {
                date,
                periods: PeriodList::new(unpublished),
            });
        }
        for f in &mut fetched {
            if unpublished.contains(&f.period) {
                f.response = None;
            }
        }
    }
    Ok(fetched)
}

/// The periods of `fetched` (sorted by period and side) whose every side was answered with
/// no items.
fn both_stacks_empty(fetched: &[FetchedStack]) -> Vec<u8> {
    fetched
        .chunk_by(|a, b| a.period == b.period)
        .filter(|sides| {
            sides.len() == Side::BOTH.len()
                && sides
                    .iter()
                    .all(|f| f.response.as_ref().is_some_and(|r| r.items.is_empty()))
        })
        .map(|sides| sides[0].period)
        .collect()
}

/// The process step over fetched stacks: the curtailment rule on every item of both sides.
pub fn process_fetched(
    date: SettlementDate,
    fetched: &[FetchedStack],
    registry: &BmRegistry,
) -> Result<ProcessOutcome, ProcessError> {
    process_items(
        date,
        fetched
            .iter()
            .flat_map(|f| f.items().iter().map(move |i| (f.side, i))),
        registry,
    )
}
