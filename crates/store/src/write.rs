//! The write side of the swap and the restore: locking, backups, deletes, multi-row inserts,
//! in-place summary updates and the audit log. Every function runs inside the caller's
//! transaction.

use chrono::{Datelike, Utc};
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinRow, BitcoinSummary, CurtailmentRecord, DayTotals, PeriodRange, SettlementDate,
    SummaryPeriod,
};

use crate::db::{Db, Kind, TextRow, Val};
use crate::error::classify;
use crate::read::{btc_table, key_text, SummaryTable, DAILY, MONTHLY, YEARLY};
use crate::{AuditRow, DerivedRows, FetchLogEntry, FetchStatus, StoreConfig, StoreError};

pub(crate) use crate::sql_types::instant_text;

/// The advisory-lock key of a date: "REIN" in the high half, the day number in the low half.
pub(crate) fn lock_key(date: SettlementDate) -> i64 {
    (0x5245_494E_i64 << 32) | i64::from(date.naive().num_days_from_ce())
}

/// Takes the per-date lock. On PostgreSQL a transaction-scoped advisory lock, waited for
/// at most `lock_timeout`; on SQLite the transaction already holds the database's write
/// lock (`BEGIN IMMEDIATE`), so there is nothing more to take.
pub(crate) fn lock_date(
    db: &mut Db<'_>,
    date: SettlementDate,
    config: &StoreConfig,
) -> Result<(), StoreError> {
    if !db.is_pg() {
        return Ok(());
    }
    // PostgreSQL's lock_timeout is an int of milliseconds (at most about 24.8 days).
    let ms = config.lock_timeout.as_millis().clamp(1, i32::MAX as u128);
    db.batch(&format!("SET LOCAL lock_timeout = '{ms}ms'"))?;
    db.exec(
        "SELECT pg_advisory_xact_lock($1)",
        &[Val::int(lock_key(date))],
    )
    .map_err(|e| match classify(&e) {
        StoreError::LockTimeout { detail, .. } => StoreError::LockTimeout {
            date: Some(date),
            other_run: None,
            waited: config.lock_timeout,
            detail,
        },
        other => other,
    })?;
    Ok(())
}

/// The advisory-lock key of a year's rollups ("REYR" in the high half).
pub(crate) fn rollup_lock_key(year: i32) -> i64 {
    (0x5245_5952_i64 << 32) | i64::from(year)
}

/// Takes the lock of `date`'s year before its month and year rollups are read and written,
/// so concurrent swaps of different dates in one year never compute a monthly or yearly
/// summary from each other's uncommitted days (a lost update), nor insert the same summary
/// row twice. Always taken after the date's lock, so the two locks cannot deadlock. On
/// SQLite the write transaction already excludes every other writer.
pub(crate) fn lock_rollups(
    db: &mut Db<'_>,
    date: SettlementDate,
    config: &StoreConfig,
) -> Result<(), StoreError> {
    if !db.is_pg() {
        return Ok(());
    }
    db.exec(
        "SELECT pg_advisory_xact_lock($1)",
        &[Val::int(rollup_lock_key(date.year()))],
    )
    .map_err(|e| match classify(&e) {
        StoreError::LockTimeout { detail, .. } => StoreError::LockTimeout {
            date: Some(date),
            other_run: None,
            waited: config.lock_timeout,
            detail: format!("{detail} (waiting for the rollups of {})", date.year()),
        },
        other => other,
    })?;
    Ok(())
}

/// Marks older `running` rows of `date` as interrupted: their process died holding no lock.
pub(crate) fn mark_interrupted(
    db: &mut Db<'_>,
    date: SettlementDate,
    run_id: &str,
) -> Result<usize, StoreError> {
    let sql = format!(
        "UPDATE reingest_runs SET status = 'interrupted', \
         detail = 'the process ended before the run finished (found by run ' || $2 || ')' \
         WHERE settlement_date = {} AND status = 'running' AND run_id <> $2 \
         AND seq < (SELECT seq FROM reingest_runs WHERE run_id = $2)",
        db.param(1, Kind::Date)
    );
    Ok(db.exec(&sql, &[Val::date(date), Val::text(run_id)])?)
}

