//! Property tests with arbitrary *well-formed* XML: random trees whose element names are
//! mostly the stack's field names (any case, with or without a namespace prefix), with
//! random text, entities, CDATA, comments, attributes and `xsi:nil`. The parser never panics,
//! every error names the stack asked for, and every item it returns is of the asked period.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use elexon_client::parse_stack_xml;
use proptest::prelude::*;
use settlement_model::{SettlementDate, Side};

fn date() -> SettlementDate {
    "2024-03-21".parse().unwrap()
}

const FIELDS: [&str; 14] = [
    "settlementDate",
    "SettlementPeriod",
    "settlementperiod",
    "Volume",
    "volume",
    "id",
    "Id",
    "soFlag",
    "CadlFlag",
    "originalPrice",
    "finalPrice",
    "sequenceNumber",
    "acceptanceId",
    "startTime",
];

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(FIELDS.to_vec()).prop_map(str::to_owned),
        1 => "[a-zA-Z][a-zA-Z0-9]{0,7}",
        1 => proptest::sample::select(FIELDS.to_vec()).prop_map(|f| format!("x:{f}")),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("35".to_owned()),
        Just("2024-03-21".to_owned()),
        Just("-52.5".to_owned()),
        Just("true".to_owned()),
        "-?[0-9]{1,30}(\\.[0-9]{0,30})?",
        "[ -~]{0,12}".prop_map(|s| s.replace('&', "&amp;").replace('<', "&lt;")),
        Just("&amp;&lt;&gt;&quot;&apos;&#x41;&#65;".to_owned()),
        Just("<![CDATA[35]]>".to_owned()),
        Just("3<!-- c -->5".to_owned()),
        Just("\u{1F32C}\u{fe0f} é".to_owned()),
    ]
}

/// A well-formed element tree, depth-bounded.
fn element() -> impl Strategy<Value = String> {
    let leaf = (name(), text(), any::<bool>()).prop_map(|(n, t, nil)| {
        if nil {
            format!("<{n} xsi:nil=\"true\"/>")
        } else {
            format!("<{n}>{t}</{n}>")
        }
    });
    leaf.prop_recursive(5, 64, 8, |inner| {
        (
            name(),
            proptest::collection::vec(inner, 0..8),
            any::<bool>(),
        )
            .prop_map(|(n, children, attr)| {
                let a = if attr { " a=\"1\" b='&amp;'" } else { "" };
                format!("<{n}{a}>{}</{n}>", children.concat())
            })
    })
}

fn document() -> impl Strategy<Value = String> {
    (proptest::collection::vec(element(), 0..6), any::<bool>()).prop_map(|(items, decl)| {
        let head = if decl { "<?xml version=\"1.0\" encoding=\"utf-8\"?>" } else { "" };
        format!(
            "{head}<Response xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xmlns:x=\"urn:x\"><data>{}</data></Response>",
            items.concat()
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn arbitrary_well_formed_xml_never_panics(doc in document()) {
        // The generator only makes well-formed documents.
        prop_assert!(roxmltree::Document::parse(&doc).is_ok(), "{doc}");
        match parse_stack_xml(doc.as_bytes(), date(), 35, Side::Bid) {
            Ok(items) => {
                for item in items {
                    prop_assert_eq!(item.settlement_period, 35);
                }
            }
            Err(e) => {
                prop_assert!(e.to_string().starts_with("2024-03-21 period 35 bid: "), "{e}");
                prop_assert!(!e.is_malformed(), "a well-formed document is never 'malformed': {e}\n{doc}");
            }
        }
    }
}
