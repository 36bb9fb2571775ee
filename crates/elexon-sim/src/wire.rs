//! Serialization of the simulator's data in the shapes the real services send.
//!
//! - [`stack_xml`]: the ASP.NET `XmlSerializer` document the API serves (PascalCase
//!   element names, `xsi:nil="true"` for nulls);
//! - [`stack_json`]: `{"metadata":{"datasets":["ISPSTACK"]},"data":[…]}` with camelCase names;
//! - [`bmunits_json`]: the bare array of `/reference/bmunits/all`;
//! - [`difficulty_json`]: mempool.space rows `[unix_time, height, difficulty, change_ratio]`.
//!
//! Decimals are written with [`Decimal`]'s `Display`, i.e. exactly (in JSON as numbers
//! whose text is that exact decimal). Writers append to one `String`; no intermediate tree.
//!
//! [`stack_json_items`] reads a JSON stack document back into items, exactly, for tests
//! that check what was served.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, SecondsFormat, Utc};
use rust_decimal::Decimal;
use serde_json::value::RawValue;
use settlement_model::{BmUnit, SettlementDate, StackItem};

/// The stack document in the XmlSerializer shape the API serves.
///
/// `date` and `period` are those of the request; the shape repeats them in every item and
/// nowhere else, so they only serve as a reminder that an empty stack is still a document
/// for one date and period.
pub fn stack_xml(items: &[StackItem], date: SettlementDate, period: u8) -> String {
    let _ = (date, period);
    let mut out = String::with_capacity(256 + items.len() * 1200);
    out.push_str("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n");
    out.push_str(
        "<ResponseWithMetadataOfSettlementStackResponse \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n",
    );
    out.push_str("  <Metadata>\n    <Datasets>\n      <string>ISPSTACK</string>\n    </Datasets>\n  </Metadata>\n");
    if items.is_empty() {
        out.push_str("  <Data />\n");
    } else {
        out.push_str("  <Data>\n");
        for it in items {
            out.push_str("    <SettlementStackResponse>\n");
            visit_item(it, &mut XmlSink(&mut out));
            out.push_str("    </SettlementStackResponse>\n");
        }
        out.push_str("  </Data>\n");
    }
    out.push_str("</ResponseWithMetadataOfSettlementStackResponse>\n");
    out
}

/// The stack document in the API's JSON shape: `{"metadata":{"datasets":["ISPSTACK"]},
/// "data":[…]}`, camelCase names, decimals as numbers with their exact text, nulls as `null`.
pub fn stack_json(items: &[StackItem]) -> String {
    let mut out = String::with_capacity(64 + items.len() * 700);
    out.push_str("{\"metadata\":{\"datasets\":[\"ISPSTACK\"]},\"data\":[");
    for (i, it) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push('{');
        visit_item(
            it,
            &mut JsonSink {
                out: &mut out,
                first: true,
            },
        );
        out.push('}');
    }
    out.push_str("]}");
    out
}

/// The items of a JSON stack document (as [`stack_json`] writes it, served or faulted), read
/// with the model's serde and no validation. Numbers are exact: serde_json (without its
/// `arbitrary_precision` feature) would read a fraction as an `f64`, so every number that is
/// not a whole `i64`/`u64` is handed to the model as its text, which `Decimal` parses
/// exactly.
pub fn stack_json_items(json: &str) -> Result<Vec<StackItem>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Doc<'a> {
        #[serde(borrow)]
        data: Vec<BTreeMap<String, &'a RawValue>>,
    }
    let doc: Doc<'_> = serde_json::from_str(json)?;
    doc.data
        .into_iter()
        .map(|fields| {
            let object = fields
                .into_iter()
                .map(|(name, raw)| Ok((name, exact_value(raw)?)))
                .collect::<Result<serde_json::Map<_, _>, serde_json::Error>>()?;
            serde_json::from_value(serde_json::Value::Object(object))
        })
        .collect()
}

/// One field's value, a number that is not a whole `i64`/`u64` as its exact text.
fn exact_value(raw: &RawValue) -> Result<serde_json::Value, serde_json::Error> {
    let text = raw.get();
    let number = text.starts_with(|c: char| c == '-' || c.is_ascii_digit());
    if number && text.parse::<i64>().is_err() && text.parse::<u64>().is_err() {
        Ok(serde_json::Value::String(text.to_owned()))
    } else {
        serde_json::from_str(text)
    }
}

