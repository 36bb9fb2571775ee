//! What a replacement of the BM unit registry did (`bmu sync`, `bmu import`, the automatic
//! fill of an empty registry): units stored, wind units, units left out for having no Elexon
//! id, ids merged or kept first under the registry's rules
//! ([`settlement_model::admit_bm_units`]).

use serde::Serialize;
use settlement_model::{AdmittedUnits, KeptFirst, RegistryOrigin};

/// The units a list held without an Elexon id, which the registry leaves out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    /// How many.
    pub units: usize,
    /// How many of them are WIND.
    pub wind: usize,
    /// Their National Grid ids (those that have one), in the list's order.
    pub national_grid_ids: Vec<String>,
}

/// What a replacement of the registry stored, left out and merged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RegistryReport {
    /// Where the list came from.
    pub origin: RegistryOrigin,
    /// Units stored.
    pub bm_units: usize,
    /// Of which wind units.
    pub wind_units: usize,
    /// Units left out for having no Elexon id.
    pub without_id: LeftOut,
    /// Ids listed more than once with equal fields, stored once.
    pub duplicates_merged: Vec<String>,
    /// Ids listed more than once that differed in lead party, name, capacity or National Grid
    /// id: the first occurrence was stored.
    pub duplicates_kept_first: Vec<KeptFirst>,
}

impl RegistryReport {
    /// The report of `admitted`, of which `stored` units were written, from `origin`.
    pub fn new(admitted: &AdmittedUnits, stored: usize, origin: RegistryOrigin) -> Self {
        Self {
            origin,
            bm_units: stored,
            wind_units: admitted.wind_count(),
            without_id: LeftOut {
                units: admitted.without_id.len(),
                wind: admitted.without_id.iter().filter(|u| u.is_wind()).count(),
                national_grid_ids: admitted
                    .without_id
                    .iter()
                    .filter_map(|u| u.national_grid_bm_unit.clone())
                    .collect(),
            },
            duplicates_merged: admitted.merged.clone(),
            duplicates_kept_first: admitted.kept_first.clone(),
        }
    }

    /// One line for a run's report and log: `N units (W wind); M left out without an Elexon
    /// id (K WIND); merged: IDS; kept first: IDS`.
    pub fn summary(&self) -> String {
        let mut text = format!(
            "{} units ({} wind); {} left out without an Elexon id ({} WIND)",
            self.bm_units, self.wind_units, self.without_id.units, self.without_id.wind
        );
        if !self.duplicates_merged.is_empty() {
            text.push_str(&format!(
                "; duplicates merged: {}",
                self.duplicates_merged.join(", ")
            ));
        }
        if !self.duplicates_kept_first.is_empty() {
            let ids: Vec<&str> = self
                .duplicates_kept_first
                .iter()
                .map(|k| k.elexon_bm_unit.as_str())
                .collect();
            text.push_str(&format!(
                "; listed twice with different fields, first kept: {}",
                ids.join(", ")
            ));
        }
        text
    }

    /// One warning per id whose occurrences differed in other fields than the fuel type.
    pub fn warnings(&self) -> Vec<String> {
        self.duplicates_kept_first
            .iter()
            .map(|k| {
                let fields: Vec<&str> = k.differing.iter().map(|f| f.label()).collect();
                format!(
                    "{} is listed more than once with a different {}: the first occurrence \
                     was kept",
                    k.elexon_bm_unit,
                    fields.join(", ")
                )
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use settlement_model::{admit_bm_units, BmUnit, BmUnitList, UnitWithoutId};

    fn unit(id: &str, party: &str) -> BmUnit {
        BmUnit {
            elexon_bm_unit: id.into(),
            national_grid_bm_unit: None,
            bm_unit_name: None,
            lead_party_name: Some(party.into()),
            fuel_type: Some("WIND".into()),
            generation_capacity: None,
        }
    }

    #[test]
    fn the_summary_and_warnings_name_what_was_left_out_and_merged() {
        let list = BmUnitList {
            units: vec![
                unit("T_A-1", "P"),
                unit("T_A-1", "P"),
                unit("T_B-1", "P"),
                unit("T_B-1", "Q"),
            ],
            without_id: vec![
                UnitWithoutId {
                    national_grid_bm_unit: Some("ACHYW-1".into()),
                    fuel_type: Some("WIND".into()),
                },
                UnitWithoutId::default(),
            ],
        };
        let admitted = admit_bm_units(list).unwrap();
        let report = RegistryReport::new(&admitted, 2, RegistryOrigin::Api);
        assert_eq!(
            report.summary(),
            "2 units (2 wind); 2 left out without an Elexon id (1 WIND); duplicates merged: \
             T_A-1; listed twice with different fields, first kept: T_B-1"
        );
        assert_eq!(report.without_id.national_grid_ids, ["ACHYW-1"]);
        assert_eq!(
            report.warnings(),
            [
                "T_B-1 is listed more than once with a different lead party: the first \
              occurrence was kept"
            ]
        );
    }
}
