//! The stack item's fields, matched by name case-insensitively, and the conversion of their
//! published text into typed values. Shared by the XML and JSON parsers, so both formats
//! accept and reject exactly the same values.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use settlement_model::{SettlementDate, Side, StackItem};

use crate::ParseError;

/// One field of a stack item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Field {
    SettlementDate,
    SettlementPeriod,
    StartTime,
    CreatedDateTime,
    SequenceNumber,
    Id,
    AcceptanceId,
    BidOfferPairId,
    CadlFlag,
    SoFlag,
    StorProviderFlag,
    RepricedIndicator,
    ReserveScarcityPrice,
    OriginalPrice,
    Volume,
    DmatAdjustedVolume,
    ArbitrageAdjustedVolume,
    NivAdjustedVolume,
    ParAdjustedVolume,
    FinalPrice,
    TransmissionLossMultiplier,
    TlmAdjustedVolume,
    TlmAdjustedCost,
}

/// The longest field name, in bytes (`transmissionLossMultiplier`).
const LONGEST_NAME: usize = 26;

impl Field {
    /// The API's (camelCase) name.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Field::SettlementDate => "settlementDate",
            Field::SettlementPeriod => "settlementPeriod",
            Field::StartTime => "startTime",
            Field::CreatedDateTime => "createdDateTime",
            Field::SequenceNumber => "sequenceNumber",
            Field::Id => "id",
            Field::AcceptanceId => "acceptanceId",
            Field::BidOfferPairId => "bidOfferPairId",
            Field::CadlFlag => "cadlFlag",
            Field::SoFlag => "soFlag",
            Field::StorProviderFlag => "storProviderFlag",
            Field::RepricedIndicator => "repricedIndicator",
            Field::ReserveScarcityPrice => "reserveScarcityPrice",
            Field::OriginalPrice => "originalPrice",
            Field::Volume => "volume",
            Field::DmatAdjustedVolume => "dmatAdjustedVolume",
            Field::ArbitrageAdjustedVolume => "arbitrageAdjustedVolume",
            Field::NivAdjustedVolume => "nivAdjustedVolume",
            Field::ParAdjustedVolume => "parAdjustedVolume",
            Field::FinalPrice => "finalPrice",
            Field::TransmissionLossMultiplier => "transmissionLossMultiplier",
            Field::TlmAdjustedVolume => "tlmAdjustedVolume",
            Field::TlmAdjustedCost => "tlmAdjustedCost",
        }
    }

    /// The field with this name, compared ASCII-case-insensitively (`SoFlag` = `soFlag`).
    pub(crate) fn lookup(name: &str) -> Option<Field> {
        let bytes = name.as_bytes();
        if bytes.len() < 2 || bytes.len() > LONGEST_NAME {
            return None;
        }
        let mut buf = [0u8; LONGEST_NAME];
        let lower = &mut buf[..bytes.len()];
        lower.copy_from_slice(bytes);
        lower.make_ascii_lowercase();
        Some(match &*lower {
            b"settlementdate" => Field::SettlementDate,
            b"settlementperiod" => Field::SettlementPeriod,
            b"starttime" => Field::StartTime,
            b"createddatetime" => Field::CreatedDateTime,
            b"sequencenumber" => Field::SequenceNumber,
            b"id" => Field::Id,
            b"acceptanceid" => Field::AcceptanceId,
            b"bidofferpairid" => Field::BidOfferPairId,
            b"cadlflag" => Field::CadlFlag,
            b"soflag" => Field::SoFlag,
            b"storproviderflag" => Field::StorProviderFlag,
            b"repricedindicator" => Field::RepricedIndicator,
            b"reservescarcityprice" => Field::ReserveScarcityPrice,
            b"originalprice" => Field::OriginalPrice,
            b"volume" => Field::Volume,
            b"dmatadjustedvolume" => Field::DmatAdjustedVolume,
            b"arbitrageadjustedvolume" => Field::ArbitrageAdjustedVolume,
            b"nivadjustedvolume" => Field::NivAdjustedVolume,
            b"paradjustedvolume" => Field::ParAdjustedVolume,
            b"finalprice" => Field::FinalPrice,
            b"transmissionlossmultiplier" => Field::TransmissionLossMultiplier,
            b"tlmadjustedvolume" => Field::TlmAdjustedVolume,
            b"tlmadjustedcost" => Field::TlmAdjustedCost,
            _ => return None,
        })
    }
}

