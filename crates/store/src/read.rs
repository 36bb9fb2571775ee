//! Reading rows back into the model's types: records, summaries, bitcoin rows, fetch log,
//! audit log. Every decimal is read as text and parsed with `Decimal`; nothing is summed in
//! SQL.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Nullable, Text};
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinInputs, BitcoinRow, BitcoinSummary, CurtailmentRecord, DailySummary, MonthlySummary,
    PeriodRange, SettlementDate, Side, SummaryPeriod, YearMonth, YearlySummary,
};

use crate::db::{on_db, parse_date, parse_dec, settlement_date, Db, Kind, Val};
use crate::rows::{BitcoinRowRead, RecordRow};
use crate::{AuditRow, DayState, DeriveContext, FetchLogEntry, FetchStatus, StoreError};

/// A summary table and how its key and timestamps are spelled.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SummaryTable {
    pub(crate) table: &'static str,
    pub(crate) key: &'static str,
    pub(crate) key_kind: Kind,
    /// Timestamp columns set to now when the row's owned columns change.
    pub(crate) stamps: &'static [&'static str],
}

pub(crate) const DAILY: SummaryTable = SummaryTable {
    table: "daily_summaries",
    key: "summary_date",
    key_kind: Kind::Date,
    stamps: &["last_updated"],
};
pub(crate) const MONTHLY: SummaryTable = SummaryTable {
    table: "monthly_summaries",
    key: "year_month",
    key_kind: Kind::Plain,
    stamps: &["updated_at", "last_updated"],
};
pub(crate) const YEARLY: SummaryTable = SummaryTable {
    table: "yearly_summaries",
    key: "year",
    key_kind: Kind::Plain,
    stamps: &["updated_at", "last_updated"],
};
pub(crate) const BTC_DAILY: SummaryTable = SummaryTable {
    table: "bitcoin_daily_summaries",
    key: "summary_date",
    key_kind: Kind::Date,
    stamps: &["updated_at"],
};
pub(crate) const BTC_MONTHLY: SummaryTable = SummaryTable {
    table: "bitcoin_monthly_summaries",
    key: "year_month",
    key_kind: Kind::Plain,
    stamps: &["updated_at"],
};
pub(crate) const BTC_YEARLY: SummaryTable = SummaryTable {
    table: "bitcoin_yearly_summaries",
    key: "year",
    key_kind: Kind::Plain,
    stamps: &["updated_at"],
};

/// The key text of a summary period: `YYYY-MM-DD`, `YYYY-MM` or `YYYY`.
pub(crate) fn key_text(period: SummaryPeriod) -> String {
    period.to_string()
}

/// The bitcoin summary table of a period kind, and the kind's name in backups.
pub(crate) fn btc_table(period: SummaryPeriod) -> (SummaryTable, &'static str) {
    match period {
        SummaryPeriod::Day(_) => (BTC_DAILY, "day"),
        SummaryPeriod::Month(_) => (BTC_MONTHLY, "month"),
        SummaryPeriod::Year(_) => (BTC_YEARLY, "year"),
    }
}

/// The first and last day of `date`'s month.
pub(crate) fn month_bounds(date: SettlementDate) -> (String, String) {
    let ym = date.year_month();
    let first = format!("{ym}-01");
    let next = if ym.month == 12 {
        NaiveDate::from_ymd_opt(ym.year + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(ym.year, ym.month + 1, 1)
    };
    let last = next
        .and_then(|d| d.pred_opt())
        .map(|d| d.format("%Y-%m-%d").to_string())
        .unwrap_or_else(|| format!("{ym}-31"));
    (first, last)
}

/// The first and last month of `date`'s year.
pub(crate) fn year_bounds(date: SettlementDate) -> (String, String) {
    let y = date.year();
    (format!("{y:04}-01"), format!("{y:04}-12"))
}

fn period_u8(table: &'static str, value: i64) -> Result<u8, StoreError> {
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
fn records_from_rows(
    table: &'static str,
    rows: Vec<RecordRow>,
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
            volume: r.volume.parse(table, "volume")?,
            payment: r.payment.parse(table, "payment")?,
            original_price: r.original_price.parse(table, "original_price")?,
            final_price: r.final_price.parse(table, "final_price")?,
            so_flag: r.so_flag.unwrap_or(false),
            cadl_flag: r.cadl_flag,
            acceptance_id: r.acceptance_id,
            bid_offer_pair_id: r.bid_offer_pair_id,
            side,
            sequence_number: r.sequence_number,
        });
    }
    // Sorted in Rust: the backends order NULLs differently.
    out.sort_by(|a, b| {
        (a.settlement_period, a.side, a.sequence_number, &a.farm_id).cmp(&(
            b.settlement_period,
            b.side,
            b.sequence_number,
            &b.farm_id,
        ))
    });
    Ok(out)
}

