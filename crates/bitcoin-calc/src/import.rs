//! Pure parsers of difficulty history files: CSV, a JSON date map, and the mempool.space
//! difficulty-adjustments shape. They read text handed to them; fetching it (a file or the
//! `sync` URL) is the CLI's job.

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, NaiveDate};
use rust_decimal::Decimal;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::value::RawValue;
use settlement_model::DifficultyEntry;

use crate::miner::json_decimal;
use crate::parse_exact;

/// The three difficulty file formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DifficultyFormat {
    /// `date,difficulty` lines, optional header, `#` comments and blank lines.
    Csv,
    /// A JSON object `{"YYYY-MM-DD": "digits", …}` (values strings or numbers).
    JsonMap,
    /// mempool.space `GET /api/v1/mining/difficulty-adjustments`: a JSON array of
    /// `[unix_time, block_height, difficulty, change_ratio]`.
    MempoolAdjustments,
}

impl fmt::Display for DifficultyFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DifficultyFormat::Csv => "CSV (date,difficulty)",
            DifficultyFormat::JsonMap => "JSON date map",
            DifficultyFormat::MempoolAdjustments => "mempool.space difficulty-adjustments JSON",
        })
    }
}

/// A difficulty file that cannot be read. Every variant says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A CSV line is malformed (1-based line number).
    #[error("line {line}: {message}")]
    Line {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The JSON is not well-formed or not of the expected shape.
    #[error("malformed {format} at line {line}, column {column}: {message}")]
    Json {
        /// Which format was being read.
        format: DifficultyFormat,
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// serde_json's message.
        message: String,
    },
    /// One entry of a JSON file is invalid: a map key, or a row of the mempool array.
    #[error("{entry}: {message}")]
    Entry {
        /// Which entry, e.g. `key "2024-13-01"` or `row 3`.
        entry: String,
        /// What is wrong.
        message: String,
    },
    /// The file holds no entries.
    #[error("no difficulty entries found in the {format}")]
    Empty {
        /// Which format was being read.
        format: DifficultyFormat,
    },
}

/// Which of the three formats `text` is: a JSON array is mempool's adjustments, a JSON object
/// is a date map, anything else is CSV.
pub fn detect_difficulty_format(text: &str) -> DifficultyFormat {
    match strip_bom(text).trim_start().as_bytes().first() {
        Some(b'[') => DifficultyFormat::MempoolAdjustments,
        Some(b'{') => DifficultyFormat::JsonMap,
        _ => DifficultyFormat::Csv,
    }
}

/// Parses `text` in whichever format [`detect_difficulty_format`] finds.
///
/// ```
/// use bitcoin_calc::parse_difficulty_auto;
/// let csv = parse_difficulty_auto("date,difficulty\n2024-04-11,86388558925171\n").unwrap();
/// let map = parse_difficulty_auto(r#"{"2024-04-11": "86388558925171"}"#).unwrap();
/// let mempool = parse_difficulty_auto("[[1712845012, 838656, 86388558925171, 1.0399]]").unwrap();
/// assert_eq!(csv, map);
/// assert_eq!(csv, mempool); // 1712845012 is 2024-04-11T14:16:52Z
/// ```
pub fn parse_difficulty_auto(text: &str) -> Result<Vec<(NaiveDate, Decimal)>, ImportError> {
    parse_difficulty(text, detect_difficulty_format(text))
}

/// Parses `text` as `format`. The result is sorted by date, one entry per date.
pub fn parse_difficulty(
    text: &str,
    format: DifficultyFormat,
) -> Result<Vec<(NaiveDate, Decimal)>, ImportError> {
    match format {
        DifficultyFormat::Csv => parse_difficulty_csv(text),
        DifficultyFormat::JsonMap => parse_difficulty_json_map(text),
        DifficultyFormat::MempoolAdjustments => parse_mempool_adjustments(text),
    }
}

