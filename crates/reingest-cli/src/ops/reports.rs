//! The typed reports every operation returns; the `--json` documents are these, serialized.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use serde::Serialize;
use settlement_model::{BitcoinInputs, DayTotals, PeriodRange, SettlementDate, UnclassifiedItem};

use crate::ops::registry_note::RegistryNote;
use crate::verify::VerificationReport;

/// The report of `run` (and of a dry run, which writes nothing).
///
/// Decimals serialize as JSON strings, exactly.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The date.
    pub date: SettlementDate,
    /// The periods replaced, `A-B`.
    pub periods: String,
    /// How many periods were asked for.
    pub periods_expected: usize,
    /// How many periods were fetched, both stacks.
    pub periods_fetched: usize,
    /// Periods the API did not publish (404), allowed by `--allow-missing-periods`.
    pub periods_missing: Vec<u8>,
    /// Records of the whole day after the run (the processed ones for a dry run).
    pub records: u64,
    /// Curtailed energy of the whole day, MWh.
    pub energy_mwh: Decimal,
    /// Payment of the whole day, £.
    pub payment_gbp: Decimal,
    /// Bitcoin of the whole day per miner model.
    pub bitcoin: BTreeMap<String, Decimal>,
    /// The difficulty (with its adjustment day and source) and the block subsidy used.
    #[serde(flatten)]
    pub inputs: BitcoinInputs,
    /// Every verification check.
    pub verification: VerificationReport,
    /// The run's id (in the audit log, and for `restore`).
    pub run_id: String,
    /// True for `--dry-run`: nothing was written.
    pub dry_run: bool,
    /// Whether the day swap committed.
    pub committed: bool,
    /// Whether it committed despite failed checks (`--force`).
    pub forced: bool,
    /// Totals of the replaced periods before the run.
    pub before: DayTotals,
    /// Totals of the replaced periods after the run.
    pub after: DayTotals,
    /// Per-period totals before and after.
    pub per_period: Vec<PeriodChange>,
    /// Stack items looked at.
    pub items_seen: usize,
    /// Items whose unit is not in the registry, grouped by id.
    pub unclassified: Vec<UnclassifiedUnit>,
    /// Items with no unit id (system rows).
    pub null_id_items: usize,
    /// What happened to the BM unit registry in this run: when it was empty, what filling it
    /// from the API stored, left out and merged; when unknown unit ids were met, whether it
    /// was refreshed (and the same counts), or why not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub registry: Option<String>,
    /// The same as data, in order: what the run did with the registry, or why it left it
    /// ([`RegistryNote::remedies`] says what would bring it up to date). Not in the JSON,
    /// which has [`RunReport::registry`]'s words.
    #[serde(skip)]
    pub registry_notes: Vec<RegistryNote>,
    /// The fingerprint of what a committed run wrote (SHA-256 over its canonical rows).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    /// For a replay from the archive: the reference data that differed from the original
    /// run's (empty when it used the same, as `--as-recorded` always does).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reference_changes: Vec<String>,
    /// Wall time, ms.
    pub duration_ms: u64,
}

/// One period's totals before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeriodChange {
    /// The period.
    pub period: u8,
    /// Stored before.
    pub before: DayTotals,
    /// Processed (and, after a run, stored) now.
    pub after: DayTotals,
    /// Whether they differ.
    pub changed: bool,
    /// For drift (`verify --against-api`): `source` when Elexon's response differs from
    /// the one the last run used (a republication), `database` when the response is the
    /// same but the stored rows are not (changed since the run), `unknown` without a
    /// logged source hash.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<DriftCause>,
}

/// Why a period's stored rows differ from a fresh fetch of the API (serialised through
/// [`DriftCause::as_str`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(into = "&'static str")]
pub enum DriftCause {
    /// Elexon's response differs from the one the last run used: a republication.
    Source,
    /// The response is the one the last run used, but the stored rows are not what it
    /// wrote: they changed in the database since.
    Database,
    /// No source hash was logged for the period (rows from before the archive).
    Unknown,
}

