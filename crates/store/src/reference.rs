//! Reference data in the store: the BM unit registry (and where it came from), the
//! difficulty table (with block heights) and the halving days.

use chrono::{NaiveDate, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use settlement_model::{BmUnit, DifficultyEntry, Halving, RegistryCounts, RegistryOrigin};

use crate::db::{coalesce, on_db, Db};
use crate::read::parse_instant;
use crate::rows::{DifficultyRow, HalvingRow, NewDifficulty, NewUnit, UnitRow};
use crate::schema::{bitcoin_halvings, bm_unit_registry, bm_units, difficulty};
use crate::sql_types::{ExactDecimal, InstantValue, StoredInstant};
use crate::{DifficultyAround, RegistryState, StoreError};

/// Rows per multi-row `INSERT`: well under both backends' bind-parameter limits.
const ROWS_PER_INSERT: usize = 1000;

/// The registry, by unit id.
pub(crate) fn bm_units(db: &mut Db<'_>) -> Result<Vec<BmUnit>, StoreError> {
    let rows: Vec<UnitRow> = on_db!(db, c => bm_units::table
        .select(UnitRow::as_select())
        .order(bm_units::elexon_bm_unit)
        .load(c))?;
    rows.into_iter()
        .map(|r| {
            Ok(BmUnit {
                generation_capacity: r
                    .generation_capacity
                    .map(|g| g.parse("bm_units", "generation_capacity"))
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

/// Replaces the registry and records where it came from and what the rules left out or
/// merged, in the caller's transaction.
pub(crate) fn replace_bm_units(
    db: &mut Db<'_>,
    units: &[BmUnit],
    origin: RegistryOrigin,
    counts: RegistryCounts,
) -> Result<usize, StoreError> {
    let count = |n: u32| {
        i32::try_from(n).map_err(|_| StoreError::InvalidInput {
            reason: format!("a BM unit registry count of {n} does not fit the database"),
        })
    };
    let without_id = count(counts.without_id)?;
    let wind_without_id = count(counts.wind_without_id)?;
    let merged = count(counts.duplicates_merged)?;
    let kept_first = count(counts.duplicates_kept_first)?;
    let rows: Vec<NewUnit<'_>> = units
        .iter()
        .map(|u| NewUnit {
            elexon_bm_unit: &u.elexon_bm_unit,
            national_grid_bm_unit: u.national_grid_bm_unit.as_deref(),
            bm_unit_name: u.bm_unit_name.as_deref(),
            lead_party_name: u.lead_party_name.as_deref(),
            fuel_type: u.fuel_type.as_deref(),
            generation_capacity: u.generation_capacity.map(ExactDecimal),
        })
        .collect();
    if db.is_pg() {
        // Raw SQL: diesel has no `LOCK TABLE`. Concurrent replacements (several runs filling
        // an empty registry at once) take turns; without this, both delete, then the second
        // insert violates the primary key. Readers are not blocked. SQLite's write
        // transaction already excludes others.
        db.batch("LOCK TABLE bm_units IN SHARE ROW EXCLUSIVE MODE")?;
    }
    on_db!(db, c => diesel::delete(bm_units::table).execute(c))?;
    let mut n = 0;
    for chunk in rows.chunks(ROWS_PER_INSERT) {
        n += on_db!(db, c => diesel::insert_into(bm_units::table).values(chunk).execute(c))?;
    }
    let refreshed = InstantValue(Utc::now());
    on_db!(db, c => diesel::insert_into(bm_unit_registry::table)
        .values((
            bm_unit_registry::id.eq(1),
            bm_unit_registry::origin.eq(origin.as_str()),
            bm_unit_registry::refreshed_at.eq(refreshed),
            bm_unit_registry::units_without_id.eq(Some(without_id)),
            bm_unit_registry::wind_units_without_id.eq(Some(wind_without_id)),
            bm_unit_registry::duplicates_merged.eq(Some(merged)),
            bm_unit_registry::duplicates_kept_first.eq(Some(kept_first)),
        ))
        .on_conflict(bm_unit_registry::id)
        .do_update()
        .set((
            bm_unit_registry::origin.eq(excluded(bm_unit_registry::origin)),
            bm_unit_registry::refreshed_at.eq(excluded(bm_unit_registry::refreshed_at)),
            bm_unit_registry::units_without_id.eq(excluded(bm_unit_registry::units_without_id)),
            bm_unit_registry::wind_units_without_id
                .eq(excluded(bm_unit_registry::wind_units_without_id)),
            bm_unit_registry::duplicates_merged
                .eq(excluded(bm_unit_registry::duplicates_merged)),
            bm_unit_registry::duplicates_kept_first
                .eq(excluded(bm_unit_registry::duplicates_kept_first)),
        ))
        .execute(c))?;
    Ok(n)
}

/// Where the registry came from, if recorded.
pub(crate) fn registry_state(db: &mut Db<'_>) -> Result<Option<RegistryState>, StoreError> {
    const T: &str = "bm_unit_registry";
    type Counts = (Option<i32>, Option<i32>, Option<i32>, Option<i32>);
    let row: Option<(String, StoredInstant, Counts)> = on_db!(db, c => bm_unit_registry::table
        .filter(bm_unit_registry::id.eq(1))
        .select((
            bm_unit_registry::origin,
            bm_unit_registry::refreshed_at,
            (
                bm_unit_registry::units_without_id,
                bm_unit_registry::wind_units_without_id,
                bm_unit_registry::duplicates_merged,
                bm_unit_registry::duplicates_kept_first,
            ),
        ))
        .first(c)
        .optional())?;
    let count = |column: &'static str, v: i32| {
        u32::try_from(v).map_err(|_| StoreError::CorruptValue {
            table: T,
            column,
            value: v.to_string(),
            reason: "not a count".into(),
        })
    };
    row.map(|(origin, refreshed_at, counts)| {
        let counts = match counts {
            (Some(a), Some(b), Some(c), Some(d)) => Some(RegistryCounts {
                without_id: count("units_without_id", a)?,
                wind_without_id: count("wind_units_without_id", b)?,
                duplicates_merged: count("duplicates_merged", c)?,
                duplicates_kept_first: count("duplicates_kept_first", d)?,
            }),
            _ => None,
        };
        Ok(RegistryState {
            counts,
            origin: origin.parse().map_err(|reason| StoreError::CorruptValue {
                table: T,
                column: "origin",
                value: origin.clone(),
                reason,
            })?,
            refreshed_at: parse_instant(T, "refreshed_at", &refreshed_at.0)?,
        })
    })
    .transpose()
}

fn parse_height(table: &'static str, v: i64) -> Result<u64, StoreError> {
    u64::try_from(v).map_err(|_| StoreError::CorruptValue {
        table,
        column: "block_height",
        value: v.to_string(),
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
    use crate::schema::difficulty::dsl::{block_height, difficulty_date};
    const T: &str = "difficulty";
    let row: Option<DifficultyRow> = on_db!(db, c => {
        let mut q = difficulty::table
            .select(DifficultyRow::as_select())
            .into_boxed();
        q = if before {
            q.filter(difficulty_date.le(date))
                .order(difficulty_date.desc())
        } else {
            q.filter(difficulty_date.gt(date)).order(difficulty_date.asc())
        };
        if with_height {
            q = q.filter(block_height.is_not_null());
        }
        q.first(c).optional()
    })?;
    row.map(|r| {
        Ok(DifficultyEntry {
            date: r.difficulty_date,
            difficulty: r.value.parse(T, "difficulty")?,
            height: r.block_height.map(|h| parse_height(T, h)).transpose()?,
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

/// The whole difficulty table, oldest first.
pub(crate) fn difficulty_entries(db: &mut Db<'_>) -> Result<Vec<DifficultyEntry>, StoreError> {
    const T: &str = "difficulty";
    let rows: Vec<DifficultyRow> = on_db!(db, c => difficulty::table
        .select(DifficultyRow::as_select())
        .order(difficulty::difficulty_date.asc())
        .load(c))?;
    rows.into_iter()
        .map(|r| {
            Ok(DifficultyEntry {
                date: r.difficulty_date,
                difficulty: r.value.parse(T, "difficulty")?,
                height: r.block_height.map(|h| parse_height(T, h)).transpose()?,
            })
        })
        .collect()
}

/// Inserts or replaces entries; a known height survives an entry without one.
pub(crate) fn upsert_difficulties(
    db: &mut Db<'_>,
    rows: &[DifficultyEntry],
) -> Result<usize, StoreError> {
    use crate::schema::difficulty::dsl::{block_height, value};
    let mut n = 0;
    for e in rows {
        let height =
            e.height
                .map(i64::try_from)
                .transpose()
                .map_err(|_| StoreError::InvalidInput {
                    reason: format!("block height of {} is too large", e.date),
                })?;
        let row = NewDifficulty {
            difficulty_date: e.date,
            value: ExactDecimal(e.difficulty),
            block_height: height,
        };
        n += on_db!(db, c => diesel::insert_into(difficulty::table)
            .values(&row)
            .on_conflict(difficulty::difficulty_date)
            .do_update()
            .set((
                value.eq(excluded(value)),
                block_height.eq(coalesce(excluded(block_height), block_height)),
            ))
            .execute(c))?;
    }
    Ok(n)
}

/// Every known halving, by height.
pub(crate) fn halvings(db: &mut Db<'_>) -> Result<Vec<Halving>, StoreError> {
    const T: &str = "bitcoin_halvings";
    let rows: Vec<HalvingRow> = on_db!(db, c => bitcoin_halvings::table
        .select(HalvingRow::as_select())
        .order(bitcoin_halvings::block_height)
        .load(c))?;
    rows.into_iter()
        .map(|r| {
            let height = parse_height(T, r.block_height)?;
            Halving::new(height, r.halving_date).ok_or_else(|| StoreError::CorruptValue {
                table: T,
                column: "block_height",
                value: r.block_height.to_string(),
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
    use crate::schema::bitcoin_halvings::dsl;
    let height = i64::try_from(halving.height).map_err(|_| StoreError::InvalidInput {
        reason: format!("block height {} is too large", halving.height),
    })?;
    on_db!(db, c => diesel::insert_into(bitcoin_halvings::table)
        .values((
            dsl::block_height.eq(height),
            dsl::halving_date.eq(halving.day),
            dsl::source.eq(source),
        ))
        .on_conflict(dsl::block_height)
        .do_update()
        .set((
            dsl::halving_date.eq(excluded(dsl::halving_date)),
            dsl::source.eq(excluded(dsl::source)),
        ))
        .execute(c))?;
    Ok(())
}
