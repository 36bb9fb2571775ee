//! The block subsidy in force on a date, from halving days held as data and the block heights
//! of difficulty adjustments — never assumed.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use settlement_model::{DifficultyEntry, Halving, HALVING_INTERVAL};

/// The four halvings known when this tool was written: the UTC day of blocks 210,000,
/// 420,000, 630,000 and 840,000. Later ones are data an operator or a sync adds; the store
/// ships these four as the seed of its halving table.
pub const KNOWN_HALVINGS: [(u64, (i32, u32, u32)); 4] = [
    (210_000, (2012, 11, 28)),
    (420_000, (2016, 7, 9)),
    (630_000, (2020, 5, 11)),
    (840_000, (2024, 4, 20)),
];

/// The known halvings as [`Halving`] values.
///
/// ```
/// assert_eq!(bitcoin_calc::known_halvings().len(), 4);
/// ```
pub fn known_halvings() -> Vec<Halving> {
    KNOWN_HALVINGS
        .iter()
        .filter_map(|(h, (y, m, d))| {
            NaiveDate::from_ymd_opt(*y, *m, *d).and_then(|day| Halving::new(*h, day))
        })
        .collect()
}

/// How many days after a halving its epoch's subsidy is certain without block heights.
///
/// An epoch is 210,000 blocks. No epoch so far has been shorter than 1,319 days: the halving
/// days are 2009-01-03 (genesis) → 2012-11-28 (1,425 days) → 2016-07-09 (1,319) →
/// 2020-05-11 (1,402) → 2024-04-20 (1,440), so the fastest epoch averaged 9.0 minutes a
/// block. Ending an epoch within 1,100 days would need 7.5 minutes a block on average for
/// the whole epoch, 17% faster than the fastest so far, and 25% faster than the ten-minute
/// target that the difficulty adjustment restores every 2,016 blocks (about two weeks):
/// the network's hash rate would have to grow by a third in every one of the epoch's 104
/// adjustment periods, about 10¹³-fold over three years, where it has at most doubled in a
/// year since 2016. A date less than 1,100 days after the last known halving therefore has
/// that halving's subsidy; later dates still need heights or the next halving's day.
pub const EPOCH_CERTAIN_DAYS: i64 = 1_100;

/// The UTC day of the genesis block, where epoch 0 begins.
const GENESIS_DAY: (i32, u32, u32) = (2009, 1, 3);

/// An upper bound on blocks mined per day (twice the 144 of the ten-minute target), used to
/// bound how far the chain can have moved since the newest known adjustment.
const MAX_BLOCKS_PER_DAY: u64 = 288;

/// The subsidy of epoch `epoch` (0 from genesis, 1 from block 210,000, …): 50 BTC shifted
/// right once per halving, in whole satoshis as Bitcoin computes it.
///
/// ```
/// use bitcoin_calc::subsidy_for_epoch;
/// assert_eq!(subsidy_for_epoch(0).to_string(), "50");
/// assert_eq!(subsidy_for_epoch(4).to_string(), "3.125");
/// assert_eq!(subsidy_for_epoch(5).to_string(), "1.5625");
/// assert!(subsidy_for_epoch(64).is_zero());
/// ```
pub fn subsidy_for_epoch(epoch: u64) -> Decimal {
    const GENESIS_SATOSHI: u64 = 5_000_000_000;
    let satoshi = u32::try_from(epoch)
        .ok()
        .and_then(|e| GENESIS_SATOSHI.checked_shr(e))
        .unwrap_or(0);
    Decimal::new(i64::try_from(satoshi).unwrap_or(0), 8).normalize()
}

/// The subsidy in force on a date and the epoch it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Subsidy {
    /// The epoch (halvings before the date).
    pub epoch: u64,
    /// BTC per block.
    pub btc: Decimal,
}

