//! The **recalc** stage of `reingest`: the bitcoin that curtailed wind energy could have
//! mined, per record and miner model, by the platform's formula.
//!
//! It holds
//!
//! - [`MinerModel`] and [`MinerCatalog`]: the default models (`S19J_PRO`, `S9`, `M20S`) plus
//!   models an operator defines as text ([`parse_models`]: `NAME:THS:WATTS,…` or a JSON
//!   array); an unknown name is an [`UnknownModel`] error listing the known ones;
//! - [`subsidy_on`]: the subsidy in force on a date, from halving days held as data and the
//!   block heights of difficulty adjustments; a date it cannot determine is an error, never
//!   an assumed subsidy (the old scripts used the newest subsidy for every date);
//! - [`assess_difficulty`]: whether the difficulty in force on a date can be trusted (a later
//!   adjustment is known, or the newest is at most 21 days old);
//! - [`DifficultySource`]: "the network difficulty in force on date D", with
//!   [`DifficultyTable`] (latest entry on or before D) and [`FixedDifficulty`] (the
//!   `--difficulty` override); a date with no entry is [`DifficultyError::NotFound`], whose
//!   message says how to add one;
//! - importers of difficulty history from text: [`parse_difficulty_csv`],
//!   [`parse_difficulty_json_map`], [`parse_mempool_adjustments`] and
//!   [`parse_difficulty_auto`];
//! - [`bitcoin_for_energy`] and [`bitcoin_rows`]: the calculation itself.
//!
//! ```
//! use bitcoin_calc::{bitcoin_for_energy, parse_difficulty_auto, DifficultySource,
//!                    DifficultyTable, MinerCatalog};
//! use rust_decimal_macros::dec;
//!
//! let table = DifficultyTable::from_entries(
//!     parse_difficulty_auto("date,difficulty\n2024-04-11,86388558925171\n").unwrap(),
//! ).unwrap();
//! let date = "2024-04-19".parse().unwrap();
//! let difficulty = table.difficulty_on(date).unwrap();
//! let s9 = MinerCatalog::defaults().get("S9").unwrap().clone();
//! let btc = bitcoin_for_energy(dec!(1), &s9, difficulty, dec!(6.25)).unwrap();
//! assert_eq!(btc.to_string(), "0.000618785818");
//! ```
//!
//! # Precision and rounding
//!
//! Every number is a [`rust_decimal::Decimal`] (a 96-bit integer mantissa and a power-of-ten
//! scale: 28-29 significant digits, range ±7.9·10²⁸). Inputs are parsed exactly from text
//! (never through `f64`; a JSON number from its text as written, serde_json's `raw_value`). A
//! bitcoin value is computed with a single division done last, then rounded half away from
//! zero to 12 decimal places and carried at exactly 12 places ([`BITCOIN_DECIMAL_PLACES`],
//! [`BITCOIN_ROUNDING`]). The arithmetic is integer arithmetic inside `rust_decimal`, so the
//! result is identical on every platform and whichever database stores it. Overflow is an
//! error ([`CalcError::Overflow`]), never a panic.
//!
//! # Architecture invariant
//!
//! This crate does no I/O: it reads no file, network or clock. It parses text handed to it
//! and answers from data handed to it. It knows nothing of the store, SQL, HTTP or the CLI:
//! fetching a difficulty file or the mempool `sync` URL and persisting the table are the
//! CLI's and the store's jobs; the store's table reaches the calculation through
//! [`DifficultySource`]. It does not sum rows into summaries (that is the `summaries` crate).
//!
//! # Dependencies
//!
//! `settlement-model` for the record and row types; `rust_decimal` for exact decimals;
//! `chrono` for calendar dates and the UTC day of a unix time; `serde`/`serde_json` (each
//! JSON number read as its raw text with `raw_value`, so it keeps its exact digits without
//! `arbitrary_precision`, which would change an embedding service's own JSON) for the JSON
//! forms; `thiserror` for the error types.

mod calc;
mod difficulty;
mod import;
mod miner;
mod subsidy;
mod trust;

pub use calc::{
    bitcoin_for_energy, bitcoin_rows, CalcError, ModelAtDifficulty, BITCOIN_DECIMAL_PLACES,
    BITCOIN_ROUNDING,
};
pub use difficulty::{DifficultyError, DifficultySource, DifficultyTable, FixedDifficulty};
pub use import::{
    detect_difficulty_format, parse_difficulty, parse_difficulty_auto, parse_difficulty_csv,
    parse_difficulty_entries, parse_difficulty_json_map, parse_mempool_adjustments,
    parse_mempool_entries, DifficultyFormat, ImportError,
};
pub use miner::{
    parse_models, MinerCatalog, MinerModel, MinerModelError, UnknownModel, MAX_MODEL_NAME_LEN,
};
pub use subsidy::{
    known_halvings, subsidy_for_epoch, subsidy_on, HeightEvidence, Subsidy, SubsidyError,
    EPOCH_CERTAIN_DAYS, KNOWN_HALVINGS,
};
pub use trust::{assess_difficulty, DifficultyTrust, MAX_DIFFICULTY_AGE_DAYS};

/// The workspace's one exact decimal parser, with its message as a `String` for the
/// importers' error types.
pub(crate) fn parse_exact(text: &str) -> Result<rust_decimal::Decimal, String> {
    settlement_model::parse_decimal_exact(text).map_err(|e| e.to_string())
}
