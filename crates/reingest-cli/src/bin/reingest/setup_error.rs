//! What can stop the binary before or after its command, outside the library: the log
//! subscriber, the statement counter and the metrics file. Each message carries its cause
//! (these are printed as one line, never walked as a chain).

use std::path::PathBuf;

/// The binary's own set-up and tear-down failures.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    /// `--log-file` cannot be opened for appending.
    #[error("cannot open log file {}: {error}", path.display())]
    LogFile {
        /// The file.
        path: PathBuf,
        /// Why not.
        error: std::io::Error,
    },
    /// A log subscriber was installed already.
    #[error("cannot set up logging: {error}")]
    Logging {
        /// tracing-subscriber's error.
        error: tracing_subscriber::util::TryInitError,
    },
    /// diesel's statement counter cannot be installed.
    #[error("cannot count database statements: {error}")]
    StatementCounter {
        /// diesel's error.
        error: diesel::result::Error,
    },
    /// `--metrics-file`'s folder does not exist (checked before any work).
    #[error("--metrics-file {}: the folder {} does not exist", path.display(), folder.display())]
    MetricsFolder {
        /// The file asked for.
        path: PathBuf,
        /// Its folder.
        folder: PathBuf,
    },
    /// The metrics file cannot be written.
    #[error("cannot write the metrics file {}: {error}", path.display())]
    MetricsWrite {
        /// The file.
        path: PathBuf,
        /// Why not.
        error: std::io::Error,
    },
}