/// Why the subsidy of a date cannot be determined.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubsidyError {
    /// The chain had passed a halving height on or before the date, but the halving's day is
    /// not known.
    #[error(
        "{date} is past the halving at block {height} (an adjustment on {seen_on} is at block \
         {seen_height}), whose day is not known"
    )]
    UnknownHalvingDay {
        /// The date asked for.
        date: NaiveDate,
        /// The halving's height.
        height: u64,
        /// The adjustment that shows it.
        seen_on: NaiveDate,
        /// That adjustment's height.
        seen_height: u64,
    },
    /// Nothing known shows whether the date is before the next halving.
    #[error(
        "the block subsidy on {date} cannot be determined: the day of the halving at block \
         {height} is not known and no difficulty adjustment with a block height shows {date} \
         is before it"
    )]
    Undetermined {
        /// The date asked for.
        date: NaiveDate,
        /// The next halving's height.
        height: u64,
    },
}

/// What the chain's heights say around a date: the newest adjustment with a height on or
/// before it, and the oldest with a height after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeightEvidence {
    /// The newest adjustment with a known height dated on or before the date.
    pub on_or_before: Option<DifficultyEntry>,
    /// The oldest adjustment with a known height dated after the date.
    pub after: Option<DifficultyEntry>,
}

/// The subsidy in force on `date` from the known `halvings` and the heights in `evidence`.
///
/// The epoch is the number of halvings whose day is on or before the date. A date is known to
/// be *before* the next halving when it is less than [`EPOCH_CERTAIN_DAYS`] after the day its
/// epoch began (no epoch can be that short), or that halving's day is known and later, or an
/// adjustment
/// dated after the date is at or below the halving height, or the newest adjustment on or
/// before it is so far below the height that the chain cannot have reached it by the date's
/// end (at most 288 blocks a day, twice the target rate). An adjustment on or before the date
/// at or past the next halving height is a halving whose day is unknown. Either way the
/// answer is an error, never a guess.
///
/// ```
/// use bitcoin_calc::{known_halvings, subsidy_on, HeightEvidence};
/// let d = |s: &str| s.parse().unwrap();
/// let none = HeightEvidence::default();
/// assert_eq!(subsidy_on(d("2024-04-19"), &known_halvings(), &none).unwrap().btc.to_string(), "6.25");
/// // Within 1,100 days of the last known halving (2024-04-20), its subsidy is certain.
/// assert_eq!(subsidy_on(d("2024-12-07"), &known_halvings(), &none).unwrap().btc.to_string(), "3.125");
/// // Past that bound, heights must show the next halving has not happened yet.
/// assert!(subsidy_on(d("2027-04-25"), &known_halvings(), &none).is_err());
/// ```
pub fn subsidy_on(
    date: NaiveDate,
    halvings: &[Halving],
    evidence: &HeightEvidence,
) -> Result<Subsidy, SubsidyError> {
    let epoch = halvings
        .iter()
        .filter(|h| h.day <= date)
        .map(Halving::epoch)
        .max()
        .unwrap_or(0);
    let next_height = (epoch + 1) * HALVING_INTERVAL;
    let at = |epoch| Subsidy {
        epoch,
        btc: subsidy_for_epoch(epoch),
    };
    if let Some(seen) = evidence.on_or_before {
        if let Some(h) = seen.height.filter(|h| *h >= next_height) {
            return Err(SubsidyError::UnknownHalvingDay {
                date,
                height: next_height,
                seen_on: seen.date,
                seen_height: h,
            });
        }
    }
    let next_known_later = halvings
        .iter()
        .any(|h| h.epoch() == epoch + 1 && h.day > date);
    let later_adjustment_below = evidence
        .after
        .and_then(|a| a.height)
        .is_some_and(|h| h <= next_height);
    let chain_cannot_reach = evidence.on_or_before.is_some_and(|seen| {
        let days = u64::try_from((date - seen.date).num_days() + 1).unwrap_or(u64::MAX);
        seen.height.is_some_and(|h| {
            days.checked_mul(MAX_BLOCKS_PER_DAY)
                .and_then(|n| n.checked_add(h))
                .is_some_and(|reach| reach < next_height)
        })
    });
    let within_bound = epoch_began(epoch, halvings)
        .is_some_and(|began| (date - began).num_days() < EPOCH_CERTAIN_DAYS);
    if within_bound || next_known_later || later_adjustment_below || chain_cannot_reach {
        Ok(at(epoch))
    } else {
        Err(SubsidyError::Undetermined {
            date,
            height: next_height,
        })
    }
}