/// The newest other `running` run of `date` started before `run_id`: the likely lock holder.
pub(crate) fn running_holder(
    db: &mut Db<'_>,
    date: SettlementDate,
    run_id: &str,
) -> Result<Option<String>, StoreError> {
    let sql = format!(
        "SELECT run_id AS v FROM reingest_runs WHERE settlement_date = {} AND status = 'running' \
         AND run_id <> $2 AND seq < COALESCE((SELECT seq FROM reingest_runs WHERE run_id = $2), seq + 1) \
         ORDER BY seq DESC LIMIT 1",
        db.param(1, Kind::Date)
    );
    let rows: Vec<TextRow> = db.load(&sql, &[Val::date(date), Val::text(run_id)])?;
    Ok(rows.into_iter().next().and_then(|r| r.v))
}

const RECORD_COLUMNS: &str = "settlement_date, settlement_period, farm_id, lead_party_name, \
     volume, payment, original_price, final_price, so_flag, cadl_flag, created_at, \
     acceptance_id, bid_offer_pair_id, side, sequence_number";

const BITCOIN_COLUMNS: &str =
    "settlement_date, settlement_period, farm_id, miner_model, bitcoin_mined, difficulty, calculated_at";

/// Backs up, under `run_id`, the records of `periods`, all bitcoin rows of `date`, the owned
/// columns of the day's, month's and year's summary rows, and every bitcoin summary row of
/// the day, month and year.
pub(crate) fn backup(
    db: &mut Db<'_>,
    run_id: &str,
    date: SettlementDate,
    periods: PeriodRange,
) -> Result<(), StoreError> {
    let d = db.param(2, Kind::Date);
    db.exec(
        &format!(
            "INSERT INTO backup_curtailment_records (run_id, {RECORD_COLUMNS}) \
             SELECT $1, {RECORD_COLUMNS} FROM curtailment_records WHERE settlement_date = {d} \
             AND settlement_period BETWEEN $3 AND $4 ORDER BY id"
        ),
        &[
            Val::text(run_id),
            Val::date(date),
            Val::int(i64::from(periods.first())),
            Val::int(i64::from(periods.last())),
        ],
    )?;
    db.exec(
        &format!(
            "INSERT INTO backup_bitcoin_calculations (run_id, {BITCOIN_COLUMNS}) \
             SELECT $1, {BITCOIN_COLUMNS} FROM historical_bitcoin_calculations \
             WHERE settlement_date = {d} ORDER BY id"
        ),
        &[Val::text(run_id), Val::date(date)],
    )?;
    let keys = [
        (DAILY, "day", SummaryPeriod::Day(date)),
        (MONTHLY, "month", SummaryPeriod::Month(date.year_month())),
        (YEARLY, "year", SummaryPeriod::Year(date.year())),
    ];
    for (t, kind, period) in keys {
        let key = key_text(period);
        let sql = format!(
            "INSERT INTO backup_summaries (run_id, kind, summary_key, existed, \
             total_curtailed_energy, total_payment, last_updated) \
             SELECT $1, $2, $3, TRUE, total_curtailed_energy, total_payment, last_updated \
             FROM {} WHERE {} = {}",
            t.table,
            t.key,
            db.param(3, t.key_kind)
        );
        let n = db.exec(&sql, &[Val::text(run_id), Val::text(kind), Val::text(&key)])?;
        if n == 0 {
            db.exec(
                "INSERT INTO backup_summaries (run_id, kind, summary_key, existed) \
                 VALUES ($1, $2, $3, FALSE)",
                &[Val::text(run_id), Val::text(kind), Val::text(&key)],
            )?;
        }
        let (bt, _) = btc_table(period);
        let sql = format!(
            "INSERT INTO backup_bitcoin_summaries (run_id, kind, summary_key, row_id, \
             miner_model, bitcoin_mined, updated_at) \
             SELECT $1, $2, $3, id, miner_model, bitcoin_mined, updated_at \
             FROM {} WHERE {} = {} ORDER BY id",
            bt.table,
            bt.key,
            db.param(3, bt.key_kind)
        );
        db.exec(&sql, &[Val::text(run_id), Val::text(kind), Val::text(&key)])?;
    }
    Ok(())
}

/// The tables that hold a run's backup.
const BACKUP_TABLES: [&str; 4] = [
    "backup_curtailment_records",
    "backup_bitcoin_calculations",
    "backup_summaries",
    "backup_bitcoin_summaries",
];

