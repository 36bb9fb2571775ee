//! What is stored for a whole range of dates, read in a fixed number of statements however
//! many dates the range has (`reingest status` and `reconcile` over a year): one statement
//! per table, each a range of keys, never one per date. The rows are then split by date in
//! Rust into the same [`DayState`] a single date's read gives, so the pipeline's checks run
//! unchanged on each.
//!
//! [`read_day_states`] sends nine statements (records, bitcoin rows, the fetch log's newest
//! entries, and the six summary tables over the months and years the range touches);
//! [`read_runs_between`] one. Memory grows with the range's rows (a year of the simulator:
//! about 240,000 records and three bitcoin rows each), not with the statements. On
//! PostgreSQL the two large reads come row by row (decoded while the server sends), their
//! decimals decoded from the binary `numeric` (`numeric`); when the pool can lend a second
//! connection, the bitcoin rows are read on one and the other eight statements on the
//! other at the same time, both in one snapshot (`snapshot`: the second joins the first's,
//! five statements more with its transaction, however long the range), so a year takes
//! about as long as its larger half. Otherwise (SQLite, a pool of one) the statements run
//! one after the other on the one connection. Either way the bitcoin rows are split by date
//! as they arrive, never held twice.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use diesel::prelude::*;
use settlement_model::{
    BitcoinRow, BitcoinSummary, DailySummary, MonthlySummary, SettlementDate, SummaryPeriod,
    YearMonth, YearlySummary,
};

use crate::audit::runs::{read_runs, Select};
use crate::connect::Conn;
use crate::db::{on_db, settlement_date, Db};
use crate::read::{
    btc_summaries, btc_summary_rows, latest_fetch_entries, month_days, parse_month, parse_year,
    period_u8, records_from_rows, summary_rows, totals, BtcSummaryRow, SummaryRow, BTC_DAILY,
    BTC_MONTHLY, BTC_YEARLY, DAILY, MONTHLY, YEARLY,
};
use crate::rows::{FetchRow, RecordRow};
use crate::sql_types::ReadDecimal;
use crate::{AuditRow, DayState, StoreError};

mod numeric;
#[cfg(feature = "postgres")]
mod snapshot;

use numeric::RangeDecimal;

/// Runs `$query` once and hands each row, as `$ty`, to `$body`. On PostgreSQL the rows come
/// row by row, decoded as the server sends them rather than after the last (the server takes
/// about as long to send a year's rows as this process to decode them); on SQLite they are
/// loaded at once. One statement either way.
macro_rules! for_each_row {
    ($db:expr, $query:expr, $ty:ty, $row:ident => $body:block) => {
        match $db {
            #[cfg(feature = "postgres")]
            Db::Pg(conn) => {
                let c: &mut diesel::PgConnection = &mut **conn;
                for $row in $query.load_iter::<$ty, diesel::pg::PgRowByRowLoadingMode>(c)? {
                    let $row = $row?;
                    $body
                }
            }
            #[cfg(feature = "sqlite")]
            Db::Lite(conn) => {
                let c: &mut diesel::SqliteConnection = &mut **conn;
                for $row in $query.load::<$ty>(c)? {
                    $body
                }
            }
        }
    };
}

/// The summary rows of the months and years a range touches, parsed, with the number of
/// rows each key has (rows with NULL totals counted too, as `count(*)` would).
struct Summaries {
    dailies: BTreeMap<SettlementDate, DailySummary>,
    monthlies: BTreeMap<YearMonth, MonthlySummary>,
    yearlies: BTreeMap<i32, YearlySummary>,
    daily_rows: BTreeMap<NaiveDate, u64>,
    monthly_rows: BTreeMap<String, u64>,
    yearly_rows: BTreeMap<String, u64>,
    btc_dailies: Vec<BitcoinSummary>,
    btc_monthlies: Vec<BitcoinSummary>,
    btc_yearlies: Vec<BitcoinSummary>,
}

/// What the nine statements read, split by date, before each date's state is made.
struct Parts {
    records: BTreeMap<SettlementDate, Vec<settlement_model::CurtailmentRecord>>,
    bitcoin: BTreeMap<SettlementDate, Vec<BitcoinRow>>,
    fetch: BTreeMap<SettlementDate, Vec<crate::FetchLogEntry>>,
    summaries: Summaries,
}

