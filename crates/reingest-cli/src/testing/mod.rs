//! Test doubles of the pipeline's seams (compiled for unit tests only): the claim that
//! another service can put its own store and source behind [`Pipeline`](crate::Pipeline) is
//! tested by the pipeline's unit tests running on these.
//!
//! - [`MemoryStore`]: `store`'s in-memory store (its `memory` feature, a dev-dependency
//!   here): every role of [`store::SettlementStore`] and [`store::SourceArchive`], its day
//!   swap the store's one swap sequence, checked against SQLite and PostgreSQL by the
//!   store's `conformance` tests;
//! - [`CannedSource`]: a [`elexon_client::SettlementSource`] of hand-planted stacks whose
//!   curtailment records are known in advance;
//! - [`fixtures`]: a pipeline on the two, with the reference data a run needs.

mod canned_source;
pub(crate) mod fixtures;

pub(crate) use canned_source::CannedSource;
pub(crate) use store::memory::MemoryStore;
