//! Miner models: the three defaults the platform uses and models an operator defines.

use std::fmt;

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::parse_exact;

/// One ASIC miner model: its name, hash rate and power draw.
///
/// The fields are public so the type is plain data; [`MinerModel::new`] and every
/// [`MinerCatalog`] entry point validate them (a name of `A-Z`, `0-9`, `_`, `-`; a positive
/// hash rate and power). [`crate::bitcoin_for_energy`] re-checks the numbers, so a model built
/// by hand with a zero power is an error there, never a division by zero.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct MinerModel {
    /// The model's name as used in rows and on the command line, e.g. `S19J_PRO`.
    pub name: String,
    /// Hash rate, TH/s.
    pub hashrate_ths: Decimal,
    /// Power draw, W.
    pub power_w: Decimal,
}

impl MinerModel {
    /// A validated model.
    ///
    /// ```
    /// use bitcoin_calc::MinerModel;
    /// use rust_decimal::Decimal;
    /// let m = MinerModel::new("S21", Decimal::from(200), Decimal::from(3500)).unwrap();
    /// assert_eq!(m.name, "S21");
    /// assert!(MinerModel::new("s21", Decimal::from(200), Decimal::from(3500)).is_err());
    /// assert!(MinerModel::new("S21", Decimal::ZERO, Decimal::from(3500)).is_err());
    /// ```
    pub fn new(
        name: impl Into<String>,
        hashrate_ths: Decimal,
        power_w: Decimal,
    ) -> Result<Self, MinerModelError> {
        let model = Self {
            name: name.into(),
            hashrate_ths,
            power_w,
        };
        model.validate()?;
        Ok(model)
    }

    /// Checks the name's characters and that both numbers are positive.
    pub fn validate(&self) -> Result<(), MinerModelError> {
        validate_name(&self.name)?;
        for (field, value) in [
            ("hashrate_ths", self.hashrate_ths),
            ("power_w", self.power_w),
        ] {
            if value <= Decimal::ZERO {
                return Err(MinerModelError::NotPositive {
                    name: self.name.clone(),
                    field,
                    value: value.to_string(),
                });
            }
        }
        Ok(())
    }

    /// The `NAME:THS:WATTS` form that [`parse_models`] reads.
    pub fn to_definition(&self) -> String {
        format!("{}:{}:{}", self.name, self.hashrate_ths, self.power_w)
    }
}

impl fmt::Display for MinerModel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({} TH/s, {} W)",
            self.name, self.hashrate_ths, self.power_w
        )
    }
}

/// The longest model name we accept.
pub const MAX_MODEL_NAME_LEN: usize = 64;

fn validate_name(name: &str) -> Result<(), MinerModelError> {
    let invalid = |reason: String| MinerModelError::InvalidName {
        name: name.to_owned(),
        reason,
    };
    if name.is_empty() {
        return Err(invalid("the name is empty".to_owned()));
    }
    if name.len() > MAX_MODEL_NAME_LEN {
        return Err(invalid(format!(
            "the name is longer than {MAX_MODEL_NAME_LEN} characters"
        )));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_' || *c == '-'))
    {
        let hint = if name.chars().any(|c| c.is_ascii_lowercase()) {
            format!(" (did you mean {:?}?)", name.to_ascii_uppercase())
        } else {
            String::new()
        };
        return Err(invalid(format!(
            "{bad:?} is not allowed: use A-Z, 0-9, '_' and '-'{hint}"
        )));
    }
    Ok(())
}

/// A model definition that is malformed or invalid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MinerModelError {
    /// The name is empty, too long or has a character outside `[A-Z0-9_-]`.
    #[error("invalid miner model name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// The hash rate or power is zero or negative.
    #[error("miner model {name}: {field} must be positive, got {value}")]
    NotPositive {
        /// The model's name.
        name: String,
        /// `hashrate_ths` or `power_w`.
        field: &'static str,
        /// The value as given.
        value: String,
    },
    /// A `NAME:THS:WATTS` item cannot be read.
    #[error("miner model definition {position} ({item:?}): {reason} (expected NAME:THS:WATTS, e.g. S21:200:3500)")]
    Syntax {
        /// 1-based position of the item in the text.
        position: usize,
        /// The item as given.
        item: String,
        /// What is wrong.
        reason: String,
    },
    /// The JSON form cannot be read.
    #[error("miner model JSON is malformed: {message} (expected [{{\"name\": \"S21\", \"hashrate_ths\": 200, \"power_w\": 3500}}])")]
    Json {
        /// serde_json's message, with line and column.
        message: String,
    },
    /// The same name is defined twice with different numbers.
    #[error(
        "miner model {name} is defined twice: {first} and {second}; give each model one definition"
    )]
    Duplicate {
        /// The name.
        name: String,
        /// The existing definition.
        first: String,
        /// The conflicting definition.
        second: String,
    },
    /// The text defines no model at all.
    #[error("no miner model definitions found (expected NAME:THS:WATTS[,NAME:THS:WATTS…] or a JSON array)")]
    Empty,
}

