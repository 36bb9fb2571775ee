//! Reading rows back into the model's types: records, summaries, bitcoin rows, fetch log,
//! audit log. Every decimal is read as text and parsed with `Decimal`; nothing is summed in
//! SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Months, NaiveDate, Utc};
use diesel::prelude::*;
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinRow, BitcoinSummary, CurtailmentRecord, DailySummary, MonthlySummary, PeriodRange,
    SettlementDate, Side, SummaryPeriod, YearMonth, YearlySummary,
};

use crate::db::{on_db, settlement_date, Db};
use crate::rows::{BitcoinRowRead, FetchRow, RecordRow};
use crate::sql_types::{ReadDecimal, StoredDecimal};
use crate::status::read_status;
use crate::{DayState, DeriveContext, FetchLogEntry, FetchStatus, StoreError};

/// A summary table and how its key and timestamps are spelled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SummaryTable {
    pub(crate) table: &'static str,
    pub(crate) key: &'static str,
}

pub(crate) const DAILY: SummaryTable = SummaryTable {
    table: "daily_summaries",
    key: "summary_date",
};
pub(crate) const MONTHLY: SummaryTable = SummaryTable {
    table: "monthly_summaries",
    key: "year_month",
};
pub(crate) const YEARLY: SummaryTable = SummaryTable {
    table: "yearly_summaries",
    key: "year",
};
pub(crate) const BTC_DAILY: SummaryTable = SummaryTable {
    table: "bitcoin_daily_summaries",
    key: "summary_date",
};
pub(crate) const BTC_MONTHLY: SummaryTable = SummaryTable {
    table: "bitcoin_monthly_summaries",
    key: "year_month",
};
pub(crate) const BTC_YEARLY: SummaryTable = SummaryTable {
    table: "bitcoin_yearly_summaries",
    key: "year",
};

/// The key text of a summary period: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
pub(crate) fn key_text(period: SummaryPeriod) -> String {
    period.to_string()
}

/// The first and last day of `date`'s month.
pub(crate) fn month_days(date: SettlementDate) -> (NaiveDate, NaiveDate) {
    let d = date.naive();
    let first = d.with_day(1).unwrap_or(d);
    let last = first
        .checked_add_months(Months::new(1))
        .and_then(|n| n.pred_opt())
        .unwrap_or(d);
    (first, last)
}

/// The first and last month of `date`'s year.
pub(crate) fn year_bounds(date: SettlementDate) -> (String, String) {
    let y = date.year();
    (format!("{y:04}-01"), format!("{y:04}-12"))
}

pub(crate) fn period_u8(table: &'static str, value: i64) -> Result<u8, StoreError> {
    u8::try_from(value).map_err(|_| StoreError::CorruptValue {
        table,
        column: "settlement_period",
        value: value.to_string(),
        reason: "not a settlement period number".into(),
    })
}

/// The records of `date` (of `periods` when given), ordered by period, side, sequence
/// number, farm. Legacy rows without a side read as bids; a NULL so_flag as false.
pub(crate) fn read_records(
    db: &mut Db<'_>,
    date: SettlementDate,
    periods: Option<PeriodRange>,
) -> Result<Vec<CurtailmentRecord>, StoreError> {
    use crate::schema::curtailment_records::dsl as cr;
    let (lo, hi) = periods.map_or((0, i32::from(u8::MAX)), |p| {
        (i32::from(p.first()), i32::from(p.last()))
    });
    let rows: Vec<RecordRow> = on_db!(db, c => cr::curtailment_records
        .filter(cr::settlement_date.eq(date.naive()))
        .filter(cr::settlement_period.between(lo, hi))
        .order(cr::id)
        .select(RecordRow::as_select())
        .load(c))?;
    records_from_rows("curtailment_records", rows)
}

/// The records run `run_id` backed up (the rows it replaced).
pub(crate) fn read_backup_records(
    db: &mut Db<'_>,
    run_id: &str,
) -> Result<Vec<CurtailmentRecord>, StoreError> {
    use crate::schema::backup_curtailment_records::dsl as b;
    let rows: Vec<RecordRow> = on_db!(db, c => b::backup_curtailment_records
        .filter(b::run_id.eq(run_id))
        .order(b::backup_id)
        .select((
            b::settlement_date,
            b::settlement_period,
            b::farm_id,
            b::lead_party_name,
            b::volume,
            b::payment,
            b::original_price,
            b::final_price,
            b::so_flag,
            b::cadl_flag,
            b::acceptance_id,
            b::bid_offer_pair_id,
            b::side,
            b::sequence_number,
        ))
        .load(c))?;
    records_from_rows("backup_curtailment_records", rows)
}

