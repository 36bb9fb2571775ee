//! Counts the SQL statements this process sends to its database, for the `--metrics-file`
//! (`reingest_run_db_statements`): a DBA sizing the tool's load on a shared server, or a
//! benchmark checking the write path stays sized to the work, reads it there.
//!
//! diesel's default instrumentation is process-wide, so only the binary installs it, once,
//! before any connection is opened; every connection then counts each statement it starts
//! (`BEGIN` and `COMMIT` included, as the server sees them).

use std::sync::atomic::{AtomicU64, Ordering};

use diesel::connection::{Instrumentation, InstrumentationEvent};

use crate::setup_error::SetupError;

/// Statements started on every connection of this process since [`install`].
static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// The instrumentation each new connection gets.
struct Counter;

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        if let InstrumentationEvent::StartQuery { .. } = event {
            STATEMENTS.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Installs the counter on every connection opened from now on.
pub fn install() -> Result<(), SetupError> {
    diesel::connection::set_default_instrumentation(|| Some(Box::new(Counter)))
        .map_err(|error| SetupError::StatementCounter { error })
}

/// Statements sent so far.
pub fn sent() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}