/// A model name that is not in the catalog.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown miner model {name:?}{hint}; known models: {known}", hint = case_hint(.name, .known), known = .known.join(", "))]
pub struct UnknownModel {
    /// The name asked for.
    pub name: String,
    /// Every name the catalog knows, in catalog order.
    pub known: Vec<String>,
}

fn case_hint(name: &str, known: &[String]) -> String {
    known
        .iter()
        .find(|k| k.eq_ignore_ascii_case(name))
        .map(|k| format!(" (names are case-sensitive: did you mean {k}?)"))
        .unwrap_or_default()
}

/// The miner models a run may use: the defaults plus operator-defined ones.
///
/// ```
/// use bitcoin_calc::{MinerCatalog, parse_models};
/// let custom = parse_models("S21:200:3500").unwrap();
/// let mut catalog = MinerCatalog::defaults();
/// for m in custom {
///     catalog = catalog.with_custom(m).unwrap();
/// }
/// assert_eq!(catalog.names(), vec!["S19J_PRO", "S9", "M20S", "S21"]);
/// let err = catalog.get("S7").unwrap_err();
/// assert_eq!(err.to_string(), "unknown miner model \"S7\"; known models: S19J_PRO, S9, M20S, S21");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MinerCatalog {
    models: Vec<MinerModel>,
}

impl MinerCatalog {
    /// The three default models the platform uses: `S19J_PRO` 100 TH/s at 3050 W,
    /// `S9` 13.5 TH/s at 1323 W, `M20S` 68 TH/s at 3360 W.
    pub fn defaults() -> Self {
        let model = |name: &str, ths: Decimal, w: i64| MinerModel {
            name: name.to_owned(),
            hashrate_ths: ths,
            power_w: Decimal::from(w),
        };
        Self {
            models: vec![
                model("S19J_PRO", Decimal::from(100), 3050),
                model("S9", Decimal::new(135, 1), 1323),
                model("M20S", Decimal::from(68), 3360),
            ],
        }
    }

    /// A catalog with no models (build one up with [`MinerCatalog::with_custom`]).
    pub fn empty() -> Self {
        Self { models: Vec::new() }
    }

    /// Adds an operator-defined model. Re-adding an identical definition is a no-op;
    /// a different definition under an existing name (including a default's) is an error.
    pub fn with_custom(mut self, model: MinerModel) -> Result<Self, MinerModelError> {
        model.validate()?;
        match self.models.iter().find(|m| m.name == model.name) {
            Some(existing) if *existing == model => {}
            Some(existing) => {
                return Err(MinerModelError::Duplicate {
                    name: model.name.clone(),
                    first: existing.to_definition(),
                    second: model.to_definition(),
                })
            }
            None => self.models.push(model),
        }
        Ok(self)
    }

    /// Adds every model defined in `text` (see [`parse_models`]).
    pub fn with_definitions(self, text: &str) -> Result<Self, MinerModelError> {
        parse_models(text)?
            .into_iter()
            .try_fold(self, MinerCatalog::with_custom)
    }

    /// Parses operator definitions; the same as the free function [`parse_models`].
    pub fn parse_models(text: &str) -> Result<Vec<MinerModel>, MinerModelError> {
        parse_models(text)
    }

    /// The model called `name` (case-sensitive).
    pub fn get(&self, name: &str) -> Result<&MinerModel, UnknownModel> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .ok_or_else(|| UnknownModel {
                name: name.to_owned(),
                known: self.names().into_iter().map(str::to_owned).collect(),
            })
    }

    /// The models called `names`, in the order given, without repeats. An empty slice
    /// selects every model of the catalog (so "no `--models` option" means all of them).
    pub fn select(&self, names: &[String]) -> Result<Vec<MinerModel>, UnknownModel> {
        if names.is_empty() {
            return Ok(self.models.clone());
        }
        let mut out: Vec<MinerModel> = Vec::with_capacity(names.len());
        for name in names {
            let model = self.get(name)?;
            if !out.iter().any(|m| m.name == model.name) {
                out.push(model.clone());
            }
        }
        Ok(out)
    }

    /// Every model, defaults first, then custom ones in the order added.
    pub fn models(&self) -> &[MinerModel] {
        &self.models
    }

    /// Every model's name, in catalog order.
    pub fn names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name.as_str()).collect()
    }
}

