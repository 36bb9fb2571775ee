//! The BM unit list as the API (or the platform's file) publishes it, and the rules that
//! turn it into a registry: one place, used by `bmu sync`, `bmu import` and the automatic
//! fill of an empty registry.
//!
//! A real `/reference/bmunits/all` response is messy (see `../shared/elexon-api.md` §2):
//! units without an `elexonBmUnit`, one id listed twice, null names, parties and capacities. The rules of
//! [`admit_bm_units`]:
//!
//! 1. A unit without an Elexon id (null, absent, empty or blank) cannot be joined to a stack
//!    item, so it cannot be a curtailment record: it is **left out and counted** (how many,
//!    how many of them are WIND, and their National Grid ids, in [`AdmittedUnits::without_id`]).
//! 2. Units sharing one id that **agree** on the fields the registry keeps (fuel type, lead
//!    party, name, capacity; the capacity compared as a number, so `330.000` equals `330`)
//!    become **one unit**; the id is listed in [`AdmittedUnits::merged`]. Other fields (such
//!    as `eic`) are not kept and so cannot disagree.
//! 3. Units sharing one id whose **fuel types differ** (a null fuel type differs from any
//!    other) **stop the whole list** with [`FuelTypeConflict`], naming the unit and both
//!    values: whether the unit is wind decides what is curtailment, so no guess is made and
//!    nothing is written.
//! 4. Units sharing one id that agree on the fuel type but differ in lead party, name or
//!    capacity: the **first occurrence in the list's order is kept**, and the id and the
//!    differing fields are listed in [`AdmittedUnits::kept_first`] so the caller can warn by
//!    name.
//!
//! The admitted units keep the order of each id's first occurrence.

use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::BmUnit;

/// A unit of the list without an Elexon BM Unit id: what is known of it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitWithoutId {
    /// Its National Grid BM Unit id (e.g. `ACHYW-1`), when published.
    pub national_grid_bm_unit: Option<String>,
    /// Its fuel type, when published.
    pub fuel_type: Option<String>,
}

impl UnitWithoutId {
    /// Whether the unit is a wind farm (`fuelType == "WIND"`).
    pub fn is_wind(&self) -> bool {
        self.fuel_type.as_deref() == Some("WIND")
    }
}

/// The BM unit list as published, before the rules: every unit that has an Elexon id, in the
/// list's order and duplicates included, and what is known of those without one.
///
/// This is what [`admit_bm_units`] takes, and what a source of the list hands over.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct BmUnitList {
    /// The units with an Elexon id, in the list's order (ids may repeat).
    pub units: Vec<BmUnit>,
    /// The units without an Elexon id, in the list's order.
    pub without_id: Vec<UnitWithoutId>,
}

impl From<Vec<BmUnit>> for BmUnitList {
    /// A list whose units all have an id (ids may still repeat).
    fn from(units: Vec<BmUnit>) -> Self {
        Self {
            units,
            without_id: Vec::new(),
        }
    }
}

/// A field the registry keeps besides the id and the fuel type, which duplicates of one id
/// may disagree on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitField {
    /// `leadPartyName`.
    LeadParty,
    /// `bmUnitName`.
    Name,
    /// `generationCapacity`, compared as a number.
    Capacity,
    /// `nationalGridBmUnit`.
    NationalGridId,
}

impl UnitField {
    /// The field's name in messages: `lead party`, `name`, `capacity`, `National Grid id`.
    pub fn label(self) -> &'static str {
        match self {
            UnitField::LeadParty => "lead party",
            UnitField::Name => "name",
            UnitField::Capacity => "capacity",
            UnitField::NationalGridId => "National Grid id",
        }
    }
}

impl fmt::Display for UnitField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// An id listed more than once whose occurrences differ in fields other than the fuel type:
/// the first occurrence was kept.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptFirst {
    /// The Elexon BM Unit id.
    pub elexon_bm_unit: String,
    /// The fields a later occurrence differed in, in a fixed order.
    pub differing: Vec<UnitField>,
}

