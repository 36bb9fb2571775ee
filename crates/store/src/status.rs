//! The statuses the store keeps as text: a run's ([`RunStatus`], `reingest_runs.status`), its
//! kind ([`RunKind`], `reingest_runs.kind`) and a fetch's ([`FetchStatus`],
//! `fetch_log.status`). Each is written, printed and serialised
//! through its one `as_str()`, and read back through `FromStr`: a stored value this version
//! does not know is a [`StoreError::CorruptValue`] naming the table and column.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::StoreError;

/// How a run of the audit log stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum RunStatus {
    /// Started; its swap has not finished (or its process died: see `Interrupted`).
    Running,
    /// Verified and committed.
    Committed,
    /// Committed with `--force` although verification failed.
    Forced,
    /// Verification failed: every change was rolled back.
    RolledBack,
    /// An error stopped it; nothing was changed.
    Failed,
    /// Its process ended before it finished (found and marked by a later run of the date).
    Interrupted,
}

impl RunStatus {
    /// Every status, in the order a run can pass through them.
    pub const ALL: [RunStatus; 6] = [
        RunStatus::Running,
        RunStatus::Committed,
        RunStatus::Forced,
        RunStatus::RolledBack,
        RunStatus::Failed,
        RunStatus::Interrupted,
    ];

    /// The stored and printed text: `running`, `committed`, `forced`, `rolled_back`,
    /// `failed`, `interrupted`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunStatus::Running => "running",
            RunStatus::Committed => "committed",
            RunStatus::Forced => "forced",
            RunStatus::RolledBack => "rolled_back",
            RunStatus::Failed => "failed",
            RunStatus::Interrupted => "interrupted",
        }
    }

    /// Whether the run's rows were committed (`committed`, or `forced` past failed checks).
    pub const fn committed(self) -> bool {
        matches!(self, RunStatus::Committed | RunStatus::Forced)
    }
}

/// What a run of the audit log did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum RunKind {
    /// A date (or period range) reingested: fetched, or recomputed from the archive.
    Run,
    /// A run's backup put back (`reingest restore`).
    Restore,
}

impl RunKind {
    /// Every kind.
    pub const ALL: [RunKind; 2] = [RunKind::Run, RunKind::Restore];

    /// The stored and printed text: `run` or `restore`.
    pub const fn as_str(self) -> &'static str {
        match self {
            RunKind::Run => "run",
            RunKind::Restore => "restore",
        }
    }
}

/// Whether a period/side was fetched or is missing at the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(into = "&'static str", try_from = "String")]
pub enum FetchStatus {
    /// Fetched and processed.
    Fetched,
    /// The API answered 404 and the operator allowed it.
    Missing,
}

impl FetchStatus {
    /// Every status.
    pub const ALL: [FetchStatus; 2] = [FetchStatus::Fetched, FetchStatus::Missing];

    /// The stored and printed text: `fetched` or `missing`.
    pub const fn as_str(self) -> &'static str {
        match self {
            FetchStatus::Fetched => "fetched",
            FetchStatus::Missing => "missing",
        }
    }
}

/// A status text this version does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} {value:?} (expected one of: {expected})")]
pub struct UnknownStatus {
    /// Which status: `run status` or `fetch status`.
    pub what: &'static str,
    /// The text.
    pub value: String,
    /// The texts it could have been, comma-separated.
    pub expected: String,
}

/// `as_str`, `Display`, `FromStr` and the serde conversions of a status enum, all from its
/// one `as_str()` and `ALL`.
macro_rules! status_text {
    ($t:ty, $what:literal) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // `pad`, so table columns (`{:<11}`) line up.
                f.pad(self.as_str())
            }
        }

        impl FromStr for $t {
            type Err = UnknownStatus;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownStatus {
                        what: $what,
                        value: s.to_owned(),
                        expected: <$t>::ALL.map(<$t>::as_str).join(", "),
                    })
            }
        }

        impl From<$t> for &'static str {
            fn from(v: $t) -> Self {
                v.as_str()
            }
        }

        impl TryFrom<String> for $t {
            type Error = UnknownStatus;

            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    };
}

status_text!(RunStatus, "run status");
status_text!(FetchStatus, "fetch status");
status_text!(RunKind, "run kind");

/// Reads a stored status: an unknown text is [`StoreError::CorruptValue`] naming `table` and
/// `column`.
pub(crate) fn read_status<S>(
    table: &'static str,
    column: &'static str,
    stored: &str,
) -> Result<S, StoreError>
where
    S: FromStr<Err = UnknownStatus>,
{
    stored
        .parse()
        .map_err(|e: UnknownStatus| StoreError::CorruptValue {
            table,
            column,
            value: stored.to_owned(),
            reason: e.to_string(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_reads_back_its_own_text() {
        for s in RunStatus::ALL {
            assert_eq!(s.as_str().parse::<RunStatus>(), Ok(s));
            assert_eq!(s.to_string(), s.as_str());
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
            assert_eq!(
                serde_json::from_str::<RunStatus>(&format!("\"{s}\"")).unwrap(),
                s
            );
        }
        for s in FetchStatus::ALL {
            assert_eq!(s.as_str().parse::<FetchStatus>(), Ok(s));
            assert_eq!(
                serde_json::to_string(&s).unwrap(),
                format!("\"{}\"", s.as_str())
            );
        }
        for k in RunKind::ALL {
            assert_eq!(k.as_str().parse::<RunKind>(), Ok(k));
        }
        assert_eq!(RunStatus::RolledBack.as_str(), "rolled_back");
        assert_eq!(format!("[{:<11}]", RunStatus::Forced), "[forced     ]");
    }

    #[test]
    fn an_unknown_stored_status_is_a_corrupt_value_naming_table_and_column() {
        let err = read_status::<RunStatus>("reingest_runs", "status", "commited").unwrap_err();
        match &err {
            StoreError::CorruptValue {
                table,
                column,
                value,
                reason,
            } => {
                assert_eq!(
                    (*table, *column, value.as_str()),
                    ("reingest_runs", "status", "commited")
                );
                assert!(reason.contains("committed, forced"), "{reason}");
            }
            other => panic!("expected a corrupt value, got {other:?}"),
        }
        assert!(err.to_string().contains("reingest_runs.status"), "{err}");
        assert!(serde_json::from_str::<FetchStatus>("\"lost\"").is_err());
    }

    #[test]
    fn only_committed_and_forced_runs_committed() {
        let committed: Vec<RunStatus> = RunStatus::ALL
            .into_iter()
            .filter(|s| s.committed())
            .collect();
        assert_eq!(committed, [RunStatus::Committed, RunStatus::Forced]);
    }
}