/// A field's value as it appears in the document, before conversion.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw<'a> {
    /// `null`, `xsi:nil="true"`, or an empty element.
    Null,
    /// Text (XML content, a JSON string, or a JSON number's exact text).
    Text(&'a str),
    /// A JSON boolean.
    Bool(bool),
    /// Something no field can hold (a JSON object or array, nested XML elements).
    Unexpected(&'static str),
}

/// The stack asked for: what every error names, and what every item must belong to.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Asked {
    pub(crate) date: SettlementDate,
    pub(crate) period: u8,
    pub(crate) side: Side,
}

/// Builds one item from its fields, in any order, then checks it is complete.
pub(crate) struct ItemBuilder {
    asked: Asked,
    index: usize,
    item: StackItem,
    date_seen: bool,
    period_seen: bool,
    volume_seen: bool,
}

impl ItemBuilder {
    pub(crate) fn new(asked: Asked, index: usize) -> Self {
        Self {
            asked,
            index,
            item: StackItem::new(asked.date.naive(), 0, Decimal::ZERO),
            date_seen: false,
            period_seen: false,
            volume_seen: false,
        }
    }

    /// Sets one field from its raw value; a later value of the same field replaces an earlier.
    pub(crate) fn set(&mut self, field: Field, raw: Raw<'_>) -> Result<(), ParseError> {
        match field {
            Field::SettlementDate => {
                if let Some(d) = self.convert(field, raw, "a date (YYYY-MM-DD)", parse_date)? {
                    self.item.settlement_date = d;
                    self.date_seen = true;
                }
            }
            Field::SettlementPeriod => {
                let period = self.convert(field, raw, "a period number (1-50)", |t| {
                    t.parse::<u8>().ok().filter(|p| *p >= 1)
                })?;
                if let Some(p) = period {
                    self.item.settlement_period = p;
                    self.period_seen = true;
                }
            }
            Field::Volume => {
                if let Some(v) = self.convert(field, raw, "a decimal", parse_decimal)? {
                    self.item.volume = v;
                    self.volume_seen = true;
                }
            }
            Field::StartTime => self.item.start_time = self.datetime(field, raw)?,
            Field::CreatedDateTime => self.item.created_date_time = self.datetime(field, raw)?,
            Field::SequenceNumber => self.item.sequence_number = self.int(field, raw)?,
            Field::AcceptanceId => self.item.acceptance_id = self.int(field, raw)?,
            Field::BidOfferPairId => self.item.bid_offer_pair_id = self.int(field, raw)?,
            Field::Id => {
                self.item.id = self.convert(field, raw, "a BM unit id", |t| Some(t.to_owned()))?
            }
            Field::CadlFlag => self.item.cadl_flag = self.bool(field, raw)?,
            Field::SoFlag => self.item.so_flag = self.bool(field, raw)?,
            Field::StorProviderFlag => self.item.stor_provider_flag = self.bool(field, raw)?,
            Field::RepricedIndicator => self.item.repriced_indicator = self.bool(field, raw)?,
            Field::ReserveScarcityPrice => {
                self.item.reserve_scarcity_price = self.dec(field, raw)?
            }
            Field::OriginalPrice => self.item.original_price = self.dec(field, raw)?,
            Field::DmatAdjustedVolume => self.item.dmat_adjusted_volume = self.dec(field, raw)?,
            Field::ArbitrageAdjustedVolume => {
                self.item.arbitrage_adjusted_volume = self.dec(field, raw)?;
            }
            Field::NivAdjustedVolume => self.item.niv_adjusted_volume = self.dec(field, raw)?,
            Field::ParAdjustedVolume => self.item.par_adjusted_volume = self.dec(field, raw)?,
            Field::FinalPrice => self.item.final_price = self.dec(field, raw)?,
            Field::TransmissionLossMultiplier => {
                self.item.transmission_loss_multiplier = self.dec(field, raw)?;
            }
            Field::TlmAdjustedVolume => self.item.tlm_adjusted_volume = self.dec(field, raw)?,
            Field::TlmAdjustedCost => self.item.tlm_adjusted_cost = self.dec(field, raw)?,
        }
        Ok(())
    }

