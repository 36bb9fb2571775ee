//! What names a run for the commands that take "a run id or a date": a run id, or a date
//! standing for its newest committed run.

use std::convert::Infallible;
use std::fmt;
use std::str::FromStr;

use settlement_model::SettlementDate;

/// A run named by its id, or by a date (meaning the date's newest committed run).
///
/// Parsing takes a strict `YYYY-MM-DD` date as a date and anything else as a run id:
///
/// ```
/// use reingest::{RunRef, SettlementDate};
/// let date: SettlementDate = "2024-03-21".parse().unwrap();
/// assert_eq!("2024-03-21".parse::<RunRef>().unwrap(), RunRef::Date(date));
/// assert_eq!("5f0c9a".parse::<RunRef>().unwrap(), RunRef::Run("5f0c9a".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunRef {
    /// The run with this id.
    Run(String),
    /// The newest committed run of this date.
    Date(SettlementDate),
}

impl FromStr for RunRef {
    type Err = Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match SettlementDate::parse(s) {
            Ok(date) => RunRef::Date(date),
            Err(_) => RunRef::Run(s.to_owned()),
        })
    }
}

impl fmt::Display for RunRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunRef::Run(id) => f.write_str(id),
            RunRef::Date(date) => write!(f, "{date}"),
        }
    }
}
