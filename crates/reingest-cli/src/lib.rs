//! The reingest pipeline as a library, and the glue behind the `reingest` binary.
//!
//! [`Pipeline`] wires the stages: **fetch** (any
//! [`elexon_client::SettlementSource`]) → **process** ([`settlement_model::process_items`]) →
//! one store transaction ([`store::DaySwap::swap`]) in which the pipeline's hooks
//! **summarize** (`summaries`), **recalc** (`bitcoin-calc`) and **verify** ([`verify`]) before
//! anything commits. Nothing is deleted until everything new is in hand: every period is
//! fetched and processed before the store is touched, and a failed check rolls back.
//!
//! Architecture invariant: this crate knows no SQL, HTTP or XML; it only composes the stage
//! traits, so another service can embed it with its own source or store (see [`Pipeline`]).
//!
//! # Features
//!
//! - `cli` (default): the `reingest` binary and what only it needs — `clap` (arguments, with
//!   `env` fallbacks and help text), `tracing-subscriber` (logs on stderr, `RUST_LOG`) and
//!   `indicatif` (progress bars, on a terminal only). A service that embeds the pipeline
//!   depends on `reingest-cli` with `default-features = false` and compiles none of them.
//! - `postgres` (default): the store's PostgreSQL backend (`postgres://…` URLs), through
//!   diesel and libpq; forwards `store/postgres`.
//! - `sqlite` (default): the store's SQLite backend (`sqlite://PATH`), bundled; forwards
//!   `store/sqlite`.
//!
//! An embedding service names the backends it uses: `default-features = false, features =
//! ["sqlite"]` is the library on SQLite alone, with no libpq linked. At least one backend
//! is needed (without either the store stops the build with a `compile_error!`), and a URL
//! of a backend left out is [`store::StoreError::BackendNotCompiled`], naming the feature.
//!
//! Dependencies of the library: `tokio` (async runtime; store calls run on its blocking
//! pool), `futures` (bounded concurrent fetches), `tracing` (structured log events, for
//! whatever subscriber the embedder installs), `uuid` (run ids), `hostname` (who ran it, for
//! the audit log), `serde_json` (the `--json` documents).

pub mod app;
mod builder;
pub mod error;
pub mod evidence;
pub mod ops;
pub mod output;
pub mod pipeline;
pub mod verify;

pub use ops::run_evidence::{EvidenceState, RunListing};
pub use ops::run_ref::RunRef;

#[cfg(test)]
pub(crate) mod testing;

pub use app::{AppSettings, StandardPipeline};
pub use builder::PipelineBuilder;
pub use error::{
    DifficultyError, InputError, PipelineError, RegistryError, Remedy, EXIT_ERROR,
    EXIT_INTERRUPTED, EXIT_MISMATCH, EXIT_OK,
};
pub use evidence::{EvidenceDocument, Fingerprint};
pub use ops::feed::{DifficultyFeed, HttpDifficultyFeed};
pub use ops::range::{ArchiveReplay, RangeOptions, RangeReport};
pub use ops::registry_note::{describe_registry_note, RegistryNote};
pub use ops::registry_report::{LeftOut, RegistryReport};
pub use ops::reports::{DriftCause, PeriodChange, RunReport, UnclassifiedUnit, VerifyReport};
pub use ops::verify_day::VerifyOptions;
pub use pipeline::{
    Clock, IntoProgress, NoProgress, Operator, Pipeline, PipelineConfig, Progress, RunOptions,
};
/// A settlement date (strict `YYYY-MM-DD`, Europe/London), re-exported so that a caller
/// names dates without depending on `settlement-model`.
pub use settlement_model::SettlementDate;
pub use verify::check_name::CheckName;
pub use verify::{Check, Expectations, VerificationReport};