    /// The item, once its required fields are present and it belongs to the stack asked for.
    pub(crate) fn finish(self) -> Result<StackItem, ParseError> {
        let Asked { date, period, side } = self.asked;
        let index = self.index;
        for (seen, field) in [
            (self.period_seen, Field::SettlementPeriod),
            (self.volume_seen, Field::Volume),
        ] {
            if !seen {
                return Err(ParseError::MissingField {
                    date,
                    period,
                    side,
                    index,
                    field: field.name(),
                });
            }
        }
        if self.date_seen && self.item.settlement_date != date.naive() {
            return Err(ParseError::WrongDocument {
                date,
                period,
                side,
                index,
                field: Field::SettlementDate.name(),
                found: self.item.settlement_date.to_string(),
            });
        }
        if self.item.settlement_period != period {
            return Err(ParseError::WrongDocument {
                date,
                period,
                side,
                index,
                field: Field::SettlementPeriod.name(),
                found: self.item.settlement_period.to_string(),
            });
        }
        Ok(self.item)
    }

    fn convert<T>(
        &self,
        field: Field,
        raw: Raw<'_>,
        expected: &'static str,
        parse: impl FnOnce(&str) -> Option<T>,
    ) -> Result<Option<T>, ParseError> {
        match raw {
            Raw::Null => Ok(None),
            Raw::Text(text) => {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                parse(text)
                    .map(Some)
                    .ok_or_else(|| self.invalid(field, text, expected))
            }
            Raw::Bool(b) => Err(self.invalid(field, if b { "true" } else { "false" }, expected)),
            Raw::Unexpected(kind) => Err(self.invalid(field, kind, expected)),
        }
    }

    fn dec(&self, field: Field, raw: Raw<'_>) -> Result<Option<Decimal>, ParseError> {
        self.convert(field, raw, "a decimal", parse_decimal)
    }

    fn int(&self, field: Field, raw: Raw<'_>) -> Result<Option<i64>, ParseError> {
        self.convert(field, raw, "an integer", |t| t.parse::<i64>().ok())
    }

    fn datetime(&self, field: Field, raw: Raw<'_>) -> Result<Option<DateTime<Utc>>, ParseError> {
        self.convert(field, raw, "a date-time", parse_datetime)
    }

    fn bool(&self, field: Field, raw: Raw<'_>) -> Result<Option<bool>, ParseError> {
        match raw {
            Raw::Bool(b) => Ok(Some(b)),
            other => self.convert(field, other, "true or false", parse_bool),
        }
    }

    fn invalid(&self, field: Field, value: &str, expected: &'static str) -> ParseError {
        let Asked { date, period, side } = self.asked;
        ParseError::InvalidValue {
            date,
            period,
            side,
            index: self.index,
            field: field.name(),
            value: shorten(value),
            expected,
        }
    }
}

/// A value for an error message: at most 80 characters.
pub(crate) fn shorten(value: &str) -> String {
    const MAX: usize = 80;
    match value.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}…", &value[..cut]),
        None => value.to_owned(),
    }
}

/// Decimal text (`-52.5`, `0.9933898`, `1E-3`) straight into a [`Decimal`], exactly, with
/// the workspace's one parser: a value with more precision than a `Decimal` holds is an
/// error, not a rounding. Whitespace is for the caller to have trimmed.
pub(crate) fn parse_decimal(text: &str) -> Option<Decimal> {
    if text.trim() != text {
        return None;
    }
    settlement_model::parse_decimal_exact(text).ok()
}

/// `YYYY-MM-DD`, also with a time part (`2024-03-21T00:00:00`), as some serializers write
/// dates as date-times.
fn parse_date(text: &str) -> Option<NaiveDate> {
    let day = match text.as_bytes().get(10) {
        None => text,
        Some(b'T' | b't' | b' ') => text.get(..10)?,
        Some(_) => return None,
    };
    NaiveDate::parse_from_str(day, "%Y-%m-%d").ok()
}