impl Default for MinerCatalog {
    fn default() -> Self {
        Self::defaults()
    }
}

/// Parses operator-defined models from text, in either of two forms:
///
/// - the config/CLI form `NAME:THS:WATTS`, several separated by commas or newlines, blank
///   items and `#` comment lines ignored: `S21:200:3500, S19XP:141:3010`;
/// - a JSON array `[{"name": "S21", "hashrate_ths": 200, "power_w": 3500}]`, numbers given as
///   JSON numbers or strings (read exactly, never through a float).
///
/// Every model is validated; a name defined twice with different numbers is an error.
///
/// ```
/// use bitcoin_calc::parse_models;
/// let a = parse_models("S21:200:3500,S19XP:141:3010").unwrap();
/// let b = parse_models(r#"[{"name":"S21","hashrate_ths":200,"power_w":"3500"},
///                          {"name":"S19XP","hashrate_ths":141,"power_w":3010}]"#).unwrap();
/// assert_eq!(a, b);
/// let err = parse_models("S21:200").unwrap_err().to_string();
/// assert!(err.contains("definition 1 (\"S21:200\")"), "{err}");
/// ```
pub fn parse_models(text: &str) -> Result<Vec<MinerModel>, MinerModelError> {
    let models = if text.trim_start().starts_with('[') {
        parse_json_models(text)?
    } else {
        parse_text_models(text)?
    };
    if models.is_empty() {
        return Err(MinerModelError::Empty);
    }
    let mut out: Vec<MinerModel> = Vec::with_capacity(models.len());
    for model in models {
        match out.iter().find(|m| m.name == model.name) {
            Some(existing) if *existing == model => {}
            Some(existing) => {
                return Err(MinerModelError::Duplicate {
                    name: model.name.clone(),
                    first: existing.to_definition(),
                    second: model.to_definition(),
                })
            }
            None => out.push(model),
        }
    }
    Ok(out)
}

