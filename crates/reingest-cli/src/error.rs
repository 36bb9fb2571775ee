//! The pipeline's error type and the exit codes the binary maps it to.

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
    /// Bad input: a date, period range, miner model or option that cannot be used.
    #[error("{0}")]
    Input(String),
    /// A date or period that does not exist.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// The API could not be read (after retries).
    #[error("fetch failed, nothing was written: {0}")]
    Fetch(#[from] elexon_client::FetchError),
    /// A stack item qualifies as curtailment but cannot become a record.
    #[error("processing failed, nothing was written: {0}")]
    Process(#[from] ProcessError),
    /// The database failed.
    #[error("database: {0}")]
    Store(#[from] store::StoreError),
    /// No difficulty is known for a date and none could be fetched.
    #[error("{0}")]
    Difficulty(String),
    /// The BM unit registry is empty and could not be filled.
    #[error("{0}")]
    Registry(String),
    /// A sum of records or summaries does not fit a decimal.
    #[error(transparent)]
    Sum(#[from] settlement_model::SumOverflow),
    /// The bitcoin calculation failed.
    #[error("bitcoin calculation: {0}")]
    Calc(String),
    /// A background task failed unexpectedly.
    #[error("internal error: {0}")]
    Internal(String),
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
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| PipelineError::Internal(format!("blocking task failed: {e}")))?
}
