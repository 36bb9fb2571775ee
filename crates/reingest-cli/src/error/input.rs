//! Bad input: an option, setting, file or run that cannot be used. Nothing is written.
//! What fixes it, where something does, is [`InputError::remedies`].

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use settlement_model::{SettlementDate, Side};

use super::Remedy;

/// The most dates a range runs at once (`crate::ops::range::MAX_JOBS`).
pub(crate) const MAX_JOBS: usize = 64;

/// An option, setting, file or run named by the operator (or the embedding service) that
/// cannot be used. Each message says what was wrong; what to do is [`InputError::remedies`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// `ELEXON_FORMAT` is neither `xml` nor `json`.
    #[error("ELEXON_FORMAT must be xml or json, got {value:?}")]
    FormatSetting {
        /// The value set.
        value: String,
    },
    /// A number that must be positive is not (`--difficulty`, a difficulty to set).
    #[error("{what} must be positive, got {value}")]
    NotPositive {
        /// The option or value.
        what: &'static str,
        /// What was given.
        value: Decimal,
    },
    /// A tolerance is negative.
    #[error("{flag} must not be negative, got {value}")]
    Negative {
        /// The option.
        flag: &'static str,
        /// What was given.
        value: Decimal,
    },
    /// A count option is zero.
    #[error("{flag} must be at least 1{why}")]
    Zero {
        /// The option.
        flag: &'static str,
        /// Why, after a colon, or empty.
        why: &'static str,
    },
    /// A range that ends before it starts.
    #[error("the range starts ({from}) after it ends ({to})")]
    RangeBackwards {
        /// The first date.
        from: SettlementDate,
        /// The last date.
        to: SettlementDate,
    },
    /// The number of dates a range runs at once ([`crate::RangeOptions`]'s `jobs`) is
    /// outside `1..=max`.
    #[error("the number of dates run at once must be between 1 and {max}, got {jobs}")]
    Jobs {
        /// What was given.
        jobs: usize,
        /// The most allowed ([`crate::ops::range::MAX_JOBS`]).
        max: usize,
    },
    /// The miner models file named by `REINGEST_MINER_MODELS=@PATH` cannot be read.
    #[error("cannot read miner models file {path}")]
    MinerModelsFile {
        /// The file.
        path: String,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A miner model definition is malformed or invalid.
    #[error(transparent)]
    MinerModel(#[from] bitcoin_calc::MinerModelError),
    /// A miner model name the catalog does not know.
    #[error(transparent)]
    UnknownMinerModel(#[from] bitcoin_calc::UnknownModel),
    /// `status --output FILE` names a file whose extension is no form of the report.
    #[error(
        "cannot tell the form of {} from its extension: use .md, .html, .json or .txt",
        path.display()
    )]
    OutputExtension {
        /// The file.
        path: PathBuf,
    },
    /// A file cannot be read or written.
    #[error("cannot {action} {}", path.display())]
    File {
        /// `read` or `write`.
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A BM unit file is not the API's JSON shape.
    #[error("{}", path.display())]
    BmUnitsFile {
        /// The file.
        path: PathBuf,
        /// Why it does not parse.
        #[source]
        source: elexon_client::ParseError,
    },
    /// A BM unit file holds no units.
    #[error("{} holds no BM units", path.display())]
    NoBmUnits {
        /// The file.
        path: PathBuf,
    },
    /// A difficulty file is in none of the known formats.
    #[error("{}", path.display())]
    DifficultyFile {
        /// The file.
        path: PathBuf,
        /// Why it does not parse.
        #[source]
        source: bitcoin_calc::ImportError,
    },
    /// A block height that is not a halving.
    #[error("block {height} is not a halving: halvings are at multiples of 210000")]
    NotAHalving {
        /// The height given.
        height: u64,
    },
    /// The database needs migrations the settings do not allow this process to apply.
    #[error("the database needs {} migration(s) ({})", pending.len(), pending.join(", "))]
    MigrationsPending {
        /// The pending migrations, oldest first.
        pending: Vec<String>,
    },
    /// The pipeline was built without a source archive, which the operation reads.
    #[error("this pipeline has no source archive")]
    NoArchive,
    /// No run with this id is in the audit log.
    #[error("no run {run_id:?} in the audit log")]
    UnknownRun {
        /// The id asked for.
        run_id: String,
    },
    /// Neither a run id in the audit log nor a date.
    #[error("no run {what:?} in the audit log")]
    UnknownRunOrDate {
        /// What was asked for.
        what: String,
    },
    /// No run with this id for this date.
    #[error("no run {run_id:?} of {date} in the audit log")]
    UnknownRunOfDate {
        /// The id asked for.
        run_id: String,
        /// The date.
        date: SettlementDate,
    },
    /// The date has no committed run.
    #[error("{date} has no committed run")]
    NoCommittedRun {
        /// The date.
        date: SettlementDate,
    },
    /// The date has no committed run whose sources are archived.
    #[error("{date} has no committed run whose sources are archived")]
    NoArchivedRun {
        /// The date.
        date: SettlementDate,
    },
    /// Fewer than two committed runs to compare, and none named.
    #[error("{date} has fewer than two committed runs to compare")]
    NothingToCompare {
        /// The date.
        date: SettlementDate,
    },
    /// The run logged no fetches, so it archived no sources.
    #[error(
        "run {run_id} has no fetch log, so no archived sources (it was a {kind} run with status \
         {status})"
    )]
    NoFetchLog {
        /// The run.
        run_id: String,
        /// Its kind.
        kind: store::RunKind,
        /// Its status.
        status: store::RunStatus,
    },
    /// A fetched period of the run has no source hash.
    #[error("period {period} {side} of the run has no source hash (run before archiving existed)")]
    NoSourceHash {
        /// The period.
        period: u8,
        /// The stack.
        side: Side,
    },
    /// The run's fetch log has no entry for a period it replaced.
    #[error("run {run_id} logged no source for period {period} {side}")]
    SourceNotLogged {
        /// The run.
        run_id: String,
        /// The period.
        period: u8,
        /// The stack.
        side: Side,
    },
    /// An archived source is in a format this version cannot parse.
    #[error("archived source {hash} has unknown format {format:?}")]
    ArchivedFormat {
        /// The source's hash.
        hash: String,
        /// The format recorded.
        format: String,
    },
    /// The run recorded no evidence, which a replay with the inputs it recorded needs.
    #[error("run {run_id} recorded no evidence (it predates this version, or recording failed)")]
    NoEvidence {
        /// The run.
        run_id: String,
    },
    /// The registry snapshot a run's evidence names is not stored.
    #[error("the registry snapshot {hash} the run recorded is missing")]
    RegistrySnapshotMissing {
        /// The snapshot's hash.
        hash: String,
    },
    /// A prune of the archive (`Pipeline::prune_archive`) deleted the run's backup.
    #[error(
        "run {run_id} can no longer be restored: a prune of the archive deleted its backup on {}",
        pruned_at.format("%Y-%m-%d %H:%M UTC")
    )]
    BackupPruned {
        /// The run.
        run_id: String,
        /// When its backup was deleted.
        pruned_at: DateTime<Utc>,
        /// Its date.
        date: SettlementDate,
    },
    /// Runs are in progress, so their sources are not yet in a committed fetch log.
    #[error(
        "runs still in progress: {}; prune when they have finished (their sources are not yet \
         in a committed fetch log)",
        runs.join(", ")
    )]
    RunsInProgress {
        /// The runs, as the audit log names them.
        runs: Vec<String>,
    },
}

