//! Broken documents give typed errors that name the date, period, side, item index and field.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use elexon_client::{Format, ParseError};
use settlement_model::{SettlementDate, Side, StackItem};

fn date() -> SettlementDate {
    "2024-03-21".parse().unwrap()
}

fn xml_item(period: &str, volume: &str, extra: &str) -> String {
    format!(
        "<SettlementStackResponse><SettlementDate>2024-03-21</SettlementDate>\
         <SettlementPeriod>{period}</SettlementPeriod><Id>T_A-1</Id><SoFlag>true</SoFlag>\
         <Volume>{volume}</Volume>{extra}</SettlementStackResponse>"
    )
}

fn xml_doc(items: &[String]) -> String {
    format!("<Response><Data>{}</Data></Response>", items.concat())
}

fn parse(format: Format, doc: &str) -> Result<Vec<StackItem>, ParseError> {
    format.parse_stack(doc.as_bytes(), date(), 35, Side::Bid)
}

/// The error for `doc`, checked to name the stack and (for item errors) index and field.
#[track_caller]
fn check_item_error(format: Format, doc: &str, index: usize, field: &str) -> ParseError {
    let err = parse(format, doc).expect_err("the document must be refused");
    let message = err.to_string();
    assert!(
        message.starts_with("2024-03-21 period 35 bid: "),
        "{message}"
    );
    assert!(message.contains(&format!("item {index}")), "{message}");
    assert!(message.contains(field), "{message}");
    assert_eq!(err.item_index(), Some(index), "{message}");
    assert_eq!(err.field(), Some(field), "{message}");
    err
}

#[test]
fn wrong_field_values_name_index_and_field() {
    let good = xml_item("35", "-1", "");
    for (extra, field) in [
        ("<OriginalPrice>cheap</OriginalPrice>", "originalPrice"),
        ("<SoFlag>yes</SoFlag>", "soFlag"),
        ("<AcceptanceId>12.5</AcceptanceId>", "acceptanceId"),
        ("<StartTime>teatime</StartTime>", "startTime"),
        ("<FinalPrice>1,5</FinalPrice>", "finalPrice"),
        ("<Volume>1_000</Volume>", "volume"),
    ] {
        let doc = xml_doc(&[good.clone(), good.clone(), xml_item("35", "-2", extra)]);
        let err = check_item_error(Format::Xml, &doc, 2, field);
        assert!(matches!(err, ParseError::InvalidValue { .. }), "{err}");
    }
    let err = check_item_error(
        Format::Xml,
        &xml_doc(&[xml_item("35", "abc", "")]),
        0,
        "volume",
    );
    assert!(err.to_string().contains("\"abc\""), "{err}");

    let json = r#"{"data": [{"settlementPeriod": 35, "volume": -1},
                            {"settlementPeriod": 35, "volume": "minus one"}]}"#;
    check_item_error(Format::Json, json, 1, "volume");
    let json = r#"{"data": [{"settlementPeriod": 35, "volume": -1, "soFlag": "maybe"}]}"#;
    check_item_error(Format::Json, json, 0, "soFlag");
    let json = r#"{"data": [{"settlementPeriod": 35, "volume": -1, "originalPrice": {"v": 1}}]}"#;
    check_item_error(Format::Json, json, 0, "originalPrice");
    let json = r#"{"data": [{"settlementPeriod": 35, "volume": -1, "id": true}]}"#;
    check_item_error(Format::Json, json, 0, "id");
}