/// Parses `date,difficulty` lines.
///
/// Tolerated: a header line (its first field contains `date`) before the first entry, blank
/// lines, `#` comment lines, spaces around fields, double quotes around a field, `\r\n`
/// endings, a UTF-8 byte-order mark. Each difficulty is read exactly (`86388558925171`,
/// `83947913181361.6`, `8.6e13`) and must be positive. A date given twice with different
/// values is an error naming both lines. The result is sorted by date.
///
/// ```
/// use bitcoin_calc::parse_difficulty_csv;
/// let rows = parse_difficulty_csv("# exported\ndate,difficulty\n2024-04-11, 86388558925171\n").unwrap();
/// assert_eq!(rows[0].1.to_string(), "86388558925171");
/// let err = parse_difficulty_csv("2024-04-11,86388558925171\n2024-04-31,1\n").unwrap_err();
/// assert_eq!(err.to_string(), "line 2: \"2024-04-31\" is not a date (expected YYYY-MM-DD)");
/// ```
pub fn parse_difficulty_csv(text: &str) -> Result<Vec<(NaiveDate, Decimal)>, ImportError> {
    let mut seen: BTreeMap<NaiveDate, (Decimal, usize)> = BTreeMap::new();
    for (index, raw) in strip_bom(text).lines().enumerate() {
        let line = index + 1;
        let err = |message: String| ImportError::Line { line, message };
        let trimmed = raw.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = trimmed.split(',').map(unquote).collect();
        if seen.is_empty()
            && !looks_like_date(fields[0])
            && fields[0].to_ascii_lowercase().contains("date")
        {
            continue; // the header
        }
        let [date_text, value_text] = fields.as_slice() else {
            return Err(err(format!(
                "expected two fields `date,difficulty`, found {}",
                fields.len()
            )));
        };
        let date = parse_date(date_text).map_err(err)?;
        let value = parse_positive(value_text).map_err(err)?;
        match seen.get(&date) {
            Some((first, first_line)) if *first != value => {
                return Err(err(format!(
                    "{date} was already given as {first} on line {first_line}; now {value}"
                )))
            }
            Some(_) => {}
            None => {
                seen.insert(date, (value, line));
            }
        }
    }
    finish(
        seen.into_iter().map(|(d, (v, _))| (d, v)),
        DifficultyFormat::Csv,
    )
}

/// Parses a JSON object mapping `YYYY-MM-DD` to a difficulty, like the
/// platform's `difficulty-2024.json` (`../shared/data/` beside the checkout, outside this
/// repository). Values may be strings or numbers (read exactly).
/// A key repeated with a different value is an error. The result is sorted by date.
///
/// ```
/// use bitcoin_calc::parse_difficulty_json_map;
/// let rows = parse_difficulty_json_map(r#"{"2024-03-22": "83947913181361.6", "2024-01-01": 72006146478567}"#).unwrap();
/// assert_eq!(rows[0].0.to_string(), "2024-01-01");
/// assert_eq!(rows[1].1.to_string(), "83947913181361.6");
/// ```
pub fn parse_difficulty_json_map(text: &str) -> Result<Vec<(NaiveDate, Decimal)>, ImportError> {
    let format = DifficultyFormat::JsonMap;
    let Entries(entries) =
        serde_json::from_str(strip_bom(text)).map_err(|e| json_error(format, &e))?;
    let mut seen: BTreeMap<NaiveDate, Decimal> = BTreeMap::new();
    for (key, value) in entries {
        let err = |message: String| ImportError::Entry {
            entry: format!("key {key:?}"),
            message,
        };
        let date = parse_date(&key).map_err(err)?;
        let value = json_decimal(&value)
            .and_then(|v| check_positive(v, value.get()))
            .map_err(err)?;
        if let Some(first) = seen.insert(date, value) {
            if first != value {
                return Err(err(format!(
                    "given twice with different difficulties: {first} and {value}"
                )));
            }
        }
    }
    finish(seen, format)
}