impl InputError {
    /// What fixes the input, the preferred fix first; empty when the message says all
    /// there is (a value out of range, a file that cannot be read).
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::MigrationsPending { .. } => vec![Remedy::Migrate, Remedy::AutoMigrate],
            Self::NoArchive => vec![Remedy::AddArchive],
            Self::UnknownRun { .. } | Self::UnknownRunOrDate { .. } => {
                vec![Remedy::ListRuns { date: None }]
            }
            Self::UnknownRunOfDate { date, .. }
            | Self::NoCommittedRun { date }
            | Self::NoArchivedRun { date } => vec![Remedy::ListRuns { date: Some(*date) }],
            Self::NothingToCompare { date } => vec![Remedy::NameRunsToCompare { date: *date }],
            Self::NoEvidence { .. } => vec![Remedy::ReplayWithCurrentInputs],
            Self::BackupPruned { date, .. } => vec![
                Remedy::RestoreNewerRun { date: *date },
                Remedy::Reingest { date: *date },
            ],
            Self::FormatSetting { .. }
            | Self::NotPositive { .. }
            | Self::Negative { .. }
            | Self::Zero { .. }
            | Self::RangeBackwards { .. }
            | Self::Jobs { .. }
            | Self::MinerModelsFile { .. }
            | Self::MinerModel(_)
            | Self::UnknownMinerModel(_)
            | Self::OutputExtension { .. }
            | Self::File { .. }
            | Self::BmUnitsFile { .. }
            | Self::NoBmUnits { .. }
            | Self::DifficultyFile { .. }
            | Self::NotAHalving { .. }
            | Self::NoFetchLog { .. }
            | Self::NoSourceHash { .. }
            | Self::SourceNotLogged { .. }
            | Self::ArchivedFormat { .. }
            | Self::RegistrySnapshotMissing { .. }
            | Self::RunsInProgress { .. } => Vec::new(),
        }
    }

    /// Whether the message leaves out the source's text.
    pub(crate) fn leaves_out_cause(&self) -> bool {
        matches!(
            self,
            Self::MinerModelsFile { .. }
                | Self::File { .. }
                | Self::BmUnitsFile { .. }
                | Self::DifficultyFile { .. }
        )
    }
}
