//! What a run did with the BM unit registry, or why it left it as it was: data a service can
//! act on ([`RegistryNote::remedies`]), worded for the run's report by
//! [`PipelineConfig::describe_registry_note`](crate::PipelineConfig::describe_registry_note).

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::error::Remedy;
use crate::PipelineError;

/// One thing a run did with the BM unit registry, or why it did not refresh it for the unit
/// ids it did not know.
///
/// ```
/// use reingest::error::Remedy;
/// use reingest::RegistryNote;
///
/// let note = RegistryNote::ImportedFromFile;
/// assert_eq!(note.remedies(), [Remedy::ImportRegistry, Remedy::SyncRegistry]);
/// assert_eq!(
///     reingest::describe_registry_note(&note),
///     "imported from a file: left as the operator made it (`Pipeline::replace_registry` \
///      again, or `Pipeline::sync_bm_units` to take the API's)"
/// );
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RegistryNote {
    /// The registry was empty and was filled from the API: what was stored, left out and
    /// merged ([`RegistryReport::summary`](crate::RegistryReport::summary)).
    Filled {
        /// The fill's counts.
        summary: String,
    },
    /// The run was told to keep the registry fixed
    /// ([`RunOptions::no_registry_refresh`](crate::RunOptions::no_registry_refresh)).
    KeptFixed,
    /// The registry's origin is not recorded (filled before this version): left as it is.
    OriginUnknown,
    /// The registry was imported from the operator's file: left as the operator made it.
    ImportedFromFile,
    /// The registry was refreshed from the API at `at`, within the last day, and the ids are
    /// not there.
    RefreshedRecently {
        /// When it was refreshed.
        at: DateTime<Utc>,
    },
    /// The registry was refreshed from the API for the unknown ids: its counts.
    Refreshed {
        /// The refresh's counts.
        summary: String,
    },
    /// The refresh from the API failed.
    RefreshFailed {
        /// Why (shared by every date of a pipeline that asked).
        error: Arc<PipelineError>,
    },
}

impl RegistryNote {
    /// What would bring the registry up to date, when the run left it as it was.
    pub fn remedies(&self) -> Vec<Remedy> {
        match self {
            Self::OriginUnknown => vec![Remedy::SyncRegistry],
            Self::ImportedFromFile => vec![Remedy::ImportRegistry, Remedy::SyncRegistry],
            Self::RefreshFailed { error } => error.remedies(),
            Self::Filled { .. }
            | Self::KeptFixed
            | Self::RefreshedRecently { .. }
            | Self::Refreshed { .. } => Vec::new(),
        }
    }

    /// The note in the report's words, with `error` wording a failed refresh, `call` naming the
    /// call or command of a remedy, and `fixed_by` naming what kept the registry fixed: the one
    /// sentence each note has, whoever names the calls.
    pub fn word(
        &self,
        error: impl Fn(&PipelineError) -> String,
        call: impl Fn(&Remedy) -> String,
        fixed_by: &str,
    ) -> String {
        match self {
            RegistryNote::Filled { summary } => format!("filled from the API: {summary}"),
            RegistryNote::KeptFixed => format!("kept fixed ({fixed_by})"),
            RegistryNote::OriginUnknown => format!(
                "its origin is not recorded (filled before this version): left as it is; {} \
                 refreshes it from the API",
                call(&Remedy::SyncRegistry)
            ),
            RegistryNote::ImportedFromFile => format!(
                "imported from a file: left as the operator made it ({} again, or {} to take the \
                 API's)",
                call(&Remedy::ImportRegistry),
                call(&Remedy::SyncRegistry)
            ),
            RegistryNote::RefreshedRecently { at } => format!(
                "refreshed from the API at {} (at most once a day); the ids are not there",
                at.format("%Y-%m-%d %H:%M UTC")
            ),
            RegistryNote::Refreshed { summary } => {
                format!("refreshed from the API for unknown unit ids: {summary}")
            }
            RegistryNote::RefreshFailed { error: e } => {
                format!("could not be refreshed from the API: {}", error(e))
            }
        }
    }
}

/// The library's wording of `note`, naming the library calls that change the registry (the
/// default of [`PipelineConfig::describe_registry_note`](crate::PipelineConfig::describe_registry_note);
/// the `reingest` binary names its commands instead).
pub fn describe_registry_note(note: &RegistryNote) -> String {
    let call = |remedy: &Remedy| match remedy {
        Remedy::ImportRegistry => "`Pipeline::replace_registry`".to_owned(),
        Remedy::SyncRegistry => "`Pipeline::sync_bm_units`".to_owned(),
        other => format!("{other:?}"),
    };
    note.word(
        |e| crate::error::describe(e),
        call,
        "`RunOptions::no_registry_refresh`",
    )
}
