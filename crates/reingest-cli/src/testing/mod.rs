//! Test doubles of the pipeline's seams (compiled for unit tests only): the claim that
//! another service can put its own store and source behind [`Pipeline`](crate::Pipeline) is
//! tested by the pipeline's unit tests running on these.
//!
//! - [`MemoryStore`]: every role of [`store::SettlementStore`] — [`store::Migrations`],
//!   [`store::UnitRegistry`], [`store::DifficultyTable`], [`store::DaySwap`] (the swap honours
//!   the contract of `store`'s crate docs: backup, replace, derive, verify, commit or roll
//!   back, audit), [`store::AuditLog`] — and [`store::SourceArchive`], over collections
//!   behind one mutex;
//! - [`CannedSource`]: a [`elexon_client::SettlementSource`] of hand-planted stacks whose
//!   curtailment records are known in advance;
//! - [`fixtures`]: a pipeline on the two, with the reference data a run needs.

mod canned_source;
pub(crate) mod fixtures;
mod memory_reads;
mod memory_store;
mod memory_swap;

pub(crate) use canned_source::CannedSource;
pub(crate) use memory_store::MemoryStore;
