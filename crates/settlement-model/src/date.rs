//! Settlement dates, periods and period ranges on the Europe/London clock.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use chrono_tz::Europe::London;
use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The first year we accept: the Balancing Mechanism (NETA) began in 2001.
const FIRST_YEAR: i32 = 2001;
/// The last year we accept; later dates are almost certainly typing mistakes.
const LAST_YEAR: i32 = 2100;

/// A settlement day: one Europe/London calendar date.
///
/// Parsed strictly from `YYYY-MM-DD`; it knows how many half-hour periods it has.
///
/// ```
/// use settlement_model::SettlementDate;
/// let d: SettlementDate = "2024-10-27".parse().unwrap();
/// assert_eq!(d.periods(), 50); // autumn clock change
/// assert!("2024-02-30".parse::<SettlementDate>().is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SettlementDate(NaiveDate);

impl SettlementDate {
    /// Parses `YYYY-MM-DD` strictly: four-digit year, two-digit month and day, a real date.
    pub fn parse(input: &str) -> Result<Self, ModelError> {
        let invalid = |reason: &str| ModelError::InvalidDate {
            input: input.to_owned(),
            reason: reason.to_owned(),
        };
        let bytes = input.as_bytes();
        let shape_ok = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes
                .iter()
                .enumerate()
                .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if input.is_empty() {
            return Err(invalid("empty"));
        }
        if !shape_ok {
            return Err(invalid("not in the form YYYY-MM-DD"));
        }
        let date = NaiveDate::parse_from_str(input, "%Y-%m-%d")
            .map_err(|_| invalid("no such calendar day"))?;
        Self::from_naive(date).map_err(|_| {
            invalid(&format!(
                "year outside the supported range {FIRST_YEAR}-{LAST_YEAR}"
            ))
        })
    }

    /// Wraps a calendar date, checking it lies in the supported years (2001-2100).
    pub fn from_naive(date: NaiveDate) -> Result<Self, ModelError> {
        if (FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
            Ok(Self(date))
        } else {
            Err(ModelError::InvalidDate {
                input: date.to_string(),
                reason: format!("year outside the supported range {FIRST_YEAR}-{LAST_YEAR}"),
            })
        }
    }

    /// The calendar date.
    pub fn naive(self) -> NaiveDate {
        self.0
    }

    /// The year, e.g. 2024.
    pub fn year(self) -> i32 {
        self.0.year()
    }

    /// The month this date belongs to.
    pub fn year_month(self) -> YearMonth {
        YearMonth {
            year: self.0.year(),
            month: self.0.month(),
        }
    }

    /// The next calendar day, if it is still in the supported range.
    pub fn succ(self) -> Option<Self> {
        self.0.succ_opt().and_then(|d| Self::from_naive(d).ok())
    }

    /// Every date from `self` to `last` inclusive (empty when `last` is before `self`).
    pub fn through(self, last: SettlementDate) -> impl Iterator<Item = SettlementDate> {
        let mut next = Some(self);
        std::iter::from_fn(move || {
            let current = next.filter(|d| *d <= last)?;
            next = current.succ();
            Some(current)
        })
    }

    /// The UTC instant of local midnight that starts this settlement day.
    pub fn start_utc(self) -> DateTime<Utc> {
        local_midnight_utc(self.0)
    }

    /// How many settlement periods this day has: 46, 48 or 50.
    pub fn periods(self) -> u8 {
        let next = self.0.succ_opt().unwrap_or(self.0);
        let minutes = (local_midnight_utc(next) - local_midnight_utc(self.0)).num_minutes();
        // A day is 23, 24 or 25 hours; `minutes / 30` is therefore 46, 48 or 50.
        u8::try_from(minutes / 30).unwrap_or(48)
    }

    /// Period `number` of this day, validated (1..=periods()).
    pub fn period(self, number: u32) -> Result<SettlementPeriod, ModelError> {
        let periods = self.periods();
        match u8::try_from(number) {
            Ok(n) if (1..=periods).contains(&n) => Ok(SettlementPeriod {
                date: self,
                number: n,
            }),
            _ => Err(ModelError::PeriodOutOfRange {
                date: self,
                period: number,
                periods,
            }),
        }
    }

    /// Every period of this day, in order.
    pub fn all_periods(self) -> impl Iterator<Item = SettlementPeriod> {
        (1..=self.periods()).map(move |number| SettlementPeriod { date: self, number })
    }
}

fn local_midnight_utc(date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(chrono::NaiveTime::MIN);
    // UK clocks change at 01:00 or 02:00 local time, so midnight is never skipped or
    // repeated; `earliest` is the one answer.
    match London.from_local_datetime(&midnight).earliest() {
        Some(local) => local.with_timezone(&Utc),
        None => Utc.from_utc_datetime(&midnight),
    }
}

