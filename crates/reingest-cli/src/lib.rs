//! The reingest pipeline as a library, and the glue behind the `reingest` binary.
//!
//! [`Pipeline`] wires the stages of DESIGN.md: **fetch** (any
//! [`elexon_client::SettlementSource`]) → **process** ([`settlement_model::process_items`]) →
//! one store transaction ([`store::DaySwap::swap`]) in which the pipeline's hooks
//! **summarize** (`summaries`), **recalc** (`bitcoin-calc`) and **verify** ([`verify`]) before
//! anything commits. Nothing is deleted until everything new is in hand: every period is
//! fetched and processed before the store is touched, and a failed check rolls back.
//!
//! Architecture invariant: this crate knows no SQL, HTTP or XML; it only composes the stage
//! traits, so another service can embed it with its own source or store (see [`Pipeline`]).
//!
//! Dependencies: `tokio` (async runtime; store calls run on its blocking pool), `futures`
//! (bounded concurrent fetches), `clap` (the binary's arguments, with `env` fallbacks and
//! help text), `tracing` + `tracing-subscriber` (structured logs on stderr, `RUST_LOG`),
//! `indicatif` (progress bars, on a terminal only), `uuid` (run ids), `hostname` (who ran
//! it, for the audit log), `serde_json` (the `--json` documents).

pub mod app;
pub mod archive;
pub mod error;
pub mod fetch;
mod hooks;
mod inputs;
pub mod pipeline;
pub mod range;
mod recompute;
mod registry;
pub mod render;
pub mod report;
mod restore;
pub mod verify;

pub use error::{PipelineError, EXIT_ERROR, EXIT_INTERRUPTED, EXIT_MISMATCH, EXIT_OK};
pub use inputs::{DifficultyFeed, HttpDifficultyFeed};
pub use pipeline::{NoProgress, Operator, Pipeline, PipelineConfig, Progress, RunOptions};
pub use report::{PeriodChange, RunReport, UnclassifiedUnit, VerifyReport};
pub use verify::{Check, Expectations, VerificationReport};