/// Parses record rows of `table`, sorted by period, side, sequence number, farm.
pub(crate) fn records_from_rows<D: ReadDecimal>(
    table: &'static str,
    rows: Vec<RecordRow<D>>,
) -> Result<Vec<CurtailmentRecord>, StoreError> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let side = match r.side.as_deref() {
            None => Side::Bid,
            Some(s) => s
                .parse::<Side>()
                .map_err(|reason| StoreError::CorruptValue {
                    table,
                    column: "side",
                    value: s.to_owned(),
                    reason,
                })?,
        };
        out.push(CurtailmentRecord {
            settlement_date: settlement_date(table, "settlement_date", r.settlement_date)?,
            settlement_period: period_u8(table, i64::from(r.settlement_period))?,
            farm_id: r.farm_id,
            lead_party_name: r.lead_party_name,
            volume: r.volume.decimal(table, "volume")?,
            payment: r.payment.decimal(table, "payment")?,
            original_price: r.original_price.decimal(table, "original_price")?,
            final_price: r.final_price.decimal(table, "final_price")?,
            so_flag: r.so_flag.unwrap_or(false),
            cadl_flag: r.cadl_flag,
            acceptance_id: r.acceptance_id,
            bid_offer_pair_id: r.bid_offer_pair_id,
            side,
            sequence_number: r.sequence_number,
        });
    }
    // Sorted in Rust: the backends order NULLs differently.
    crate::contract::sort_records(&mut out);
    Ok(out)
}

/// Summary rows of one table with keys in `lo..=hi`, as `(key, energy, payment)`.
macro_rules! summary_rows {
    ($db:expr, $t:ident, $key:ident, $lo:expr, $hi:expr) => {{
        use crate::schema::$t as t;
        on_db!($db, c => t::table
            .filter(t::$key.between($lo, $hi))
            .order(t::$key)
            .select((t::$key, t::total_curtailed_energy, t::total_payment))
            .load(c))
    }};
}
pub(crate) use summary_rows;

/// Bitcoin summary rows of one table with keys in `lo..=hi` (legacy duplicates included), as
/// `(id, key, model, mined)`, ordered by key, model, id.
macro_rules! btc_summary_rows {
    ($db:expr, $t:ident, $key:ident, $lo:expr, $hi:expr) => {{
        use crate::schema::$t as t;
        on_db!($db, c => t::table
            .filter(t::$key.between($lo, $hi))
            .order((t::$key, t::miner_model, t::id))
            .select((t::id, t::$key, t::miner_model, t::bitcoin_mined))
            .load(c))
    }};
}
pub(crate) use btc_summary_rows;

/// A summary row's owned totals, when both are set (rows with NULL totals hold no
/// curtailment data of ours and are left out).
pub(crate) fn totals(
    table: &'static str,
    energy: Option<StoredDecimal>,
    payment: Option<StoredDecimal>,
) -> Result<Option<(Decimal, Decimal)>, StoreError> {
    match (energy, payment) {
        (Some(e), Some(p)) => Ok(Some((
            e.parse(table, "total_curtailed_energy")?,
            p.parse(table, "total_payment")?,
        ))),
        _ => Ok(None),
    }
}

/// A summary key, energy and payment as read.
pub(crate) type SummaryRow<K> = (K, Option<StoredDecimal>, Option<StoredDecimal>);

pub(crate) fn corrupt_key(
    table: &'static str,
    column: &'static str,
    value: &str,
    reason: String,
) -> StoreError {
    StoreError::CorruptValue {
        table,
        column,
        value: value.to_owned(),
        reason,
    }
}

pub(crate) fn parse_month(table: &'static str, value: &str) -> Result<YearMonth, StoreError> {
    YearMonth::parse(value).map_err(|e| corrupt_key(table, "year_month", value, e.to_string()))
}

pub(crate) fn parse_year(table: &'static str, value: &str) -> Result<i32, StoreError> {
    match value.parse::<i32>() {
        Ok(y) if value.len() == 4 => Ok(y),
        _ => Err(corrupt_key(
            table,
            "year",
            value,
            "not a four-digit year".into(),
        )),
    }
}

