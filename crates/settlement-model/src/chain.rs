//! Bitcoin chain reference data the recalc stage rests on: difficulty adjustments (with the
//! block height each took effect at, when the source says) and halvings.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Blocks between two halvings of the block subsidy.
pub const HALVING_INTERVAL: u64 = 210_000;

/// Blocks between two difficulty adjustments.
pub const ADJUSTMENT_INTERVAL: u64 = 2_016;

/// One difficulty adjustment: the difficulty in force from `date` (a UTC day) on.
///
/// ```
/// use settlement_model::DifficultyEntry;
/// use rust_decimal_macros::dec;
/// let e = DifficultyEntry::new("2024-04-11".parse().unwrap(), dec!(86388558925171))
///     .with_height(838_656);
/// assert_eq!(e.height, Some(838_656));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DifficultyEntry {
    /// The UTC day of the adjustment (or the day an operator set the value from).
    pub date: NaiveDate,
    /// The network difficulty from that day on.
    pub difficulty: Decimal,
    /// The block height of the adjustment, when the source gives one (the mempool.space
    /// feed does; CSV and JSON-map imports and `difficulty set` do not).
    pub height: Option<u64>,
}

impl DifficultyEntry {
    /// An entry without a block height.
    pub fn new(date: NaiveDate, difficulty: Decimal) -> Self {
        Self {
            date,
            difficulty,
            height: None,
        }
    }

    /// The same entry at block `height`.
    #[must_use]
    pub fn with_height(self, height: u64) -> Self {
        Self {
            height: Some(height),
            ..self
        }
    }
}

/// A halving: from the UTC day of block `height` on, the subsidy is halved.
///
/// ```
/// use settlement_model::Halving;
/// let h = Halving::new(840_000, "2024-04-20".parse().unwrap()).unwrap();
/// assert_eq!(h.epoch(), 4);
/// assert!(Halving::new(840_001, "2024-04-20".parse().unwrap()).is_none());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Halving {
    /// The halving block's height: a positive multiple of [`HALVING_INTERVAL`].
    pub height: u64,
    /// The UTC day of that block.
    pub day: NaiveDate,
}

impl Halving {
    /// A halving at `height` on `day`; `None` when `height` is not a positive multiple of
    /// 210,000.
    pub fn new(height: u64, day: NaiveDate) -> Option<Self> {
        (height > 0 && height % HALVING_INTERVAL == 0).then_some(Self { height, day })
    }

    /// The epoch this halving starts (1 for block 210,000).
    pub fn epoch(&self) -> u64 {
        self.height / HALVING_INTERVAL
    }
}

/// Where the difficulty a run used came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DifficultyOrigin {
    /// The store's difficulty table, trusted as it stood.
    Table,
    /// The difficulty feed, synced by the run because the table was stale or empty.
    Feed,
    /// The operator's `--difficulty` for that run.
    Override,
}

impl DifficultyOrigin {
    /// The stored text: `table`, `feed` or `override`.
    pub fn as_str(&self) -> &'static str {
        match self {
            DifficultyOrigin::Table => "table",
            DifficultyOrigin::Feed => "feed",
            DifficultyOrigin::Override => "override",
        }
    }
}

impl std::fmt::Display for DifficultyOrigin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for DifficultyOrigin {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "table" => Ok(DifficultyOrigin::Table),
            "feed" => Ok(DifficultyOrigin::Feed),
            "override" => Ok(DifficultyOrigin::Override),
            other => Err(format!(
                "unknown difficulty origin {other:?} (table, feed, override)"
            )),
        }
    }
}

/// What a day's bitcoin figures rest on: the difficulty in force, where it came from and
/// since when, and the block subsidy. Recorded with every run.
///
/// ```
/// use settlement_model::{BitcoinInputs, DifficultyOrigin};
/// use rust_decimal_macros::dec;
/// let inputs = BitcoinInputs {
///     difficulty: dec!(86388558925171),
///     difficulty_date: Some("2024-04-11".parse().unwrap()),
///     origin: DifficultyOrigin::Table,
///     subsidy: dec!(6.25),
/// };
/// assert_eq!(inputs.origin.as_str(), "table");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct BitcoinInputs {
    /// The network difficulty used.
    pub difficulty: Decimal,
    /// The day of the adjustment it came from (`None` for an override).
    pub difficulty_date: Option<NaiveDate>,
    /// Where it came from.
    #[serde(rename = "difficulty_source")]
    pub origin: DifficultyOrigin,
    /// The block subsidy, BTC.
    #[serde(rename = "block_subsidy")]
    pub subsidy: Decimal,
}