/// The BM unit list as `/reference/bmunits/all` sends it: a bare JSON array of camelCase
/// objects, `generationCapacity` as a decimal text string. A few fields the model does not
/// keep (`leadPartyId`, `bmUnitType`, `gspGroupId`, `fpnFlag`) are added, derived from the
/// id, as the real list carries many more fields than we read.
pub fn bmunits_json(units: &[BmUnit]) -> String {
    let mut out = String::with_capacity(units.len() * 400);
    out.push('[');
    for (i, u) in units.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let h = fnv(u.elexon_bm_unit.as_bytes());
        let unit_type = match u.elexon_bm_unit.get(..2) {
            Some("T_") => "T",
            Some("E_") => "E",
            Some("C_") => "C",
            _ => "S",
        };
        let gsp = format!("_{}", char::from(b'A' + u8::try_from(h % 14).unwrap_or(0)));
        out.push('{');
        let mut s = JsonSink {
            out: &mut out,
            first: true,
        };
        s.string("nationalGridBmUnit", u.national_grid_bm_unit.as_deref());
        s.string("elexonBmUnit", Some(&u.elexon_bm_unit));
        s.string("eic", Some(&format!("48W0000000{:05}{}", h % 100_000, "X")));
        s.string("fuelType", u.fuel_type.as_deref());
        s.string("leadPartyName", u.lead_party_name.as_deref());
        s.string("leadPartyId", Some(&format!("LP{:04}", h % 10_000)));
        s.string("bmUnitType", Some(unit_type));
        s.string("bmUnitName", u.bm_unit_name.as_deref());
        s.string(
            "generationCapacity",
            u.generation_capacity.map(|c| c.to_string()).as_deref(),
        );
        s.string("gspGroupId", (unit_type != "T").then_some(gsp.as_str()));
        s.raw("fpnFlag", if h % 5 == 0 { "false" } else { "true" });
        out.push('}');
    }
    out.push(']');
    out
}

/// Difficulty adjustments as mempool.space sends them: an array of
/// `[unix_time, block_height, difficulty, change_ratio]` rows, in the order given (the
/// server sends newest first, as mempool.space does).
pub fn difficulty_json(rows: &[(i64, u64, Decimal, Decimal)]) -> String {
    let mut out = String::with_capacity(rows.len() * 48);
    out.push('[');
    for (i, (time, height, difficulty, ratio)) in rows.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let _ = write!(out, "[{time},{height},{difficulty},{ratio}]");
    }
    out.push(']');
    out
}

/// An ASP.NET-style problem document, used for 400, 404, 429 and 500 answers.
pub fn error_json(status: u16, title: &str, detail: &str) -> String {
    let mut out = String::with_capacity(128 + detail.len());
    out.push('{');
    let mut s = JsonSink {
        out: &mut out,
        first: true,
    };
    s.string("type", Some("https://tools.ietf.org/html/rfc9110"));
    s.string("title", Some(title));
    s.raw("status", &status.to_string());
    s.string("detail", Some(detail));
    out.push('}');
    out
}

// ---------------------------------------------------------------------------------------

/// A value of one field of an item.
enum Value<'a> {
    Text(Option<&'a str>),
    Date(chrono::NaiveDate),
    Time(Option<DateTime<Utc>>),
    Int(Option<i64>),
    Bool(Option<bool>),
    Dec(Option<Decimal>),
}

trait Sink {
    /// `pascal` is the XML name; the JSON name is the same with a lower-case first letter.
    fn field(&mut self, pascal: &str, camel: &str, value: Value<'_>);
}

/// Every field of an item, in the API's order.
fn visit_item(it: &StackItem, s: &mut impl Sink) {
    s.field(
        "SettlementDate",
        "settlementDate",
        Value::Date(it.settlement_date),
    );
    s.field(
        "SettlementPeriod",
        "settlementPeriod",
        Value::Int(Some(i64::from(it.settlement_period))),
    );
    s.field("StartTime", "startTime", Value::Time(it.start_time));
    s.field(
        "CreatedDateTime",
        "createdDateTime",
        Value::Time(it.created_date_time),
    );
    s.field(
        "SequenceNumber",
        "sequenceNumber",
        Value::Int(it.sequence_number),
    );
    s.field("Id", "id", Value::Text(it.id.as_deref()));
    s.field("AcceptanceId", "acceptanceId", Value::Int(it.acceptance_id));
    s.field(
        "BidOfferPairId",
        "bidOfferPairId",
        Value::Int(it.bid_offer_pair_id),
    );
    s.field("CadlFlag", "cadlFlag", Value::Bool(it.cadl_flag));
    s.field("SoFlag", "soFlag", Value::Bool(it.so_flag));
    s.field(
        "StorProviderFlag",
        "storProviderFlag",
        Value::Bool(it.stor_provider_flag),
    );
    s.field(
        "RepricedIndicator",
        "repricedIndicator",
        Value::Bool(it.repriced_indicator),
    );
    s.field(
        "ReserveScarcityPrice",
        "reserveScarcityPrice",
        Value::Dec(it.reserve_scarcity_price),
    );
    s.field(
        "OriginalPrice",
        "originalPrice",
        Value::Dec(it.original_price),
    );
    s.field("Volume", "volume", Value::Dec(Some(it.volume)));
    s.field(
        "DmatAdjustedVolume",
        "dmatAdjustedVolume",
        Value::Dec(it.dmat_adjusted_volume),
    );
    s.field(
        "ArbitrageAdjustedVolume",
        "arbitrageAdjustedVolume",
        Value::Dec(it.arbitrage_adjusted_volume),
    );
    s.field(
        "NivAdjustedVolume",
        "nivAdjustedVolume",
        Value::Dec(it.niv_adjusted_volume),
    );
    s.field(
        "ParAdjustedVolume",
        "parAdjustedVolume",
        Value::Dec(it.par_adjusted_volume),
    );
    s.field("FinalPrice", "finalPrice", Value::Dec(it.final_price));
    s.field(
        "TransmissionLossMultiplier",
        "transmissionLossMultiplier",
        Value::Dec(it.transmission_loss_multiplier),
    );
    s.field(
        "TlmAdjustedVolume",
        "tlmAdjustedVolume",
        Value::Dec(it.tlm_adjusted_volume),
    );
    s.field(
        "TlmAdjustedCost",
        "tlmAdjustedCost",
        Value::Dec(it.tlm_adjusted_cost),
    );
}

fn time_text(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

struct XmlSink<'a>(&'a mut String);

impl Sink for XmlSink<'_> {
    fn field(&mut self, pascal: &str, _camel: &str, value: Value<'_>) {
        let out = &mut *self.0;
        let text: Option<String> = match value {
            Value::Text(t) => t.map(xml_escape),
            Value::Date(d) => Some(d.format("%Y-%m-%d").to_string()),
            Value::Time(t) => t.map(time_text),
            Value::Int(i) => i.map(|i| i.to_string()),
            Value::Bool(b) => b.map(|b| if b { "true" } else { "false" }.to_owned()),
            Value::Dec(d) => d.map(|d| d.to_string()),
        };
        match text {
            Some(t) => {
                let _ = writeln!(out, "      <{pascal}>{t}</{pascal}>");
            }
            None => {
                let _ = writeln!(out, "      <{pascal} xsi:nil=\"true\" />");
            }
        }
    }
}

