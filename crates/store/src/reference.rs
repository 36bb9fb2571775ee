//! Reference data in the store: the BM unit registry (and where it came from), the
//! difficulty table (with block heights) and the halving days.

use chrono::NaiveDate;
use chrono::Utc;
use diesel::sql_types::{Nullable, Text};
use diesel::QueryableByName;
use settlement_model::{BmUnit, DifficultyEntry, Halving, RegistryOrigin};

use crate::db::{parse_dec, Db, Kind, Val};
use crate::read::parse_instant;
use crate::write::instant_text;
use crate::{DifficultyAround, RegistryState, StoreError};

#[derive(QueryableByName)]
struct UnitRow {
    #[diesel(sql_type = Text)]
    elexon_bm_unit: String,
    #[diesel(sql_type = Nullable<Text>)]
    national_grid_bm_unit: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    bm_unit_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    lead_party_name: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    fuel_type: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    generation_capacity: Option<String>,
}

/// The registry, by unit id.
pub(crate) fn bm_units(db: &mut Db<'_>) -> Result<Vec<BmUnit>, StoreError> {
    let sql = format!(
        "SELECT elexon_bm_unit, national_grid_bm_unit, bm_unit_name, lead_party_name, \
         fuel_type, {} AS generation_capacity FROM bm_units ORDER BY elexon_bm_unit",
        db.num_out("generation_capacity")
    );
    let rows: Vec<UnitRow> = db.load(&sql, &[])?;
    rows.into_iter()
        .map(|r| {
            Ok(BmUnit {
                generation_capacity: r
                    .generation_capacity
                    .map(|g| parse_dec("bm_units", "generation_capacity", &g))
                    .transpose()?,
                elexon_bm_unit: r.elexon_bm_unit,
                national_grid_bm_unit: r.national_grid_bm_unit,
                bm_unit_name: r.bm_unit_name,
                lead_party_name: r.lead_party_name,
                fuel_type: r.fuel_type,
            })
        })
        .collect()
}

/// Replaces the registry and records where it came from, in the caller's transaction.
pub(crate) fn replace_bm_units(
    db: &mut Db<'_>,
    units: &[BmUnit],
    origin: RegistryOrigin,
) -> Result<usize, StoreError> {
    let columns = [
        ("elexon_bm_unit", Kind::Plain),
        ("national_grid_bm_unit", Kind::Plain),
        ("bm_unit_name", Kind::Plain),
        ("lead_party_name", Kind::Plain),
        ("fuel_type", Kind::Plain),
        ("generation_capacity", Kind::Num),
    ];
    let rows: Vec<Vec<Val>> = units
        .iter()
        .map(|u| {
            vec![
                Val::text(&u.elexon_bm_unit),
                Val::opt_text(u.national_grid_bm_unit.as_deref()),
                Val::opt_text(u.bm_unit_name.as_deref()),
                Val::opt_text(u.lead_party_name.as_deref()),
                Val::opt_text(u.fuel_type.as_deref()),
                Val::opt_dec(u.generation_capacity),
            ]
        })
        .collect();
    if db.is_pg() {
        // Concurrent replacements (several runs filling an empty registry at once) take
        // turns; without this, both delete, then the second insert violates the primary
        // key. Readers are not blocked. SQLite's write transaction already excludes others.
        db.batch("LOCK TABLE bm_units IN SHARE ROW EXCLUSIVE MODE")?;
    }
    db.exec("DELETE FROM bm_units", &[])?;
    let n = db.insert_rows("bm_units", &columns, &rows)?;
    let sql = format!(
        "INSERT INTO bm_unit_registry (id, origin, refreshed_at) VALUES (1, $1, {}) \
         ON CONFLICT (id) DO UPDATE SET origin = excluded.origin, \
         refreshed_at = excluded.refreshed_at",
        db.param(2, Kind::Instant)
    );
    db.exec(
        &sql,
        &[
            Val::text(origin.as_str()),
            Val::text(instant_text(Utc::now())),
        ],
    )?;
    Ok(n)
}

#[derive(QueryableByName)]
struct RegistryRow {
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = Text)]
    refreshed_at: String,
}

/// Where the registry came from, if recorded.
pub(crate) fn registry_state(db: &mut Db<'_>) -> Result<Option<RegistryState>, StoreError> {
    const T: &str = "bm_unit_registry";
    let sql = format!(
        "SELECT origin, {} AS refreshed_at FROM bm_unit_registry WHERE id = 1",
        db.instant_out("refreshed_at")
    );
    let rows: Vec<RegistryRow> = db.load(&sql, &[])?;
    rows.into_iter()
        .next()
        .map(|r| {
            Ok(RegistryState {
                origin: r
                    .origin
                    .parse()
                    .map_err(|reason| StoreError::CorruptValue {
                        table: T,
                        column: "origin",
                        value: r.origin.clone(),
                        reason,
                    })?,
                refreshed_at: parse_instant(T, "refreshed_at", &r.refreshed_at)?,
            })
        })
        .transpose()
}

