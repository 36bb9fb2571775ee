//! The memory store's reads, shaped exactly as [`DieselStore`](crate::DieselStore) hands
//! them out: the stored state of a day ([`day_state`]), what a swap's hooks derive from
//! ([`derive_context`]), and the fetch log's latest entry per period and side.

use std::collections::BTreeMap;

use settlement_model::{
    BitcoinRow, BitcoinSummary, CurtailmentRecord, PeriodRange, SettlementDate, Side, SummaryPeriod,
};

use super::SettlementData;
use crate::{DayState, DeriveContext, FetchLogEntry};

/// The records of `date` (of `periods` when given) in stored order, then sorted by period,
/// side, sequence number and farm as the SQL store sorts them (a stable sort, so ties keep
/// their id order).
pub(crate) fn records_of(
    data: &SettlementData,
    date: SettlementDate,
    periods: Option<PeriodRange>,
) -> Vec<CurtailmentRecord> {
    let mut out: Vec<CurtailmentRecord> = data
        .records
        .iter()
        .filter(|r| r.settlement_date == date)
        .filter(|r| periods.is_none_or(|p| p.contains(r.settlement_period)))
        .cloned()
        .collect();
    crate::contract::sort_records(&mut out);
    out
}

/// The bitcoin rows of `date`, ordered by period, farm and model (ties in id order).
fn bitcoin_rows_of(data: &SettlementData, date: SettlementDate) -> Vec<BitcoinRow> {
    let mut out: Vec<BitcoinRow> = data
        .bitcoin_rows
        .iter()
        .filter(|r| r.settlement_date == date)
        .cloned()
        .collect();
    out.sort_by(|a, b| {
        (a.settlement_period, &a.farm_id, &a.miner_model).cmp(&(
            b.settlement_period,
            &b.farm_id,
            &b.miner_model,
        ))
    });
    out
}

/// Bitcoin summaries whose key `wanted` accepts, ordered by key and model.
fn bitcoin_summaries_where(
    data: &SettlementData,
    wanted: impl Fn(SummaryPeriod) -> bool,
) -> Vec<BitcoinSummary> {
    data.bitcoin_summaries
        .iter()
        .filter(|((period, _), _)| wanted(*period))
        .map(|((period, model), mined)| BitcoinSummary {
            period: *period,
            miner_model: model.clone(),
            bitcoin_mined: *mined,
        })
        .collect()
}

fn in_month(date: SettlementDate) -> impl Fn(SummaryPeriod) -> bool {
    let ym = date.year_month();
    move |p| matches!(p, SummaryPeriod::Day(d) if d.year_month() == ym)
}

fn in_year(date: SettlementDate) -> impl Fn(SummaryPeriod) -> bool {
    let year = date.year();
    move |p| matches!(p, SummaryPeriod::Month(m) if m.year == year)
}

/// The latest entry per period and side of `entries` (in insertion order), ordered by
/// period and side.
pub(crate) fn latest_per_period_and_side<'a>(
    entries: impl Iterator<Item = &'a FetchLogEntry>,
) -> Vec<FetchLogEntry> {
    let mut latest: BTreeMap<(u8, Side), FetchLogEntry> = BTreeMap::new();
    for e in entries {
        latest.insert((e.settlement_period, e.side), e.clone());
    }
    latest.into_values().collect()
}

/// The full stored state of `date`, as [`DaySwap::day_state`](crate::DaySwap::day_state) reads it.
pub(crate) fn day_state(data: &SettlementData, date: SettlementDate) -> DayState {
    let ym = date.year_month();
    let month_dailies: Vec<_> = data
        .dailies
        .values()
        .filter(|d| d.date.year_month() == ym)
        .cloned()
        .collect();
    let year_monthlies: Vec<_> = data
        .monthlies
        .values()
        .filter(|m| m.year_month.year == date.year())
        .cloned()
        .collect();
    let mut bitcoin_summaries = bitcoin_summaries_where(data, |p| p == SummaryPeriod::Day(date));
    bitcoin_summaries.extend(bitcoin_summaries_where(data, |p| {
        p == SummaryPeriod::Month(ym)
    }));
    bitcoin_summaries.extend(bitcoin_summaries_where(data, |p| {
        p == SummaryPeriod::Year(date.year())
    }));
    let count = |present: bool| u64::from(present);
    DayState {
        records: records_of(data, date, None),
        daily: data.dailies.get(&date).cloned(),
        monthly: data.monthlies.get(&ym).cloned(),
        yearly: data.yearlies.get(&date.year()).cloned(),
        month_dailies,
        year_monthlies,
        bitcoin_rows: bitcoin_rows_of(data, date),
        bitcoin_summaries,
        month_bitcoin_dailies: bitcoin_summaries_where(data, in_month(date)),
        year_bitcoin_monthlies: bitcoin_summaries_where(data, in_year(date)),
        fetch_log: latest_per_period_and_side(
            data.fetch_log
                .iter()
                .map(|(_, e)| e)
                .filter(|e| e.settlement_date == date),
        ),
        summary_row_counts: [
            count(data.dailies.contains_key(&date)),
            count(data.monthlies.contains_key(&ym)),
            count(data.yearlies.contains_key(&date.year())),
        ],
    }
}

/// What a swap's hooks derive from, read after the new records are in: `day_records` (the
/// day's records, handed over by the swap) and the month's and year's *other* summaries.
pub(crate) fn derive_context(
    data: &SettlementData,
    date: SettlementDate,
    day_records: Vec<CurtailmentRecord>,
) -> DeriveContext {
    let ym = date.year_month();
    DeriveContext {
        day_records,
        month_other_dailies: data
            .dailies
            .values()
            .filter(|d| d.date.year_month() == ym && d.date != date)
            .cloned()
            .collect(),
        year_other_monthlies: data
            .monthlies
            .values()
            .filter(|m| m.year_month.year == date.year() && m.year_month != ym)
            .cloned()
            .collect(),
        month_other_bitcoin_dailies: bitcoin_summaries_where(data, |p| {
            in_month(date)(p) && p != SummaryPeriod::Day(date)
        }),
        year_other_bitcoin_monthlies: bitcoin_summaries_where(data, |p| {
            in_year(date)(p) && p != SummaryPeriod::Month(ym)
        }),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::FetchStatus;

    fn entry(period: u8, side: Side, items: u64) -> FetchLogEntry {
        FetchLogEntry {
            settlement_date: "2024-03-21".parse().unwrap(),
            settlement_period: period,
            side,
            status: FetchStatus::Fetched,
            items_received: items,
            records_kept: 0,
            fetched_at: Utc::now(),
            source_hash: None,
        }
    }

    /// A date run twice: the fetch log reads back the later run's entry of each period and
    /// side, ordered by period and side, as the SQL store's does.
    #[test]
    fn the_fetch_log_keeps_the_latest_entry_per_period_and_side() {
        let log = [
            entry(2, Side::Bid, 1),
            entry(1, Side::Offer, 2),
            entry(1, Side::Bid, 3),
            entry(2, Side::Bid, 4),
        ];
        let latest: Vec<(u8, Side, u64)> = latest_per_period_and_side(log.iter())
            .into_iter()
            .map(|e| (e.settlement_period, e.side, e.items_received))
            .collect();
        assert_eq!(
            latest,
            [(1, Side::Bid, 3), (1, Side::Offer, 2), (2, Side::Bid, 4)]
        );
    }
}