struct JsonSink<'a> {
    out: &'a mut String,
    first: bool,
}

impl JsonSink<'_> {
    fn key(&mut self, name: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push('"');
        self.out.push_str(name);
        self.out.push_str("\":");
    }

    fn raw(&mut self, name: &str, text: &str) {
        self.key(name);
        self.out.push_str(text);
    }

    fn string(&mut self, name: &str, text: Option<&str>) {
        self.key(name);
        match text {
            Some(t) => json_escape_into(self.out, t),
            None => self.out.push_str("null"),
        }
    }
}

impl Sink for JsonSink<'_> {
    fn field(&mut self, _pascal: &str, camel: &str, value: Value<'_>) {
        match value {
            Value::Text(t) => self.string(camel, t),
            Value::Date(d) => self.string(camel, Some(&d.format("%Y-%m-%d").to_string())),
            Value::Time(t) => self.string(camel, t.map(time_text).as_deref()),
            Value::Int(i) => self.raw(camel, &i.map_or("null".to_owned(), |i| i.to_string())),
            Value::Bool(b) => self.raw(
                camel,
                match b {
                    Some(true) => "true",
                    Some(false) => "false",
                    None => "null",
                },
            ),
            Value::Dec(d) => self.raw(camel, &d.map_or("null".to_owned(), |d| d.to_string())),
        }
    }
}

fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

fn json_escape_into(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// FNV-1a: a stable hash for deriving extra fields from an id.
fn fnv(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_documents_parse_and_keep_decimal_text() {
        let d: SettlementDate = "2024-03-21".parse().unwrap();
        let items = crate::data::stack_items(42, d, 3, settlement_model::Side::Bid, 0);
        let json = stack_json(&items);
        #[derive(serde::Deserialize)]
        struct Doc<'a> {
            #[serde(borrow)]
            data: Vec<BTreeMap<String, &'a RawValue>>,
        }
        let doc: Doc<'_> = serde_json::from_str(&json).unwrap();
        assert_eq!(doc.data.len(), items.len());
        for (v, it) in doc.data.iter().zip(&items) {
            assert_eq!(v["volume"].get(), it.volume.to_string());
        }
        assert_eq!(stack_json_items(&json).unwrap(), items);
        let units = crate::data::bm_units(42);
        let doc: Vec<BmUnit> = serde_json::from_str(&bmunits_json(&units)).unwrap();
        assert_eq!(doc, units);
        let rows = crate::data::difficulty_adjustments(42);
        let json = difficulty_json(&rows);
        let doc: Vec<Vec<&RawValue>> = serde_json::from_str(&json).unwrap();
        assert_eq!(doc.len(), rows.len());
        assert_eq!(doc[100][2].get(), rows[100].2.to_string());
    }

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("a&b<'\">"), "a&amp;b&lt;&apos;&quot;&gt;");
        let mut s = String::new();
        json_escape_into(&mut s, "O'Hare \"x\"\n");
        assert_eq!(s, r#""O'Hare \"x\"\n""#);
    }
}