/// The counts of what the rules left out or merged: what the registry's audit row records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RegistryCounts {
    /// Units left out because they have no Elexon id.
    pub without_id: u32,
    /// How many of those are WIND.
    pub wind_without_id: u32,
    /// Ids listed more than once whose occurrences agreed, merged into one unit.
    pub duplicates_merged: u32,
    /// Ids listed more than once whose occurrences differed in lead party, name, capacity or
    /// National Grid id: the first occurrence was kept.
    pub duplicates_kept_first: u32,
}

/// What [`admit_bm_units`] made of a list: the units to store and what it left out or merged.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct AdmittedUnits {
    /// One unit per Elexon id, in the order of each id's first occurrence.
    pub units: Vec<BmUnit>,
    /// The units left out for having no Elexon id, in the list's order.
    pub without_id: Vec<UnitWithoutId>,
    /// Ids whose occurrences agreed and became one unit, in the order of first occurrence.
    pub merged: Vec<String>,
    /// Ids whose occurrences differed in a field other than the fuel type (first kept).
    pub kept_first: Vec<KeptFirst>,
}

impl AdmittedUnits {
    /// How many of the admitted units are wind farms.
    pub fn wind_count(&self) -> usize {
        self.units.iter().filter(|u| u.is_wind()).count()
    }

    /// The counts the registry's audit row records.
    pub fn counts(&self) -> RegistryCounts {
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        RegistryCounts {
            without_id: count(self.without_id.len()),
            wind_without_id: count(self.without_id.iter().filter(|u| u.is_wind()).count()),
            duplicates_merged: count(self.merged.len()),
            duplicates_kept_first: count(self.kept_first.len()),
        }
    }
}

/// One Elexon id listed more than once with two different fuel types: the list is refused
/// and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "BM unit {elexon_bm_unit} is listed more than once with different fuel types ({} and {}); \
     whether it is a wind farm cannot be decided, so nothing was written: correct the list",
    shown(first),
    shown(second)
)]
pub struct FuelTypeConflict {
    /// The Elexon BM Unit id.
    pub elexon_bm_unit: String,
    /// The fuel type of its first occurrence (`None`: null).
    pub first: Option<String>,
    /// The differing fuel type of a later occurrence (`None`: null).
    pub second: Option<String>,
}

fn shown(value: &Option<String>) -> String {
    match value {
        Some(v) => format!("{v:?}"),
        None => "null".to_owned(),
    }
}

/// Applies the registry's rules (see the module documentation) to a published list.
///
/// ```
/// use settlement_model::{admit_bm_units, BmUnit, BmUnitList, UnitWithoutId};
/// let unit = |id: &str, eic: u8| BmUnit {
///     elexon_bm_unit: id.into(), national_grid_bm_unit: Some(format!("NG{eic}")),
///     bm_unit_name: Some("Walney Extension".into()), lead_party_name: None,
///     fuel_type: Some("WIND".into()), generation_capacity: Some("330.000".parse().unwrap()),
/// };
/// let list = BmUnitList {
///     units: vec![unit("T_WLNYO-4", 1), unit("T_WLNYO-4", 1)],
///     without_id: vec![UnitWithoutId {
///         national_grid_bm_unit: Some("ACHYW-1".into()), fuel_type: Some("WIND".into()),
///     }],
/// };
/// let admitted = admit_bm_units(list).unwrap();
/// assert_eq!(admitted.units.len(), 1);
/// assert_eq!(admitted.merged, vec!["T_WLNYO-4".to_owned()]);
/// assert_eq!(admitted.counts().wind_without_id, 1);
/// ```
pub fn admit_bm_units(list: BmUnitList) -> Result<AdmittedUnits, FuelTypeConflict> {
    let BmUnitList { units, without_id } = list;
    let mut out = AdmittedUnits {
        units: Vec::with_capacity(units.len()),
        without_id,
        merged: Vec::new(),
        kept_first: Vec::new(),
    };
    // id -> (index in out.units, fields any later occurrence differed in, seen again)
    let mut seen: HashMap<String, (usize, Vec<UnitField>, bool)> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    for unit in units {
        let id = unit.elexon_bm_unit.trim();
        if id.is_empty() {
            out.without_id.push(UnitWithoutId {
                national_grid_bm_unit: unit.national_grid_bm_unit,
                fuel_type: unit.fuel_type,
            });
            continue;
        }
        match seen.get_mut(id) {
            None => {
                let id = id.to_owned();
                seen.insert(id.clone(), (out.units.len(), Vec::new(), false));
                order.push(id.clone());
                out.units.push(BmUnit {
                    elexon_bm_unit: id,
                    ..unit
                });
            }
            Some((index, differing, again)) => {
                let first = &out.units[*index];
                if first.fuel_type != unit.fuel_type {
                    return Err(FuelTypeConflict {
                        elexon_bm_unit: first.elexon_bm_unit.clone(),
                        first: first.fuel_type.clone(),
                        second: unit.fuel_type,
                    });
                }
                *again = true;
                for field in differing_fields(first, &unit) {
                    if !differing.contains(&field) {
                        differing.push(field);
                    }
                }
            }
        }
    }
    for id in order {
        if let Some((_, mut differing, true)) = seen.remove(&id) {
            if differing.is_empty() {
                out.merged.push(id);
            } else {
                differing.sort();
                out.kept_first.push(KeptFirst {
                    elexon_bm_unit: id,
                    differing,
                });
            }
        }
    }
    Ok(out)
}

