//! Why the inputs of a date's bitcoin figures (the difficulty in force, the block subsidy)
//! cannot be established. What adds the missing input is [`DifficultyError::remedies`].

use std::sync::Arc;

use chrono::NaiveDate;
use settlement_model::SettlementDate;

use super::{PipelineError, Remedy};

/// What a [`crate::DifficultyFeed`] fails with: its own error, kept as the source.
pub type FeedError = Box<dyn std::error::Error + Send + Sync>;

/// The difficulty in force or the subsidy of a date cannot be established, so nothing is
/// fetched or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DifficultyError {
    /// The pipeline was asked to sync a difficulty feed it does not have.
    #[error("no difficulty feed is configured")]
    NoFeed,
    /// The feed could not be read.
    #[error("cannot read difficulty from {feed}")]
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
        /// What is missing (shown in the message: it is what is wrong, not a cause).
        problem: InputsProblem,
    },
    /// The table does not settle the date's inputs and the feed could not be synced.
    #[error("{problem}, and the difficulty feed could not help")]
    FeedCouldNotHelp {
        /// What is missing.
        problem: InputsProblem,
        /// Why the sync failed (shared by every date of a range: the feed is synced once).
        #[source]
        feed_error: Arc<PipelineError>,
    },
}

impl DifficultyError {
    /// What adds the missing input, the preferred fix first.
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::NoFeed => vec![Remedy::AddDifficultyFeed],
            Self::FeedUnreadable { .. } => vec![
                Remedy::SetDifficulty { date: None },
                Remedy::ImportDifficulty,
            ],
            Self::NotSettled { problem } | Self::FeedCouldNotHelp { problem, .. } => {
                problem.remedies()
            }
        }
    }

    /// Whether the message leaves out the source's text.
    pub(crate) fn leaves_out_cause(&self) -> bool {
        matches!(
            self,
            Self::FeedUnreadable { .. } | Self::FeedCouldNotHelp { .. }
        )
    }
}

/// What is missing for a date's bitcoin figures.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputsProblem {
    /// No adjustment is known on or before the date.
    #[error("no Bitcoin difficulty is known on or before {date}")]
    NoDifficulty {
        /// The date.
        date: SettlementDate,
    },
    /// The newest adjustment on or before the date is more than one adjustment period old
    /// and no later one is known.
    #[error(
        "the newest Bitcoin difficulty known for {date} is from {in_force} ({age_days} days \
         before the date's end, more than one adjustment period) and no later adjustment is \
         known"
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

impl InputsProblem {
    /// What adds the missing difficulty: a sync of the feed, the difficulty of the date, a
    /// file of adjustments, or a difficulty for this run only (empty for the subsidy, whose
    /// message says what to add).
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::NoDifficulty { date } | Self::Stale { date, .. } => vec![
                Remedy::SyncDifficultyFeed,
                Remedy::SetDifficulty { date: Some(*date) },
                Remedy::ImportDifficulty,
                Remedy::DifficultyOverride,
            ],
            Self::Subsidy(bitcoin_calc::SubsidyError::UnknownHalvingDay { height, .. }) => {
                vec![Remedy::AddHalving { height: *height }]
            }
            Self::Subsidy(bitcoin_calc::SubsidyError::Undetermined { height, .. }) => vec![
                Remedy::SyncDifficultyFeed,
                Remedy::AddHalving { height: *height },
            ],
            Self::Subsidy(_) => Vec::new(),
        }
    }
}
