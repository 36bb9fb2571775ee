//! Property tests: no input makes a parser panic; errors always name the stack asked for.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use elexon_client::{parse_bm_units_json, parse_stack_json, parse_stack_xml};
use proptest::prelude::*;
use settlement_model::{SettlementDate, Side};

fn date() -> SettlementDate {
    "2024-03-21".parse().unwrap()
}

const XML: &str = r#"<?xml version="1.0"?><R xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Data>
<Item><SettlementDate>2024-03-21</SettlementDate><SettlementPeriod>35</SettlementPeriod>
<StartTime>2024-03-21T17:00:00Z</StartTime><Id>T_WHILW-1</Id><SoFlag>true</SoFlag>
<OriginalPrice>-72.5</OriginalPrice><Volume>-52.5</Volume><FinalPrice xsi:nil="true"/></Item>
</Data></R>"#;

const JSON: &str = r#"{"data": [{"settlementDate": "2024-03-21", "settlementPeriod": 35,
"startTime": "2024-03-21T17:00:00Z", "id": "T_WHILW-1", "soFlag": true,
"originalPrice": -72.5, "volume": -52.5, "finalPrice": null}]}"#;

/// A valid document with some bytes overwritten and a random cut.
fn mutated(doc: &'static str) -> impl Strategy<Value = Vec<u8>> {
    (
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        any::<prop::sample::Index>(),
    )
        .prop_map(move |(edits, cut)| {
            let mut bytes = doc.as_bytes().to_vec();
            for (at, byte) in edits {
                let i = at.index(bytes.len());
                bytes[i] = byte;
            }
            bytes.truncate(cut.index(bytes.len() + 1));
            bytes
        })
}

fn check_result(result: Result<Vec<settlement_model::StackItem>, elexon_client::ParseError>) {
    match result {
        Ok(items) => assert!(items.len() <= 1),
        Err(e) => assert!(
            e.to_string().starts_with("2024-03-21 period 35 bid: "),
            "{e}"
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let xml = parse_stack_xml(&bytes, date(), 35, Side::Bid);
        if let Err(e) = &xml {
            prop_assert!(e.to_string().starts_with("2024-03-21 period 35 bid: "));
        }
        let json = parse_stack_json(&bytes, date(), 35, Side::Bid);
        if let Err(e) = &json {
            prop_assert!(e.to_string().starts_with("2024-03-21 period 35 bid: "));
        }
        let _units = parse_bm_units_json(&bytes);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "(<[a-zA-Z:]{1,8}( [a-z:]{1,5}=\"[a-z0-9]*\")?/?>|</[a-zA-Z]{1,8}>|[-0-9.eE ]{0,6}|[{}\\[\\]\",:]|true|null)*") {
        check_result(parse_stack_xml(text.as_bytes(), date(), 35, Side::Bid));
        check_result(parse_stack_json(text.as_bytes(), date(), 35, Side::Bid));
    }

    #[test]
    fn mutated_xml_never_panics(bytes in mutated(XML)) {
        check_result(parse_stack_xml(&bytes, date(), 35, Side::Bid));
    }

    #[test]
    fn mutated_json_never_panics(bytes in mutated(JSON)) {
        check_result(parse_stack_json(&bytes, date(), 35, Side::Bid));
    }
}

#[test]
fn the_unmutated_documents_parse() {
    assert_eq!(
        parse_stack_xml(XML.as_bytes(), date(), 35, Side::Bid)
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        parse_stack_json(JSON.as_bytes(), date(), 35, Side::Bid)
            .unwrap()
            .len(),
        1
    );
}
