//! Test doubles of the pipeline's seams (compiled for unit tests only), so the claim that
//! another service can put its own store behind [`Pipeline`](crate::Pipeline) is tested.
//!
//! - [`MemoryStore`]: every role of [`store::SettlementStore`] — [`store::Migrations`],
//!   [`store::UnitRegistry`], [`store::DifficultyTable`], [`store::DaySwap`] (the swap honours
//!   the contract of `store`'s crate docs: backup, replace, derive, verify, commit or roll
//!   back, audit), [`store::AuditLog`] — and [`store::SourceArchive`], over collections
//!   behind one mutex.

mod memory_reads;
mod memory_store;
mod memory_swap;

pub(crate) use memory_store::MemoryStore;