/// Parses mempool.space's `GET /api/v1/mining/difficulty-adjustments` response: an array of
/// `[unix_time, block_height, difficulty, change_ratio]` rows, in any order.
///
/// Each row's date is the UTC day of `unix_time`; the new difficulty counts for that whole
/// day (the convention of the halving table). Two adjustments on one UTC day keep the later
/// one. Difficulties are read exactly from the JSON text as written (serde_json's
/// `raw_value`), never through a float. The result is sorted by date.
///
/// ```
/// use bitcoin_calc::parse_mempool_adjustments;
/// let rows = parse_mempool_adjustments(
///     "[[1714089600, 840000, 88104191118793.1, 1.0199], [1712845012, 838656, 86388558925171, 1.0399]]",
/// ).unwrap();
/// assert_eq!(rows[0].0.to_string(), "2024-04-11");
/// assert_eq!(rows[1].0.to_string(), "2024-04-26");
/// assert_eq!(rows[1].1.to_string(), "88104191118793.1");
/// ```
pub fn parse_mempool_adjustments(text: &str) -> Result<Vec<(NaiveDate, Decimal)>, ImportError> {
    Ok(parse_mempool_entries(text)?
        .into_iter()
        .map(|e| (e.date, e.difficulty))
        .collect())
}

/// [`parse_mempool_adjustments`] keeping each adjustment's block height, which tells the
/// epoch of the block subsidy (see [`subsidy_on`](crate::subsidy_on)).
///
/// ```
/// use bitcoin_calc::parse_mempool_entries;
/// let rows = parse_mempool_entries("[[1712845012, 838656, 86388558925171, 1.0399]]").unwrap();
/// assert_eq!((rows[0].date.to_string(), rows[0].height), ("2024-04-11".to_owned(), Some(838656)));
/// ```
pub fn parse_mempool_entries(text: &str) -> Result<Vec<DifficultyEntry>, ImportError> {
    let format = DifficultyFormat::MempoolAdjustments;
    let rows: Vec<Vec<&RawValue>> =
        serde_json::from_str(strip_bom(text)).map_err(|e| json_error(format, &e))?;
    let mut by_date: BTreeMap<NaiveDate, (i64, DifficultyEntry)> = BTreeMap::new();
    for (index, row) in rows.iter().enumerate() {
        let err = |message: String| ImportError::Entry {
            entry: format!("row {}", index + 1),
            message,
        };
        if row.len() < 3 {
            return Err(err(format!(
                "expected [unix_time, block_height, difficulty, change_ratio], found {} value(s)",
                row.len()
            )));
        }
        let time = whole::<i64>(row[0]).ok_or_else(|| {
            err(format!(
                "unix_time {} is not a whole number of seconds",
                row[0]
            ))
        })?;
        let date = DateTime::from_timestamp(time, 0)
            .filter(|t| time >= 0 && t.timestamp() == time)
            .map(|t| t.date_naive())
            .ok_or_else(|| err(format!("unix_time {time} is out of range")))?;
        let value = json_decimal(row[2])
            .and_then(|v| check_positive(v, row[2].get()))
            .map_err(|m| err(format!("difficulty: {m}")))?;
        let height = whole::<u64>(row[1])
            .ok_or_else(|| err(format!("block_height {} is not a whole number", row[1])))?;
        match by_date.get(&date) {
            Some((earlier, _)) if *earlier > time => {}
            _ => {
                let entry = DifficultyEntry::new(date, value).with_height(height);
                by_date.insert(date, (time, entry));
            }
        }
    }
    if by_date.is_empty() {
        return Err(ImportError::Empty { format });
    }
    Ok(by_date.into_values().map(|(_, e)| e).collect())
}

/// Parses a difficulty file of any of the three formats into entries, with block heights
/// where the format carries them (the mempool.space shape).
///
/// ```
/// use bitcoin_calc::parse_difficulty_entries;
/// let rows = parse_difficulty_entries("date,difficulty\n2024-04-11,86388558925171\n").unwrap();
/// assert_eq!(rows[0].height, None);
/// ```
pub fn parse_difficulty_entries(text: &str) -> Result<Vec<DifficultyEntry>, ImportError> {
    match detect_difficulty_format(text) {
        DifficultyFormat::MempoolAdjustments => parse_mempool_entries(text),
        format => Ok(parse_difficulty(text, format)?
            .into_iter()
            .map(|(d, v)| DifficultyEntry::new(d, v))
            .collect()),
    }
}