/// Deletes the backups of `run_ids`; returns the rows deleted.
pub(crate) fn delete_backups(db: &mut Db<'_>, run_ids: &[String]) -> Result<u64, StoreError> {
    let mut n = 0u64;
    for chunk in run_ids.chunks(500) {
        let params: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let binds: Vec<Val> = chunk.iter().map(Val::text).collect();
        for table in BACKUP_TABLES {
            let sql = format!(
                "DELETE FROM {table} WHERE run_id IN ({})",
                params.join(", ")
            );
            n = n.saturating_add(u64::try_from(db.exec(&sql, &binds)?).unwrap_or(u64::MAX));
        }
        let mut stamp = vec![Val::text(instant_text(Utc::now()))];
        stamp.extend(binds);
        let ids: Vec<String> = (2..=chunk.len() + 1).map(|i| format!("${i}")).collect();
        db.exec(
            &format!(
                "UPDATE reingest_runs SET backup_pruned_at = {} WHERE run_id IN ({}) \
                 AND backup_pruned_at IS NULL",
                db.param(1, Kind::Instant),
                ids.join(", ")
            ),
            &stamp,
        )?;
    }
    Ok(n)
}

/// Deletes the records of `periods` and every bitcoin row of `date`.
pub(crate) fn delete_day_rows(
    db: &mut Db<'_>,
    date: SettlementDate,
    periods: PeriodRange,
) -> Result<(), StoreError> {
    let d = db.param(1, Kind::Date);
    db.exec(
        &format!(
            "DELETE FROM curtailment_records WHERE settlement_date = {d} \
             AND settlement_period BETWEEN $2 AND $3"
        ),
        &[
            Val::date(date),
            Val::int(i64::from(periods.first())),
            Val::int(i64::from(periods.last())),
        ],
    )?;
    db.exec(
        &format!("DELETE FROM historical_bitcoin_calculations WHERE settlement_date = {d}"),
        &[Val::date(date)],
    )?;
    Ok(())
}

/// Inserts records with multi-row inserts.
pub(crate) fn insert_records(
    db: &mut Db<'_>,
    records: &[CurtailmentRecord],
) -> Result<usize, StoreError> {
    let columns = [
        ("settlement_date", Kind::Date),
        ("settlement_period", Kind::Plain),
        ("farm_id", Kind::Plain),
        ("lead_party_name", Kind::Plain),
        ("volume", Kind::Num),
        ("payment", Kind::Num),
        ("original_price", Kind::Num),
        ("final_price", Kind::Num),
        ("so_flag", Kind::Plain),
        ("cadl_flag", Kind::Plain),
        ("acceptance_id", Kind::Plain),
        ("bid_offer_pair_id", Kind::Plain),
        ("side", Kind::Plain),
        ("sequence_number", Kind::Plain),
    ];
    let rows: Vec<Vec<Val>> = records
        .iter()
        .map(|r| {
            vec![
                Val::date(r.settlement_date),
                Val::int(i64::from(r.settlement_period)),
                Val::text(&r.farm_id),
                Val::opt_text(r.lead_party_name.as_deref()),
                Val::dec(r.volume),
                Val::dec(r.payment),
                Val::dec(r.original_price),
                Val::dec(r.final_price),
                Val::Bool(Some(r.so_flag)),
                Val::Bool(r.cadl_flag),
                Val::Int(r.acceptance_id),
                Val::Int(r.bid_offer_pair_id),
                Val::text(r.side.as_str()),
                Val::Int(r.sequence_number),
            ]
        })
        .collect();
    db.insert_rows("curtailment_records", &columns, &rows)
}

/// Inserts bitcoin rows with multi-row inserts.
pub(crate) fn insert_bitcoin_rows(
    db: &mut Db<'_>,
    rows: &[BitcoinRow],
) -> Result<usize, StoreError> {
    let columns = [
        ("settlement_date", Kind::Date),
        ("settlement_period", Kind::Plain),
        ("farm_id", Kind::Plain),
        ("miner_model", Kind::Plain),
        ("bitcoin_mined", Kind::Num),
        ("difficulty", Kind::Num),
    ];
    let values: Vec<Vec<Val>> = rows
        .iter()
        .map(|r| {
            vec![
                Val::date(r.settlement_date),
                Val::int(i64::from(r.settlement_period)),
                Val::text(&r.farm_id),
                Val::text(&r.miner_model),
                Val::dec(r.bitcoin_mined),
                Val::dec(r.difficulty),
            ]
        })
        .collect();
    db.insert_rows("historical_bitcoin_calculations", &columns, &values)
}

