//! The fingerprint of a stored day: SHA-256 over the canonical text of what a run wrote,
//! whole and by part. A run's evidence records it; verification compares a day against it.

use serde::{Deserialize, Serialize};
use settlement_model::{CurtailmentRecord, SettlementDate, SummaryPeriod};
use store::DayState;

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
