//! The pipeline's operations, each in its own module: fetching a date ([`fetch`]), the
//! inputs its bitcoin figures rest on (`inputs`, [`feed`]), the BM unit registry
//! (`registry`, and what a run did with it, [`registry_note`]), the swap's hooks (`hooks`),
//! restoring a run (`restore`), a run's stored evidence (`run_evidence`), replaying and
//! recomputing from the archive (`replay`, `archive_ops`), verifying a stored day
//! ([`verify_day`]), ranges ([`range`], `range_archive`) and the assessment of a range
//! ([`assess`]); and the typed reports they return ([`reports`], [`registry_report`]).

pub(crate) mod archive_ops;
pub mod assess;
pub(crate) mod config;
pub(crate) mod context;
pub mod feed;
pub mod fetch;
pub(crate) mod hooks;
pub(crate) mod inputs;
pub(crate) mod progress;
pub mod range;
pub(crate) mod range_archive;
pub(crate) mod registry;
pub mod registry_note;
pub mod registry_report;
pub(crate) mod replay;
pub mod reports;
pub(crate) mod restore;
pub(crate) mod run;
pub(crate) mod run_evidence;
pub mod run_ref;
pub mod verify_day;