/// The day epoch `epoch` began: the genesis block's day, or its halving's day when known.
fn epoch_began(epoch: u64, halvings: &[Halving]) -> Option<NaiveDate> {
    if epoch == 0 {
        let (y, m, d) = GENESIS_DAY;
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    halvings.iter().find(|h| h.epoch() == epoch).map(|h| h.day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn adj(date: &str, height: u64) -> DifficultyEntry {
        DifficultyEntry::new(d(date), dec!(1)).with_height(height)
    }

    fn subsidy(date: &str, evidence: HeightEvidence) -> Result<String, SubsidyError> {
        subsidy_on(d(date), &known_halvings(), &evidence).map(|s| s.btc.to_string())
    }

    #[test]
    fn every_known_halving_and_the_day_before() {
        let none = HeightEvidence::default();
        for (date, want) in [
            ("2009-01-03", "50"),
            ("2012-11-27", "50"),
            ("2012-11-28", "25"),
            ("2016-07-08", "25"),
            ("2016-07-09", "12.5"),
            ("2020-05-10", "12.5"),
            ("2020-05-11", "6.25"),
            ("2024-04-19", "6.25"),
        ] {
            assert_eq!(subsidy(date, none).unwrap(), want, "{date}");
        }
    }

    #[test]
    fn after_the_last_known_halving_heights_decide() {
        // No evidence, within the bound: the epoch is certain (2024-04-20 + 1,099 days).
        for date in ["2024-04-20", "2024-07-18", "2024-12-07", "2027-04-24"] {
            assert_eq!(
                subsidy(date, HeightEvidence::default()).unwrap(),
                "3.125",
                "{date}"
            );
        }
        // No evidence past the bound: not determined, never 3.125 assumed.
        assert!(matches!(
            subsidy("2027-04-25", HeightEvidence::default()),
            Err(SubsidyError::Undetermined {
                height: 1_050_000,
                ..
            })
        ));
        // A later adjustment below the next halving height: epoch 4.
        let later = HeightEvidence {
            on_or_before: None,
            after: Some(adj("2027-06-10", 1_040_000)),
        };
        assert_eq!(subsidy("2027-06-01", later).unwrap(), "3.125");
        // A recent adjustment far below it: the chain cannot have reached it.
        let recent = HeightEvidence {
            on_or_before: Some(adj("2027-05-25", 1_040_000)),
            after: None,
        };
        assert_eq!(subsidy("2027-06-01", recent).unwrap(), "3.125");
        // Just below it: it might have happened.
        let close = HeightEvidence {
            on_or_before: Some(adj("2028-04-01", 1_048_000)),
            after: None,
        };
        assert!(matches!(
            subsidy("2028-04-20", close),
            Err(SubsidyError::Undetermined { .. })
        ));
    }

    #[test]
    fn past_a_halving_height_with_no_day_is_an_error() {
        let past = HeightEvidence {
            on_or_before: Some(adj("2028-05-01", 1_050_336)),
            after: None,
        };
        let err = subsidy("2028-06-01", past).unwrap_err();
        assert!(matches!(
            err,
            SubsidyError::UnknownHalvingDay {
                height: 1_050_000,
                ..
            }
        ));
        assert!(err.to_string().ends_with("whose day is not known"), "{err}");
        // Once the day is data, the new epoch applies from it.
        let mut halvings = known_halvings();
        halvings.push(Halving::new(1_050_000, d("2028-04-18")).unwrap());
        let s = subsidy_on(d("2028-06-01"), &halvings, &past).unwrap();
        assert_eq!((s.epoch, s.btc), (5, dec!(1.5625)));
        let before = subsidy_on(d("2028-04-17"), &halvings, &HeightEvidence::default()).unwrap();
        assert_eq!(before.btc, dec!(3.125));
    }
}