/// Daily summaries of `date`'s month.
pub(crate) fn read_month_dailies(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<DailySummary>, StoreError> {
    let (lo, hi) = month_days(date);
    let rows: Vec<SummaryRow<NaiveDate>> =
        summary_rows!(db, daily_summaries, summary_date, lo, hi)?;
    let mut out = Vec::with_capacity(rows.len());
    for (k, e, p) in rows {
        if let Some((e, p)) = totals(DAILY.table, e, p)? {
            out.push(DailySummary {
                date: settlement_date(DAILY.table, DAILY.key, k)?,
                total_curtailed_energy: e,
                total_payment: p,
            });
        }
    }
    Ok(out)
}

/// Monthly summaries of `date`'s year.
pub(crate) fn read_year_monthlies(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<MonthlySummary>, StoreError> {
    let (lo, hi) = year_bounds(date);
    let rows: Vec<SummaryRow<String>> = summary_rows!(db, monthly_summaries, year_month, &lo, &hi)?;
    let mut out = Vec::with_capacity(rows.len());
    for (k, e, p) in rows {
        if let Some((e, p)) = totals(MONTHLY.table, e, p)? {
            out.push(MonthlySummary {
                year_month: parse_month(MONTHLY.table, &k)?,
                total_curtailed_energy: e,
                total_payment: p,
            });
        }
    }
    Ok(out)
}

/// The yearly summary of `date`'s year.
pub(crate) fn read_yearly(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Option<YearlySummary>, StoreError> {
    let key = format!("{:04}", date.year());
    let rows: Vec<SummaryRow<String>> = summary_rows!(db, yearly_summaries, year, &key, &key)?;
    for (k, e, p) in rows {
        if let Some((e, p)) = totals(YEARLY.table, e, p)? {
            return Ok(Some(YearlySummary {
                year: parse_year(YEARLY.table, &k)?,
                total_curtailed_energy: e,
                total_payment: p,
            }));
        }
    }
    Ok(None)
}

/// Bitcoin summary rows as read: `(id, key, model, mined)`.
pub(crate) type BtcSummaryRow<K> = (i32, K, String, StoredDecimal);

/// Parses bitcoin summary rows of `table`, with the period of each key.
pub(crate) fn btc_summaries<K>(
    table: &'static str,
    rows: Vec<BtcSummaryRow<K>>,
    period: impl Fn(K) -> Result<SummaryPeriod, StoreError>,
) -> Result<Vec<(i64, BitcoinSummary)>, StoreError> {
    rows.into_iter()
        .map(|(id, k, model, mined)| {
            Ok((
                i64::from(id),
                BitcoinSummary {
                    period: period(k)?,
                    miner_model: model,
                    bitcoin_mined: mined.parse(table, "bitcoin_mined")?,
                },
            ))
        })
        .collect()
}

/// Every bitcoin daily summary row of `date`'s month (legacy duplicates included), with its
/// row id, ordered by day, model, id.
pub(crate) fn read_btc_dailies(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<(i64, BitcoinSummary)>, StoreError> {
    let (lo, hi) = month_days(date);
    let rows: Vec<BtcSummaryRow<NaiveDate>> =
        btc_summary_rows!(db, bitcoin_daily_summaries, summary_date, lo, hi)?;
    let t = BTC_DAILY;
    btc_summaries(t.table, rows, |k| {
        Ok(SummaryPeriod::Day(settlement_date(t.table, t.key, k)?))
    })
}

/// Every bitcoin monthly summary row of `date`'s year, with its row id.
pub(crate) fn read_btc_monthlies(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<(i64, BitcoinSummary)>, StoreError> {
    let (lo, hi) = year_bounds(date);
    let rows: Vec<BtcSummaryRow<String>> =
        btc_summary_rows!(db, bitcoin_monthly_summaries, year_month, &lo, &hi)?;
    let t = BTC_MONTHLY.table;
    btc_summaries(t, rows, |k| Ok(SummaryPeriod::Month(parse_month(t, &k)?)))
}

/// Every bitcoin yearly summary row of `date`'s year, with its row id.
pub(crate) fn read_btc_yearlies(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<(i64, BitcoinSummary)>, StoreError> {
    let key = format!("{:04}", date.year());
    let rows: Vec<BtcSummaryRow<String>> =
        btc_summary_rows!(db, bitcoin_yearly_summaries, year, &key, &key)?;
    let t = BTC_YEARLY.table;
    btc_summaries(t, rows, |k| Ok(SummaryPeriod::Year(parse_year(t, &k)?)))
}

/// One row per (key, model): the one with the highest id where legacy duplicates exist.
fn dedupe(rows: Vec<(i64, BitcoinSummary)>) -> Vec<BitcoinSummary> {
    let mut latest: BTreeMap<(SummaryPeriod, String), (i64, BitcoinSummary)> = BTreeMap::new();
    for (id, s) in rows {
        let key = (s.period, s.miner_model.clone());
        match latest.get(&key) {
            Some((old, _)) if *old > id => {}
            _ => {
                latest.insert(key, (id, s));
            }
        }
    }
    latest.into_values().map(|(_, s)| s).collect()
}

/// The bitcoin rows of `date`, ordered by period, farm, model.
pub(crate) fn read_bitcoin_rows(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<BitcoinRow>, StoreError> {
    use crate::schema::historical_bitcoin_calculations::dsl as h;
    const T: &str = "historical_bitcoin_calculations";
    let rows: Vec<BitcoinRowRead> = on_db!(db, c => h::historical_bitcoin_calculations
        .filter(h::settlement_date.eq(date.naive()))
        .order((h::settlement_period, h::farm_id, h::miner_model, h::id))
        .select(BitcoinRowRead::as_select())
        .load(c))?;
    rows.into_iter()
        .map(|r| {
            Ok(BitcoinRow {
                settlement_date: settlement_date(T, "settlement_date", r.settlement_date)?,
                settlement_period: period_u8(T, i64::from(r.settlement_period))?,
                farm_id: r.farm_id,
                miner_model: r.miner_model,
                bitcoin_mined: r.bitcoin_mined.parse(T, "bitcoin_mined")?,
                difficulty: r.difficulty.parse(T, "difficulty")?,
            })
        })
        .collect()
}

pub(crate) fn parse_instant(
    table: &'static str,
    column: &'static str,
    text: &str,
) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt_key(table, column, text, e.to_string()))
}

fn non_negative(table: &'static str, column: &'static str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| corrupt_key(table, column, &v.to_string(), "negative".into()))
}

/// The fetch log of `date`: the latest entry per period and side. Only those rows are read
/// (the newest id of each, found through the date's index), not every run's: a date re-run
/// a hundred times still sends back one entry per period and side.
pub(crate) fn read_fetch_log(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<FetchLogEntry>, StoreError> {
    use crate::schema::fetch_log as f;
    use diesel::dsl::max;
    // The same table in the subquery, so it needs its own name there.
    let newer = diesel::alias!(crate::schema::fetch_log as newer);
    let day = date.naive();
    let newest = newer
        .filter(newer.field(f::settlement_date).eq(day))
        .group_by((newer.field(f::settlement_period), newer.field(f::side)))
        .select(max(newer.field(f::id)));
    let rows: Vec<FetchRow> = on_db!(db, c => f::table
        .filter(f::settlement_date.eq(day))
        .filter(f::id.nullable().eq_any(newest))
        .order(f::id)
        .select(FetchRow::as_select())
        .load(c))?;
    latest_fetch_entries(rows)
}

/// The fetch log one run wrote (the sources it used), one entry per period and side.
pub(crate) fn read_run_fetch_log(
    db: &mut Db<'_>,
    run_id: &str,
) -> Result<Vec<FetchLogEntry>, StoreError> {
    use crate::schema::fetch_log as f;
    let rows: Vec<FetchRow> = on_db!(db, c => f::table
        .filter(f::run_id.eq(run_id))
        .order(f::id)
        .select(FetchRow::as_select())
        .load(c))?;
    latest_fetch_entries(rows)
}

pub(crate) fn latest_fetch_entries(rows: Vec<FetchRow>) -> Result<Vec<FetchLogEntry>, StoreError> {
    const T: &str = "fetch_log";
    let mut latest: BTreeMap<(u8, Side), FetchLogEntry> = BTreeMap::new();
    for r in rows {
        let side: Side = r
            .side
            .parse()
            .map_err(|reason| corrupt_key(T, "side", &r.side, reason))?;
        let status: FetchStatus = read_status(T, "status", &r.status)?;
        let period = period_u8(T, i64::from(r.settlement_period))?;
        latest.insert(
            (period, side),
            FetchLogEntry {
                settlement_date: settlement_date(T, "settlement_date", r.settlement_date)?,
                settlement_period: period,
                side,
                status,
                items_received: non_negative(T, "items_received", r.items_received)?,
                records_kept: non_negative(T, "records_kept", r.records_kept)?,
                fetched_at: parse_instant(T, "fetched_at", &r.fetched_at.0)?,
                source_hash: r.source_hash,
            },
        );
    }
    Ok(latest.into_values().collect())
}

/// The full stored state of `date`.
pub(crate) fn read_day_state(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<DayState, StoreError> {
    let records = read_records(db, date, None)?;
    let month_dailies = read_month_dailies(db, date)?;
    let year_monthlies = read_year_monthlies(db, date)?;
    let ym = date.year_month();
    let daily = month_dailies.iter().find(|d| d.date == date).cloned();
    let monthly = year_monthlies.iter().find(|m| m.year_month == ym).cloned();
    let yearly = read_yearly(db, date)?;
    let bitcoin_rows = read_bitcoin_rows(db, date)?;
    let month_btc = read_btc_dailies(db, date)?;
    let year_btc = read_btc_monthlies(db, date)?;
    let year_rows = read_btc_yearlies(db, date)?;
    let mut bitcoin_summaries: Vec<BitcoinSummary> = Vec::new();
    bitcoin_summaries.extend(
        month_btc
            .iter()
            .filter(|(_, s)| s.period == SummaryPeriod::Day(date))
            .map(|(_, s)| s.clone()),
    );
    bitcoin_summaries.extend(
        year_btc
            .iter()
            .filter(|(_, s)| s.period == SummaryPeriod::Month(ym))
            .map(|(_, s)| s.clone()),
    );
    bitcoin_summaries.extend(year_rows.into_iter().map(|(_, s)| s));
    Ok(DayState {
        records,
        daily,
        monthly,
        yearly,
        month_dailies,
        year_monthlies,
        bitcoin_rows,
        bitcoin_summaries,
        month_bitcoin_dailies: month_btc.into_iter().map(|(_, s)| s).collect(),
        year_bitcoin_monthlies: year_btc.into_iter().map(|(_, s)| s).collect(),
        fetch_log: read_fetch_log(db, date)?,
        summary_row_counts: count_summary_rows(db, date)?,
    })
}

/// How many rows the daily, monthly and yearly summary tables hold for `date`'s keys, in
/// one statement.
fn count_summary_rows(db: &mut Db<'_>, date: SettlementDate) -> Result<[u64; 3], StoreError> {
    use crate::schema::{daily_summaries as d, monthly_summaries as m, yearly_summaries as y};
    use diesel::dsl::count_star;
    let month = key_text(SummaryPeriod::Month(date.year_month()));
    let year = key_text(SummaryPeriod::Year(date.year()));
    let day = date.naive();
    let counts: (Option<i64>, Option<i64>, Option<i64>) = on_db!(db, c => diesel::select((
        d::table
            .filter(d::summary_date.eq(day))
            .select(count_star())
            .single_value(),
        m::table
            .filter(m::year_month.eq(&month))
            .select(count_star())
            .single_value(),
        y::table
            .filter(y::year.eq(&year))
            .select(count_star())
            .single_value(),
    ))
    .get_result(c))?;
    let n = |v: Option<i64>| v.map_or(0, |v| u64::try_from(v).unwrap_or(0));
    Ok([n(counts.0), n(counts.1), n(counts.2)])
}

/// What the caller needs to derive summaries from `day_records` (the day's records after
/// the swap's insert), read inside the swap's transaction. Where legacy duplicate bitcoin
/// summary rows exist for one key and model, the one with the highest id stands for them.
pub(crate) fn read_derive_context(
    db: &mut Db<'_>,
    date: SettlementDate,
    day_records: Vec<CurtailmentRecord>,
) -> Result<DeriveContext, StoreError> {
    let ym = date.year_month();
    Ok(DeriveContext {
        day_records,
        month_other_dailies: read_month_dailies(db, date)?
            .into_iter()
            .filter(|d| d.date != date)
            .collect(),
        year_other_monthlies: read_year_monthlies(db, date)?
            .into_iter()
            .filter(|m| m.year_month != ym)
            .collect(),
        month_other_bitcoin_dailies: dedupe(read_btc_dailies(db, date)?)
            .into_iter()
            .filter(|s| s.period != SummaryPeriod::Day(date))
            .collect(),
        year_other_bitcoin_monthlies: dedupe(read_btc_monthlies(db, date)?)
            .into_iter()
            .filter(|s| s.period != SummaryPeriod::Month(ym))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_and_year_bounds() {
        let d: SettlementDate = "2024-02-10".parse().unwrap();
        let day = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
        assert_eq!(month_days(d), (day("2024-02-01"), day("2024-02-29")));
        let d: SettlementDate = "2024-12-31".parse().unwrap();
        assert_eq!(month_days(d), (day("2024-12-01"), day("2024-12-31")));
        assert_eq!(year_bounds(d), ("2024-01".into(), "2024-12".into()));
    }
}