#[test]
fn missing_or_null_required_fields() {
    // An item that has a period and other fields but no volume is still an item, and fails.
    let no_volume =
        "<Item><SettlementDate>2024-03-21</SettlementDate><SettlementPeriod>35</SettlementPeriod>\
                     <Id>T_A-1</Id><SoFlag>true</SoFlag></Item>";
    let doc = xml_doc(&[xml_item("35", "-1", ""), no_volume.to_owned()]);
    let err = check_item_error(Format::Xml, &doc, 1, "volume");
    assert!(matches!(err, ParseError::MissingField { .. }), "{err}");

    let nil_period = r#"<Item xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><SettlementPeriod xsi:nil="true"/>
                        <Id>T_A-1</Id><SoFlag>true</SoFlag><Volume>-1</Volume></Item>"#;
    check_item_error(
        Format::Xml,
        &xml_doc(&[nil_period.to_owned()]),
        0,
        "settlementPeriod",
    );
    check_item_error(
        Format::Xml,
        &xml_doc(&[xml_item("35", "", "")]),
        0,
        "volume",
    );

    check_item_error(
        Format::Json,
        r#"{"data": [{"settlementPeriod": 35, "id": "X"}]}"#,
        0,
        "volume",
    );
    check_item_error(
        Format::Json,
        r#"{"data": [{"settlementPeriod": 35, "volume": null}]}"#,
        0,
        "volume",
    );
    check_item_error(
        Format::Json,
        r#"{"data": [{"volume": -1}]}"#,
        0,
        "settlementPeriod",
    );
    check_item_error(Format::Json, r#"{"data": [17]}"#, 0, "data");
}

#[test]
fn a_document_for_another_period_or_date_is_refused() {
    let doc = xml_doc(&[xml_item("36", "-1", "")]);
    let err = check_item_error(Format::Xml, &doc, 0, "settlementPeriod");
    assert!(matches!(err, ParseError::WrongDocument { .. }), "{err}");
    assert!(err.to_string().contains("is 36"), "{err}");

    let other_day = xml_item("35", "-1", "").replace("2024-03-21", "2024-03-22");
    let err = check_item_error(Format::Xml, &xml_doc(&[other_day]), 0, "settlementDate");
    assert!(err.to_string().contains("2024-03-22"), "{err}");

    let json = r#"{"data": [{"settlementDate": "2024-03-21", "settlementPeriod": 35, "volume": 1},
                            {"settlementDate": "2024-03-21", "settlementPeriod": 34, "volume": 1}]}"#;
    check_item_error(Format::Json, json, 1, "settlementPeriod");
    let json =
        r#"{"data": [{"settlementDate": "2023-03-21", "settlementPeriod": 35, "volume": 1}]}"#;
    check_item_error(Format::Json, json, 0, "settlementDate");
}

#[track_caller]
fn check_malformed(format: Format, doc: &[u8], says: &str) {
    let err = format
        .parse_stack(doc, date(), 35, Side::Offer)
        .expect_err("must be refused");
    assert!(err.is_malformed(), "{err}");
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "2024-03-21 period 35 offer: malformed {format} document"
        )),
        "{message}"
    );
    assert!(
        message.to_lowercase().contains(&says.to_lowercase()),
        "{message} should mention {says}"
    );
}

#[test]
fn malformed_and_truncated_documents() {
    let full = xml_doc(&[xml_item("35", "-1", ""), xml_item("35", "-2", "")]);
    for cut in [1, 10, full.len() / 2, full.len() - 1] {
        check_malformed(Format::Xml, &full.as_bytes()[..cut], "");
    }
    check_malformed(Format::Xml, b"", "");
    check_malformed(Format::Xml, b"<a><b></a>", "");
    check_malformed(Format::Xml, b"<a>\xff\xfe</a>", "UTF-8");
    check_malformed(Format::Xml, b"not xml at all", "");

    let json = r#"{"data": [{"settlementPeriod": 35, "volume": -1}]}"#;
    for cut in [1, json.len() / 2, json.len() - 1] {
        check_malformed(Format::Json, &json.as_bytes()[..cut], "");
    }
    check_malformed(Format::Json, br#"{"metadata": {}}"#, "data");
    check_malformed(Format::Json, br#"{"data": {"a": 1}}"#, "data");
    check_malformed(Format::Json, b"42", "not an object");
    check_malformed(Format::Json, b"<xml/>", "");
}

#[test]
fn doctype_and_entity_bombs_are_refused() {
    let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<R><Item><SettlementPeriod>35</SettlementPeriod><Volume>1</Volume><Id>&lol4;</Id></Item></R>"#;
    check_malformed(Format::Xml, bomb.as_bytes(), "DTD");
    let external = r#"<?xml version="1.0"?><!DOCTYPE r SYSTEM "file:///etc/passwd"><R/>"#;
    check_malformed(Format::Xml, external.as_bytes(), "DTD");
    // An undeclared entity is refused too.
    check_malformed(Format::Xml, b"<R><Item><Id>&xxe;</Id></Item></R>", "entity");
}
