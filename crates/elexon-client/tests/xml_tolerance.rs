//! The XML tolerance rules of the stack parser, one inline document per rule, each checked
//! against the same expected item.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{NaiveDate, TimeZone, Utc};
use elexon_client::parse_stack_xml;
use rust_decimal_macros::dec;
use settlement_model::{SettlementDate, Side, StackItem};

fn date() -> SettlementDate {
    "2024-03-21".parse().unwrap()
}

/// The item of the §3 example document.
fn expected_item() -> StackItem {
    StackItem {
        settlement_date: NaiveDate::from_ymd_opt(2024, 3, 21).unwrap(),
        settlement_period: 35,
        start_time: Some(Utc.with_ymd_and_hms(2024, 3, 21, 17, 0, 0).unwrap()),
        created_date_time: Some(
            Utc.with_ymd_and_hms(2024, 3, 22, 9, 3, 18).unwrap()
                + chrono::Duration::milliseconds(740),
        ),
        sequence_number: Some(4),
        id: Some("T_WHILW-1".to_owned()),
        acceptance_id: Some(102_999),
        bid_offer_pair_id: Some(-1),
        cadl_flag: Some(false),
        so_flag: Some(true),
        stor_provider_flag: None,
        repriced_indicator: Some(false),
        reserve_scarcity_price: Some(dec!(0)),
        original_price: Some(dec!(-72.5)),
        volume: dec!(-52.5),
        dmat_adjusted_volume: Some(dec!(-52.5)),
        arbitrage_adjusted_volume: None,
        niv_adjusted_volume: None,
        par_adjusted_volume: None,
        final_price: Some(dec!(-72.5)),
        transmission_loss_multiplier: Some(dec!(0.9933898)),
        tlm_adjusted_volume: None,
        tlm_adjusted_cost: None,
    }
}

/// The item's fields as PascalCase elements, with `prefix` on every element name.
fn pascal_fields(prefix: &str) -> String {
    let fields = [
        ("SettlementDate", "2024-03-21"),
        ("SettlementPeriod", "35"),
        ("StartTime", "2024-03-21T17:00:00Z"),
        ("CreatedDateTime", "2024-03-22T09:03:18.74Z"),
        ("SequenceNumber", "4"),
        ("Id", "T_WHILW-1"),
        ("AcceptanceId", "102999"),
        ("BidOfferPairId", "-1"),
        ("CadlFlag", "false"),
        ("SoFlag", "true"),
        ("RepricedIndicator", "false"),
        ("ReserveScarcityPrice", "0"),
        ("OriginalPrice", "-72.5"),
        ("Volume", "-52.5"),
        ("DmatAdjustedVolume", "-52.5"),
        ("FinalPrice", "-72.5"),
        ("TransmissionLossMultiplier", "0.9933898"),
    ];
    fields
        .iter()
        .map(|(name, value)| format!("<{prefix}{name}>{value}</{prefix}{name}>"))
        .collect()
}

/// Parses `xml` for 2024-03-21 period 35 bid and expects exactly the §3 item.
#[track_caller]
fn check(case: &str, xml: &str) {
    let items = parse_stack_xml(xml.as_bytes(), date(), 35, Side::Bid)
        .unwrap_or_else(|e| panic!("{case}: {e}"));
    assert_eq!(items, vec![expected_item()], "{case}");
}

