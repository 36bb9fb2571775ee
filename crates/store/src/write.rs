//! The write side of the swap and the restore: backups, deletes, multi-row inserts and
//! in-place summary updates (locking is in `locks.rs`, the audit log in `audit/`). Every
//! function runs inside the caller's transaction.

use chrono::Utc;
use settlement_model::{
    BitcoinRow, BitcoinSummary, CurtailmentRecord, PeriodRange, SettlementDate, SummaryPeriod,
};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Text};

use crate::db::{on_db, Db};
use crate::read::key_text;
use crate::rows::{NewBitcoinRow, NewFetchLog, NewRecord};
use crate::sql_types::{ExactDecimal, InstantValue, PlatformNow};
use crate::{DerivedRows, FetchLogEntry, StoreError};

/// Backs up, under `run_id`, the records of `periods`, all bitcoin rows of `date`, the owned
/// columns of the day's, month's and year's summary rows, and every bitcoin summary row of
/// the day, month and year.
pub(crate) fn backup(
    db: &mut Db<'_>,
    run_id: &str,
    date: SettlementDate,
    periods: PeriodRange,
) -> Result<(), StoreError> {
    use crate::schema::backup_bitcoin_calculations as bb;
    use crate::schema::backup_curtailment_records as br;
    use crate::schema::curtailment_records as cr;
    use crate::schema::historical_bitcoin_calculations as h;
    let (first, last) = (i32::from(periods.first()), i32::from(periods.last()));
    let day = date.naive();
    on_db!(db, c => diesel::insert_into(br::table)
        .values(
            cr::table
                .filter(cr::settlement_date.eq(day))
                .filter(cr::settlement_period.between(first, last))
                .order(cr::id)
                .select((
                    run_id.into_sql::<Text>(),
                    cr::settlement_date,
                    cr::settlement_period,
                    cr::farm_id,
                    cr::lead_party_name,
                    cr::volume,
                    cr::payment,
                    cr::original_price,
                    cr::final_price,
                    cr::so_flag,
                    cr::cadl_flag,
                    cr::created_at,
                    cr::acceptance_id,
                    cr::bid_offer_pair_id,
                    cr::side,
                    cr::sequence_number,
                )),
        )
        .into_columns((
            br::run_id,
            br::settlement_date,
            br::settlement_period,
            br::farm_id,
            br::lead_party_name,
            br::volume,
            br::payment,
            br::original_price,
            br::final_price,
            br::so_flag,
            br::cadl_flag,
            br::created_at,
            br::acceptance_id,
            br::bid_offer_pair_id,
            br::side,
            br::sequence_number,
        ))
        .execute(c))?;
    on_db!(db, c => diesel::insert_into(bb::table)
        .values(
            // No `ORDER BY`: nothing reads these rows back in order (a restore recomputes
            // them), and sorting the day's thousands of rows was a fifth of its time.
            h::table
                .filter(h::settlement_date.eq(day))
                .select((
                    run_id.into_sql::<Text>(),
                    h::settlement_date,
                    h::settlement_period,
                    h::farm_id,
                    h::miner_model,
                    h::bitcoin_mined,
                    h::difficulty,
                    h::calculated_at,
                )),
        )
        .into_columns((
            bb::run_id,
            bb::settlement_date,
            bb::settlement_period,
            bb::farm_id,
            bb::miner_model,
            bb::bitcoin_mined,
            bb::difficulty,
            bb::calculated_at,
        ))
        .execute(c))?;
    backup_summaries(db, run_id, date)?;
    Ok(())
}

