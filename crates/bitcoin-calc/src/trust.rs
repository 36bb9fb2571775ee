//! When the difficulty in force on a date can be trusted: the "no silent inputs" rule.

use chrono::NaiveDate;
use settlement_model::DifficultyEntry;

/// One adjustment period (2,016 blocks) is about 14 days; allow 21 before the newest known
/// adjustment is too old to stand for a date with no later adjustment known.
pub const MAX_DIFFICULTY_AGE_DAYS: i64 = 21;

/// Whether the difficulty in force on a date is known for certain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case", tag = "trust")]
pub enum DifficultyTrust {
    /// A later adjustment is known, so the entry in force is final for the date.
    Superseded {
        /// The later adjustment's day.
        next: NaiveDate,
    },
    /// No later adjustment is known, but the entry is recent enough that none can have
    /// happened unseen.
    Recent {
        /// Days from the entry to the date's end.
        age_days: i64,
    },
    /// No later adjustment is known and the entry is too old: a newer one has probably
    /// happened.
    Stale {
        /// Days from the entry to the date's end.
        age_days: i64,
    },
}

impl DifficultyTrust {
    /// Whether the entry may be used.
    pub fn is_trusted(&self) -> bool {
        !matches!(self, DifficultyTrust::Stale { .. })
    }
}

/// Judges `in_force` (the newest entry on or before `date`) given `next` (the oldest entry
/// after `date`, if any): trusted when a later adjustment is known or the entry is at most
/// [`MAX_DIFFICULTY_AGE_DAYS`] old at the end of `date`.
///
/// ```
/// use bitcoin_calc::{assess_difficulty, DifficultyTrust};
/// use settlement_model::DifficultyEntry;
/// use rust_decimal_macros::dec;
/// let d = |s: &str| s.parse().unwrap();
/// let jan = DifficultyEntry::new(d("2024-01-01"), dec!(7));
/// assert_eq!(assess_difficulty(d("2024-01-10"), &jan, None), DifficultyTrust::Recent { age_days: 10 });
/// assert!(!assess_difficulty(d("2024-12-07"), &jan, None).is_trusted());
/// let dec_adj = DifficultyEntry::new(d("2024-12-20"), dec!(8));
/// assert!(assess_difficulty(d("2024-12-07"), &jan, Some(&dec_adj)).is_trusted());
/// ```
pub fn assess_difficulty(
    date: NaiveDate,
    in_force: &DifficultyEntry,
    next: Option<&DifficultyEntry>,
) -> DifficultyTrust {
    if let Some(next) = next.filter(|n| n.date > date) {
        return DifficultyTrust::Superseded { next: next.date };
    }
    let age_days = (date - in_force.date).num_days() + 1;
    if age_days <= MAX_DIFFICULTY_AGE_DAYS {
        DifficultyTrust::Recent { age_days }
    } else {
        DifficultyTrust::Stale { age_days }
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
    fn twenty_one_days_is_the_limit() {
        let e = DifficultyEntry::new(d("2024-12-01"), dec!(1));
        assert!(assess_difficulty(d("2024-12-21"), &e, None).is_trusted());
        assert_eq!(
            assess_difficulty(d("2024-12-22"), &e, None),
            DifficultyTrust::Stale { age_days: 22 }
        );
        // An entry on the date itself is a day old at its end.
        assert_eq!(
            assess_difficulty(d("2024-12-01"), &e, None),
            DifficultyTrust::Recent { age_days: 1 }
        );
    }

    #[test]
    fn a_later_adjustment_makes_any_age_final() {
        let old = DifficultyEntry::new(d("2020-01-01"), dec!(1));
        let next = DifficultyEntry::new(d("2024-12-08"), dec!(2));
        assert_eq!(
            assess_difficulty(d("2024-12-07"), &old, Some(&next)),
            DifficultyTrust::Superseded {
                next: d("2024-12-08")
            }
        );
        // A "next" that is not after the date does not count.
        let same_day = DifficultyEntry::new(d("2024-12-07"), dec!(2));
        assert!(!assess_difficulty(d("2024-12-07"), &old, Some(&same_day)).is_trusted());
    }
}
