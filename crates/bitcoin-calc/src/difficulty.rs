//! "The network difficulty in force on date D": the lookup trait and its in-memory
//! implementations.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use rust_decimal::Decimal;

/// Where the recalc stage asks for the Bitcoin network difficulty of a date.
///
/// Contract: return the difficulty in force on `date` (for a table of adjustments, the latest
/// entry on or before `date`), a positive decimal; when none is known, return
/// [`DifficultyError::NotFound`] so the operator is told how to add one. Never invent a
/// default. Implementations: [`DifficultyTable`] (entries loaded from the store or an import
/// file), [`FixedDifficulty`] (the `--difficulty` override), and the store's table in the CLI.
pub trait DifficultySource {
    /// The difficulty in force on `date`.
    fn difficulty_on(&self, date: NaiveDate) -> Result<Decimal, DifficultyError>;
}

/// The difficulty could not be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DifficultyError {
    /// No entry on or before the date.
    #[error("no Bitcoin network difficulty known on or before {date}")]
    NotFound {
        /// The date asked for.
        date: NaiveDate,
    },
    /// A difficulty that is zero or negative (a bad import or override).
    #[error("the Bitcoin network difficulty must be positive, got {value}")]
    NotPositive {
        /// The value as given.
        value: String,
    },
    /// Another implementation (for example the store) failed to answer.
    #[error("could not read the Bitcoin network difficulty for {date}: {message}")]
    Source {
        /// The date asked for.
        date: NaiveDate,
        /// What went wrong.
        message: String,
    },
}

/// A table of difficulty entries: each applies from its date until the next entry.
///
/// ```
/// use bitcoin_calc::{DifficultySource, DifficultyTable};
/// use chrono::NaiveDate;
/// use rust_decimal_macros::dec;
/// let d = |s: &str| s.parse::<NaiveDate>().unwrap();
/// let table = DifficultyTable::from_entries([
///     (d("2024-04-11"), dec!(86388558925171)),
///     (d("2024-05-05"), dec!(88104191118793)),
/// ]).unwrap();
/// assert_eq!(table.difficulty_on(d("2024-05-04")).unwrap(), dec!(86388558925171));
/// assert_eq!(table.difficulty_on(d("2024-05-05")).unwrap(), dec!(88104191118793));
/// let err = table.difficulty_on(d("2024-04-10")).unwrap_err().to_string();
/// assert_eq!(err, "no Bitcoin network difficulty known on or before 2024-04-10");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DifficultyTable {
    entries: BTreeMap<NaiveDate, Decimal>,
}

impl DifficultyTable {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// A table of `entries`; a later entry for the same date replaces an earlier one.
    /// Every value must be positive.
    pub fn from_entries(
        entries: impl IntoIterator<Item = (NaiveDate, Decimal)>,
    ) -> Result<Self, DifficultyError> {
        let mut table = Self::new();
        for (date, value) in entries {
            table.insert(date, value)?;
        }
        Ok(table)
    }

    /// Sets the difficulty from `date` on (until the next entry); returns the value it
    /// replaced, if any.
    pub fn insert(
        &mut self,
        date: NaiveDate,
        value: Decimal,
    ) -> Result<Option<Decimal>, DifficultyError> {
        check_positive(value)?;
        Ok(self.entries.insert(date, value))
    }

    /// The entry in force on `date`: its own date and value.
    pub fn entry_on(&self, date: NaiveDate) -> Option<(NaiveDate, Decimal)> {
        self.entries
            .range(..=date)
            .next_back()
            .map(|(d, v)| (*d, *v))
    }

    /// Every entry, by date.
    pub fn entries(&self) -> impl Iterator<Item = (NaiveDate, Decimal)> + '_ {
        self.entries.iter().map(|(d, v)| (*d, *v))
    }

    /// The newest entry.
    pub fn latest(&self) -> Option<(NaiveDate, Decimal)> {
        self.entries.iter().next_back().map(|(d, v)| (*d, *v))
    }

    /// How many entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

impl DifficultySource for DifficultyTable {
    fn difficulty_on(&self, date: NaiveDate) -> Result<Decimal, DifficultyError> {
        self.entry_on(date)
            .map(|(_, v)| v)
            .ok_or(DifficultyError::NotFound { date })
    }
}

/// One difficulty for every date: the `--difficulty VALUE` override of a single run.
///
/// ```
/// use bitcoin_calc::{DifficultySource, FixedDifficulty};
/// use rust_decimal_macros::dec;
/// let fixed = FixedDifficulty(dec!(86388558925171));
/// assert_eq!(fixed.difficulty_on("2019-01-01".parse().unwrap()).unwrap(), dec!(86388558925171));
/// assert!(FixedDifficulty(dec!(0)).difficulty_on("2019-01-01".parse().unwrap()).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FixedDifficulty(pub Decimal);

impl DifficultySource for FixedDifficulty {
    fn difficulty_on(&self, _date: NaiveDate) -> Result<Decimal, DifficultyError> {
        check_positive(self.0)?;
        Ok(self.0)
    }
}

impl<T: DifficultySource + ?Sized> DifficultySource for &T {
    fn difficulty_on(&self, date: NaiveDate) -> Result<Decimal, DifficultyError> {
        (**self).difficulty_on(date)
    }
}

fn check_positive(value: Decimal) -> Result<(), DifficultyError> {
    if value > Decimal::ZERO {
        Ok(())
    } else {
        Err(DifficultyError::NotPositive {
            value: value.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn latest_on_or_before_and_replacement() {
        let mut t = DifficultyTable::new();
        assert!(t.is_empty());
        assert_eq!(t.insert(d("2024-01-06"), dec!(2)).unwrap(), None);
        t.insert(d("2024-01-01"), dec!(1)).unwrap();
        assert_eq!(t.insert(d("2024-01-06"), dec!(3)).unwrap(), Some(dec!(2)));
        assert_eq!(t.len(), 2);
        assert_eq!(t.difficulty_on(d("2024-01-05")).unwrap(), dec!(1));
        assert_eq!(t.difficulty_on(d("2024-01-06")).unwrap(), dec!(3));
        assert_eq!(t.difficulty_on(d("2030-01-01")).unwrap(), dec!(3));
        assert_eq!(
            t.entry_on(d("2024-02-01")),
            Some((d("2024-01-06"), dec!(3)))
        );
        assert_eq!(t.latest(), Some((d("2024-01-06"), dec!(3))));
        assert_eq!(
            t.difficulty_on(d("2023-12-31")),
            Err(DifficultyError::NotFound {
                date: d("2023-12-31")
            })
        );
    }

    #[test]
    fn not_found_message_names_the_date_and_no_command() {
        let err = DifficultyTable::new()
            .difficulty_on(d("2024-04-19"))
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "no Bitcoin network difficulty known on or before 2024-04-19"
        );
    }

    #[test]
    fn non_positive_values_are_refused() {
        let mut t = DifficultyTable::new();
        assert!(matches!(
            t.insert(d("2024-01-01"), dec!(0)),
            Err(DifficultyError::NotPositive { .. })
        ));
        assert!(DifficultyTable::from_entries([(d("2024-01-01"), dec!(-5))]).is_err());
        assert!(FixedDifficulty(dec!(-1))
            .difficulty_on(d("2024-01-01"))
            .is_err());
        // Through a reference and a trait object too.
        let fixed = FixedDifficulty(dec!(7));
        let dyn_source: &dyn DifficultySource = &fixed;
        assert_eq!(dyn_source.difficulty_on(d("2024-01-01")).unwrap(), dec!(7));
    }
}
