//! A JSON document whose numbers keep their exact text.
//!
//! serde_json's own `Value` holds a number as an `f64` (or an integer) unless its
//! `arbitrary_precision` feature is on, and that feature, once on, changes the JSON of every
//! crate in a service that links this one. Instead each value is first taken as its raw text
//! (`RawValue`, serde_json's `raw_value` feature): a number stays the text the API sent and
//! reaches a `Decimal` through `settlement_model::parse_decimal_exact`, never through `f64`.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::value::RawValue;

/// One JSON value; numbers are their exact text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum JsonValue<'a> {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as written in the document (e.g. `-0.004166666666666667`).
    Number(&'a str),
    /// A string, unescaped.
    String(String),
    /// An array.
    Array(Vec<JsonValue<'a>>),
    /// An object; a key given twice keeps its last value, as serde_json's map does.
    Object(BTreeMap<String, JsonValue<'a>>),
}

/// Parses a whole JSON document (the same syntax errors as `serde_json::from_slice`).
pub(crate) fn from_slice(body: &[u8]) -> Result<JsonValue<'_>, serde_json::Error> {
    let raw: &RawValue = serde_json::from_slice(body)?;
    JsonValue::from_raw(raw)
}

impl<'a> JsonValue<'a> {
    /// The value of one raw JSON text (already checked by serde_json): containers are read a
    /// level at a time, each member again as raw text, so no number is ever converted.
    fn from_raw(raw: &'a RawValue) -> Result<Self, serde_json::Error> {
        let text = raw.get();
        Ok(match text.as_bytes().first() {
            Some(b'{') => {
                let members: BTreeMap<String, &'a RawValue> = serde_json::from_str(text)?;
                JsonValue::Object(
                    members
                        .into_iter()
                        .map(|(key, value)| Ok((key, JsonValue::from_raw(value)?)))
                        .collect::<Result<_, serde_json::Error>>()?,
                )
            }
            Some(b'[') => {
                let items: Vec<&'a RawValue> = serde_json::from_str(text)?;
                JsonValue::Array(
                    items
                        .into_iter()
                        .map(JsonValue::from_raw)
                        .collect::<Result<_, _>>()?,
                )
            }
            Some(b'"') => JsonValue::String(serde_json::from_str(text)?),
            Some(b't' | b'f') => JsonValue::Bool(serde_json::from_str(text)?),
            Some(b'n') => JsonValue::Null,
            _ => JsonValue::Number(text),
        })
    }
}

/// Compact JSON, as serde_json prints its `Value` (numbers as written).
impl fmt::Display for JsonValue<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let string = |f: &mut fmt::Formatter<'_>, s: &str| match serde_json::to_string(s) {
            Ok(quoted) => f.write_str(&quoted),
            Err(_) => Err(fmt::Error),
        };
        match self {
            JsonValue::Null => f.write_str("null"),
            JsonValue::Bool(b) => write!(f, "{b}"),
            JsonValue::Number(n) => f.write_str(n),
            JsonValue::String(s) => string(f, s),
            JsonValue::Array(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            JsonValue::Object(members) => {
                f.write_str("{")?;
                for (i, (key, value)) in members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    string(f, key)?;
                    write!(f, ":{value}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_keep_their_exact_text() {
        let doc = br#" {"a": [1.10, -0.004166666666666667, 123456789012345678901234567890],
                        "b": "x\"y", "c": null, "d": true, "a2": 1e400} "#;
        let v = from_slice(doc).unwrap();
        let JsonValue::Object(m) = &v else {
            panic!("{v:?}")
        };
        assert_eq!(
            m["a"],
            JsonValue::Array(vec![
                JsonValue::Number("1.10"),
                JsonValue::Number("-0.004166666666666667"),
                JsonValue::Number("123456789012345678901234567890"),
            ])
        );
        assert_eq!(m["a2"], JsonValue::Number("1e400"));
        assert_eq!(m["b"], JsonValue::String("x\"y".into()));
        assert_eq!(m["c"], JsonValue::Null);
        assert_eq!(m["d"], JsonValue::Bool(true));
        assert_eq!(
            v.to_string(),
            r#"{"a":[1.10,-0.004166666666666667,123456789012345678901234567890],"a2":1e400,"b":"x\"y","c":null,"d":true}"#
        );
    }

    #[test]
    fn syntax_errors_are_serde_json_errors() {
        for bad in [&b"{"[..], b"[1,]", b"{\"a\" 1}", b"tru", b"", b"[1] 2"] {
            assert!(
                from_slice(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
