//! The pipeline's error type and the exit codes the binary maps it to.
//!
//! [`PipelineError`] has a variant per stage or concern, and each keeps the error it wraps as
//! its source: bad input ([`InputError`]), the bitcoin inputs ([`DifficultyError`]), the BM
//! unit registry ([`RegistryError`]), the stages' own errors, and a background task that
//! failed ([`tokio::task::JoinError`]).
//!
//! Two rules hold for every error of this module:
//!
//! - A message says what went wrong, never how to fix it: an error that has a fix lists it
//!   as data, [`Remedy`] values from `remedies()`, which a service acts on and the `reingest`
//!   binary words as its commands and flags.
//! - A message is the context only: the error it wraps is returned by
//!   [`source()`](std::error::Error::source), not repeated in the text, so a printer of the
//!   chain ([`describe`]) shows each cause once.

mod chain;
mod difficulty;
mod feed;
mod input;
mod registry;
mod remedy;

pub use chain::describe;
pub use difficulty::{DifficultyError, FeedError, InputsProblem};
pub(crate) use feed::HttpFeedError;
pub use input::InputError;
pub(crate) use input::MAX_JOBS;
pub use registry::RegistryError;
pub use remedy::Remedy;

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
/// was wrong; the error it wraps is its [`source`](std::error::Error::source), and what
/// fixes it is [`PipelineError::remedies`]. [`describe`] words the whole chain.
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
    #[error("fetch failed, nothing was written")]
    Fetch(#[from] elexon_client::FetchError),
    /// Periods the API has not published: both of their stacks came back empty. Never
    /// stored as periods without curtailment (see [`crate::ops::fetch::fetch_range`]).
    #[error(
        "{date} periods {periods}: not published by the API (both stacks empty), nothing was \
         written"
    )]
    Unpublished {
        /// The date.
        date: settlement_model::SettlementDate,
        /// The unpublished periods.
        periods: settlement_model::PeriodList,
    },
    /// A stack item qualifies as curtailment but cannot become a record.
    #[error("processing failed, nothing was written")]
    Process(#[from] ProcessError),
    /// The database failed.
    #[error("database")]
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
    #[error("bitcoin calculation")]
    Calc(#[from] bitcoin_calc::CalcError),
    /// A run's evidence or registry snapshot could not be written or read back as JSON.
    #[error("internal error: {what}")]
    Evidence {
        /// Which document.
        what: String,
        /// serde_json's error.
        #[source]
        source: serde_json::Error,
    },
    /// A background task (a blocking store call on tokio's pool) panicked or was cancelled.
    #[error("internal error: blocking task failed")]
    Task(#[from] tokio::task::JoinError),
}

impl PipelineError {
    /// The process exit code for this error (always [`EXIT_ERROR`]; mismatches are reports,
    /// not errors).
    pub fn exit_code(&self) -> i32 {
        EXIT_ERROR
    }

    /// What fixes this error, the preferred fix first; empty when nothing the caller can do
    /// fixes it (a database or network failure: try again).
    ///
    /// ```
    /// use reingest::error::{InputError, Remedy};
    /// use reingest::PipelineError;
    ///
    /// let error: PipelineError = InputError::MigrationsPending { pending: vec!["m1".into()] }.into();
    /// assert_eq!(error.remedies(), [Remedy::Migrate, Remedy::AutoMigrate]);
    /// assert_eq!(error.to_string(), "the database needs 1 migration(s) (m1)");
    /// ```
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::Input(e) => e.remedies(),
            Self::Difficulty(e) => e.remedies(),
            Self::Registry(e) => e.remedies(),
            Self::Unpublished { .. } => {
                vec![Remedy::WaitForPublication, Remedy::AllowMissingPeriods]
            }
            Self::Store(store::StoreError::RunNotFound { .. }) => {
                vec![Remedy::ListRuns { date: None }]
            }
            Self::Store(store::StoreError::Constraint { kind, .. }) => constraint_remedies(*kind),
            Self::Store(store::StoreError::LaterRuns { run_id, .. }) => vec![
                Remedy::RestoreLaterRunsFirst,
                Remedy::ForceRestore {
                    run_id: run_id.clone(),
                },
            ],
            Self::Model(_)
            | Self::Fetch(_)
            | Self::Process(_)
            | Self::Store(_)
            | Self::Sum(_)
            | Self::Calc(_)
            | Self::Evidence { .. }
            | Self::Task(_) => Vec::new(),
        }
    }

    /// Whether the message leaves out the source's text (the context only), rather than
    /// being the source's own message (a transparent variant).
    pub(crate) fn leaves_out_cause(&self) -> bool {
        match self {
            Self::Input(e) => e.leaves_out_cause(),
            Self::Difficulty(e) => e.leaves_out_cause(),
            Self::Registry(e) => e.leaves_out_cause(),
            Self::Model(_) | Self::Sum(_) | Self::Unpublished { .. } => false,
            Self::Fetch(_)
            | Self::Process(_)
            | Self::Store(_)
            | Self::Calc(_)
            | Self::Evidence { .. }
            | Self::Task(_) => true,
        }
    }
}

