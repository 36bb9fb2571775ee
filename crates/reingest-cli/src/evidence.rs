//! The evidence of a run: a fingerprint of the rows it wrote, the registry it classified with
//! (content-addressed) and every input its figures came from, so the run can be replayed
//! exactly and documented.

use std::collections::BTreeSet;

use bitcoin_calc::MinerModel;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use settlement_model::{
    BitcoinInputs, BmRegistry, BmUnit, CurtailmentRecord, DayTotals, SettlementDate, SummaryPeriod,
};
use store::DayState;

use crate::verdict::VerificationReport;

/// SHA-256 (hex) over the canonical text of what a run wrote, whole and by part, so a
/// mismatch can name what differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fingerprint {
    /// Over the three parts.
    pub total: String,
    /// Over the day's records.
    pub records: String,
    /// Over the day's bitcoin rows.
    pub bitcoin: String,
    /// Over the day's daily summary and bitcoin daily summaries.
    pub summaries: String,
}

impl Fingerprint {
    /// The fingerprint of a stored day. Values are normalised decimals in a fixed order, so
    /// the same rows give the same fingerprint on either backend.
    ///
    /// ```
    /// let empty = reingest::Fingerprint::of(&store::DayState::default(), "2024-03-21".parse().unwrap());
    /// assert_eq!(empty.total.len(), 64);
    /// ```
    pub fn of(state: &DayState, date: SettlementDate) -> Self {
        let mut records: Vec<String> = state.records.iter().map(record_line).collect();
        records.sort();
        let mut bitcoin: Vec<String> = state
            .bitcoin_rows
            .iter()
            .map(|b| {
                format!(
                    "{}|{}|{}|{}|{}",
                    b.settlement_period,
                    b.farm_id,
                    b.miner_model,
                    b.bitcoin_mined.normalize(),
                    b.difficulty.normalize()
                )
            })
            .collect();
        bitcoin.sort();
        let mut summaries: Vec<String> = state
            .daily
            .iter()
            .map(|d| {
                format!(
                    "daily|{}|{}",
                    d.total_curtailed_energy.normalize(),
                    d.total_payment.normalize()
                )
            })
            .collect();
        summaries.extend(
            state
                .bitcoin_summaries
                .iter()
                .filter(|s| s.period == SummaryPeriod::Day(date))
                .map(|s| format!("bitcoin|{}|{}", s.miner_model, s.bitcoin_mined.normalize())),
        );
        summaries.sort();
        let hash = |lines: &[String]| store::source_hash(lines.join("\n").as_bytes());
        let (records, bitcoin, summaries) = (hash(&records), hash(&bitcoin), hash(&summaries));
        let total = store::source_hash(format!("{records}{bitcoin}{summaries}").as_bytes());
        Self {
            total,
            records,
            bitcoin,
            summaries,
        }
    }

    /// The first 12 hex digits, for listings.
    pub fn short(&self) -> &str {
        self.total.get(..12).unwrap_or(&self.total)
    }

    /// The parts that differ from `other`: `records`, `bitcoin rows`, `summaries`.
    pub fn differences(&self, other: &Fingerprint) -> Vec<&'static str> {
        [
            (self.records != other.records, "records"),
            (self.bitcoin != other.bitcoin, "bitcoin rows"),
            (self.summaries != other.summaries, "summaries"),
        ]
        .into_iter()
        .filter_map(|(differs, name)| differs.then_some(name))
        .collect()
    }
}

fn record_line(r: &CurtailmentRecord) -> String {
    format!(
        "{}|{}|{}|{:?}|{}|{:?}|{}|{}|{}|{}|{}|{:?}|{:?}|{:?}",
        r.settlement_period,
        r.side.as_str(),
        r.farm_id,
        r.sequence_number,
        r.lead_party_name.as_deref().unwrap_or(""),
        r.acceptance_id,
        r.volume.normalize(),
        r.payment.normalize(),
        r.original_price.normalize(),
        r.final_price.normalize(),
        r.so_flag,
        r.cadl_flag,
        r.bid_offer_pair_id,
        r.settlement_date,
    )
}

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
