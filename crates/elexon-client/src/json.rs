//! The JSON parsers: stacks (`{"data": [...]}`) and the BM unit list (a bare array).
//!
//! Documents are read as [`JsonValue`]s, whose numbers keep their exact text, so a JSON
//! number goes straight into a `Decimal`, never through `f64` (and serde_json's
//! `arbitrary_precision`, which would change every other crate's JSON, stays off).

use std::collections::BTreeMap;

use settlement_model::{BmUnit, BmUnitList, SettlementDate, Side, StackItem, UnitWithoutId};

use crate::fields::{parse_decimal, shorten, Asked, Field, ItemBuilder, Raw};
use crate::json_value::{self, JsonValue as Value};
use crate::{Format, ParseError};

/// Parses a JSON stack document for `date`, `period`, `side` into its items, in order.
///
/// The document is `{"data": [item, ...]}` (a bare array is accepted too); field names are
/// matched case-insensitively, unknown fields are ignored, `null` is null. Numbers and
/// booleans may also arrive as strings. Errors are those of [`crate::parse_stack_xml`].
///
/// ```
/// use elexon_client::parse_stack_json;
/// use settlement_model::Side;
/// let date = "2024-03-21".parse().unwrap();
/// let json = br#"{"data": [{"settlementDate": "2024-03-21", "settlementPeriod": 35,
///     "id": "T_WHILW-1", "soFlag": true, "volume": -0.004166666666666667}]}"#;
/// let items = parse_stack_json(json, date, 35, Side::Bid).unwrap();
/// assert_eq!(items[0].volume.to_string(), "-0.004166666666666667");
/// ```
pub fn parse_stack_json(
    body: &[u8],
    date: SettlementDate,
    period: u8,
    side: Side,
) -> Result<Vec<StackItem>, ParseError> {
    let asked = Asked { date, period, side };
    let malformed = |message: String| ParseError::Malformed {
        date,
        period,
        side,
        format: Format::Json,
        message,
    };
    let doc = json_value::from_slice(body).map_err(|e| malformed(e.to_string()))?;
    let data = match &doc {
        Value::Array(items) => items,
        Value::Object(envelope) => match get_ci(envelope, "data") {
            Some(Value::Array(items)) => items,
            Some(Value::Null) | None => {
                return Err(malformed("the document has no \"data\" array".to_owned()))
            }
            Some(other) => {
                return Err(malformed(format!(
                    "\"data\" is {}, not an array",
                    kind_of(other)
                )))
            }
        },
        other => {
            return Err(malformed(format!(
                "the document is {}, not an object",
                kind_of(other)
            )))
        }
    };

    let mut items = Vec::with_capacity(data.len());
    for (index, value) in data.iter().enumerate() {
        let Value::Object(object) = value else {
            return Err(ParseError::InvalidValue {
                date,
                period,
                side,
                index,
                field: "data",
                value: shorten(&value.to_string()),
                expected: "an item object",
            });
        };
        let mut item = ItemBuilder::new(asked, index);
        for (name, value) in object {
            if let Some(field) = Field::lookup(name) {
                item.set(field, raw(value))?;
            }
        }
        items.push(item.finish()?);
    }
    Ok(items)
}

/// Parses the BM unit list (`/reference/bmunits/all`): a bare JSON array of unit objects
/// (an object with a `data` array is accepted too).
///
/// Extra fields are ignored and every field may be null or absent. A unit without an
/// `elexonBmUnit` (null, absent or empty) cannot be joined to a stack item: it is handed over
/// apart, in [`BmUnitList::without_id`] (its National Grid id and fuel type), so the caller can
/// count it. Units come in the list's order, repeated ids included: the registry's rules
/// ([`settlement_model::admit_bm_units`]) decide what becomes of them.
/// `generationCapacity` may be a number or decimal text; a value of the wrong type, or
/// capacity text that is not a decimal, is an error naming the unit's index and field.
pub fn parse_bm_units_json(body: &[u8]) -> Result<BmUnitList, ParseError> {
    let doc = json_value::from_slice(body).map_err(|e| ParseError::BmUnits {
        index: None,
        message: format!("malformed JSON: {e}"),
    })?;
    let list = match &doc {
        Value::Array(list) => list,
        Value::Object(o) => match get_ci(o, "data") {
            Some(Value::Array(list)) => list,
            _ => {
                return Err(ParseError::BmUnits {
                    index: None,
                    message: "expected a JSON array of units".to_owned(),
                })
            }
        },
        other => {
            return Err(ParseError::BmUnits {
                index: None,
                message: format!("expected a JSON array of units, found {}", kind_of(other)),
            })
        }
    };
    let mut units = Vec::with_capacity(list.len());
    let mut without_id = Vec::new();
    for (index, value) in list.iter().enumerate() {
        let err = |message: String| ParseError::BmUnits {
            index: Some(index),
            message,
        };
        let Value::Object(o) = value else {
            return Err(err(format!("expected an object, found {}", kind_of(value))));
        };
        let text = |name: &'static str| -> Result<Option<String>, ParseError> {
            match get_ci(o, name) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
                Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
                Some(Value::Number(n)) => Ok(Some(n.to_string())),
                Some(other) => Err(err(format!(
                    "field {name}: expected text, found {}",
                    kind_of(other)
                ))),
            }
        };
        let Some(elexon_bm_unit) = text("elexonBmUnit")? else {
            without_id.push(UnitWithoutId {
                national_grid_bm_unit: text("nationalGridBmUnit")?,
                fuel_type: text("fuelType")?,
            });
            continue;
        };
        let generation_capacity = match get_ci(o, "generationCapacity") {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.trim().is_empty() => None,
            Some(v @ (Value::String(_) | Value::Number(_))) => {
                let t = match v {
                    Value::String(s) => s.trim().to_owned(),
                    other => other.to_string(),
                };
                Some(parse_decimal(&t).ok_or_else(|| {
                    err(format!(
                        "field generationCapacity: cannot read {:?} as a decimal",
                        shorten(&t)
                    ))
                })?)
            }
            Some(other) => {
                return Err(err(format!(
                    "field generationCapacity: expected a decimal, found {}",
                    kind_of(other)
                )))
            }
        };
        units.push(BmUnit {
            elexon_bm_unit,
            national_grid_bm_unit: text("nationalGridBmUnit")?,
            bm_unit_name: text("bmUnitName")?,
            lead_party_name: text("leadPartyName")?,
            fuel_type: text("fuelType")?,
            generation_capacity,
        });
    }
    Ok(BmUnitList { units, without_id })
}