/// What fixes a write the schema refused, by the rule it broke (the likeliest first; see
/// [`store::ConstraintKind`]'s variants).
fn constraint_remedies(kind: store::ConstraintKind) -> Vec<Remedy> {
    match kind {
        store::ConstraintKind::Unique => vec![Remedy::TryAgain, Remedy::ReportBug],
        store::ConstraintKind::ForeignKey => {
            vec![Remedy::Migrate, Remedy::CheckOtherWriters, Remedy::TryAgain]
        }
        _ => vec![Remedy::Migrate, Remedy::ReportBug],
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

    fn io(text: &str) -> std::io::Error {
        std::io::Error::other(text.to_owned())
    }

    /// Bytes that are not UTF-8 (made at run time: a literal would be linted).
    fn invalid_utf8() -> Vec<u8> {
        vec![0xff_u8; 1]
    }

    fn feed_unreadable() -> DifficultyError {
        DifficultyError::FeedUnreadable {
            feed: "https://example.test/feed".into(),
            source: Box::new(io("connection reset")),
        }
    }

    /// Errors with a cause of their own, and nested ones.
    fn errors_with_causes() -> Vec<PipelineError> {
        vec![
            elexon_client::FetchError::Internal("parser panicked".into()).into(),
            store::StoreError::ReadOnly {
                detail: "cannot execute UPDATE in a read-only transaction".into(),
            }
            .into(),
            bitcoin_calc::CalcError::NonPositiveDifficulty {
                difficulty: rust_decimal::Decimal::ZERO,
            }
            .into(),
            PipelineError::Evidence {
                what: "the evidence of run r1".into(),
                source: serde_json::from_str::<u8>("x").expect_err("not JSON"),
            },
            InputError::File {
                action: "read",
                path: "units.json".into(),
                source: io("permission denied"),
            }
            .into(),
            InputError::MinerModelsFile {
                path: "models.json".into(),
                source: io("permission denied"),
            }
            .into(),
            RegistryError::ApiUnreadable(elexon_client::FetchError::Internal("gone".into())).into(),
            feed_unreadable().into(),
            DifficultyError::FeedUnreadable {
                feed: "https://example.test/feed".into(),
                source: Box::new(HttpFeedError::from(
                    std::str::from_utf8(&invalid_utf8()).expect_err("not UTF-8"),
                )),
            }
            .into(),
            DifficultyError::FeedCouldNotHelp {
                problem: InputsProblem::NoDifficulty { date: date() },
                feed_error: Arc::new(feed_unreadable().into()),
            }
            .into(),
        ]
    }

    /// The messages of the error chain, outermost first.
    fn chain(error: &PipelineError) -> Vec<String> {
        let mut chain = vec![error.to_string()];
        let mut next = error.source();
        while let Some(e) = next {
            chain.push(e.to_string());
            next = e.source();
        }
        chain
    }

    /// Each message is the context only: a cause's text is in the chain once, so the whole
    /// chain joined with `: ` (what `describe` prints) repeats nothing, and loses nothing.
    #[test]
    fn a_message_shows_its_context_and_leaves_its_cause_to_source() {
        for error in errors_with_causes() {
            let chain = chain(&error);
            assert!(chain.len() >= 2, "a cause: {chain:?}");
            let joined = chain.join(": ");
            for (i, cause) in chain.iter().enumerate().skip(1) {
                assert_eq!(
                    joined.matches(cause.as_str()).count(),
                    1,
                    "cause {i} {cause:?} once in {joined:?}"
                );
                assert!(
                    !chain[i - 1].contains(cause.as_str()),
                    "{:?} repeats its cause {cause:?}",
                    chain[i - 1]
                );
            }
            assert_eq!(describe(&error), joined, "{error:?}");
        }
    }

    /// Nothing the library says names a command of the `reingest` binary or one of its
    /// flags: what fixes an error is its remedies.
    #[test]
    fn messages_name_no_command_and_fixes_are_remedies() {
        let d = date();
        let cases: Vec<(PipelineError, Vec<Remedy>)> = vec![
            (
                DifficultyError::NoFeed.into(),
                vec![Remedy::AddDifficultyFeed],
            ),
            (InputError::NoArchive.into(), vec![Remedy::AddArchive]),
            (RegistryError::ApiEmpty.into(), vec![Remedy::ImportRegistry]),
            (
                RegistryError::NoWindUnits.into(),
                vec![Remedy::SyncRegistry, Remedy::ImportRegistry],
            ),
            (
                InputError::MigrationsPending {
                    pending: vec!["m1".into()],
                }
                .into(),
                vec![Remedy::Migrate, Remedy::AutoMigrate],
            ),
            (
                DifficultyError::NotSettled {
                    problem: InputsProblem::NoDifficulty { date: d },
                }
                .into(),
                vec![
                    Remedy::SyncDifficultyFeed,
                    Remedy::SetDifficulty { date: Some(d) },
                    Remedy::ImportDifficulty,
                    Remedy::DifficultyOverride,
                ],
            ),
            (
                InputError::NoCommittedRun { date: d }.into(),
                vec![Remedy::ListRuns { date: Some(d) }],
            ),
            (
                InputError::NothingToCompare { date: d }.into(),
                vec![Remedy::NameRunsToCompare { date: d }],
            ),
            (
                PipelineError::Unpublished {
                    date: d,
                    periods: settlement_model::PeriodList::new(vec![3]),
                },
                vec![Remedy::WaitForPublication, Remedy::AllowMissingPeriods],
            ),
            (InputError::Jobs { jobs: 65, max: 64 }.into(), vec![]),
            (
                store::StoreError::Constraint {
                    kind: store::ConstraintKind::ForeignKey,
                    table: None,
                    detail: "FOREIGN KEY constraint failed".into(),
                }
                .into(),
                vec![Remedy::Migrate, Remedy::CheckOtherWriters, Remedy::TryAgain],
            ),
        ];
        let errors = cases
            .into_iter()
            .map(|(error, remedies)| {
                assert_eq!(error.remedies(), remedies, "{error:?}");
                error
            })
            .chain(errors_with_causes());
        for error in errors {
            let text = describe(&error);
            for cli in ["reingest ", "--", "library:", "Pipeline::", "Store::"] {
                assert!(!text.contains(cli), "{cli:?} in {text}");
            }
            assert!(!text.contains('\n'), "one line: {text}");
        }
    }

    /// A failed feed sync is kept as the source of the error that reports it, down to the
    /// feed's own error.
    #[test]
    fn a_feed_failure_keeps_its_source_chain() {
        let error: PipelineError = DifficultyError::FeedCouldNotHelp {
            problem: InputsProblem::NoDifficulty { date: date() },
            feed_error: Arc::new(feed_unreadable().into()),
        }
        .into();
        assert_eq!(
            describe(&error),
            "no Bitcoin difficulty is known on or before 2024-03-21, and the difficulty feed \
             could not help: cannot read difficulty from https://example.test/feed: connection \
             reset"
        );
        assert_eq!(
            chain(&error).last().map(String::as_str),
            Some("connection reset")
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