impl fmt::Display for SettlementDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl FromStr for SettlementDate {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl TryFrom<String> for SettlementDate {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<SettlementDate> for String {
    fn from(d: SettlementDate) -> String {
        d.to_string()
    }
}

/// One half-hour settlement period of one date; only constructible when it exists.
///
/// ```
/// use settlement_model::SettlementDate;
/// let d: SettlementDate = "2024-03-31".parse().unwrap(); // spring clock change
/// assert_eq!(d.periods(), 46);
/// assert!(d.period(47).is_err());
/// assert_eq!(d.period(3).unwrap().start_utc().to_rfc3339(), "2024-03-31T01:00:00+00:00");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct SettlementPeriod {
    date: SettlementDate,
    number: u8,
}

impl SettlementPeriod {
    /// The settlement date.
    pub fn date(self) -> SettlementDate {
        self.date
    }

    /// The period number, 1-based.
    pub fn number(self) -> u8 {
        self.number
    }

    /// The UTC instant the period starts: local midnight plus 30 minutes per earlier period.
    pub fn start_utc(self) -> DateTime<Utc> {
        self.date.start_utc() + Duration::minutes(30 * (i64::from(self.number) - 1))
    }

    /// The UTC instant the period ends (and the next one starts).
    pub fn end_utc(self) -> DateTime<Utc> {
        self.start_utc() + Duration::minutes(30)
    }
}

impl fmt::Display for SettlementPeriod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} period {}", self.date, self.number)
    }
}

/// An inclusive range of periods of one date, as given to `--periods` (`1-4`, `7`, `47-50`).
///
/// ```
/// use settlement_model::{PeriodRange, SettlementDate};
/// let d: SettlementDate = "2024-10-27".parse().unwrap();
/// let r = PeriodRange::parse("47-50", d).unwrap();
/// assert_eq!(r.numbers().collect::<Vec<_>>(), vec![47, 48, 49, 50]);
/// assert!(PeriodRange::parse("47-50", "2024-10-28".parse().unwrap()).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct PeriodRange {
    first: u8,
    last: u8,
}

impl PeriodRange {
    /// Parses `N` or `A-B` and validates it against `date`.
    pub fn parse(input: &str, date: SettlementDate) -> Result<Self, ModelError> {
        let invalid = |reason: String| ModelError::InvalidPeriodRange {
            input: input.to_owned(),
            reason,
        };
        let number = |s: &str| -> Result<u32, ModelError> {
            let s = s.trim();
            if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!("{s:?} is not a period number")));
            }
            s.parse::<u32>()
                .map_err(|_| invalid(format!("{s:?} is not a period number")))
        };
        let (a, b) = match input.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(input)?;
                (n, n)
            }
        };
        if a > b {
            return Err(invalid(format!(
                "the first period {a} is after the last {b}"
            )));
        }
        let first = date.period(a)?.number();
        let last = date.period(b)?.number();
        Ok(Self { first, last })
    }

    /// Every period of `date`.
    pub fn full(date: SettlementDate) -> Self {
        Self {
            first: 1,
            last: date.periods(),
        }
    }

    /// The first period.
    pub fn first(self) -> u8 {
        self.first
    }

    /// The last period (inclusive).
    pub fn last(self) -> u8 {
        self.last
    }

    /// Whether period `number` is in the range.
    pub fn contains(self, number: u8) -> bool {
        (self.first..=self.last).contains(&number)
    }

    /// Whether the range covers every period of `date`.
    pub fn is_full_day(self, date: SettlementDate) -> bool {
        self.first == 1 && self.last == date.periods()
    }

    /// The period numbers, in order.
    pub fn numbers(self) -> impl Iterator<Item = u8> {
        self.first..=self.last
    }

    /// How many periods the range holds.
    pub fn len(self) -> usize {
        usize::from(self.last - self.first) + 1
    }

    /// Always false: a range holds at least one period.
    pub fn is_empty(self) -> bool {
        false
    }
}

impl fmt::Display for PeriodRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

/// A calendar month, the key of monthly summaries (`YYYY-MM`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct YearMonth {
    /// The year.
    pub year: i32,
    /// The month, 1-12.
    pub month: u32,
}

impl YearMonth {
    /// Parses `YYYY-MM`.
    pub fn parse(input: &str) -> Result<Self, ModelError> {
        let err = || ModelError::InvalidMonth {
            input: input.to_owned(),
        };
        let (y, m) = input.split_once('-').ok_or_else(err)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(err());
        }
        let year: i32 = y.parse().map_err(|_| err())?;
        let month: u32 = m.parse().map_err(|_| err())?;
        if !(1..=12).contains(&month) {
            return Err(err());
        }
        Ok(Self { year, month })
    }

    /// The first day of the month.
    pub fn first_day(self) -> Option<NaiveDate> {
        NaiveDate::from_ymd_opt(self.year, self.month, 1)
    }
}