#[test]
fn the_documented_pascal_case_shape() {
    check(
        "§3 example",
        r#"<?xml version="1.0" encoding="utf-8"?>
<ResponseWithMetadataOfSettlementStackResponse
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <Metadata><Datasets><string>ISPSTACK</string></Datasets></Metadata>
  <Data>
    <SettlementStackResponse>
      <SettlementDate>2024-03-21</SettlementDate>
      <SettlementPeriod>35</SettlementPeriod>
      <StartTime>2024-03-21T17:00:00Z</StartTime>
      <CreatedDateTime>2024-03-22T09:03:18.74Z</CreatedDateTime>
      <SequenceNumber>4</SequenceNumber>
      <Id>T_WHILW-1</Id>
      <AcceptanceId>102999</AcceptanceId>
      <BidOfferPairId>-1</BidOfferPairId>
      <CadlFlag>false</CadlFlag>
      <SoFlag>true</SoFlag>
      <StorProviderFlag xsi:nil="true" />
      <RepricedIndicator>false</RepricedIndicator>
      <ReserveScarcityPrice>0</ReserveScarcityPrice>
      <OriginalPrice>-72.5</OriginalPrice>
      <Volume>-52.5</Volume>
      <DmatAdjustedVolume>-52.5</DmatAdjustedVolume>
      <ArbitrageAdjustedVolume xsi:nil="true" />
      <NivAdjustedVolume xsi:nil="true" />
      <ParAdjustedVolume xsi:nil="true" />
      <FinalPrice>-72.5</FinalPrice>
      <TransmissionLossMultiplier>0.9933898</TransmissionLossMultiplier>
      <TlmAdjustedVolume xsi:nil="true" />
      <TlmAdjustedCost xsi:nil="true" />
    </SettlementStackResponse>
  </Data>
</ResponseWithMetadataOfSettlementStackResponse>"#,
    );
}

#[test]
fn camel_case_and_odd_case_names() {
    check(
        "camelCase",
        r#"<response><metadata><datasets>ISPSTACK</datasets></metadata><data><item>
            <settlementDate>2024-03-21</settlementDate><settlementPeriod>35</settlementPeriod>
            <startTime>2024-03-21T17:00:00Z</startTime>
            <createdDateTime>2024-03-22T09:03:18.74Z</createdDateTime>
            <sequenceNumber>4</sequenceNumber><id>T_WHILW-1</id>
            <acceptanceId>102999</acceptanceId><bidOfferPairId>-1</bidOfferPairId>
            <cadlFlag>false</cadlFlag><soFlag>true</soFlag><storProviderFlag/>
            <repricedIndicator>false</repricedIndicator>
            <reserveScarcityPrice>0</reserveScarcityPrice><originalPrice>-72.5</originalPrice>
            <volume>-52.5</volume><dmatAdjustedVolume>-52.5</dmatAdjustedVolume>
            <finalPrice>-72.5</finalPrice>
            <transmissionLossMultiplier>0.9933898</transmissionLossMultiplier>
        </item></data></response>"#,
    );
    // Values are upper-cased too: `FALSE`/`TRUE` read as booleans, the rest is unchanged.
    let shouting = pascal_fields("").to_ascii_uppercase();
    check(
        "UPPER CASE",
        &format!("<ROOT><ITEM>{shouting}</ITEM></ROOT>"),
    );
}

#[test]
fn default_namespace() {
    check(
        "default namespace",
        &format!(
            r#"<Response xmlns="http://schemas.datacontract.org/2004/07/Elexon.Insights"
                 xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><Data><Row>{}</Row></Data></Response>"#,
            pascal_fields("")
        ),
    );
}

#[test]
fn prefixed_namespace_and_other_nil_prefix() {
    check(
        "prefixed namespace",
        &format!(
            r#"<e:Response xmlns:e="urn:elexon" xmlns:i="http://www.w3.org/2001/XMLSchema-instance">
                 <e:Data><e:Row>{}<e:StorProviderFlag i:nil="true"/><e:TlmAdjustedCost i:nil="true"></e:TlmAdjustedCost></e:Row></e:Data>
               </e:Response>"#,
            pascal_fields("e:")
        ),
    );
}

#[test]
fn deeper_nesting_and_items_directly_under_the_root() {
    check(
        "deeper nesting",
        &format!(
            "<Envelope><Body><Result><Payload><Data><Items><Item>{}</Item></Items></Data></Payload></Result></Body></Envelope>",
            pascal_fields("")
        ),
    );
    check(
        "no Data wrapper",
        &format!("<Response><Item>{}</Item></Response>", pascal_fields("")),
    );
}