/// Inserts fetch-log rows.
pub(crate) fn insert_fetch_log(
    db: &mut Db<'_>,
    run_id: &str,
    entries: &[FetchLogEntry],
) -> Result<usize, StoreError> {
    let columns = [
        ("run_id", Kind::Plain),
        ("settlement_date", Kind::Date),
        ("settlement_period", Kind::Plain),
        ("side", Kind::Plain),
        ("status", Kind::Plain),
        ("items_received", Kind::Plain),
        ("records_kept", Kind::Plain),
        ("fetched_at", Kind::Instant),
        ("source_hash", Kind::Plain),
    ];
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let count = |n: u64| {
            i64::try_from(n).map_err(|_| StoreError::InvalidInput {
                reason: format!("fetch log count {n} is too large"),
            })
        };
        rows.push(vec![
            Val::text(run_id),
            Val::date(e.settlement_date),
            Val::int(i64::from(e.settlement_period)),
            Val::text(e.side.as_str()),
            Val::text(match e.status {
                FetchStatus::Fetched => "fetched",
                FetchStatus::Missing => "missing",
            }),
            Val::int(count(e.items_received)?),
            Val::int(count(e.records_kept)?),
            Val::text(instant_text(e.fetched_at)),
            Val::opt_text(e.source_hash.as_deref()),
        ]);
    }
    db.insert_rows("fetch_log", &columns, &rows)
}

/// Writes a summary row's owned columns in place; inserts the row only when absent. Other
/// columns (wind generation, created_at) are never touched.
pub(crate) fn write_summary(
    db: &mut Db<'_>,
    t: SummaryTable,
    key: &str,
    energy: Option<Decimal>,
    payment: Option<Decimal>,
) -> Result<(), StoreError> {
    let now = db.now();
    let stamps: Vec<String> = t.stamps.iter().map(|c| format!("{c} = {now}")).collect();
    let sql = format!(
        "UPDATE {} SET total_curtailed_energy = {}, total_payment = {}, {} WHERE {} = {}",
        t.table,
        db.param(1, Kind::Num),
        db.param(2, Kind::Num),
        stamps.join(", "),
        t.key,
        db.param(3, t.key_kind),
    );
    let binds = [Val::opt_dec(energy), Val::opt_dec(payment), Val::text(key)];
    if db.exec(&sql, &binds)? == 0 {
        let sql = format!(
            "INSERT INTO {} ({}, total_curtailed_energy, total_payment) VALUES ({}, {}, {})",
            t.table,
            t.key,
            db.param(3, t.key_kind),
            db.param(1, Kind::Num),
            db.param(2, Kind::Num),
        );
        db.exec(&sql, &binds)?;
    }
    Ok(())
}

/// Sets the bitcoin summary row of (period, model) to the new value, inserting it when there
/// is none. Legacy duplicates of the key (the platform's tables have no unique key) are
/// collapsed first: the oldest row (lowest id) is kept, the others are deleted, and a note
/// saying so is returned for the audit log.
pub(crate) fn write_btc_summary(
    db: &mut Db<'_>,
    s: &BitcoinSummary,
) -> Result<Option<String>, StoreError> {
    let (t, _) = btc_table(s.period);
    let key = key_text(s.period);
    let note = collapse_duplicates(db, t, &key, &s.miner_model)?;
    let now = db.now();
    let sql = format!(
        "UPDATE {} SET bitcoin_mined = {}, updated_at = {now} WHERE {} = {} AND miner_model = $3",
        t.table,
        db.param(1, Kind::Num),
        t.key,
        db.param(2, t.key_kind),
    );
    let binds = [
        Val::dec(s.bitcoin_mined),
        Val::text(&key),
        Val::text(&s.miner_model),
    ];
    if db.exec(&sql, &binds)? == 0 {
        let sql = format!(
            "INSERT INTO {} ({}, miner_model, bitcoin_mined) VALUES ({}, $3, {})",
            t.table,
            t.key,
            db.param(2, t.key_kind),
            db.param(1, Kind::Num),
        );
        db.exec(&sql, &binds)?;
    }
    Ok(note)
}