fn parse_text_models(text: &str) -> Result<Vec<MinerModel>, MinerModelError> {
    let items = text
        .lines()
        .map(str::trim)
        .filter(|line| !line.starts_with('#'))
        .flat_map(|line| line.split(','))
        .map(str::trim)
        .filter(|item| !item.is_empty());
    let mut out = Vec::new();
    for (index, item) in items.enumerate() {
        let syntax = |reason: String| MinerModelError::Syntax {
            position: index + 1,
            item: item.to_owned(),
            reason,
        };
        let parts: Vec<&str> = item.split(':').map(str::trim).collect();
        let [name, ths, watts] = parts.as_slice() else {
            return Err(syntax(format!(
                "{} field(s) where three are needed",
                parts.len()
            )));
        };
        let ths = parse_exact(ths).map_err(|e| syntax(format!("hash rate: {e}")))?;
        let watts = parse_exact(watts).map_err(|e| syntax(format!("power: {e}")))?;
        out.push(MinerModel::new(*name, ths, watts)?);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonModel {
    name: String,
    hashrate_ths: Box<RawValue>,
    power_w: Box<RawValue>,
}

fn parse_json_models(text: &str) -> Result<Vec<MinerModel>, MinerModelError> {
    let raw: Vec<JsonModel> = serde_json::from_str(text).map_err(|e| MinerModelError::Json {
        message: e.to_string(),
    })?;
    raw.into_iter()
        .enumerate()
        .map(|(index, m)| {
            let number = |field: &str, v: &RawValue| {
                json_decimal(v).map_err(|reason| MinerModelError::Json {
                    message: format!("model {} ({}): {field}: {reason}", index + 1, m.name),
                })
            };
            let ths = number("hashrate_ths", &m.hashrate_ths)?;
            let watts = number("power_w", &m.power_w)?;
            MinerModel::new(m.name.clone(), ths, watts)
        })
        .collect()
}

/// A JSON number or string read as an exact decimal. The value is taken as its raw text
/// (serde_json's `raw_value`), so a number is parsed from the digits as written and no float
/// is involved, without serde_json's `arbitrary_precision` (which would change the JSON of
/// every crate in a service that links this one).
pub(crate) fn json_decimal(v: &RawValue) -> Result<Decimal, String> {
    let text = v.get();
    match text.as_bytes().first() {
        Some(b'"') => {
            let s: String = serde_json::from_str(text).map_err(|e| e.to_string())?;
            parse_exact(&s)
        }
        Some(b'-' | b'0'..=b'9') => parse_exact(text),
        _ => Err(format!("expected a number or a string, got {text}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn check_err(text: &str, expected: &str) {
        let err = parse_models(text).unwrap_err().to_string();
        assert_eq!(err, expected, "text {text:?}");
    }

    #[test]
    fn defaults_match_the_spec() {
        let c = MinerCatalog::defaults();
        let s19 = c.get("S19J_PRO").unwrap();
        assert_eq!((s19.hashrate_ths, s19.power_w), (dec!(100), dec!(3050)));
        let s9 = c.get("S9").unwrap();
        assert_eq!((s9.hashrate_ths, s9.power_w), (dec!(13.5), dec!(1323)));
        let m20 = c.get("M20S").unwrap();
        assert_eq!((m20.hashrate_ths, m20.power_w), (dec!(68), dec!(3360)));
        for m in c.models() {
            m.validate().unwrap();
        }
    }

    #[test]
    fn text_form_with_newlines_comments_and_spaces() {
        let got = parse_models("# our fleet\n S21 : 200 : 3500 ,\n\nS19XP:141:3010.5\n").unwrap();
        assert_eq!(
            got,
            vec![
                MinerModel::new("S21", dec!(200), dec!(3500)).unwrap(),
                MinerModel::new("S19XP", dec!(141), dec!(3010.5)).unwrap(),
            ]
        );
    }

    #[test]
    fn text_form_errors_name_the_item() {
        check_err(
            "S21:200:3500,S9X:13.5",
            "miner model definition 2 (\"S9X:13.5\"): 2 field(s) where three are needed (expected NAME:THS:WATTS, e.g. S21:200:3500)",
        );
        check_err(
            "S21:fast:3500",
            "miner model definition 1 (\"S21:fast:3500\"): hash rate: \"fast\" is not a decimal number (expected NAME:THS:WATTS, e.g. S21:200:3500)",
        );
        check_err(
            "s21:200:3500",
            "invalid miner model name \"s21\": 's' is not allowed: use A-Z, 0-9, '_' and '-' (did you mean \"S21\"?)",
        );
        check_err(
            "S21:200:0",
            "miner model S21: power_w must be positive, got 0",
        );
        check_err(
            "S21:-1:3500",
            "miner model S21: hashrate_ths must be positive, got -1",
        );
        check_err(
            "S21:200:3500,S21:200:3600",
            "miner model S21 is defined twice: S21:200:3500 and S21:200:3600; give each model one definition",
        );
        check_err(
            " \n# nothing\n",
            "no miner model definitions found (expected NAME:THS:WATTS[,NAME:THS:WATTS…] or a JSON array)",
        );
    }

    #[test]
    fn json_form_reads_numbers_exactly_and_rejects_typos() {
        let got = parse_models(
            r#"[{"name":"BIG","hashrate_ths":123456789012345678.123456789,"power_w":"1e3"}]"#,
        )
        .unwrap();
        assert_eq!(
            got[0].hashrate_ths.to_string(),
            "123456789012345678.123456789"
        );
        assert_eq!(got[0].power_w, dec!(1000));
        let err = parse_models(r#"[{"name":"S21","hashrate":200,"power_w":3500}]"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `hashrate`"), "{err}");
        let err = parse_models(r#"[{"name":"S21","hashrate_ths":true,"power_w":3500}]"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("model 1 (S21): hashrate_ths: expected a number or a string, got true"),
            "{err}"
        );
    }

    #[test]
    fn catalog_custom_duplicates_and_selection() {
        let c = MinerCatalog::defaults()
            .with_definitions("S21:200:3500")
            .unwrap()
            .with_custom(MinerModel::new("S21", dec!(200), dec!(3500)).unwrap())
            .unwrap();
        assert_eq!(c.names(), vec!["S19J_PRO", "S9", "M20S", "S21"]);
        let err = c
            .clone()
            .with_custom(MinerModel::new("S9", dec!(14), dec!(1323)).unwrap())
            .unwrap_err();
        assert!(matches!(err, MinerModelError::Duplicate { .. }));

        let names = |v: Vec<MinerModel>| v.into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(
            names(
                c.select(&["S21".into(), "S9".into(), "S21".into()])
                    .unwrap()
            ),
            vec!["S21", "S9"]
        );
        assert_eq!(names(c.select(&[]).unwrap()).len(), 4);
        let err = c.select(&["s9".into()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown miner model \"s9\" (names are case-sensitive: did you mean S9?); known models: S19J_PRO, S9, M20S, S21"
        );
        assert_eq!(err.known.len(), 4);
    }

    #[test]
    fn with_custom_validates_hand_built_models() {
        let bad = MinerModel {
            name: "ZERO".into(),
            hashrate_ths: dec!(1),
            power_w: Decimal::ZERO,
        };
        assert!(MinerCatalog::empty().with_custom(bad).is_err());
    }
}