#[test]
fn nil_and_empty_elements_are_null() {
    let xml = r#"<R xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><Item>
        <SettlementPeriod>35</SettlementPeriod><Volume>-1</Volume>
        <Id xsi:nil="true">ignored when nil</Id>
        <SoFlag/>
        <CadlFlag></CadlFlag>
        <OriginalPrice>   </OriginalPrice>
        <FinalPrice xsi:nil="false">-3.25</FinalPrice>
        <StartTime/>
    </Item></R>"#;
    let items = parse_stack_xml(xml.as_bytes(), date(), 35, Side::Offer).unwrap();
    let item = &items[0];
    assert_eq!(item.id, None);
    assert_eq!(item.so_flag, None);
    assert_eq!(item.cadl_flag, None);
    assert_eq!(item.original_price, None);
    assert_eq!(item.start_time, None);
    assert_eq!(item.final_price, Some(dec!(-3.25)));
    // A missing settlementDate defaults to the date asked for.
    assert_eq!(item.settlement_date, date().naive());
}

#[test]
fn unknown_elements_and_attributes_are_ignored() {
    check(
        "unknown elements and attributes",
        &format!(
            r#"<Response version="2" xmlns:x="urn:x"><Links><Next href="/page/2"/></Links>
                 <Data count="1"><Item row="0" x:flag="1"><FutureField>42</FutureField>
                 <Nested><Deeper>text</Deeper></Nested>{}<Comment><!-- hi --></Comment></Item></Data>
                 <Footer>generated</Footer></Response>"#,
            pascal_fields("")
        ),
    );
}

#[test]
fn whitespace_cdata_and_entities_in_values() {
    let xml =
        "<R><Item><SettlementPeriod>\n 35 \n</SettlementPeriod><Volume><![CDATA[-52.5]]></Volume>\
               <Id>T_A&amp;B-1</Id><SoFlag>&#116;rue</SoFlag></Item></R>";
    let items = parse_stack_xml(xml.as_bytes(), date(), 35, Side::Bid).unwrap();
    assert_eq!(items[0].volume, dec!(-52.5));
    assert_eq!(items[0].id.as_deref(), Some("T_A&B-1"));
    assert_eq!(items[0].so_flag, Some(true));
}

#[test]
fn items_are_found_wherever_they_sit_in_document_order() {
    let xml = "<R>\
        <Data><Item><SettlementPeriod>35</SettlementPeriod><Volume>1</Volume></Item></Data>\
        <More><Group><Item><settlementPeriod>35</settlementPeriod><volume>2</volume></Item></Group></More>\
        <Item><SETTLEMENTPERIOD>35</SETTLEMENTPERIOD><VOLUME>3</VOLUME></Item>\
        </R>";
    let items = parse_stack_xml(xml.as_bytes(), date(), 35, Side::Bid).unwrap();
    let volumes: Vec<_> = items.iter().map(|i| i.volume).collect();
    assert_eq!(volumes, vec![dec!(1), dec!(2), dec!(3)]);
}

#[test]
fn query_echoes_and_empty_stacks_are_not_items() {
    // An element holding only a date and a period (e.g. the query echoed back) is no item.
    let xml = "<R><Query><SettlementDate>2024-03-21</SettlementDate><SettlementPeriod>35</SettlementPeriod></Query><Data/></R>";
    assert_eq!(
        parse_stack_xml(xml.as_bytes(), date(), 35, Side::Bid).unwrap(),
        vec![]
    );
    let empty = r#"<?xml version="1.0"?><ResponseWithMetadataOfSettlementStackResponse><Data /></ResponseWithMetadataOfSettlementStackResponse>"#;
    assert!(parse_stack_xml(empty.as_bytes(), date(), 1, Side::Offer)
        .unwrap()
        .is_empty());
}

#[test]
fn a_utf8_bom_is_accepted() {
    let mut xml = vec![0xEF, 0xBB, 0xBF];
    xml.extend_from_slice(format!("<R><I>{}</I></R>", pascal_fields("")).as_bytes());
    let items = parse_stack_xml(&xml, date(), 35, Side::Bid).unwrap();
    assert_eq!(items.len(), 1);
}