/// The kept fields (other than the id and fuel type) in which `later` differs from `first`.
fn differing_fields(first: &BmUnit, later: &BmUnit) -> Vec<UnitField> {
    let mut fields = Vec::new();
    if first.lead_party_name != later.lead_party_name {
        fields.push(UnitField::LeadParty);
    }
    if first.bm_unit_name != later.bm_unit_name {
        fields.push(UnitField::Name);
    }
    if first.generation_capacity != later.generation_capacity {
        fields.push(UnitField::Capacity);
    }
    if first.national_grid_bm_unit != later.national_grid_bm_unit {
        fields.push(UnitField::NationalGridId);
    }
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A unit written as `ID:FUEL:PARTY:NAME:CAPACITY`, `-` for null.
    fn unit(spec: &str) -> BmUnit {
        let parts: Vec<&str> = spec.split(':').collect();
        let opt = |i: usize| match parts.get(i).copied() {
            None | Some("-") => None,
            Some(v) => Some(v.to_owned()),
        };
        BmUnit {
            elexon_bm_unit: parts[0].to_owned(),
            national_grid_bm_unit: None,
            bm_unit_name: opt(3),
            lead_party_name: opt(2),
            fuel_type: opt(1),
            generation_capacity: opt(4).map(|c| c.parse().expect("a capacity")),
        }
    }

    fn no_id(ng: &str, fuel: &str) -> UnitWithoutId {
        UnitWithoutId {
            national_grid_bm_unit: Some(ng.to_owned()),
            fuel_type: Some(fuel.to_owned()),
        }
    }

    /// What the rules should make of `units` (with `without` units lacking an id): the ids
    /// kept in order, the merged ids, the kept-first ids with their fields, the counts.
    struct Expect<'a> {
        ids: &'a [&'a str],
        merged: &'a [&'a str],
        kept_first: &'a [(&'a str, &'a [UnitField])],
        counts: RegistryCounts,
    }

    fn check(units: &[&str], without: Vec<UnitWithoutId>, expect: Expect<'_>) {
        let list = BmUnitList {
            units: units.iter().map(|s| unit(s)).collect(),
            without_id: without,
        };
        let out = admit_bm_units(list).expect("admitted");
        let ids: Vec<&str> = out
            .units
            .iter()
            .map(|u| u.elexon_bm_unit.as_str())
            .collect();
        assert_eq!(ids, expect.ids, "{units:?}");
        assert_eq!(out.merged, expect.merged, "{units:?}");
        let kept: Vec<(&str, &[UnitField])> = out
            .kept_first
            .iter()
            .map(|k| (k.elexon_bm_unit.as_str(), k.differing.as_slice()))
            .collect();
        assert_eq!(kept, expect.kept_first, "{units:?}");
        assert_eq!(out.counts(), expect.counts, "{units:?}");
    }

    #[test]
    fn units_without_an_id_are_left_out_and_counted() {
        check(
            &["T_A-1:WIND:P:A:10", " :WIND:-:-:-", ":CCGT"],
            vec![no_id("ACHYW-1", "WIND"), no_id("X-1", "CCGT")],
            Expect {
                ids: &["T_A-1"],
                merged: &[],
                kept_first: &[],
                counts: RegistryCounts {
                    without_id: 4,
                    wind_without_id: 2,
                    ..RegistryCounts::default()
                },
            },
        );
    }

    #[test]
    fn agreeing_duplicates_become_one_unit() {
        // Capacity compared as a number: 330.000 and 330 agree; nulls agree with nulls.
        check(
            &[
                "T_WLNYO-4:WIND:Orsted:Walney Extension:330.000",
                "T_B-1:CCGT:-:-:-",
                "T_WLNYO-4:WIND:Orsted:Walney Extension:330",
                "T_B-1:CCGT:-:-:-",
                "T_B-1:CCGT:-:-:-",
            ],
            vec![],
            Expect {
                ids: &["T_WLNYO-4", "T_B-1"],
                merged: &["T_WLNYO-4", "T_B-1"],
                kept_first: &[],
                counts: RegistryCounts {
                    duplicates_merged: 2,
                    ..RegistryCounts::default()
                },
            },
        );
    }

    #[test]
    fn other_field_conflicts_keep_the_first_and_say_which_fields() {
        check(
            &[
                "T_A-1:WIND:First:A:10",
                "T_A-1:WIND:Second:A:10",
                "T_A-1:WIND:First:Renamed:12",
                "T_B-1:WIND:-:B:-",
                "T_B-1:WIND:-:B:-",
            ],
            vec![],
            Expect {
                ids: &["T_A-1", "T_B-1"],
                merged: &["T_B-1"],
                kept_first: &[(
                    "T_A-1",
                    &[UnitField::LeadParty, UnitField::Name, UnitField::Capacity],
                )],
                counts: RegistryCounts {
                    duplicates_merged: 1,
                    duplicates_kept_first: 1,
                    ..RegistryCounts::default()
                },
            },
        );
        let list = BmUnitList::from(vec![unit("T_A-1:WIND:First"), unit("T_A-1:WIND:Second")]);
        let out = admit_bm_units(list).expect("admitted");
        assert_eq!(out.units[0].lead_party_name.as_deref(), Some("First"));
    }

    #[test]
    fn a_fuel_type_conflict_is_refused_naming_both_values() {
        for (units, first, second) in [
            (
                &["T_A-1:WIND", "T_B-1:CCGT", "T_A-1:CCGT"][..],
                "\"WIND\"",
                "\"CCGT\"",
            ),
            (&["T_A-1:-", "T_A-1:WIND"][..], "null", "\"WIND\""),
        ] {
            let list = BmUnitList::from(units.iter().map(|s| unit(s)).collect::<Vec<_>>());
            let err = admit_bm_units(list).expect_err("refused");
            assert_eq!(err.elexon_bm_unit, "T_A-1");
            let text = err.to_string();
            assert!(
                text.contains("T_A-1") && text.contains(first) && text.contains(second),
                "{text}"
            );
            assert!(text.contains("nothing was written"), "{text}");
        }
    }

    #[test]
    fn a_clean_list_passes_unchanged() {
        let units = vec![unit("T_A-1:WIND:P:A:1"), unit("T_B-1:CCGT")];
        let out = admit_bm_units(BmUnitList::from(units.clone())).expect("admitted");
        assert_eq!(out.units, units);
        assert_eq!(out.counts(), RegistryCounts::default());
        assert_eq!(out.wind_count(), 1);
    }
}
