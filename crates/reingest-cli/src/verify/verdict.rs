//! The verdict of verification: named checks and their conjunction, shared by the checks
//! that recompute (`recompute.rs`), the day's checks (`verify/mod.rs`) and the evidence a run
//! records (`evidence/mod.rs`).

use serde::{Deserialize, Serialize};

use crate::verify::check_name::CheckName;

/// One named check and its outcome.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// A stable, machine-readable name, e.g. `daily_matches_records`.
    pub name: CheckName,
    /// Whether it passed.
    pub ok: bool,
    /// What was compared, or what differs.
    pub detail: String,
}

/// The outcome of every check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerificationReport {
    /// True when every check passed.
    pub ok: bool,
    /// The checks in order.
    pub checks: Vec<Check>,
}

impl VerificationReport {
    /// Builds a report from checks; `ok` is their conjunction.
    pub fn from_checks(checks: Vec<Check>) -> Self {
        Self {
            ok: checks.iter().all(|c| c.ok),
            checks,
        }
    }

    /// The process exit code this verdict calls for: 0 when every check passed, 1 on a
    /// mismatch.
    pub fn exit_code(&self) -> i32 {
        if self.ok {
            crate::error::EXIT_OK
        } else {
            crate::error::EXIT_MISMATCH
        }
    }

    /// The names of the failed checks.
    pub fn failed(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|c| !c.ok)
            .map(|c| c.name.as_str())
            .collect()
    }
}

/// A check named `name`.
pub(crate) fn check(name: CheckName, ok: bool, detail: impl Into<String>) -> Check {
    Check {
        name,
        ok,
        detail: detail.into(),
    }
}
