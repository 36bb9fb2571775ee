//! What a day's bitcoin figures rest on, resolved by the trust rules: the difficulty in force
//! (current, or synced from the feed, or the run stops) and the block subsidy (from halving
//! days held as data and the feed's block heights, never assumed).

use std::sync::Arc;

use bitcoin_calc::{assess_difficulty, subsidy_on, DifficultyTrust, HeightEvidence};
use settlement_model::{BitcoinInputs, DifficultyEntry, DifficultyOrigin, SettlementDate};
use store::{DifficultyAround, SettlementStore};
use tracing::info;

use crate::error::{DifficultyError, InputsProblem, PipelineError};
use crate::ops::context::Context;
use elexon_client::SettlementSource;

/// The difficulty part of the inputs, or why the table cannot be trusted for `date`.
fn judge_difficulty(
    date: SettlementDate,
    around: &DifficultyAround,
) -> Result<(DifficultyEntry, DifficultyTrust), InputsProblem> {
    let Some(in_force) = around.in_force else {
        return Err(InputsProblem::NoDifficulty { date });
    };
    let trust = assess_difficulty(date.naive(), &in_force, around.next.as_ref());
    match trust {
        DifficultyTrust::Stale { age_days } => Err(InputsProblem::Stale {
            date,
            in_force: in_force.date,
            age_days,
        }),
        _ => Ok((in_force, trust)),
    }
}

/// The bitcoin inputs of `date` from the difficulty table around it and the halving days
/// (the override, when given, stands for the table's difficulty; `origin` says where the
/// table's entry came from), or why they cannot be trusted. Pure: a range resolves every
/// date from one read of the table.
pub(crate) fn settle_inputs(
    date: SettlementDate,
    around: &DifficultyAround,
    halvings: &[settlement_model::Halving],
    difficulty_override: Option<rust_decimal::Decimal>,
    origin: DifficultyOrigin,
) -> Result<BitcoinInputs, InputsProblem> {
    let (difficulty, difficulty_date, origin) = match difficulty_override {
        Some(d) => (d, None, DifficultyOrigin::Override),
        None => {
            let (e, _) = judge_difficulty(date, around)?;
            (e.difficulty, Some(e.date), origin)
        }
    };
    let evidence = HeightEvidence {
        on_or_before: around.height_on_or_before,
        after: around.height_after,
    };
    let subsidy = subsidy_on(date.naive(), halvings, &evidence)?;
    Ok(BitcoinInputs {
        difficulty,
        difficulty_date,
        origin,
        subsidy: subsidy.btc,
    })
}

/// The work of [`Pipeline::sync_difficulty`](crate::Pipeline::sync_difficulty).
pub(crate) async fn sync_difficulty<S, St>(cx: &Context<S, St>) -> Result<usize, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let feed = cx.difficulty_feed.clone().ok_or(DifficultyError::NoFeed)?;
    let rows = feed
        .fetch()
        .await
        .map_err(|source| DifficultyError::FeedUnreadable {
            feed: feed.describe(),
            source,
        })?;
    cx.with_store(move |s| s.upsert_difficulties(&rows)).await
}

/// Syncs the feed at most once in this pipeline's life (a range shares one sync).
pub(crate) async fn sync_once<S, St>(cx: &Context<S, St>) -> Result<(), Arc<PipelineError>>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let Some(feed) = cx.difficulty_feed.clone() else {
        return Err(Arc::new(DifficultyError::NoFeed.into()));
    };
    let once: &tokio::sync::OnceCell<Result<usize, Arc<PipelineError>>> = &cx.feed_synced;
    let result = once
        .get_or_init(|| async {
            info!(message = "syncing the difficulty feed", feed = %feed.describe());
            let r = sync_difficulty(cx).await.map_err(Arc::new);
            if let Ok(n) = &r {
                info!(message = "difficulty feed saved", entries = n);
            }
            r
        })
        .await;
    result.clone().map(|_| ())
}

/// The work of [`Pipeline::bitcoin_inputs`](crate::Pipeline::bitcoin_inputs).
pub(crate) async fn bitcoin_inputs<S, St>(
    cx: &Context<S, St>,
    date: SettlementDate,
) -> Result<BitcoinInputs, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    if let Some((_, inputs)) = cx.recorded.as_ref() {
        return Ok(*inputs);
    }
    let day = date.naive();
    let mut synced = false;
    loop {
        let around = cx.with_store(move |s| s.difficulty_around(day)).await?;
        let halvings = cx.with_store(|s| s.halvings()).await?;
        let origin = if synced {
            DifficultyOrigin::Feed
        } else {
            DifficultyOrigin::Table
        };
        let override_ = cx.config.difficulty_override;
        let problem = match settle_inputs(date, &around, &halvings, override_, origin) {
            Ok(inputs) => return Ok(inputs),
            Err(problem) => problem,
        };
        if synced {
            return Err(DifficultyError::NotSettled { problem }.into());
        }
        if let Err(feed_error) = sync_once(cx).await {
            return Err(DifficultyError::FeedCouldNotHelp {
                problem,
                feed_error,
            }
            .into());
        }
        synced = true;
    }
}