#[derive(QueryableByName)]
struct SummaryRow {
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Nullable<Text>)]
    e: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    p: Option<String>,
}

/// Summary rows with keys in `lo..=hi` whose owned columns are not NULL, as
/// `(key, energy, payment)`. Rows with NULL totals are left out (they hold no curtailment
/// data of ours).
fn read_summaries(
    db: &mut Db<'_>,
    t: SummaryTable,
    lo: &str,
    hi: &str,
) -> Result<Vec<(String, Decimal, Decimal)>, StoreError> {
    let key_out = if t.key_kind == Kind::Date {
        db.date_out(t.key)
    } else {
        t.key.to_owned()
    };
    let sql = format!(
        "SELECT {key_out} AS k, {} AS e, {} AS p FROM {} WHERE {} >= {} AND {} <= {} ORDER BY {}",
        db.num_out("total_curtailed_energy"),
        db.num_out("total_payment"),
        t.table,
        t.key,
        db.param(1, t.key_kind),
        t.key,
        db.param(2, t.key_kind),
        t.key,
    );
    let rows: Vec<SummaryRow> = db.load(&sql, &[Val::text(lo), Val::text(hi)])?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        if let (Some(e), Some(p)) = (r.e, r.p) {
            let table = t.table;
            out.push((
                r.k,
                parse_dec(table, "total_curtailed_energy", &e)?,
                parse_dec(table, "total_payment", &p)?,
            ));
        }
    }
    Ok(out)
}

