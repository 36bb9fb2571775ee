//! What the API can have published by a given instant: only periods that have ended, so
//! nothing of a date after today (Europe/London), and of today only the periods already
//! over. A pure rule: the caller passes the instant it takes as now.

use std::fmt;

use chrono::{DateTime, Utc};
use chrono_tz::Europe::London;

use crate::{ModelError, PeriodRange, SettlementDate};

/// Period numbers printed compactly, runs joined: `1-4, 7, 9-48`.
///
/// ```
/// use settlement_model::PeriodList;
/// assert_eq!(PeriodList::new(vec![9, 1, 2, 3, 4, 7, 10]).to_string(), "1-4, 7, 9-10");
/// assert_eq!(PeriodList::new(vec![]).to_string(), "none");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize)]
#[serde(transparent)]
pub struct PeriodList(Vec<u8>);

impl PeriodList {
    /// The periods, sorted, each once.
    pub fn new(mut periods: Vec<u8>) -> Self {
        periods.sort_unstable();
        periods.dedup();
        Self(periods)
    }

    /// The period numbers, ascending.
    pub fn numbers(&self) -> &[u8] {
        &self.0
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Display for PeriodList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let mut first = true;
        let mut i = 0;
        while i < self.0.len() {
            let start = self.0[i];
            let mut end = start;
            while i + 1 < self.0.len() && self.0[i + 1] == end.saturating_add(1) {
                i += 1;
                end = self.0[i];
            }
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            if start == end {
                write!(f, "{start}")?;
            } else {
                write!(f, "{start}-{end}")?;
            }
            i += 1;
        }
        Ok(())
    }
}

/// Checks that every period of `range` on `date` has ended by `now`, so the API can have
/// published it: a date after today in Europe/London is [`ModelError::FutureDate`], and
/// periods of today that have not ended are [`ModelError::PeriodsNotEnded`], named.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use settlement_model::{ensure_periods_ended, ModelError, PeriodRange, SettlementDate};
/// let date: SettlementDate = "2024-03-21".parse().unwrap();
/// let now = Utc.with_ymd_and_hms(2024, 3, 21, 2, 0, 0).unwrap(); // 02:00 GMT: periods 1-4 over
/// assert!(ensure_periods_ended(date, PeriodRange::parse("1-4", date).unwrap(), now).is_ok());
/// let err = ensure_periods_ended(date, PeriodRange::full(date), now).unwrap_err();
/// assert!(err.to_string().contains("periods 5-48"), "{err}");
/// let tomorrow: SettlementDate = "2024-03-22".parse().unwrap();
/// assert!(matches!(
///     ensure_periods_ended(tomorrow, PeriodRange::full(tomorrow), now),
///     Err(ModelError::FutureDate { .. })
/// ));
/// ```
pub fn ensure_periods_ended(
    date: SettlementDate,
    range: PeriodRange,
    now: DateTime<Utc>,
) -> Result<(), ModelError> {
    let today = now.with_timezone(&London).date_naive();
    if date.naive() > today {
        return Err(ModelError::FutureDate { date, today });
    }
    let not_ended: Vec<u8> = date
        .all_periods()
        .filter(|p| range.contains(p.number()) && p.end_utc() > now)
        .map(|p| p.number())
        .collect();
    if not_ended.is_empty() {
        Ok(())
    } else {
        Err(ModelError::PeriodsNotEnded {
            date,
            periods: PeriodList::new(not_ended),
            now,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn check(date: &str, periods: Option<&str>, now: (u32, u32, u32, u32), expected: &str) {
        let date: SettlementDate = date.parse().unwrap();
        let range = periods.map_or_else(
            || PeriodRange::full(date),
            |p| PeriodRange::parse(p, date).unwrap(),
        );
        let (month, day, hour, minute) = now;
        let now = Utc
            .with_ymd_and_hms(2024, month, day, hour, minute, 0)
            .unwrap();
        let got = match ensure_periods_ended(date, range, now) {
            Ok(()) => "ok".to_owned(),
            Err(e) => e.to_string(),
        };
        assert!(got.contains(expected), "{date} {range} at {now}: {got}");
    }

    #[test]
    fn only_ended_periods_may_be_asked_for() {
        // A past day, whole.
        check("2024-03-20", None, (3, 21, 0, 0), "ok");
        // Today (GMT): at 00:30 UTC period 1 has just ended.
        check("2024-03-21", Some("1"), (3, 21, 0, 30), "ok");
        check(
            "2024-03-21",
            Some("1-2"),
            (3, 21, 0, 30),
            "periods 2 of 2024-03-21",
        );
        // Summer time: London midnight is 23:00 UTC the day before.
        check("2024-07-18", Some("1-2"), (7, 18, 0, 0), "ok");
        check(
            "2024-07-18",
            None,
            (7, 18, 0, 0),
            "periods 3-48 of 2024-07-18",
        );
        // A date after today in London; late on 2024-07-17 UTC it is already the 18th in
        // London, so the 18th is today, not the future.
        check(
            "2024-07-19",
            None,
            (7, 18, 12, 0),
            "2024-07-19 is after today",
        );
        check("2024-07-18", Some("1"), (7, 17, 23, 30), "ok");
    }

    #[test]
    fn period_lists_join_runs() {
        let list = |v: Vec<u8>| PeriodList::new(v).to_string();
        assert_eq!(list(vec![5]), "5");
        assert_eq!(list(vec![5, 5, 6]), "5-6");
        assert_eq!(list((1..=48).collect()), "1-48");
        assert_eq!(list(vec![1, 3, 5, 6, 7, 50]), "1, 3, 5-7, 50");
    }
}