impl DriftCause {
    /// `source`, `database` or `unknown`, as in the `--json` document.
    pub fn as_str(&self) -> &'static str {
        match self {
            DriftCause::Source => "source",
            DriftCause::Database => "database",
            DriftCause::Unknown => "unknown",
        }
    }

    /// What it means, for the check's detail.
    pub fn meaning(&self) -> &'static str {
        match self {
            DriftCause::Source => "Elexon republished",
            DriftCause::Database => "rows changed in the database since the last run",
            DriftCause::Unknown => "no source hash logged",
        }
    }
}

impl From<DriftCause> for &'static str {
    fn from(c: DriftCause) -> Self {
        c.as_str()
    }
}

/// Items of one unit id missing from the registry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnclassifiedUnit {
    /// The unknown id.
    pub id: String,
    /// How many items.
    pub items: usize,
    /// Σ volume of those items, MWh.
    pub volume_mwh: Decimal,
}

/// Groups unclassified items by id, sorted by id.
pub fn group_unclassified(items: &[UnclassifiedItem]) -> Vec<UnclassifiedUnit> {
    let mut by_id: BTreeMap<&str, (usize, Decimal)> = BTreeMap::new();
    for it in items {
        let e = by_id.entry(it.id.as_str()).or_default();
        e.0 += 1;
        e.1 += it.volume;
    }
    by_id
        .into_iter()
        .map(|(id, (items, volume_mwh))| UnclassifiedUnit {
            id: id.to_owned(),
            items,
            volume_mwh,
        })
        .collect()
}

/// The report of `verify`.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    /// The date.
    pub date: SettlementDate,
    /// Periods the day has.
    pub periods_expected: usize,
    /// Periods logged as fetched (both stacks).
    pub periods_fetched: usize,
    /// Stored records.
    pub records: u64,
    /// Stored energy, MWh.
    pub energy_mwh: Decimal,
    /// Stored payment, £.
    pub payment_gbp: Decimal,
    /// Stored bitcoin per model.
    pub bitcoin: BTreeMap<String, Decimal>,
    /// The checks.
    pub verification: VerificationReport,
    /// The latest run of the date, if any.
    pub run_id: Option<String>,
    /// With `--against-api`: per-period stored vs API totals where they differ.
    pub drift: Vec<PeriodChange>,
}

impl RunReport {
    /// A report of a swap of `periods` of `date` by run `run_id` at `inputs`, with no
    /// figures yet; the operation fills in what it did.
    pub fn new(
        date: SettlementDate,
        periods: PeriodRange,
        inputs: BitcoinInputs,
        run_id: String,
    ) -> Self {
        Self {
            date,
            periods: periods.to_string(),
            periods_expected: 0,
            periods_fetched: 0,
            periods_missing: Vec::new(),
            records: 0,
            energy_mwh: Decimal::ZERO,
            payment_gbp: Decimal::ZERO,
            bitcoin: BTreeMap::new(),
            inputs,
            verification: VerificationReport::default(),
            run_id,
            dry_run: false,
            committed: false,
            forced: false,
            before: DayTotals::default(),
            after: DayTotals::default(),
            per_period: Vec::new(),
            items_seen: 0,
            unclassified: Vec::new(),
            null_id_items: 0,
            registry: None,
            registry_notes: Vec::new(),
            fingerprint: None,
            reference_changes: Vec::new(),
            duration_ms: 0,
        }
    }

    /// The process exit code this report calls for: 0 when verified, 1 on a mismatch.
    pub fn exit_code(&self) -> i32 {
        self.verification.exit_code()
    }
}

impl VerifyReport {
    /// The process exit code this report calls for: 0 when verified, 1 on a mismatch.
    pub fn exit_code(&self) -> i32 {
        self.verification.exit_code()
    }
}