fn corrupt_key(
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

fn parse_month(table: &'static str, value: &str) -> Result<YearMonth, StoreError> {
    YearMonth::parse(value).map_err(|e| corrupt_key(table, "year_month", value, e.to_string()))
}

fn parse_year(table: &'static str, value: &str) -> Result<i32, StoreError> {
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
    let (lo, hi) = month_bounds(date);
    read_summaries(db, DAILY, &lo, &hi)?
        .into_iter()
        .map(|(k, e, p)| {
            Ok(DailySummary {
                date: parse_date(DAILY.table, DAILY.key, &k)?,
                total_curtailed_energy: e,
                total_payment: p,
            })
        })
        .collect()
}

/// Monthly summaries of `date`'s year.
pub(crate) fn read_year_monthlies(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<MonthlySummary>, StoreError> {
    let (lo, hi) = year_bounds(date);
    read_summaries(db, MONTHLY, &lo, &hi)?
        .into_iter()
        .map(|(k, e, p)| {
            Ok(MonthlySummary {
                year_month: parse_month(MONTHLY.table, &k)?,
                total_curtailed_energy: e,
                total_payment: p,
            })
        })
        .collect()
}

/// The yearly summary of `date`'s year.
pub(crate) fn read_yearly(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Option<YearlySummary>, StoreError> {
    let key = format!("{:04}", date.year());
    let rows = read_summaries(db, YEARLY, &key, &key)?;
    rows.into_iter()
        .next()
        .map(|(k, e, p)| {
            Ok(YearlySummary {
                year: parse_year(YEARLY.table, &k)?,
                total_curtailed_energy: e,
                total_payment: p,
            })
        })
        .transpose()
}

#[derive(QueryableByName)]
struct BtcSummaryRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    k: String,
    #[diesel(sql_type = Text)]
    model: String,
    #[diesel(sql_type = Text)]
    mined: String,
}

/// Every bitcoin summary row with a key in `lo..=hi` (legacy duplicates included), with its
/// row id, ordered by key, model, id.
pub(crate) fn read_btc_summaries(
    db: &mut Db<'_>,
    t: SummaryTable,
    lo: &str,
    hi: &str,
) -> Result<Vec<(i64, BitcoinSummary)>, StoreError> {
    let key_out = if t.key_kind == Kind::Date {
        db.date_out(t.key)
    } else {
        t.key.to_owned()
    };
    let sql = format!(
        "SELECT CAST(id AS bigint) AS id, {key_out} AS k, miner_model AS model, {} AS mined \
         FROM {} WHERE {} >= {} AND {} <= {} ORDER BY {}, miner_model, id",
        db.num_out("bitcoin_mined"),
        t.table,
        t.key,
        db.param(1, t.key_kind),
        t.key,
        db.param(2, t.key_kind),
        t.key,
    );
    let rows: Vec<BtcSummaryRow> = db.load(&sql, &[Val::text(lo), Val::text(hi)])?;
    let table = t.table;
    rows.into_iter()
        .map(|r| {
            let period = match t.key_kind {
                Kind::Date => SummaryPeriod::Day(parse_date(table, t.key, &r.k)?),
                _ if t.key == "year_month" => SummaryPeriod::Month(parse_month(table, &r.k)?),
                _ => SummaryPeriod::Year(parse_year(table, &r.k)?),
            };
            Ok((
                r.id,
                BitcoinSummary {
                    period,
                    miner_model: r.model,
                    bitcoin_mined: parse_dec(table, "bitcoin_mined", &r.mined)?,
                },
            ))
        })
        .collect()
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

#[derive(QueryableByName)]
struct FetchRow {
    #[diesel(sql_type = Text)]
    settlement_date: String,
    #[diesel(sql_type = BigInt)]
    settlement_period: i64,
    #[diesel(sql_type = Text)]
    side: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    items_received: i64,
    #[diesel(sql_type = BigInt)]
    records_kept: i64,
    #[diesel(sql_type = Text)]
    fetched_at: String,
    #[diesel(sql_type = Nullable<Text>)]
    source_hash: Option<String>,
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

/// The fetch log of `date`: the latest entry per period and side.
pub(crate) fn read_fetch_log(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<Vec<FetchLogEntry>, StoreError> {
    let sql = format!(
        "{} WHERE settlement_date = {} ORDER BY id",
        fetch_log_select(db),
        db.param(1, Kind::Date),
    );
    latest_fetch_entries(db.load(&sql, &[Val::date(date)])?)
}

/// The fetch log one run wrote (the sources it used), one entry per period and side.
pub(crate) fn read_run_fetch_log(
    db: &mut Db<'_>,
    run_id: &str,
) -> Result<Vec<FetchLogEntry>, StoreError> {
    let sql = format!("{} WHERE run_id = $1 ORDER BY id", fetch_log_select(db));
    latest_fetch_entries(db.load(&sql, &[Val::text(run_id)])?)
}

fn fetch_log_select(db: &Db<'_>) -> String {
    format!(
        "SELECT {} AS settlement_date, CAST(settlement_period AS bigint) AS settlement_period, \
         side, status, items_received, records_kept, {} AS fetched_at, source_hash \
         FROM fetch_log",
        db.date_out("settlement_date"),
        db.instant_out("fetched_at"),
    )
}

fn latest_fetch_entries(rows: Vec<FetchRow>) -> Result<Vec<FetchLogEntry>, StoreError> {
    const T: &str = "fetch_log";
    let mut latest: BTreeMap<(u8, Side), FetchLogEntry> = BTreeMap::new();
    for r in rows {
        let side: Side = r
            .side
            .parse()
            .map_err(|reason| corrupt_key(T, "side", &r.side, reason))?;
        let status = match r.status.as_str() {
            "fetched" => FetchStatus::Fetched,
            "missing" => FetchStatus::Missing,
            other => {
                return Err(corrupt_key(
                    T,
                    "status",
                    other,
                    "expected fetched or missing".into(),
                ))
            }
        };
        let period = period_u8(T, r.settlement_period)?;
        latest.insert(
            (period, side),
            FetchLogEntry {
                settlement_date: parse_date(T, "settlement_date", &r.settlement_date)?,
                settlement_period: period,
                side,
                status,
                items_received: non_negative(T, "items_received", r.items_received)?,
                records_kept: non_negative(T, "records_kept", r.records_kept)?,
                fetched_at: parse_instant(T, "fetched_at", &r.fetched_at)?,
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
    let (mlo, mhi) = month_bounds(date);
    let (ylo, yhi) = year_bounds(date);
    let month_btc = read_btc_summaries(db, BTC_DAILY, &mlo, &mhi)?;
    let year_btc = read_btc_summaries(db, BTC_MONTHLY, &ylo, &yhi)?;
    let year_key = format!("{:04}", date.year());
    let year_rows = read_btc_summaries(db, BTC_YEARLY, &year_key, &year_key)?;
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

/// How many rows the daily, monthly and yearly summary tables hold for `date`'s keys.
fn count_summary_rows(db: &mut Db<'_>, date: SettlementDate) -> Result<[u64; 3], StoreError> {
    let mut out = [0; 3];
    let keys = [
        (DAILY, SummaryPeriod::Day(date)),
        (MONTHLY, SummaryPeriod::Month(date.year_month())),
        (YEARLY, SummaryPeriod::Year(date.year())),
    ];
    for (slot, (t, period)) in out.iter_mut().zip(keys) {
        let sql = format!(
            "SELECT CAST(COUNT(*) AS bigint) AS v FROM {} WHERE {} = {}",
            t.table,
            t.key,
            db.param(1, t.key_kind)
        );
        let rows: Vec<crate::db::IntRow> = db.load(&sql, &[Val::text(key_text(period))])?;
        *slot = rows.first().map_or(0, |r| u64::try_from(r.v).unwrap_or(0));
    }
    Ok(out)
}

/// What the caller needs to derive summaries, read inside the swap's transaction. Where
/// legacy duplicate bitcoin summary rows exist for one key and model, the one with the
/// highest id stands for them.
pub(crate) fn read_derive_context(
    db: &mut Db<'_>,
    date: SettlementDate,
) -> Result<DeriveContext, StoreError> {
    let ym = date.year_month();
    let (mlo, mhi) = month_bounds(date);
    let (ylo, yhi) = year_bounds(date);
    Ok(DeriveContext {
        day_records: read_records(db, date, None)?,
        month_other_dailies: read_month_dailies(db, date)?
            .into_iter()
            .filter(|d| d.date != date)
            .collect(),
        year_other_monthlies: read_year_monthlies(db, date)?
            .into_iter()
            .filter(|m| m.year_month != ym)
            .collect(),
        month_other_bitcoin_dailies: dedupe(read_btc_summaries(db, BTC_DAILY, &mlo, &mhi)?)
            .into_iter()
            .filter(|s| s.period != SummaryPeriod::Day(date))
            .collect(),
        year_other_bitcoin_monthlies: dedupe(read_btc_summaries(db, BTC_MONTHLY, &ylo, &yhi)?)
            .into_iter()
            .filter(|s| s.period != SummaryPeriod::Month(ym))
            .collect(),
    })
}

#[derive(QueryableByName)]
struct RunRow {
    #[diesel(sql_type = Text)]
    run_id: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    settlement_date: String,
    #[diesel(sql_type = Text)]
    periods: String,
    #[diesel(sql_type = Nullable<Text>)]
    reason: Option<String>,
    #[diesel(sql_type = Text)]
    user_name: String,
    #[diesel(sql_type = Text)]
    host: String,
    #[diesel(sql_type = Text)]
    status: String,
    #[diesel(sql_type = BigInt)]
    records_before: i64,
    #[diesel(sql_type = BigInt)]
    records_after: i64,
    #[diesel(sql_type = Text)]
    energy_before: String,
    #[diesel(sql_type = Text)]
    energy_after: String,
    #[diesel(sql_type = Text)]
    payment_before: String,
    #[diesel(sql_type = Text)]
    payment_after: String,
    #[diesel(sql_type = Text)]
    per_period_counts: String,
    #[diesel(sql_type = Text)]
    started_at: String,
    #[diesel(sql_type = BigInt)]
    duration_ms: i64,
    #[diesel(sql_type = Text)]
    tool_version: String,
    #[diesel(sql_type = Nullable<Text>)]
    detail: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    difficulty: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    difficulty_date: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    difficulty_source: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    block_subsidy: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    backup_pruned_at: Option<String>,
}

/// The bitcoin inputs an audit row recorded, when it recorded them all.
fn run_inputs(r: &RunRow) -> Result<Option<BitcoinInputs>, StoreError> {
    const T: &str = "reingest_runs";
    let (Some(d), Some(src), Some(sub)) = (&r.difficulty, &r.difficulty_source, &r.block_subsidy)
    else {
        return Ok(None);
    };
    Ok(Some(BitcoinInputs {
        difficulty: parse_dec(T, "difficulty", d)?,
        difficulty_date: r
            .difficulty_date
            .as_deref()
            .map(|v| {
                NaiveDate::parse_from_str(v, "%Y-%m-%d")
                    .map_err(|e| corrupt_key(T, "difficulty_date", v, e.to_string()))
            })
            .transpose()?,
        origin: src
            .parse()
            .map_err(|reason| corrupt_key(T, "difficulty_source", src, reason))?,
        subsidy: parse_dec(T, "block_subsidy", sub)?,
    }))
}

/// Audit rows, newest first: of one date, or of one run id.
pub(crate) fn read_runs(
    db: &mut Db<'_>,
    date: Option<SettlementDate>,
    run_id: Option<&str>,
) -> Result<Vec<AuditRow>, StoreError> {
    const T: &str = "reingest_runs";
    let mut sql = format!(
        "SELECT run_id, kind, {} AS settlement_date, periods, reason, user_name, host, status, \
         records_before, records_after, {} AS energy_before, {} AS energy_after, \
         {} AS payment_before, {} AS payment_after, per_period_counts, {} AS started_at, \
         duration_ms, tool_version, detail, {} AS difficulty, {} AS difficulty_date, \
         difficulty_source, {} AS block_subsidy, {} AS backup_pruned_at FROM reingest_runs",
        db.date_out("settlement_date"),
        db.num_out("energy_before"),
        db.num_out("energy_after"),
        db.num_out("payment_before"),
        db.num_out("payment_after"),
        db.instant_out("started_at"),
        db.num_out("difficulty"),
        db.date_out("difficulty_date"),
        db.num_out("block_subsidy"),
        db.instant_out("backup_pruned_at"),
    );
    let mut binds = Vec::new();
    if let Some(d) = date {
        sql.push_str(&format!(
            " WHERE settlement_date = {}",
            db.param(1, Kind::Date)
        ));
        binds.push(Val::date(d));
    } else if let Some(id) = run_id {
        sql.push_str(" WHERE run_id = $1");
        binds.push(Val::text(id));
    }
    sql.push_str(" ORDER BY seq DESC");
    let rows: Vec<RunRow> = db.load(&sql, &binds)?;
    rows.into_iter()
        .map(|r| {
            Ok(AuditRow {
                inputs: run_inputs(&r)?,
                backup_pruned_at: r
                    .backup_pruned_at
                    .as_deref()
                    .map(|t| parse_instant(T, "backup_pruned_at", t))
                    .transpose()?,
                settlement_date: parse_date(T, "settlement_date", &r.settlement_date)?,
                energy_before: parse_dec(T, "energy_before", &r.energy_before)?,
                energy_after: parse_dec(T, "energy_after", &r.energy_after)?,
                payment_before: parse_dec(T, "payment_before", &r.payment_before)?,
                payment_after: parse_dec(T, "payment_after", &r.payment_after)?,
                started_at: parse_instant(T, "started_at", &r.started_at)?,
                run_id: r.run_id,
                kind: r.kind,
                periods: r.periods,
                reason: r.reason,
                user: r.user_name,
                host: r.host,
                status: r.status,
                records_before: r.records_before,
                records_after: r.records_after,
                per_period_counts: r.per_period_counts,
                duration_ms: r.duration_ms,
                tool_version: r.tool_version,
                detail: r.detail,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn month_and_year_bounds() {
        let d: SettlementDate = "2024-02-10".parse().unwrap();
        assert_eq!(month_bounds(d), ("2024-02-01".into(), "2024-02-29".into()));
        let d: SettlementDate = "2024-12-31".parse().unwrap();
        assert_eq!(month_bounds(d), ("2024-12-01".into(), "2024-12-31".into()));
        assert_eq!(year_bounds(d), ("2024-01".into(), "2024-12".into()));
    }
}
