//! What fixes an error, as data: the library's messages say what went wrong, and an error
//! that has a fix lists it as [`Remedy`] values, which a service acts on (or shows in its
//! own words) and the `reingest` binary words as its commands and flags.

use settlement_model::SettlementDate;

/// One thing that fixes an error, named by what it does rather than by a command line.
/// Each variant names the library call that does it, for a service that embeds the
/// pipeline. Errors list theirs through [`PipelineError::remedies`](super::PipelineError::remedies)
/// (and the same method of [`InputError`](super::InputError),
/// [`RegistryError`](super::RegistryError) and [`DifficultyError`](super::DifficultyError)),
/// the preferred fix first.
///
/// ```
/// use reingest::error::{DifficultyError, InputsProblem, Remedy};
/// use reingest::{PipelineError, SettlementDate};
///
/// let date: SettlementDate = "2024-03-21".parse().unwrap();
/// let error: PipelineError = DifficultyError::NotSettled {
///     problem: InputsProblem::NoDifficulty { date },
/// }
/// .into();
/// // The message says what is wrong, and names no command.
/// assert!(!error.to_string().contains("reingest "));
/// // The fixes are data.
/// let remedies = error.remedies();
/// assert!(remedies.contains(&Remedy::SetDifficulty { date: Some(date) }));
/// if remedies.contains(&Remedy::DifficultyOverride) {
///     // e.g. retry with `Pipeline::with_difficulty_override` and a difficulty of its own
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Remedy {
    /// Sync the difficulty table from the feed (`Pipeline::sync_difficulty`, on a pipeline
    /// with `Pipeline::with_difficulty_feed`).
    SyncDifficultyFeed,
    /// Store the difficulty in force from a date (of this date, when known)
    /// (`SettlementStore::upsert_difficulties`).
    SetDifficulty {
        /// The date the difficulty is wanted for, when the error is about one.
        date: Option<SettlementDate>,
    },
    /// Import a file of difficulty adjustments (`SettlementStore::upsert_difficulties`).
    ImportDifficulty,
    /// Give this run a difficulty of its own (`Pipeline::with_difficulty_override`).
    DifficultyOverride,
    /// Give the pipeline a difficulty feed (`Pipeline::builder`, which has one, or
    /// `Pipeline::with_difficulty_feed`).
    AddDifficultyFeed,
    /// Replace the BM unit registry with a mapping file's units
    /// (`SettlementStore::replace_bm_units`, or `Pipeline::replace_registry` to check the
    /// list as the pipeline does).
    ImportRegistry,
    /// Fill the BM unit registry from the API (`Pipeline::sync_bm_units`).
    SyncRegistry,
    /// Apply the pending schema migrations with the one process allowed to change the schema.
    Migrate,
    /// Let this process apply the pending migrations as it starts (`Pipeline::prepare`).
    AutoMigrate,
    /// List the runs of the audit log (of this date, when known) to find a run id
    /// (`SettlementStore::runs`).
    ListRuns {
        /// The date whose runs to list.
        date: Option<SettlementDate>,
    },
    /// Name two runs of the date to compare.
    NameRunsToCompare {
        /// The date.
        date: SettlementDate,
    },
    /// Replay the run with today's registry and bitcoin inputs instead of the ones it
    /// recorded.
    ReplayWithCurrentInputs,
    /// Restore a newer run of the date instead.
    RestoreNewerRun {
        /// The date.
        date: SettlementDate,
    },
    /// Run the date again from the API.
    Reingest {
        /// The date.
        date: SettlementDate,
    },
    /// Give the pipeline a source archive (`Pipeline::builder`, which has one, or
    /// `Pipeline::with_archive`).
    AddArchive,
    /// Wait for Elexon to publish the periods, then run again.
    WaitForPublication,
    /// Record the unpublished periods as missing, which leaves the day incomplete
    /// (`RunOptions::allow_missing_periods`).
    AllowMissingPeriods,
    /// Record the day of the halving at block `height` once it has happened
    /// (`SettlementStore::upsert_halving`).
    AddHalving {
        /// The halving block's height.
        height: u64,
    },
    /// Restore the later runs over the same periods first (newest first).
    RestoreLaterRunsFirst,
    /// Put back `run_id`'s rows anyway, over the later runs' (`Pipeline::restore` with
    /// `force`).
    ForceRestore {
        /// The run to restore.
        run_id: String,
    },
    /// Do the same again: another writer probably changed the same rows at the same time.
    TryAgain,
    /// Check that no other tool deleted the rows this write refers to.
    CheckOtherWriters,
    /// Report a bug in reingest, with the error's message.
    ReportBug,
}