/// Backs up the owned columns of the day's, month's and year's summary rows, and every
/// bitcoin summary row of those keys (legacy duplicates included, with their ids): one
/// `INSERT … SELECT … UNION ALL …` per backup table. A summary row that does not exist is
/// noted (`existed` false) so a restore deletes what the swap inserted.
fn backup_summaries(db: &mut Db<'_>, run_id: &str, date: SettlementDate) -> Result<(), StoreError> {
    use crate::schema::backup_bitcoin_summaries as bbs;
    use crate::schema::backup_summaries as bs;
    use crate::schema::{
        bitcoin_daily_summaries as bd, bitcoin_monthly_summaries as bm,
        bitcoin_yearly_summaries as by, daily_summaries as d, monthly_summaries as m,
        yearly_summaries as y,
    };
    let day = date.naive();
    let keys = [
        ("day", key_text(SummaryPeriod::Day(date))),
        ("month", key_text(SummaryPeriod::Month(date.year_month()))),
        ("year", key_text(SummaryPeriod::Year(date.year()))),
    ];
    let [(_, day_key), (_, month), (_, year)] = &keys;
    // The summary columns of one table, as a backup row of `kind` and `key`.
    macro_rules! owned {
        ($t:ident, $key:ident, $value:expr, $kind:expr, $key_text:expr) => {
            $t::table.filter($t::$key.eq($value)).select((
                run_id.into_sql::<Text>(),
                $kind.into_sql::<Text>(),
                $key_text.as_str().into_sql::<Text>(),
                true.into_sql::<Bool>(),
                $t::total_curtailed_energy,
                $t::total_payment,
                $t::last_updated,
            ))
        };
    }
    let backed_up = on_db!(db, c => diesel::insert_into(bs::table)
        .values(
            owned!(d, summary_date, day, "day", day_key)
                .union_all(owned!(m, year_month, month, "month", month))
                .union_all(owned!(y, year, year, "year", year)),
        )
        .into_columns((
            bs::run_id,
            bs::kind,
            bs::summary_key,
            bs::existed,
            bs::total_curtailed_energy,
            bs::total_payment,
            bs::last_updated,
        ))
        .execute(c))?;
    if backed_up < keys.len() {
        // Some key had no row (a new day, month or year): note which.
        let found: Vec<String> = on_db!(db, c => bs::table
            .filter(bs::run_id.eq(run_id))
            .select(bs::kind)
            .load(c))?;
        let absent: Vec<_> = keys
            .iter()
            .filter(|(kind, _)| !found.iter().any(|f| f == kind))
            .map(|(kind, key)| {
                (
                    bs::run_id.eq(run_id),
                    bs::kind.eq(*kind),
                    bs::summary_key.eq(key.as_str()),
                    bs::existed.eq(false),
                )
            })
            .collect();
        on_db!(db, c => diesel::insert_into(bs::table).values(&absent).execute(c))?;
    }
    // Every bitcoin summary row of one table's key, with its id.
    macro_rules! rows {
        ($t:ident, $key:ident, $value:expr, $kind:expr, $key_text:expr) => {
            $t::table.filter($t::$key.eq($value)).select((
                run_id.into_sql::<Text>(),
                $kind.into_sql::<Text>(),
                $key_text.as_str().into_sql::<Text>(),
                $t::id.cast::<BigInt>(),
                $t::miner_model,
                $t::bitcoin_mined,
                $t::updated_at,
            ))
        };
    }
    on_db!(db, c => diesel::insert_into(bbs::table)
        .values(
            rows!(bd, summary_date, day, "day", day_key)
                .union_all(rows!(bm, year_month, month, "month", month))
                .union_all(rows!(by, year, year, "year", year)),
        )
        .into_columns((
            bbs::run_id,
            bbs::kind,
            bbs::summary_key,
            bbs::row_id,
            bbs::miner_model,
            bbs::bitcoin_mined,
            bbs::updated_at,
        ))
        .execute(c))?;
    Ok(())
}

