//! The evidence of a run: a fingerprint of the rows it wrote, the registry it classified with
//! (content-addressed) and every input its figures came from, so the run can be replayed
//! exactly and documented.

pub mod archive;

use std::collections::BTreeSet;

use bitcoin_calc::MinerModel;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use settlement_model::{BitcoinInputs, BmRegistry, BmUnit, CurtailmentRecord, DayTotals};

pub use crate::verify::fingerprint::Fingerprint;
use crate::verify::verdict::VerificationReport;

/// A registry as the canonical JSON a run's snapshot stores, and its SHA-256.
pub fn registry_snapshot(registry: &BmRegistry) -> Result<(String, String), serde_json::Error> {
    let mut units: Vec<&BmUnit> = registry.units().collect();
    units.sort_by(|a, b| a.elexon_bm_unit.cmp(&b.elexon_bm_unit));
    let json = serde_json::to_string(&units)?;
    Ok((store::source_hash(json.as_bytes()), json))
}

/// One period of a run: stored totals before and after, and the Elexon calculation run
/// (`createdDateTime`) its responses came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeriodEvidence {
    /// The period.
    pub period: u8,
    /// Totals before the run.
    pub before: DayTotals,
    /// Totals after it.
    pub after: DayTotals,
    /// The newest `createdDateTime` of the period's responses.
    pub created: Option<DateTime<Utc>>,
}

/// Everything a run's figures came from, recorded with it (the store's evidence document).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EvidenceDocument {
    /// The fingerprint of what it wrote.
    pub fingerprint: Fingerprint,
    /// SHA-256 of the registry snapshot it classified with.
    pub registry_hash: String,
    /// Units in that registry.
    pub registry_units: usize,
    /// The miner models it computed.
    pub miners: Vec<MinerModel>,
    /// The difficulty (with day and source) and the subsidy.
    pub inputs: BitcoinInputs,
    /// This tool's version.
    pub tool_version: String,
    /// Every verification check.
    pub verification: VerificationReport,
    /// Per period: before, after, and the calculation run.
    pub per_period: Vec<PeriodEvidence>,
    /// Farms with records after the run but not before, in its periods.
    pub units_appeared: Vec<String>,
    /// Farms with records before the run but not after, in its periods.
    pub units_vanished: Vec<String>,
}

/// Farms in `after` but not `before`, and in `before` but not `after`.
pub(crate) fn unit_changes(
    before: &[CurtailmentRecord],
    after: &[CurtailmentRecord],
) -> (Vec<String>, Vec<String>) {
    let ids = |rs: &[CurtailmentRecord]| -> BTreeSet<String> {
        rs.iter().map(|r| r.farm_id.clone()).collect()
    };
    let (b, a) = (ids(before), ids(after));
    (
        a.difference(&b).cloned().collect(),
        b.difference(&a).cloned().collect(),
    )
}
