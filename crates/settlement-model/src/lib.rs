//! Pure domain types of GB settlement data, shared by every stage of `reingest`.
//!
//! This crate does no I/O: it knows nothing of HTTP, XML or SQL. It holds
//!
//! - [`SettlementDate`] and [`SettlementPeriod`]: a Europe/London settlement day and its
//!   half-hour periods (46 on the spring clock change, 50 on the autumn one, else 48), with
//!   the UTC instant each period starts;
//! - [`PeriodRange`]: the `--periods 1-4` argument, validated against a date; [`PeriodList`]
//!   to print period numbers; [`ensure_periods_ended`]: only periods that have ended can be
//!   published;
//! - [`StackItem`] and [`Side`]: one row of the settlement bid or offer stack as published;
//! - [`BmUnit`] and [`BmRegistry`]: the BM Unit reference data, and which units are wind;
//! - [`CurtailmentRecord`] and [`process_items`]: the curtailment rule (constraint bids of wind units);
//! - [`DifficultyEntry`] and [`Halving`]: the Bitcoin chain data the bitcoin figures rest on;
//! - [`DayTotals`] and the summary and bitcoin row types that the `summaries`, `bitcoin-calc`
//!   and `store` crates exchange;
//! - [`redact_url`]: credentials out of any URL or connection string before it is printed,
//!   logged or stored (the API client, the store and the CLI all use it).
//!
//! All money and energy are [`rust_decimal::Decimal`]: exact from the wire to the database.
//!
//! Dependencies: `chrono` for calendar arithmetic, `chrono-tz` for the Europe/London rules
//! (so clock changes come from the IANA database rather than a hand-written rule),
//! `rust_decimal` for exact numbers, `serde` so types cross crate and JSON boundaries, and
//! `thiserror` for [`ModelError`].

mod chain;
mod date;
mod items;
mod number;
mod process;
mod published;
mod redact;
mod summary;

pub use chain::{
    BitcoinInputs, DifficultyEntry, DifficultyOrigin, Halving, ADJUSTMENT_INTERVAL,
    HALVING_INTERVAL,
};
pub use date::{PeriodRange, SettlementDate, SettlementPeriod, YearMonth};
pub use items::{BmRegistry, BmUnit, RegistryOrigin, Side, StackItem};
pub use number::{parse_decimal_exact, DecimalError};
pub use process::{
    process_items, CurtailmentRecord, ProcessError, ProcessOutcome, UnclassifiedItem,
};
pub use published::{ensure_periods_ended, PeriodList};
pub use redact::{redact_url, SECRET_KEYS};
pub use summary::{
    checked_sum, BitcoinRow, BitcoinSummary, DailySummary, DayTotals, MonthlySummary, SumOverflow,
    SummaryPeriod, YearlySummary,
};

pub use rust_decimal::Decimal;

/// Errors of the domain model: input that does not describe a real settlement day or period.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// The text is not a valid `YYYY-MM-DD` calendar date.
    #[error("invalid settlement date {input:?}: {reason} (expected YYYY-MM-DD, e.g. 2024-03-21)")]
    InvalidDate {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The period does not exist on that date.
    #[error(
        "settlement period {period} does not exist on {date}: that day has periods 1-{periods}"
    )]
    PeriodOutOfRange {
        /// The date.
        date: SettlementDate,
        /// The period asked for.
        period: u32,
        /// How many periods the date has.
        periods: u8,
    },
    /// The text is not a valid period range.
    #[error("invalid period range {input:?}: {reason} (expected N or A-B, e.g. 1-4 or 7)")]
    InvalidPeriodRange {
        /// The text as given.
        input: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The text is not a valid `YYYY-MM` month.
    #[error("invalid month {input:?} (expected YYYY-MM)")]
    InvalidMonth {
        /// The text as given.
        input: String,
    },
    /// The date is after today in Europe/London: the API has published nothing for it.
    #[error("{date} is after today ({today} in Europe/London): the API publishes a period only after it ends")]
    FutureDate {
        /// The date asked for.
        date: SettlementDate,
        /// Today's date in Europe/London.
        today: chrono::NaiveDate,
    },
    /// Periods of today that have not ended yet: the API cannot have published them.
    #[error(
        "periods {periods} of {date} have not ended yet (it is {now}): the API publishes a \
         period only after it ends; ask for the periods that have ended",
        now = now.format("%H:%M UTC")
    )]
    PeriodsNotEnded {
        /// The date (today in Europe/London).
        date: SettlementDate,
        /// The periods asked for that have not ended.
        periods: PeriodList,
        /// The instant taken as now.
        now: chrono::DateTime<chrono::Utc>,
    },
}