/// Deletes the backups of `run_ids`; returns the rows deleted.
pub(crate) fn delete_backups(db: &mut Db<'_>, run_ids: &[String]) -> Result<u64, StoreError> {
    use crate::schema::{
        backup_bitcoin_calculations as bb, backup_bitcoin_summaries as bbs,
        backup_curtailment_records as br, backup_summaries as bs, reingest_runs as rr,
    };
    let mut n = 0usize;
    for chunk in run_ids.chunks(500) {
        n = n.saturating_add(on_db!(db, c => diesel::delete(
            br::table.filter(br::run_id.eq_any(chunk))
        )
        .execute(c))?);
        n = n.saturating_add(on_db!(db, c => diesel::delete(
            bb::table.filter(bb::run_id.eq_any(chunk))
        )
        .execute(c))?);
        n = n.saturating_add(on_db!(db, c => diesel::delete(
            bs::table.filter(bs::run_id.eq_any(chunk))
        )
        .execute(c))?);
        n = n.saturating_add(on_db!(db, c => diesel::delete(
            bbs::table.filter(bbs::run_id.eq_any(chunk))
        )
        .execute(c))?);
        let stamp = InstantValue(Utc::now());
        on_db!(db, c => diesel::update(
            rr::table
                .filter(rr::run_id.eq_any(chunk))
                .filter(rr::backup_pruned_at.is_null()),
        )
        .set(rr::backup_pruned_at.eq(Some(stamp)))
        .execute(c))?;
    }
    Ok(u64::try_from(n).unwrap_or(u64::MAX))
}

/// Deletes the records of `periods` and every bitcoin row of `date`.
pub(crate) fn delete_day_rows(
    db: &mut Db<'_>,
    date: SettlementDate,
    periods: PeriodRange,
) -> Result<(), StoreError> {
    use crate::schema::curtailment_records as cr;
    use crate::schema::historical_bitcoin_calculations as h;
    let (first, last) = (i32::from(periods.first()), i32::from(periods.last()));
    let day = date.naive();
    on_db!(db, c => diesel::delete(
        cr::table
            .filter(cr::settlement_date.eq(day))
            .filter(cr::settlement_period.between(first, last)),
    )
    .execute(c))?;
    on_db!(db, c => diesel::delete(h::table.filter(h::settlement_date.eq(day))).execute(c))?;
    Ok(())
}

/// Rows per multi-row `INSERT` of a table with `columns` columns: as many as the backend's
/// bind-parameter limit allows (PostgreSQL 65,535; SQLite 32,766 since 3.32), so a stormy
/// day's records or bitcoin rows go in one statement.
fn rows_per_insert(db: &Db<'_>, columns: usize) -> usize {
    let binds = if db.is_pg() { 65_535 } else { 32_766 };
    (binds / columns.max(1)).max(1)
}

/// Inserts records: on PostgreSQL with one binary `COPY` (no statement to parse, no binds to
/// plan), on SQLite with multi-row inserts.
pub(crate) fn insert_records(
    db: &mut Db<'_>,
    records: &[CurtailmentRecord],
) -> Result<usize, StoreError> {
    use crate::schema::curtailment_records as cr;
    let rows: Vec<NewRecord<'_>> = records
        .iter()
        .map(|r| NewRecord {
            settlement_date: r.settlement_date.naive(),
            settlement_period: i32::from(r.settlement_period),
            farm_id: &r.farm_id,
            lead_party_name: r.lead_party_name.as_deref(),
            volume: ExactDecimal(r.volume),
            payment: ExactDecimal(r.payment),
            original_price: ExactDecimal(r.original_price),
            final_price: ExactDecimal(r.final_price),
            so_flag: Some(r.so_flag),
            cadl_flag: r.cadl_flag,
            acceptance_id: r.acceptance_id,
            bid_offer_pair_id: r.bid_offer_pair_id,
            side: Some(r.side.as_str()),
            sequence_number: r.sequence_number,
        })
        .collect();
    match db {
        #[cfg(feature = "postgres")]
        Db::Pg(c) => Ok(diesel::copy_from(cr::table)
            .from_insertable(&rows)
            .execute(&mut **c)?),
        #[cfg(feature = "sqlite")]
        Db::Lite(_) => {
            let mut n = 0;
            for chunk in rows.chunks(rows_per_insert(db, NewRecord::COLUMNS)) {
                n += on_db!(db, c => diesel::insert_into(cr::table).values(chunk).execute(c))?;
            }
            Ok(n)
        }
    }
}