/// Deletes every row of (key, model) but the oldest; says what it removed.
fn collapse_duplicates(
    db: &mut Db<'_>,
    t: SummaryTable,
    key: &str,
    model: &str,
) -> Result<Option<String>, StoreError> {
    let where_key = format!(
        "{} = {} AND miner_model = $2",
        t.key,
        db.param(1, t.key_kind)
    );
    let binds = [Val::text(key), Val::text(model)];
    let ids: Vec<crate::db::IntRow> = db.load(
        &format!(
            "SELECT CAST(id AS bigint) AS v FROM {} WHERE {where_key} ORDER BY id",
            t.table
        ),
        &binds,
    )?;
    let Some((kept, extra)) = ids.split_first().filter(|(_, rest)| !rest.is_empty()) else {
        return Ok(None);
    };
    let removed = db.exec(
        &format!("DELETE FROM {} WHERE {where_key} AND id <> $3", t.table),
        &[binds[0].clone(), binds[1].clone(), Val::int(kept.v)],
    )?;
    let ids: Vec<String> = extra.iter().map(|r| r.v.to_string()).collect();
    Ok(Some(format!(
        "{} {key} {model}: kept row {}, removed {removed} legacy duplicate(s) (ids {})",
        t.table,
        kept.v,
        ids.join(", ")
    )))
}

/// Checks that derived rows belong to `date`, its month and its year.
pub(crate) fn check_derived(date: SettlementDate, d: &DerivedRows) -> Result<(), StoreError> {
    let wrong = |what: String| StoreError::Hook {
        detail: format!("derived {what}, but the swap is of {date}"),
    };
    if d.daily.date != date {
        return Err(wrong(format!("a daily summary of {}", d.daily.date)));
    }
    if d.monthly.year_month != date.year_month() {
        return Err(wrong(format!(
            "a monthly summary of {}",
            d.monthly.year_month
        )));
    }
    if d.yearly.year != date.year() {
        return Err(wrong(format!("a yearly summary of {}", d.yearly.year)));
    }
    if let Some(r) = d.bitcoin_rows.iter().find(|r| r.settlement_date != date) {
        return Err(wrong(format!("a bitcoin row of {}", r.settlement_date)));
    }
    let ok_period = |p: SummaryPeriod| {
        p == SummaryPeriod::Day(date)
            || p == SummaryPeriod::Month(date.year_month())
            || p == SummaryPeriod::Year(date.year())
    };
    if let Some(s) = d.bitcoin_summaries.iter().find(|s| !ok_period(s.period)) {
        return Err(wrong(format!("a bitcoin summary of {}", s.period)));
    }
    Ok(())
}

/// Writes the derived rows: the daily, monthly and yearly summaries, the day's bitcoin rows
/// and every bitcoin summary. Returns notes on legacy duplicates it collapsed.
pub(crate) fn write_derived(db: &mut Db<'_>, d: &DerivedRows) -> Result<Vec<String>, StoreError> {
    write_summary(
        db,
        DAILY,
        &key_text(SummaryPeriod::Day(d.daily.date)),
        Some(d.daily.total_curtailed_energy),
        Some(d.daily.total_payment),
    )?;
    insert_bitcoin_rows(db, &d.bitcoin_rows)?;
    write_summary(
        db,
        MONTHLY,
        &key_text(SummaryPeriod::Month(d.monthly.year_month)),
        Some(d.monthly.total_curtailed_energy),
        Some(d.monthly.total_payment),
    )?;
    write_summary(
        db,
        YEARLY,
        &key_text(SummaryPeriod::Year(d.yearly.year)),
        Some(d.yearly.total_curtailed_energy),
        Some(d.yearly.total_payment),
    )?;
    let mut notes = Vec::new();
    for s in &d.bitcoin_summaries {
        notes.extend(write_btc_summary(db, s)?);
    }
    Ok(notes)
}

/// An audit row as written: final rows get a finish time.
pub(crate) fn insert_running(db: &mut Db<'_>, row: &AuditRow) -> Result<(), StoreError> {
    write_audit(db, row, false)
}

/// Writes (inserts or replaces by run id) a run's final audit row.
pub(crate) fn upsert_audit(db: &mut Db<'_>, row: &AuditRow) -> Result<(), StoreError> {
    write_audit(db, row, true)
}