/// RFC 3339 (`Z` or an offset, optional fraction); a date-time without a zone is UTC.
fn parse_datetime(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(dt) = DateTime::parse_from_rfc3339(text) {
        return Some(dt.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .ok()
        .map(|naive| naive.and_utc())
}

/// `true`/`false` (any case, as .NET may write `True`), or xsd's `1`/`0`.
fn parse_bool(text: &str) -> Option<bool> {
    if text.eq_ignore_ascii_case("true") || text == "1" {
        Some(true)
    } else if text.eq_ignore_ascii_case("false") || text == "0" {
        Some(false)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn every_field_is_found_by_its_names() {
        let all = [
            Field::SettlementDate,
            Field::SettlementPeriod,
            Field::StartTime,
            Field::CreatedDateTime,
            Field::SequenceNumber,
            Field::Id,
            Field::AcceptanceId,
            Field::BidOfferPairId,
            Field::CadlFlag,
            Field::SoFlag,
            Field::StorProviderFlag,
            Field::RepricedIndicator,
            Field::ReserveScarcityPrice,
            Field::OriginalPrice,
            Field::Volume,
            Field::DmatAdjustedVolume,
            Field::ArbitrageAdjustedVolume,
            Field::NivAdjustedVolume,
            Field::ParAdjustedVolume,
            Field::FinalPrice,
            Field::TransmissionLossMultiplier,
            Field::TlmAdjustedVolume,
            Field::TlmAdjustedCost,
        ];
        for f in all {
            let name = f.name();
            assert_eq!(Field::lookup(name), Some(f));
            assert_eq!(Field::lookup(&name.to_ascii_uppercase()), Some(f));
            let mut pascal = name.to_owned();
            pascal[..1].make_ascii_uppercase();
            assert_eq!(Field::lookup(&pascal), Some(f), "{pascal}");
        }
        assert_eq!(Field::lookup("Data"), None);
        assert_eq!(Field::lookup(""), None);
        assert_eq!(Field::lookup("transmissionLossMultiplierX"), None);
        assert_eq!(Field::lookup("ÿolume"), None);
    }

    #[test]
    fn decimals_are_exact() {
        assert_eq!(parse_decimal("-52.5"), Some(dec!(-52.5)));
        assert_eq!(
            parse_decimal("-0.004166666666666667").map(|d| d.to_string()),
            Some("-0.004166666666666667".to_owned())
        );
        assert_eq!(parse_decimal("1E-3"), Some(dec!(0.001)));
        assert_eq!(parse_decimal("+7"), Some(dec!(7)));
        for bad in ["", "-", "1_000", "NaN", "1,5", "0x10", "abc", "1.2.3"] {
            assert_eq!(parse_decimal(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn dates_and_times() {
        let d = NaiveDate::from_ymd_opt(2024, 3, 21);
        assert_eq!(parse_date("2024-03-21"), d);
        assert_eq!(parse_date("2024-03-21T00:00:00"), d);
        assert_eq!(parse_date("2024-03-21X"), None);
        assert_eq!(parse_date("21/03/2024"), None);
        let t = |s: &str| parse_datetime(s).map(|d| d.to_rfc3339());
        let want = Some("2024-03-21T17:00:00+00:00".to_owned());
        assert_eq!(t("2024-03-21T17:00:00Z"), want);
        assert_eq!(t("2024-03-21T18:00:00+01:00"), want);
        assert_eq!(t("2024-03-21T17:00:00"), want);
        assert_eq!(
            t("2024-03-22T09:03:18.74Z"),
            Some("2024-03-22T09:03:18.740+00:00".to_owned())
        );
        assert_eq!(t("yesterday"), None);
    }

    #[test]
    fn booleans() {
        assert_eq!(parse_bool("true"), Some(true));
        assert_eq!(parse_bool("False"), Some(false));
        assert_eq!(parse_bool("1"), Some(true));
        assert_eq!(parse_bool("yes"), None);
    }

    #[test]
    fn shortening_keeps_short_values() {
        assert_eq!(shorten("abc"), "abc");
        let long = "x".repeat(200);
        assert_eq!(shorten(&long).chars().count(), 81);
    }
}