#[derive(QueryableByName)]
struct DifficultyRow {
    #[diesel(sql_type = Text)]
    d: String,
    #[diesel(sql_type = Text)]
    v: String,
    #[diesel(sql_type = Nullable<Text>)]
    h: Option<String>,
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

fn parse_day(table: &'static str, column: &'static str, v: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(v, "%Y-%m-%d").map_err(|e| StoreError::CorruptValue {
        table,
        column,
        value: v.to_owned(),
        reason: e.to_string(),
    })
}

fn parse_height(table: &'static str, v: &str) -> Result<u64, StoreError> {
    v.parse().map_err(|_| StoreError::CorruptValue {
        table,
        column: "block_height",
        value: v.to_owned(),
        reason: "not a block height".into(),
    })
}

/// One difficulty entry: the newest on or before `date` (`before`), or the oldest after it;
/// with `with_height`, only entries whose block height is known.
fn one_entry(
    db: &mut Db<'_>,
    date: NaiveDate,
    before: bool,
    with_height: bool,
) -> Result<Option<DifficultyEntry>, StoreError> {
    const T: &str = "difficulty";
    let (op, order) = if before { ("<=", "DESC") } else { (">", "ASC") };
    let height_filter = if with_height {
        " AND block_height IS NOT NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {} AS d, {} AS v, CAST(block_height AS TEXT) AS h FROM difficulty \
         WHERE difficulty_date {op} {}{height_filter} ORDER BY difficulty_date {order} LIMIT 1",
        db.date_out("difficulty_date"),
        db.num_out("difficulty"),
        db.param(1, Kind::Date)
    );
    let rows: Vec<DifficultyRow> = db.load(&sql, &[Val::text(day_text(date))])?;
    rows.into_iter()
        .next()
        .map(|r| {
            Ok(DifficultyEntry {
                date: parse_day(T, "difficulty_date", &r.d)?,
                difficulty: parse_dec(T, "difficulty", &r.v)?,
                height: r.h.as_deref().map(|h| parse_height(T, h)).transpose()?,
            })
        })
        .transpose()
}

/// The difficulty table around `date`.
pub(crate) fn difficulty_around(
    db: &mut Db<'_>,
    date: NaiveDate,
) -> Result<DifficultyAround, StoreError> {
    Ok(DifficultyAround {
        in_force: one_entry(db, date, true, false)?,
        next: one_entry(db, date, false, false)?,
        height_on_or_before: one_entry(db, date, true, true)?,
        height_after: one_entry(db, date, false, true)?,
    })
}

/// Inserts or replaces entries; a known height survives an entry without one.
pub(crate) fn upsert_difficulties(
    db: &mut Db<'_>,
    rows: &[DifficultyEntry],
) -> Result<usize, StoreError> {
    let sql = format!(
        "INSERT INTO difficulty (difficulty_date, difficulty, block_height) VALUES ({}, {}, $3) \
         ON CONFLICT (difficulty_date) DO UPDATE SET difficulty = excluded.difficulty, \
         block_height = COALESCE(excluded.block_height, difficulty.block_height)",
        db.param(1, Kind::Date),
        db.param(2, Kind::Num)
    );
    let mut n = 0;
    for e in rows {
        let height =
            e.height
                .map(i64::try_from)
                .transpose()
                .map_err(|_| StoreError::InvalidInput {
                    reason: format!("block height of {} is too large", e.date),
                })?;
        n += db.exec(
            &sql,
            &[
                Val::text(day_text(e.date)),
                Val::dec(e.difficulty),
                Val::Int(height),
            ],
        )?;
    }
    Ok(n)
}

#[derive(QueryableByName)]
struct HalvingRow {
    #[diesel(sql_type = Text)]
    h: String,
    #[diesel(sql_type = Text)]
    d: String,
}

/// Every known halving, by height.
pub(crate) fn halvings(db: &mut Db<'_>) -> Result<Vec<Halving>, StoreError> {
    const T: &str = "bitcoin_halvings";
    let sql = format!(
        "SELECT CAST(block_height AS TEXT) AS h, {} AS d FROM bitcoin_halvings \
         ORDER BY block_height",
        db.date_out("halving_date")
    );
    let rows: Vec<HalvingRow> = db.load(&sql, &[])?;
    rows.into_iter()
        .map(|r| {
            let height = parse_height(T, &r.h)?;
            let day = parse_day(T, "halving_date", &r.d)?;
            Halving::new(height, day).ok_or_else(|| StoreError::CorruptValue {
                table: T,
                column: "block_height",
                value: r.h.clone(),
                reason: "not a multiple of 210000".into(),
            })
        })
        .collect()
}

/// Records a halving's day.
pub(crate) fn upsert_halving(
    db: &mut Db<'_>,
    halving: Halving,
    source: &str,
) -> Result<(), StoreError> {
    let height = i64::try_from(halving.height).map_err(|_| StoreError::InvalidInput {
        reason: format!("block height {} is too large", halving.height),
    })?;
    let sql = format!(
        "INSERT INTO bitcoin_halvings (block_height, halving_date, source) VALUES ($1, {}, $3) \
         ON CONFLICT (block_height) DO UPDATE SET halving_date = excluded.halving_date, \
         source = excluded.source",
        db.param(2, Kind::Date)
    );
    db.exec(
        &sql,
        &[
            Val::int(height),
            Val::text(day_text(halving.day)),
            Val::text(source),
        ],
    )?;
    Ok(())
}
