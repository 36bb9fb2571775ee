//! Why the inputs of a date's bitcoin figures (the difficulty in force, the block subsidy)
//! cannot be established. Every message names the command-line fix and the library call
//! that does the same for a service that embeds the pipeline.

use std::sync::Arc;

use chrono::NaiveDate;
use settlement_model::SettlementDate;

use super::PipelineError;

/// What a [`crate::DifficultyFeed`] fails with: its own error, kept as the source.
pub type FeedError = Box<dyn std::error::Error + Send + Sync>;

/// The difficulty in force or the subsidy of a date cannot be established, so nothing is
/// fetched or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DifficultyError {
    /// The pipeline was asked to sync a difficulty feed it does not have.
    #[error(
        "no difficulty feed is configured (build the pipeline with `Pipeline::builder`, which \
         has one, or add one with `Pipeline::with_difficulty_feed`)"
    )]
    NoFeed,
    /// The feed could not be read.
    #[error(
        "cannot read difficulty from {feed}: {source}; use `reingest difficulty set DATE VALUE` \
         or `reingest difficulty import FILE` (library: `SettlementStore::upsert_difficulties`)"
    )]
    FeedUnreadable {
        /// Where the feed reads from, credentials redacted.
        feed: String,
        /// Why it could not be read.
        #[source]
        source: FeedError,
    },
    /// The feed was synced and still nothing settles the date's inputs.
    #[error("{problem} (the difficulty feed was synced and has nothing that settles it)")]
    NotSettled {
        /// What is missing.
        #[source]
        problem: InputsProblem,
    },
    /// The table does not settle the date's inputs and the feed could not be synced.
    #[error("{problem} (the difficulty feed could not help: {feed_error})")]
    FeedCouldNotHelp {
        /// What is missing.
        problem: InputsProblem,
        /// Why the sync failed (shared by every date of a range: the feed is synced once).
        #[source]
        feed_error: Arc<PipelineError>,
    },
}

/// What is missing for a date's bitcoin figures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputsProblem {
    /// No adjustment is known on or before the date.
    #[error("no Bitcoin difficulty is known on or before {date}; {}", how_to_add(*.date))]
    NoDifficulty {
        /// The date.
        date: SettlementDate,
    },
    /// The newest adjustment on or before the date is more than one adjustment period old
    /// and no later one is known.
    #[error(
        "the newest Bitcoin difficulty known for {date} is from {in_force} ({age_days} days \
         before the date's end, more than one adjustment period) and no later adjustment is \
         known; {}",
        how_to_add(*.date)
    )]
    Stale {
        /// The date.
        date: SettlementDate,
        /// The day of the newest adjustment on or before it.
        in_force: NaiveDate,
        /// Its age at the date's end, in days.
        age_days: i64,
    },
    /// The block subsidy of the date is not determined.
    #[error(transparent)]
    Subsidy(#[from] bitcoin_calc::SubsidyError),
}

/// How to add what is missing, for every difficulty error: the command-line fix, then the
/// library call that does the same for a service that embeds the pipeline.
fn how_to_add(date: SettlementDate) -> String {
    format!(
        "add it with `reingest difficulty sync`, `reingest difficulty set {date} VALUE` or \
         `reingest difficulty import FILE`, or pass --difficulty VALUE for this run \
         (library: `Pipeline::sync_difficulty` on a pipeline with `with_difficulty_feed`, \
         `SettlementStore::upsert_difficulties`, or `Pipeline::with_difficulty_override`)"
    )
}