/// The stored state of every date `from..=to`, in date order, in nine statements; with
/// `second` (a PostgreSQL connection of the same pool) the bitcoin rows are read on `db`
/// while the other eight statements run on `second`, in `db`'s snapshot (see [`snapshot`]).
pub(crate) fn read_day_states(
    db: &mut Db<'_>,
    second: Option<Conn>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<Vec<(SettlementDate, DayState)>, StoreError> {
    let parts = match (db, second) {
        #[cfg(feature = "postgres")]
        (Db::Pg(c), Some(Conn::Pg(mut c2))) => match snapshot::export(c)? {
            Some(id) => read_parts_on_two(c, &mut c2, &id, from, to)?,
            // A standby: no snapshot to share, so one connection.
            None => read_parts(&mut Db::Pg(c), from, to)?,
        },
        (db, _) => read_parts(db, from, to)?,
    };
    Ok(assemble(from, to, parts))
}

/// The nine statements on one connection, one after the other.
fn read_parts(
    db: &mut Db<'_>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<Parts, StoreError> {
    Ok(Parts {
        records: read_range_records(db, from, to)?,
        bitcoin: read_range_bitcoin_rows(db, from, to)?,
        fetch: read_range_fetch_log(db, from, to)?,
        summaries: read_range_summaries(db, from, to)?,
    })
}

/// The nine statements on two PostgreSQL connections at once, both in `c`'s snapshot: the
/// bitcoin rows on `c` (in its repeatable-read transaction), the rest on `c2`, which joins
/// the snapshot `id` that `c` exported. Each connection's rows are decoded on its own thread while the
/// server sends the other's, so the read takes about as long as its larger half.
#[cfg(feature = "postgres")]
fn read_parts_on_two(
    c: &mut diesel::PgConnection,
    c2: &mut diesel::PgConnection,
    id: &str,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<Parts, StoreError> {
    c2.build_transaction()
        .read_only()
        .repeatable_read()
        .run(|c2| {
            snapshot::join(c2, id)?;
            let (bitcoin, rest) = std::thread::scope(|scope| {
                let rest = scope.spawn(move || {
                    let db = &mut Db::Pg(c2);
                    let records = read_range_records(db, from, to);
                    let fetch = read_range_fetch_log(db, from, to);
                    let summaries = read_range_summaries(db, from, to);
                    (records, fetch, summaries)
                });
                let bitcoin = read_range_bitcoin_rows(&mut Db::Pg(c), from, to);
                match rest.join() {
                    Ok(rest) => (bitcoin, rest),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            });
            let (records, fetch, summaries) = rest;
            // A failure is reported as the statements in their first order would: records,
            // bitcoin rows, fetch log, summaries.
            Ok(Parts {
                records: records?,
                bitcoin: bitcoin?,
                fetch: fetch?,
                summaries: summaries?,
            })
        })
}

/// Each date's [`DayState`] from the range's rows, in date order.
fn assemble(
    from: SettlementDate,
    to: SettlementDate,
    parts: Parts,
) -> Vec<(SettlementDate, DayState)> {
    let Parts {
        mut records,
        mut bitcoin,
        mut fetch,
        summaries: s,
    } = parts;
    let mut out = Vec::new();
    for date in from.through(to) {
        let ym = date.year_month();
        let year = date.year();
        let month_dailies: Vec<DailySummary> = s
            .dailies
            .values()
            .filter(|d| d.date.year_month() == ym)
            .cloned()
            .collect();
        let year_monthlies: Vec<MonthlySummary> = s
            .monthlies
            .values()
            .filter(|m| m.year_month.year == year)
            .cloned()
            .collect();
        let month_bitcoin_dailies: Vec<BitcoinSummary> = s
            .btc_dailies
            .iter()
            .filter(|b| matches!(b.period, SummaryPeriod::Day(d) if d.year_month() == ym))
            .cloned()
            .collect();
        let year_bitcoin_monthlies: Vec<BitcoinSummary> = s
            .btc_monthlies
            .iter()
            .filter(|b| matches!(b.period, SummaryPeriod::Month(m) if m.year == year))
            .cloned()
            .collect();
        let mut bitcoin_summaries: Vec<BitcoinSummary> = month_bitcoin_dailies
            .iter()
            .filter(|b| b.period == SummaryPeriod::Day(date))
            .cloned()
            .collect();
        bitcoin_summaries.extend(
            year_bitcoin_monthlies
                .iter()
                .filter(|b| b.period == SummaryPeriod::Month(ym))
                .cloned(),
        );
        bitcoin_summaries.extend(
            s.btc_yearlies
                .iter()
                .filter(|b| b.period == SummaryPeriod::Year(year))
                .cloned(),
        );
        let count = |n: Option<&u64>| n.copied().unwrap_or(0);
        out.push((
            date,
            DayState {
                records: records.remove(&date).unwrap_or_default(),
                daily: s.dailies.get(&date).cloned(),
                monthly: s.monthlies.get(&ym).cloned(),
                yearly: s.yearlies.get(&year).cloned(),
                month_dailies,
                year_monthlies,
                bitcoin_rows: bitcoin.remove(&date).unwrap_or_default(),
                bitcoin_summaries,
                month_bitcoin_dailies,
                year_bitcoin_monthlies,
                fetch_log: fetch.remove(&date).unwrap_or_default(),
                summary_row_counts: [
                    count(s.daily_rows.get(&date.naive())),
                    count(s.monthly_rows.get(&SummaryPeriod::Month(ym).to_string())),
                    count(s.yearly_rows.get(&SummaryPeriod::Year(year).to_string())),
                ],
            },
        ));
    }
    out
}

/// Every audit row of the dates `from..=to`, newest first, in one statement.
pub(crate) fn read_runs_between(
    db: &mut Db<'_>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<Vec<AuditRow>, StoreError> {
    let select = Select {
        between: Some((from, to)),
        ..Select::default()
    };
    read_runs(db, &select)
}

/// The records of the range by date, each date's in the order a single date's read gives.
fn read_range_records(
    db: &mut Db<'_>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<BTreeMap<SettlementDate, Vec<settlement_model::CurtailmentRecord>>, StoreError> {
    use crate::schema::curtailment_records::dsl as cr;
    const T: &str = "curtailment_records";
    // No ORDER BY: a year's sort costs the server more than the read; the rows are put in
    // id order per date here, as a single date's read has them.
    let mut by_date: BTreeMap<NaiveDate, Vec<(i32, RecordRow<RangeDecimal>)>> = BTreeMap::new();
    let (lo, hi) = (from.naive(), to.naive());
    for_each_row!(db, cr::curtailment_records
        .filter(cr::settlement_date.between(lo, hi))
        .select((cr::id, RecordRow::<RangeDecimal>::as_select())), (i32, RecordRow<RangeDecimal>), row => {
        let (id, r) = row;
        by_date.entry(r.settlement_date).or_default().push((id, r));
    });
    let by_date = by_date.into_iter().map(|(d, mut rows)| {
        rows.sort_by_key(|(id, _)| *id);
        (d, rows.into_iter().map(|(_, r)| r).collect::<Vec<_>>())
    });
    by_date
        .map(|(d, rows)| {
            Ok((
                settlement_date(T, "settlement_date", d)?,
                records_from_rows(T, rows)?,
            ))
        })
        .collect()
}

/// A bitcoin row as the range read loads it: id, date, period, farm, model, bitcoin mined
/// and difficulty, the decimals decoded straight from the binary numeric (see `numeric`).
type RangeBitcoinRow = (
    i32,
    NaiveDate,
    i32,
    String,
    String,
    RangeDecimal,
    RangeDecimal,
);

/// The bitcoin rows of the range, split by date as they arrive (one statement), each date's
/// in the order [`BitcoinSplit::finish`] gives.
fn read_range_bitcoin_rows(
    db: &mut Db<'_>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<BTreeMap<SettlementDate, Vec<BitcoinRow>>, StoreError> {
    use crate::schema::historical_bitcoin_calculations::dsl as h;
    // No ORDER BY: sorting a year's rows by text keys took the server longer than reading
    // them (1.3 s against 0.2 s for 720,000 rows); each date's are sorted here instead.
    let query = h::historical_bitcoin_calculations
        .filter(h::settlement_date.between(from.naive(), to.naive()))
        .select((
            h::id,
            h::settlement_date,
            h::settlement_period,
            h::farm_id,
            h::miner_model,
            h::bitcoin_mined,
            h::difficulty,
        ));
    let mut split = BitcoinSplit::default();
    for_each_row!(db, query, RangeBitcoinRow, row => {
        split.push(row)?;
    });
    Ok(split.finish())
}

/// A date's bitcoin row with its sort key: period, farm, model (by the number
/// [`BitcoinSplit`] gave each name, then by its rank) and id.
type Keyed = ((u8, u32, u32, i32), BitcoinRow);

/// The bitcoin rows of a range read, split by date as they come (no second copy of the
/// year's rows), then each date's ordered by period, farm, model and id (farm and model in
/// byte order, which may differ from a collated `ORDER BY`; no check depends on the order).
///
/// Each farm and model name is numbered as first seen and the numbers ranked once in byte
/// order at the end, so the sorts compare integers, not text (a year has some 720,000 rows
/// and a few hundred names).
#[derive(Default)]
struct BitcoinSplit {
    /// Each name and the number it was given when first seen.
    names: HashMap<String, u32>,
    by_date: BTreeMap<SettlementDate, Vec<Keyed>>,
}

impl BitcoinSplit {
    const T: &'static str = "historical_bitcoin_calculations";

    /// Adds one row as loaded.
    fn push(&mut self, row: RangeBitcoinRow) -> Result<(), StoreError> {
        let (id, day, period, farm_id, miner_model, bitcoin_mined, difficulty) = row;
        let (farm, model) = (self.number(&farm_id), self.number(&miner_model));
        let date = settlement_date(Self::T, "settlement_date", day)?;
        let settlement_period = period_u8(Self::T, i64::from(period))?;
        self.by_date.entry(date).or_default().push((
            (settlement_period, farm, model, id),
            BitcoinRow {
                settlement_date: date,
                settlement_period,
                farm_id,
                miner_model,
                bitcoin_mined: bitcoin_mined.decimal(Self::T, "bitcoin_mined")?,
                difficulty: difficulty.decimal(Self::T, "difficulty")?,
            },
        ));
        Ok(())
    }

    /// The number of `name`, given now if it is new.
    fn number(&mut self, name: &str) -> u32 {
        if let Some(n) = self.names.get(name) {
            return *n;
        }
        let next = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.insert(name.to_owned(), next);
        next
    }

    /// Each date's rows in order.
    fn finish(self) -> BTreeMap<SettlementDate, Vec<BitcoinRow>> {
        let mut sorted: Vec<(String, u32)> = self.names.into_iter().collect();
        sorted.sort_unstable();
        let mut rank = vec![0_u32; sorted.len()];
        for (r, (_, first_seen)) in sorted.iter().enumerate() {
            if let Some(slot) = rank.get_mut(usize::try_from(*first_seen).unwrap_or(usize::MAX)) {
                *slot = u32::try_from(r).unwrap_or(u32::MAX);
            }
        }
        let rank_of = |n: u32| {
            usize::try_from(n)
                .ok()
                .and_then(|i| rank.get(i))
                .copied()
                .unwrap_or(u32::MAX)
        };
        self.by_date
            .into_iter()
            .map(|(date, mut rows)| {
                for ((_, farm, model, _), _) in &mut rows {
                    (*farm, *model) = (rank_of(*farm), rank_of(*model));
                }
                // Ids are unique, so the keys are: an unstable sort gives the one order.
                rows.sort_unstable_by_key(|(key, _)| *key);
                (date, rows.into_iter().map(|(_, r)| r).collect())
            })
            .collect()
    }
}

/// The newest fetch-log entry of each date, period and side of the range (only those rows
/// are sent back, as for one date).
fn read_range_fetch_log(
    db: &mut Db<'_>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<BTreeMap<SettlementDate, Vec<crate::FetchLogEntry>>, StoreError> {
    use crate::schema::fetch_log as f;
    use diesel::dsl::max;
    const T: &str = "fetch_log";
    let newer = diesel::alias!(crate::schema::fetch_log as newer);
    let (lo, hi) = (from.naive(), to.naive());
    let newest = newer
        .filter(newer.field(f::settlement_date).between(lo, hi))
        .group_by((
            newer.field(f::settlement_date),
            newer.field(f::settlement_period),
            newer.field(f::side),
        ))
        .select(max(newer.field(f::id)));
    let rows: Vec<FetchRow> = on_db!(db, c => f::table
        .filter(f::settlement_date.between(lo, hi))
        .filter(f::id.nullable().eq_any(newest))
        .order(f::id)
        .select(FetchRow::as_select())
        .load(c))?;
    let mut by_date: BTreeMap<NaiveDate, Vec<FetchRow>> = BTreeMap::new();
    for r in rows {
        by_date.entry(r.settlement_date).or_default().push(r);
    }
    by_date
        .into_iter()
        .map(|(d, rows)| {
            Ok((
                settlement_date(T, "settlement_date", d)?,
                latest_fetch_entries(rows)?,
            ))
        })
        .collect()
}

/// The six summary tables over the months and years `from..=to` touches: six statements.
fn read_range_summaries(
    db: &mut Db<'_>,
    from: SettlementDate,
    to: SettlementDate,
) -> Result<Summaries, StoreError> {
    let (day_lo, _) = month_days(from);
    let (_, day_hi) = month_days(to);
    let (month_lo, month_hi) = (
        format!("{:04}-01", from.year()),
        format!("{:04}-12", to.year()),
    );
    let (year_lo, year_hi) = (format!("{:04}", from.year()), format!("{:04}", to.year()));

    let mut s = Summaries {
        dailies: BTreeMap::new(),
        monthlies: BTreeMap::new(),
        yearlies: BTreeMap::new(),
        daily_rows: BTreeMap::new(),
        monthly_rows: BTreeMap::new(),
        yearly_rows: BTreeMap::new(),
        btc_dailies: Vec::new(),
        btc_monthlies: Vec::new(),
        btc_yearlies: Vec::new(),
    };

    let rows: Vec<SummaryRow<NaiveDate>> =
        summary_rows!(db, daily_summaries, summary_date, day_lo, day_hi)?;
    for (k, e, p) in rows {
        *s.daily_rows.entry(k).or_default() += 1;
        if let Some((e, p)) = totals(DAILY.table, e, p)? {
            let date = settlement_date(DAILY.table, DAILY.key, k)?;
            s.dailies.entry(date).or_insert(DailySummary {
                date,
                total_curtailed_energy: e,
                total_payment: p,
            });
        }
    }
    let rows: Vec<SummaryRow<String>> =
        summary_rows!(db, monthly_summaries, year_month, &month_lo, &month_hi)?;
    for (k, e, p) in rows {
        *s.monthly_rows.entry(k.clone()).or_default() += 1;
        if let Some((e, p)) = totals(MONTHLY.table, e, p)? {
            let ym = parse_month(MONTHLY.table, &k)?;
            s.monthlies.entry(ym).or_insert(MonthlySummary {
                year_month: ym,
                total_curtailed_energy: e,
                total_payment: p,
            });
        }
    }
    let rows: Vec<SummaryRow<String>> =
        summary_rows!(db, yearly_summaries, year, &year_lo, &year_hi)?;
    for (k, e, p) in rows {
        *s.yearly_rows.entry(k.clone()).or_default() += 1;
        if let Some((e, p)) = totals(YEARLY.table, e, p)? {
            let year = parse_year(YEARLY.table, &k)?;
            s.yearlies.entry(year).or_insert(YearlySummary {
                year,
                total_curtailed_energy: e,
                total_payment: p,
            });
        }
    }

    let rows: Vec<BtcSummaryRow<NaiveDate>> =
        btc_summary_rows!(db, bitcoin_daily_summaries, summary_date, day_lo, day_hi)?;
    let t = BTC_DAILY;
    s.btc_dailies = btc_summaries(t.table, rows, |k| {
        Ok(SummaryPeriod::Day(settlement_date(t.table, t.key, k)?))
    })?
    .into_iter()
    .map(|(_, b)| b)
    .collect();
    let rows: Vec<BtcSummaryRow<String>> = btc_summary_rows!(
        db,
        bitcoin_monthly_summaries,
        year_month,
        &month_lo,
        &month_hi
    )?;
    let t = BTC_MONTHLY.table;
    s.btc_monthlies = btc_summaries(t, rows, |k| Ok(SummaryPeriod::Month(parse_month(t, &k)?)))?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    let rows: Vec<BtcSummaryRow<String>> =
        btc_summary_rows!(db, bitcoin_yearly_summaries, year, &year_lo, &year_hi)?;
    let t = BTC_YEARLY.table;
    s.btc_yearlies = btc_summaries(t, rows, |k| Ok(SummaryPeriod::Year(parse_year(t, &k)?)))?
        .into_iter()
        .map(|(_, b)| b)
        .collect();
    Ok(s)
}