/// Inserts bitcoin rows: a binary `COPY` on PostgreSQL, multi-row inserts on SQLite.
pub(crate) fn insert_bitcoin_rows(
    db: &mut Db<'_>,
    rows: &[BitcoinRow],
) -> Result<usize, StoreError> {
    use crate::schema::historical_bitcoin_calculations as h;
    let rows: Vec<NewBitcoinRow<'_>> = rows
        .iter()
        .map(|r| NewBitcoinRow {
            settlement_date: r.settlement_date.naive(),
            settlement_period: i32::from(r.settlement_period),
            farm_id: &r.farm_id,
            miner_model: &r.miner_model,
            bitcoin_mined: ExactDecimal(r.bitcoin_mined),
            difficulty: ExactDecimal(r.difficulty),
        })
        .collect();
    match db {
        #[cfg(feature = "postgres")]
        Db::Pg(c) => Ok(diesel::copy_from(h::table)
            .from_insertable(&rows)
            .execute(&mut **c)?),
        #[cfg(feature = "sqlite")]
        Db::Lite(_) => {
            let mut n = 0;
            for chunk in rows.chunks(rows_per_insert(db, NewBitcoinRow::COLUMNS)) {
                n += on_db!(db, c => diesel::insert_into(h::table).values(chunk).execute(c))?;
            }
            Ok(n)
        }
    }
}