fn write_audit(db: &mut Db<'_>, row: &AuditRow, upsert: bool) -> Result<(), StoreError> {
    let columns = [
        ("run_id", Kind::Plain),
        ("kind", Kind::Plain),
        ("settlement_date", Kind::Date),
        ("periods", Kind::Plain),
        ("reason", Kind::Plain),
        ("user_name", Kind::Plain),
        ("host", Kind::Plain),
        ("status", Kind::Plain),
        ("records_before", Kind::Plain),
        ("records_after", Kind::Plain),
        ("energy_before", Kind::Num),
        ("energy_after", Kind::Num),
        ("payment_before", Kind::Num),
        ("payment_after", Kind::Num),
        ("per_period_counts", Kind::Plain),
        ("started_at", Kind::Instant),
        ("finished_at", Kind::Instant),
        ("duration_ms", Kind::Plain),
        ("tool_version", Kind::Plain),
        ("detail", Kind::Plain),
        ("difficulty", Kind::Num),
        ("difficulty_date", Kind::Date),
        ("difficulty_source", Kind::Plain),
        ("block_subsidy", Kind::Num),
    ];
    let finished = upsert.then(|| instant_text(Utc::now()));
    let inputs = row.inputs.as_ref();
    let values = vec![
        Val::text(&row.run_id),
        Val::text(&row.kind),
        Val::date(row.settlement_date),
        Val::text(&row.periods),
        Val::opt_text(row.reason.as_deref()),
        Val::text(&row.user),
        Val::text(&row.host),
        Val::text(&row.status),
        Val::int(row.records_before),
        Val::int(row.records_after),
        Val::dec(row.energy_before),
        Val::dec(row.energy_after),
        Val::dec(row.payment_before),
        Val::dec(row.payment_after),
        Val::text(&row.per_period_counts),
        Val::text(instant_text(row.started_at)),
        Val::Text(finished),
        Val::int(row.duration_ms),
        Val::text(&row.tool_version),
        Val::opt_text(row.detail.as_deref()),
        Val::opt_dec(inputs.map(|i| i.difficulty)),
        Val::Text(
            inputs
                .and_then(|i| i.difficulty_date)
                .map(|d| d.format("%Y-%m-%d").to_string()),
        ),
        Val::opt_text(inputs.map(|i| i.origin.as_str())),
        Val::opt_dec(inputs.map(|i| i.subsidy)),
    ];
    let names: Vec<&str> = columns.iter().map(|(n, _)| *n).collect();
    let params: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, k))| db.param(i + 1, *k))
        .collect();
    let mut sql = format!(
        "INSERT INTO reingest_runs ({}) VALUES ({})",
        names.join(", "),
        params.join(", ")
    );
    if upsert {
        let updates: Vec<String> = names
            .iter()
            .filter(|n| **n != "run_id")
            .map(|n| format!("{n} = excluded.{n}"))
            .collect();
        sql.push_str(&format!(
            " ON CONFLICT (run_id) DO UPDATE SET {}",
            updates.join(", ")
        ));
    }
    db.exec(&sql, &values)?;
    Ok(())
}

/// `{"1": 3, "2": 0, …}` for every period of `periods`, counting `records`.
pub(crate) fn per_period_counts(periods: PeriodRange, records: &[CurtailmentRecord]) -> String {
    let parts: Vec<String> = periods
        .numbers()
        .map(|p| {
            let n = records.iter().filter(|r| r.settlement_period == p).count();
            format!("\"{p}\": {n}")
        })
        .collect();
    format!("{{{}}}", parts.join(", "))
}

/// Totals of the records of `periods`.
pub(crate) fn totals_in(
    periods: PeriodRange,
    records: &[CurtailmentRecord],
) -> Result<DayTotals, StoreError> {
    Ok(records
        .iter()
        .filter(|r| periods.contains(r.settlement_period))
        .try_fold(DayTotals::default(), |acc, r| acc.with_record(r))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_keys_differ_per_date_and_carry_a_prefix() {
        let a = lock_key("2024-03-21".parse().unwrap());
        let b = lock_key("2024-03-22".parse().unwrap());
        assert_ne!(a, b);
        assert_eq!(a >> 32, 0x5245_494E);
    }

    #[test]
    fn per_period_counts_list_every_period_in_order() {
        let d: SettlementDate = "2024-03-21".parse().unwrap();
        let r = PeriodRange::parse("9-11", d).unwrap();
        assert_eq!(per_period_counts(r, &[]), r#"{"9": 0, "10": 0, "11": 0}"#);
    }
}
