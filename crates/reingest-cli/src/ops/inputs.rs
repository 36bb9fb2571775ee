//! What a day's bitcoin figures rest on, resolved by the trust rules: the difficulty in force
//! (current, or synced from the feed, or the run stops) and the block subsidy (from halving
//! days held as data and the feed's block heights, never assumed).

use std::sync::Arc;

use bitcoin_calc::{assess_difficulty, subsidy_on, DifficultyTrust, HeightEvidence};
use settlement_model::{BitcoinInputs, DifficultyEntry, DifficultyOrigin, SettlementDate};
use store::{DifficultyAround, SettlementStore};
use tracing::info;

use crate::error::{DifficultyError, InputsProblem, PipelineError};
use crate::pipeline::Pipeline;
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

impl<S, St> Pipeline<S, St>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    /// Fetches the difficulty feed into the store; returns how many entries were written.
    pub async fn sync_difficulty(&self) -> Result<usize, PipelineError> {
        let feed = self.difficulty_feed().ok_or(DifficultyError::NoFeed)?;
        let rows = feed
            .fetch()
            .await
            .map_err(|source| DifficultyError::FeedUnreadable {
                feed: feed.describe(),
                source,
            })?;
        self.with_store(move |s| s.upsert_difficulties(&rows)).await
    }

    /// Syncs the feed at most once in this pipeline's life (a range shares one sync).
    async fn sync_once(&self) -> Result<(), Arc<PipelineError>> {
        let Some(feed) = self.difficulty_feed() else {
            return Err(Arc::new(DifficultyError::NoFeed.into()));
        };
        let once: &tokio::sync::OnceCell<Result<usize, Arc<PipelineError>>> = self.feed_synced();
        let result = once
            .get_or_init(|| async {
                info!(message = "syncing the difficulty feed", feed = %feed.describe());
                let r = self.sync_difficulty().await.map_err(Arc::new);
                if let Ok(n) = &r {
                    info!(message = "difficulty feed saved", entries = n);
                }
                r
            })
            .await;
        result.clone().map(|_| ())
    }

    /// What the bitcoin figures of `date` rest on, by the trust rules: the difficulty in
    /// force (the override, or the table's newest adjustment on or before the date when a
    /// later one is known or it is at most 21 days old, else the feed is synced once) and
    /// the block subsidy (from the halving days and the adjustments' block heights). Any
    /// input that cannot be established is an error before anything is written.
    pub async fn bitcoin_inputs(
        &self,
        date: SettlementDate,
    ) -> Result<BitcoinInputs, PipelineError> {
        if let Some((_, inputs)) = self.recorded() {
            return Ok(*inputs);
        }
        let day = date.naive();
        let mut synced = false;
        loop {
            let around = self.with_store(move |s| s.difficulty_around(day)).await?;
            let halvings = self.with_store(|s| s.halvings()).await?;
            let origin = if synced {
                DifficultyOrigin::Feed
            } else {
                DifficultyOrigin::Table
            };
            let override_ = self.config().difficulty_override;
            let problem = match settle_inputs(date, &around, &halvings, override_, origin) {
                Ok(inputs) => return Ok(inputs),
                Err(problem) => problem,
            };
            if synced {
                return Err(DifficultyError::NotSettled { problem }.into());
            }
            if let Err(feed_error) = self.sync_once().await {
                return Err(DifficultyError::FeedCouldNotHelp {
                    problem,
                    feed_error,
                }
                .into());
            }
            synced = true;
        }
    }
}