/// Looks a key up exactly, then case-insensitively.
fn get_ci<'o, 'a>(object: &'o BTreeMap<String, Value<'a>>, key: &str) -> Option<&'o Value<'a>> {
    object.get(key).or_else(|| {
        object
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

fn raw<'v>(value: &'v Value<'_>) -> Raw<'v> {
    match value {
        Value::Null => Raw::Null,
        Value::Bool(b) => Raw::Bool(*b),
        Value::Number(n) => Raw::Text(n),
        Value::String(s) => Raw::Text(s),
        Value::Array(_) => Raw::Unexpected("<array>"),
        Value::Object(_) => Raw::Unexpected("<object>"),
    }
}

fn kind_of(value: &Value<'_>) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bm_units_tolerate_nulls_and_extra_fields() {
        let body = br#"[
          {"elexonBmUnit": "T_WHILW-1", "nationalGridBmUnit": "WHILW-1", "fuelType": "WIND",
           "leadPartyName": "ScottishPower", "generationCapacity": "539.0", "extra": {"a": 1}},
          {"elexonBmUnit": "E_X-1", "fuelType": null, "generationCapacity": 12.345678901234567890},
          {"elexonBmUnit": null, "fuelType": "WIND"},
          {"nationalGridBmUnit": "NOPE"}
        ]"#;
        let list = parse_bm_units_json(body).unwrap();
        let units = list.units;
        assert_eq!(units.len(), 2);
        assert_eq!(list.without_id.len(), 2);
        assert!(list.without_id[0].is_wind());
        assert_eq!(
            list.without_id[1].national_grid_bm_unit.as_deref(),
            Some("NOPE")
        );
        assert!(units[0].is_wind());
        assert_eq!(units[0].generation_capacity.unwrap().to_string(), "539.0");
        assert_eq!(units[1].fuel_type, None);
        assert_eq!(
            units[1].generation_capacity.unwrap().to_string(),
            "12.345678901234567890"
        );
    }

    #[test]
    fn numbers_beyond_f64_reach_the_decimal_parser_exactly() {
        let date = "2024-03-21".parse().unwrap();
        let doc = |volume: &str| {
            format!(
                r#"{{"data": [{{"settlementDate": "2024-03-21", "settlementPeriod": 35,
                    "id": "T_A-1", "soFlag": true, "volume": {volume}}}]}}"#
            )
        };
        // 28 significant digits (an f64 keeps about 17): the exact value.
        let items = parse_stack_json(
            doc("-1234567890123456.789012345678").as_bytes(),
            date,
            35,
            Side::Bid,
        )
        .unwrap();
        assert_eq!(
            items[0].volume.to_string(),
            "-1234567890123456.789012345678"
        );
        // 30 significant digits, more than a Decimal holds: the parser sees the number's
        // exact text and refuses it by name, where a float would have rounded it silently.
        let thirty = "-1.23456789012345678901234567891";
        let err = parse_stack_json(doc(thirty).as_bytes(), date, 35, Side::Bid).unwrap_err();
        assert!(
            matches!(&err, ParseError::InvalidValue { field: "volume", value, .. } if value == thirty),
            "{err}"
        );
        // Its text survives the JSON reading exactly.
        let units = parse_bm_units_json(
            br#"[{"elexonBmUnit": "E_X-1", "generationCapacity": 1234567890.123456789012345678}]"#,
        )
        .unwrap()
        .units;
        assert_eq!(
            units[0].generation_capacity.unwrap().to_string(),
            "1234567890.123456789012345678"
        );
    }

    #[test]
    fn bm_unit_errors_name_the_unit() {
        let err = parse_bm_units_json(
            br#"[{"elexonBmUnit": "A"}, {"elexonBmUnit": "B", "generationCapacity": "lots"}]"#,
        )
        .unwrap_err();
        assert_eq!(err.item_index(), Some(1));
        assert!(err.to_string().contains("generationCapacity"), "{err}");
        assert!(parse_bm_units_json(b"{\"x\": 1}")
            .unwrap_err()
            .is_malformed());
        assert!(parse_bm_units_json(b"[").unwrap_err().is_malformed());
    }
}