impl fmt::Display for YearMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl TryFrom<String> for YearMonth {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<YearMonth> for String {
    fn from(m: YearMonth) -> String {
        m.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> SettlementDate {
        s.parse().unwrap()
    }

    /// Last Sunday of a month, computed independently of chrono-tz.
    fn last_sunday(year: i32, month: u32) -> NaiveDate {
        let mut d = NaiveDate::from_ymd_opt(year, month, 31).unwrap();
        while d.weekday() != chrono::Weekday::Sun {
            d = d.pred_opt().unwrap();
        }
        d
    }

    #[test]
    fn every_clock_change_2015_to_2030() {
        for year in 2015..=2030 {
            let spring = SettlementDate::from_naive(last_sunday(year, 3)).unwrap();
            let autumn = SettlementDate::from_naive(last_sunday(year, 10)).unwrap();
            assert_eq!(spring.periods(), 46, "{spring}");
            assert_eq!(autumn.periods(), 50, "{autumn}");
            for d in [spring, autumn] {
                let before = SettlementDate::from_naive(d.naive().pred_opt().unwrap()).unwrap();
                assert_eq!(before.periods(), 48, "{before}");
                assert_eq!(d.succ().unwrap().periods(), 48);
            }
        }
    }

    #[test]
    fn period_counts_over_a_whole_year() {
        let first = date("2024-01-01");
        let counts: Vec<u8> = first
            .through(date("2024-12-31"))
            .map(|d| d.periods())
            .collect();
        assert_eq!(counts.len(), 366);
        assert_eq!(counts.iter().filter(|&&n| n == 46).count(), 1);
        assert_eq!(counts.iter().filter(|&&n| n == 50).count(), 1);
        assert_eq!(counts.iter().filter(|&&n| n == 48).count(), 364);
    }

    #[test]
    fn period_start_instants() {
        let check = |d: &str, p: u32, expected: &str| {
            assert_eq!(
                date(d).period(p).unwrap().start_utc().to_rfc3339(),
                expected
            );
        };
        check("2024-03-21", 35, "2024-03-21T17:00:00+00:00");
        check("2024-03-31", 1, "2024-03-31T00:00:00+00:00");
        check("2024-03-31", 46, "2024-03-31T22:30:00+00:00");
        check("2024-10-27", 1, "2024-10-26T23:00:00+00:00");
        check("2024-10-27", 50, "2024-10-27T23:30:00+00:00");
        check("2024-07-01", 1, "2024-06-30T23:00:00+00:00");
    }

    #[test]
    fn bad_dates_are_quoted() {
        for (input, reason) in [
            ("2024-02-30", "no such calendar day"),
            ("2024-13-01", "no such calendar day"),
            ("21/03/2024", "not in the form"),
            ("", "empty"),
            ("2024-3-1", "not in the form"),
            (" 2024-03-01", "not in the form"),
            ("1999-01-01", "supported range"),
            ("2101-01-01", "supported range"),
        ] {
            let err = SettlementDate::parse(input).unwrap_err().to_string();
            assert!(err.contains(&format!("{input:?}")), "{err}");
            assert!(err.contains(reason), "{input}: {err}");
        }
        assert!(SettlementDate::parse("2024-02-29").is_ok());
        assert!(SettlementDate::parse("2023-02-29").is_err());
    }

    #[test]
    fn periods_validated_against_their_date() {
        assert!(date("2024-03-21").period(48).is_ok());
        let err = date("2024-03-21").period(49).unwrap_err().to_string();
        assert_eq!(
            err,
            "settlement period 49 does not exist on 2024-03-21: that day has periods 1-48"
        );
        assert!(date("2024-03-21").period(0).is_err());
        assert!(date("2024-10-27").period(50).is_ok());
        assert!(date("2024-03-31").period(47).is_err());
        assert!(date("2024-03-31").period(u32::MAX).is_err());
    }

    #[test]
    fn period_ranges() {
        let d = date("2024-03-21");
        let ok = |s: &str| PeriodRange::parse(s, d).map(|r| (r.first(), r.last()));
        assert_eq!(ok("1-4"), Ok((1, 4)));
        assert_eq!(ok("7"), Ok((7, 7)));
        assert_eq!(ok(" 1 - 48 "), Ok((1, 48)));
        for bad in [
            "4-1",
            "0-3",
            "47-50",
            "a-b",
            "",
            "-",
            "1-",
            "1--3",
            "+1-3",
            "99999999999",
        ] {
            assert!(PeriodRange::parse(bad, d).is_err(), "{bad:?}");
        }
        assert!(PeriodRange::full(d).is_full_day(d));
        assert_eq!(
            PeriodRange::parse("47-50", date("2024-10-27"))
                .unwrap()
                .len(),
            4
        );
    }

    #[test]
    fn dates_serialize_as_text() {
        let d = date("2024-10-27");
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, "\"2024-10-27\"");
        let back: SettlementDate = serde_json::from_str(&json).unwrap();
        assert_eq!(back, d);
        assert!(serde_json::from_str::<SettlementDate>("\"2024-10-32\"").is_err());
    }

    #[test]
    fn year_months() {
        assert_eq!(YearMonth::parse("2024-03").unwrap().to_string(), "2024-03");
        assert!(YearMonth::parse("2024-13").is_err());
        assert!(YearMonth::parse("2024-3").is_err());
        assert_eq!(date("2024-10-27").year_month().to_string(), "2024-10");
    }
}