/// Inserts fetch-log rows.
pub(crate) fn insert_fetch_log(
    db: &mut Db<'_>,
    run_id: &str,
    entries: &[FetchLogEntry],
) -> Result<usize, StoreError> {
    use crate::schema::fetch_log as f;
    let count = |n: u64| {
        i64::try_from(n).map_err(|_| StoreError::InvalidInput {
            reason: format!("fetch log count {n} is too large"),
        })
    };
    let rows = entries
        .iter()
        .map(|e| {
            Ok(NewFetchLog {
                run_id,
                settlement_date: e.settlement_date.naive(),
                settlement_period: i32::from(e.settlement_period),
                side: e.side.as_str(),
                status: e.status.as_str(),
                items_received: count(e.items_received)?,
                records_kept: count(e.records_kept)?,
                fetched_at: InstantValue(e.fetched_at),
                source_hash: e.source_hash.as_deref(),
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut n = 0;
    for chunk in rows.chunks(rows_per_insert(db, NewFetchLog::COLUMNS)) {
        n += on_db!(db, c => diesel::insert_into(f::table).values(chunk).execute(c))?;
    }
    Ok(n)
}

/// Writes a summary row's owned columns in place (and its timestamps to now); inserts the
/// row only when absent. Other columns (wind generation, created_at) are never touched.
macro_rules! write_summary {
    ($db:expr, $t:ident, $key:ident, $value:expr, $energy:expr, $payment:expr, [$($stamp:ident),+]) => {{
        use crate::schema::$t as t;
        let energy = Some(ExactDecimal($energy));
        let payment = Some(ExactDecimal($payment));
        let n = on_db!($db, c => diesel::update(t::table.filter(t::$key.eq($value)))
            .set((
                t::total_curtailed_energy.eq(energy),
                t::total_payment.eq(payment),
                $(t::$stamp.eq(PlatformNow),)+
            ))
            .execute(c))?;
        if n == 0 {
            on_db!($db, c => diesel::insert_into(t::table)
                .values((
                    t::$key.eq($value),
                    t::total_curtailed_energy.eq(energy),
                    t::total_payment.eq(payment),
                ))
                .execute(c))?;
        }
    }};
}

/// Sets the bitcoin summary row of (key, model) to the new value, inserting it when there is
/// none: one `UPDATE … RETURNING id` in the common case. Legacy duplicates of the key (the
/// platform's tables have no unique key) are collapsed: the oldest row (lowest id) is kept,
/// the others are deleted, and a note saying so is returned for the audit log.
macro_rules! write_btc_summary {
    ($db:expr, $t:ident, $key:ident, $value:expr, $key_text:expr, $s:expr) => {{
        use crate::schema::$t as t;
        let model = $s.miner_model.as_str();
        let mined = ExactDecimal($s.bitcoin_mined);
        let mut ids: Vec<i32> = on_db!($db, c => diesel::update(
            t::table
                .filter(t::$key.eq($value))
                .filter(t::miner_model.eq(model)),
        )
        .set((t::bitcoin_mined.eq(mined), t::updated_at.eq(PlatformNow)))
        .returning(t::id)
        .get_results(c))?;
        ids.sort_unstable();
        match ids.split_first() {
            None => {
                on_db!($db, c => diesel::insert_into(t::table)
                    .values((
                        t::$key.eq($value),
                        t::miner_model.eq(model),
                        t::bitcoin_mined.eq(mined),
                    ))
                    .execute(c))?;
                None
            }
            Some((kept, extra)) if !extra.is_empty() => {
                let removed = on_db!($db, c => diesel::delete(
                    t::table.filter(t::id.eq_any(extra)),
                )
                .execute(c))?;
                let ids: Vec<String> = extra.iter().map(ToString::to_string).collect();
                Some(format!(
                    "{} {} {model}: kept row {kept}, removed {removed} legacy duplicate(s) (ids {})",
                    stringify!($t),
                    $key_text,
                    ids.join(", ")
                ))
            }
            Some(_) => None,
        }
    }};
}

/// Writes one bitcoin summary (see [`write_btc_summary!`]); returns the note on legacy
/// duplicates it collapsed, if any.
fn write_btc_summary(db: &mut Db<'_>, s: &BitcoinSummary) -> Result<Option<String>, StoreError> {
    let key = key_text(s.period);
    Ok(match s.period {
        SummaryPeriod::Day(d) => {
            write_btc_summary!(db, bitcoin_daily_summaries, summary_date, d.naive(), key, s)
        }
        SummaryPeriod::Month(_) => {
            write_btc_summary!(db, bitcoin_monthly_summaries, year_month, &key, key, s)
        }
        SummaryPeriod::Year(_) => {
            write_btc_summary!(db, bitcoin_yearly_summaries, year, &key, key, s)
        }
    })
}

/// Writes the derived rows: the daily, monthly and yearly summaries, the day's bitcoin rows
/// and every bitcoin summary. Returns notes on legacy duplicates it collapsed.
pub(crate) fn write_derived(db: &mut Db<'_>, d: &DerivedRows) -> Result<Vec<String>, StoreError> {
    write_summary!(
        db,
        daily_summaries,
        summary_date,
        d.daily.date.naive(),
        d.daily.total_curtailed_energy,
        d.daily.total_payment,
        [last_updated]
    );
    insert_bitcoin_rows(db, &d.bitcoin_rows)?;
    let month = key_text(SummaryPeriod::Month(d.monthly.year_month));
    write_summary!(
        db,
        monthly_summaries,
        year_month,
        &month,
        d.monthly.total_curtailed_energy,
        d.monthly.total_payment,
        [updated_at, last_updated]
    );
    let year = key_text(SummaryPeriod::Year(d.yearly.year));
    write_summary!(
        db,
        yearly_summaries,
        year,
        &year,
        d.yearly.total_curtailed_energy,
        d.yearly.total_payment,
        [updated_at, last_updated]
    );
    let mut notes = Vec::new();
    for s in &d.bitcoin_summaries {
        notes.extend(write_btc_summary(db, s)?);
    }
    Ok(notes)
}
