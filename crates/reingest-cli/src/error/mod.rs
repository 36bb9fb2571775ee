//! The pipeline's error type and the exit codes the binary maps it to.
//!
//! [`PipelineError`] has a variant per stage or concern, and each keeps the error it wraps as
//! its source: bad input ([`InputError`]), the bitcoin inputs ([`DifficultyError`]), the BM
//! unit registry ([`RegistryError`]), the stages' own errors, and a background task that
//! failed ([`tokio::task::JoinError`]).

mod difficulty;
mod input;
mod registry;

pub use difficulty::{DifficultyError, FeedError, InputsProblem};
pub use input::InputError;
pub(crate) use input::MAX_JOBS;
pub use registry::RegistryError;

use settlement_model::{ModelError, ProcessError};

/// Exit code: success, or every verification check passed.
pub const EXIT_OK: i32 = 0;
/// Exit code: verification mismatch (the data differs from what it should be).
pub const EXIT_MISMATCH: i32 = 1;
/// Exit code: an error (bad input, unreachable API, database error).
pub const EXIT_ERROR: i32 = 2;
/// Exit code: interrupted by Ctrl-C (SIGINT), as shells report it.
pub const EXIT_INTERRUPTED: i32 = 130;

/// Everything that can stop a pipeline operation. Each message is one line that names what
/// was wrong and, where there is one, the command that fixes it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// Bad input: a date, period range, miner model, option, file or run that cannot be used.
    #[error(transparent)]
    Input(#[from] InputError),
    /// A date or period that does not exist.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The API could not be read (after retries).
    #[error("fetch failed, nothing was written: {0}")]
    Fetch(#[from] elexon_client::FetchError),
    /// Periods the API has not published: both of their stacks came back empty. Never
    /// stored as periods without curtailment (see [`crate::ops::fetch::fetch_range`]).
    #[error(
        "{date} periods {periods}: not published by the API (both stacks empty), nothing was \
         written; wait for Elexon to publish them, or record them as missing \
         (--allow-missing-periods), which leaves the day incomplete"
    )]
    Unpublished {
        /// The date.
        date: settlement_model::SettlementDate,
        /// The unpublished periods.
        periods: settlement_model::PeriodList,
    },
    /// A stack item qualifies as curtailment but cannot become a record.
    #[error("processing failed, nothing was written: {0}")]
    Process(#[from] ProcessError),
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    /// What a date's bitcoin figures rest on (difficulty, subsidy) cannot be established.
    #[error(transparent)]
    Difficulty(#[from] DifficultyError),
    /// The BM unit registry is empty and could not be filled.
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// A sum of records or summaries does not fit a decimal.
    #[error(transparent)]
    Sum(#[from] settlement_model::SumOverflow),
    /// The bitcoin calculation failed.
    #[error("bitcoin calculation: {0}")]
    Calc(#[from] bitcoin_calc::CalcError),
    /// A run's evidence or registry snapshot could not be written or read back as JSON.
    #[error("internal error: {what}: {source}")]
    Evidence {
        /// Which document.
        what: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// A background task (a blocking store call on tokio's pool) panicked or was cancelled.
    #[error("internal error: blocking task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
}

impl PipelineError {
    /// The process exit code for this error (always [`EXIT_ERROR`]; mismatches are reports,
    /// not errors).
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }
}

/// Runs a blocking store call on tokio's blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, PipelineError>
where
    F: FnOnce() -> Result<T, PipelineError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}

#[cfg(test)]
mod tests {
    use std::error::Error as _;
    use std::sync::Arc;

    use super::*;

    fn date() -> settlement_model::SettlementDate {
        "2024-03-21".parse().expect("a date")
    }

    /// Every error the library meets without a command to run names the library call
    /// that fixes it.
    #[test]
    fn library_errors_name_the_call_that_fixes_them() {
        let cases: Vec<(PipelineError, &str)> = vec![
            (
                DifficultyError::NoFeed.into(),
                "Pipeline::with_difficulty_feed",
            ),
            (InputError::NoArchive.into(), "Pipeline::with_archive"),
            (
                RegistryError::ApiEmpty.into(),
                "SettlementStore::replace_bm_units",
            ),
            (RegistryError::NoWindUnits.into(), "Pipeline::sync_bm_units"),
            (
                InputError::MigrationsPending {
                    pending: vec!["m1".into()],
                }
                .into(),
                "Pipeline::prepare",
            ),
            (
                DifficultyError::NotSettled {
                    problem: InputsProblem::NoDifficulty { date: date() },
                }
                .into(),
                "Pipeline::with_difficulty_override",
            ),
        ];
        for (error, call) in cases {
            let text = error.to_string();
            assert!(text.contains(call), "{text}");
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }

    /// A failed feed sync is kept as the source of the error that reports it, down to the
    /// feed's own error.
    #[test]
    fn a_feed_failure_keeps_its_source_chain() {
        let io = std::io::Error::other("connection reset");
        let feed: PipelineError = DifficultyError::FeedUnreadable {
            feed: "https://example.test/feed".into(),
            source: Box::new(io),
        }
        .into();
        let error: PipelineError = DifficultyError::FeedCouldNotHelp {
            problem: InputsProblem::NoDifficulty { date: date() },
            feed_error: Arc::new(feed),
        }
        .into();
        let text = error.to_string();
        assert!(
            text.starts_with("no Bitcoin difficulty is known on or before 2024-03-21; add it"),
            "{text}"
        );
        assert!(
            text.contains("(the difficulty feed could not help: cannot read difficulty from"),
            "{text}"
        );
        let mut chain = Vec::new();
        let mut next = error.source();
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        assert_eq!(
            chain.last().map(String::as_str),
            Some("connection reset"),
            "{chain:?}"
        );
    }

    /// A task that panicked is an internal error carrying tokio's `JoinError`.
    #[tokio::test]
    async fn a_panicked_blocking_task_is_an_internal_error() {
        let error = blocking(|| -> Result<(), PipelineError> { panic!("boom") })
            .await
            .expect_err("the task panicked");
        assert!(matches!(error, PipelineError::Task(_)), "{error:?}");
        assert!(
            error
                .to_string()
                .starts_with("internal error: blocking task failed"),
            "{error}"
        );
    }
}
