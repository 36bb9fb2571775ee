//! The settings every operation of a pipeline shares ([`PipelineConfig`]: miner models, a
//! difficulty override, who runs it, the clock) and what a run is asked to do
//! ([`RunOptions`]).

use bitcoin_calc::MinerModel;
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use settlement_model::{PeriodRange, SettlementDate};

use crate::ops::registry_note::{describe_registry_note, RegistryNote};
use crate::verify::Expectations;

/// Who is running the tool, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operator {
    /// OS user name.
    pub user: String,
    /// Host name.
    pub host: String,
}

impl Operator {
    /// The current user and host, as far as the OS tells.
    pub fn current() -> Self {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".to_owned());
        let host = hostname::get()
            .ok()
            .and_then(|h| h.into_string().ok())
            .unwrap_or_else(|| "unknown".to_owned());
        Self { user, host }
    }
}

/// Settings shared by every operation of a [`Pipeline`](crate::Pipeline).
#[derive(Debug, Clone)]
pub struct PipelineConfig {
    /// Miner models to compute bitcoin for (default: the three the platform uses).
    pub miners: Vec<MinerModel>,
    /// Use this difficulty instead of the store's table (`--difficulty`).
    pub difficulty_override: Option<Decimal>,
    /// Who runs it.
    pub operator: Operator,
    /// This tool's version, for the audit log.
    pub tool_version: String,
    /// What the pipeline takes as now when it refuses dates and periods the API cannot have
    /// published yet (a date after today in Europe/London, a period of today that has not
    /// ended).
    pub clock: Clock,
    /// How an error is worded where a report keeps it as text (a date of a range that
    /// failed, a date that could not be checked, a registry refresh that failed). Default
    /// [`crate::error::describe`]: the error and its causes; the `reingest` binary adds the
    /// commands that fix it (its remedies).
    pub describe_error: fn(&crate::PipelineError) -> String,
    /// How a run's report words what it did with the BM unit registry
    /// ([`RunReport::registry`](crate::RunReport::registry)). Default
    /// [`describe_registry_note`]: naming the library's calls; the `reingest` binary names
    /// its commands.
    pub describe_registry_note: fn(&RegistryNote) -> String,
}

impl Default for PipelineConfig {
    fn default() -> Self {
        Self {
            miners: bitcoin_calc::MinerCatalog::defaults().models().to_vec(),
            difficulty_override: None,
            operator: Operator::current(),
            tool_version: env!("CARGO_PKG_VERSION").to_owned(),
            clock: Clock::System,
            describe_error: describe_pipeline_error,
            describe_registry_note,
        }
    }
}

/// The instant a pipeline takes as now.
///
/// ```
/// use chrono::{TimeZone, Utc};
/// use reingest::Clock;
/// let fixed = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
/// assert_eq!(Clock::Fixed(fixed).now(), fixed);
/// assert!(Clock::System.now() > fixed - chrono::Duration::days(36500));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The system clock (the default).
    #[default]
    System,
    /// A fixed instant: for tests, and for replaying a simulated future.
    Fixed(DateTime<Utc>),
}

impl Clock {
    /// The instant taken as now.
    pub fn now(self) -> DateTime<Utc> {
        match self {
            Clock::System => Utc::now(),
            Clock::Fixed(at) => at,
        }
    }
}

/// What `run` is asked to do.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The date.
    pub date: SettlementDate,
    /// Only these periods (`--periods`); `None` is the whole day.
    pub periods: Option<PeriodRange>,
    /// Fetch and process, report what would change, write nothing.
    pub dry_run: bool,
    /// Why (`--reason`), for the audit log.
    pub reason: Option<String>,
    /// `--expect-energy` / `--expect-payment` and tolerances.
    pub expectations: Expectations,
    /// Commit even when verification fails.
    pub force: bool,
    /// Accept periods the API does not publish (404), recording them as missing.
    pub allow_missing_periods: bool,
    /// Never refresh the BM unit registry, even when it meets unknown unit ids
    /// (`--no-registry-refresh`).
    pub no_registry_refresh: bool,
    /// The range this run is part of (`reingest range`, [`crate::ops::range::RangeOptions::tag`]),
    /// recorded in the audit log so `range --resume` can skip the date.
    pub range_tag: Option<String>,
}

impl RunOptions {
    /// A full-day run with no options.
    pub fn new(date: SettlementDate) -> Self {
        Self {
            date,
            periods: None,
            dry_run: false,
            reason: None,
            expectations: Expectations::default(),
            force: false,
            allow_missing_periods: false,
            no_registry_refresh: false,
            range_tag: None,
        }
    }
}

/// [`crate::error::describe`] of a pipeline error (the default of
/// [`PipelineConfig::describe_error`]).
fn describe_pipeline_error(error: &crate::PipelineError) -> String {
    crate::error::describe(error)
}