fn finish(
    entries: impl IntoIterator<Item = (NaiveDate, Decimal)>,
    format: DifficultyFormat,
) -> Result<Vec<(NaiveDate, Decimal)>, ImportError> {
    let out: Vec<_> = entries.into_iter().collect();
    if out.is_empty() {
        Err(ImportError::Empty { format })
    } else {
        Ok(out)
    }
}

fn strip_bom(text: &str) -> &str {
    text.strip_prefix('\u{feff}').unwrap_or(text)
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    f.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .map_or(f, str::trim)
}

fn looks_like_date(s: &str) -> bool {
    parse_date(s).is_ok()
}

/// Strict `YYYY-MM-DD`: chrono alone would accept `2024-4-1`.
fn parse_date(s: &str) -> Result<NaiveDate, String> {
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    shape
        .then(|| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
        .flatten()
        .ok_or_else(|| format!("{s:?} is not a date (expected YYYY-MM-DD)"))
}

fn parse_positive(s: &str) -> Result<Decimal, String> {
    let v = parse_exact(s).map_err(|e| format!("difficulty {e}"))?;
    check_positive(v, s)
}

fn check_positive(v: Decimal, shown: &str) -> Result<Decimal, String> {
    if v > Decimal::ZERO {
        Ok(v)
    } else {
        Err(format!("difficulty {shown} is not positive"))
    }
}

fn json_error(format: DifficultyFormat, e: &serde_json::Error) -> ImportError {
    ImportError::Json {
        format,
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    }
}

/// A JSON number that is a whole number of type `T`, read from its text as written (a
/// string, a fraction or an exponent is not one).
fn whole<T: std::str::FromStr>(value: &RawValue) -> Option<T> {
    value.get().parse().ok()
}

/// A JSON object's entries in document order, duplicates kept (serde_json's map would
/// silently keep only the last), each value as its raw text.
struct Entries(Vec<(String, Box<RawValue>)>);

impl<'de> Deserialize<'de> for Entries {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor;
        impl<'de> Visitor<'de> for EntriesVisitor {
            type Value = Entries;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object mapping YYYY-MM-DD to a difficulty")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    out.push(entry);
                }
                Ok(Entries(out))
            }
        }
        deserializer.deserialize_map(EntriesVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_csv_err(text: &str, expected: &str) {
        let err = parse_difficulty_csv(text).unwrap_err().to_string();
        assert_eq!(err, expected, "text {text:?}");
    }

    #[test]
    fn detects_each_format() {
        assert_eq!(
            detect_difficulty_format("\u{feff} [[1,2,3,4]]"),
            DifficultyFormat::MempoolAdjustments
        );
        assert_eq!(
            detect_difficulty_format("\n{\"a\":1}"),
            DifficultyFormat::JsonMap
        );
        assert_eq!(
            detect_difficulty_format("date,difficulty"),
            DifficultyFormat::Csv
        );
        assert_eq!(detect_difficulty_format(""), DifficultyFormat::Csv);
    }

    #[test]
    fn csv_tolerates_header_comments_quotes_and_crlf() {
        let text = "\u{feff}# from the node\r\n\"Date\",\"Difficulty\"\r\n\r\n2024-01-06 , \"73197634206448\"\r\n2024-01-01,72006146478567\r\n2024-01-01,72006146478567.0\r\n";
        let rows = parse_difficulty_csv(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0.to_string(), "2024-01-01");
        assert_eq!(rows[1].1.to_string(), "73197634206448");
    }

    #[test]
    fn csv_errors_carry_line_numbers() {
        check_csv_err(
            "date,difficulty\n2024-01-01,1\n2024-01-02\n",
            "line 3: expected two fields `date,difficulty`, found 1",
        );
        check_csv_err(
            "2024-01-01,1,2\n",
            "line 1: expected two fields `date,difficulty`, found 3",
        );
        check_csv_err(
            "\n\n2024-1-5,1\n",
            "line 3: \"2024-1-5\" is not a date (expected YYYY-MM-DD)",
        );
        check_csv_err(
            "2024-01-01,lots\n",
            "line 1: difficulty \"lots\" is not a decimal number",
        );
        check_csv_err("2024-01-01,0\n", "line 1: difficulty 0 is not positive");
        check_csv_err("2024-01-01,-3\n", "line 1: difficulty -3 is not positive");
        check_csv_err(
            "2024-01-01,5\n# again\n2024-01-01,6\n",
            "line 3: 2024-01-01 was already given as 5 on line 1; now 6",
        );
        // A header after data is not a header.
        check_csv_err(
            "2024-01-01,5\ndate,difficulty\n",
            "line 2: \"date\" is not a date (expected YYYY-MM-DD)",
        );
        check_csv_err(
            "# only a comment\n",
            "no difficulty entries found in the CSV (date,difficulty)",
        );
    }

    #[test]
    fn json_map_errors_name_the_key_or_position() {
        let err = parse_difficulty_json_map("{\"2024-01-01\": \"1\",\n \"2024-13-01\": \"2\"}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "key \"2024-13-01\": \"2024-13-01\" is not a date (expected YYYY-MM-DD)"
        );
        let err = parse_difficulty_json_map("{\"2024-01-01\": null}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "key \"2024-01-01\": expected a number or a string, got null"
        );
        let err = parse_difficulty_json_map("{\"2024-01-01\": \"0\"}")
            .unwrap_err()
            .to_string();
        assert_eq!(err, "key \"2024-01-01\": difficulty \"0\" is not positive");
        let err = parse_difficulty_json_map("{\"2024-01-01\": 1, \"2024-01-01\": 2}")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "key \"2024-01-01\": given twice with different difficulties: 1 and 2"
        );
        let err = parse_difficulty_json_map("{\n\"2024-01-01\": 1,\n}").unwrap_err();
        assert!(matches!(err, ImportError::Json { line: 3, .. }), "{err:?}");
        let err = parse_difficulty_json_map("{}").unwrap_err().to_string();
        assert_eq!(err, "no difficulty entries found in the JSON date map");
    }

    #[test]
    fn mempool_reads_exact_values_and_utc_days() {
        // 1704067199 is 2023-12-31T23:59:59Z, 1704067200 is 2024-01-01T00:00:00Z.
        let rows = parse_mempool_adjustments(
            "[[1704067200, 1, 123456789012345678.123456789, 1.01],\n [1704067199, 0, \"5\", 1]]",
        )
        .unwrap();
        assert_eq!(rows[0].0.to_string(), "2023-12-31");
        assert_eq!(rows[1].0.to_string(), "2024-01-01");
        assert_eq!(rows[1].1.to_string(), "123456789012345678.123456789");
        // The later adjustment of one UTC day wins, whatever the order.
        let rows =
            parse_mempool_adjustments("[[1704070800, 2, 7, 1], [1704067200, 1, 6, 1]]").unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].1.to_string(), "7");
    }

    #[test]
    fn mempool_errors_name_the_row() {
        let check = |text: &str, expected: &str| {
            assert_eq!(
                parse_mempool_adjustments(text).unwrap_err().to_string(),
                expected
            );
        };
        check(
            "[[1704067200, 1, 5, 1], [1704067200, 1]]",
            "row 2: expected [unix_time, block_height, difficulty, change_ratio], found 2 value(s)",
        );
        check(
            "[[1704067200.5, 1, 5, 1]]",
            "row 1: unix_time 1704067200.5 is not a whole number of seconds",
        );
        check("[[-1, 1, 5, 1]]", "row 1: unix_time -1 is out of range");
        check(
            "[[1704067200, 1, -5, 1]]",
            "row 1: difficulty: difficulty -5 is not positive",
        );
        check(
            "[]",
            "no difficulty entries found in the mempool.space difficulty-adjustments JSON",
        );
        let err = parse_mempool_adjustments("[{\"time\": 1}]").unwrap_err();
        assert!(matches!(err, ImportError::Json { line: 1, .. }), "{err:?}");
    }
}
