//! The reliability scenarios of `RELIABILITY.md`, as one test binary: one module per kind of
//! fault, all sharing the end-to-end set-up of `tests/common/mod.rs`. One binary links the
//! workspace once instead of nine times.
//!
//! `cargo test -p reingest-cli --test reliability` runs them all;
//! `cargo test -p reingest-cli --test reliability process::` one module.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../common/mod.rs"]
mod common;

mod api_faults;
mod db_faults;
mod expectation_limits;
mod help_secrets;
mod hostile;
mod load;
mod process;
mod secrets;
mod sqlite_lock;
