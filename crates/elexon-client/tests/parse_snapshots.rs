//! Snapshots of parsed items: a hand-written XML document and its JSON twin parse to the
//! same items, and those items are pinned with insta.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use elexon_client::{parse_bm_units_json, parse_stack_json, parse_stack_xml};
use settlement_model::{SettlementDate, Side, StackItem};

const XML: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<ResponseWithMetadataOfSettlementStackResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <Metadata><Datasets><string>ISPSTACK</string></Datasets></Metadata>
  <Data>
    <SettlementStackResponse>
      <SettlementDate>2024-10-27</SettlementDate>
      <SettlementPeriod>49</SettlementPeriod>
      <StartTime>2024-10-27T23:00:00Z</StartTime>
      <CreatedDateTime>2024-10-28T09:03:18.74Z</CreatedDateTime>
      <SequenceNumber>1</SequenceNumber>
      <Id>T_WHILW-1</Id>
      <AcceptanceId>102999</AcceptanceId>
      <BidOfferPairId>-1</BidOfferPairId>
      <CadlFlag>false</CadlFlag>
      <SoFlag>true</SoFlag>
      <StorProviderFlag xsi:nil="true" />
      <RepricedIndicator>false</RepricedIndicator>
      <ReserveScarcityPrice>0</ReserveScarcityPrice>
      <OriginalPrice>-72.5</OriginalPrice>
      <Volume>-0.004166666666666667</Volume>
      <DmatAdjustedVolume>-0.004166666666666667</DmatAdjustedVolume>
      <ArbitrageAdjustedVolume xsi:nil="true" />
      <NivAdjustedVolume xsi:nil="true" />
      <ParAdjustedVolume xsi:nil="true" />
      <FinalPrice>-72.5</FinalPrice>
      <TransmissionLossMultiplier>0.9933898</TransmissionLossMultiplier>
      <TlmAdjustedVolume>-0.0041391241666666668</TlmAdjustedVolume>
      <TlmAdjustedCost>0.30008650208333334</TlmAdjustedCost>
    </SettlementStackResponse>
    <SettlementStackResponse>
      <SettlementDate>2024-10-27</SettlementDate>
      <SettlementPeriod>49</SettlementPeriod>
      <StartTime>2024-10-27T23:00:00Z</StartTime>
      <CreatedDateTime xsi:nil="true" />
      <SequenceNumber>2</SequenceNumber>
      <Id xsi:nil="true" />
      <AcceptanceId xsi:nil="true" />
      <BidOfferPairId xsi:nil="true" />
      <CadlFlag>true</CadlFlag>
      <SoFlag>false</SoFlag>
      <StorProviderFlag>false</StorProviderFlag>
      <RepricedIndicator>true</RepricedIndicator>
      <ReserveScarcityPrice xsi:nil="true" />
      <OriginalPrice>25.00</OriginalPrice>
      <Volume>-120.125</Volume>
      <DmatAdjustedVolume xsi:nil="true" />
      <ArbitrageAdjustedVolume>-120.125</ArbitrageAdjustedVolume>
      <NivAdjustedVolume>-60</NivAdjustedVolume>
      <ParAdjustedVolume>-60.0000</ParAdjustedVolume>
      <FinalPrice>30.5</FinalPrice>
      <TransmissionLossMultiplier>1</TransmissionLossMultiplier>
      <TlmAdjustedVolume xsi:nil="true" />
      <TlmAdjustedCost xsi:nil="true" />
    </SettlementStackResponse>
    <SettlementStackResponse>
      <SettlementDate>2024-10-27</SettlementDate>
      <SettlementPeriod>49</SettlementPeriod>
      <StartTime>2024-10-27T23:00:00</StartTime>
      <CreatedDateTime>2024-10-28T10:15:00+01:00</CreatedDateTime>
      <SequenceNumber>3</SequenceNumber>
      <Id>E_BTUIW-2</Id>
      <AcceptanceId>9007199254740993</AcceptanceId>
      <BidOfferPairId>2</BidOfferPairId>
      <CadlFlag xsi:nil="true" />
      <SoFlag>true</SoFlag>
      <StorProviderFlag xsi:nil="true" />
      <RepricedIndicator>false</RepricedIndicator>
      <ReserveScarcityPrice xsi:nil="true" />
      <OriginalPrice>12.3456789012345678901234567</OriginalPrice>
      <Volume>-3.5</Volume>
      <DmatAdjustedVolume>-3.5</DmatAdjustedVolume>
      <ArbitrageAdjustedVolume xsi:nil="true" />
      <NivAdjustedVolume xsi:nil="true" />
      <ParAdjustedVolume xsi:nil="true" />
      <FinalPrice xsi:nil="true" />
      <TransmissionLossMultiplier>0.98</TransmissionLossMultiplier>
      <TlmAdjustedVolume xsi:nil="true" />
      <TlmAdjustedCost xsi:nil="true" />
    </SettlementStackResponse>
  </Data>
</ResponseWithMetadataOfSettlementStackResponse>"#;

/// The same three items as the API's JSON. Numbers stay numbers: read as their raw text,
/// their exact digits reach the `Decimal`, including 27 significant digits and an int64 that
/// an `f64` could not hold.
const JSON: &str = r#"{"metadata": {"datasets": ["ISPSTACK"]}, "data": [
  {"settlementDate": "2024-10-27", "settlementPeriod": 49, "startTime": "2024-10-27T23:00:00Z",
   "createdDateTime": "2024-10-28T09:03:18.74Z", "sequenceNumber": 1, "id": "T_WHILW-1",
   "acceptanceId": 102999, "bidOfferPairId": -1, "cadlFlag": false, "soFlag": true,
   "storProviderFlag": null, "repricedIndicator": false, "reserveScarcityPrice": 0,
   "originalPrice": -72.5, "volume": -0.004166666666666667,
   "dmatAdjustedVolume": -0.004166666666666667, "arbitrageAdjustedVolume": null,
   "nivAdjustedVolume": null, "parAdjustedVolume": null, "finalPrice": -72.5,
   "transmissionLossMultiplier": 0.9933898, "tlmAdjustedVolume": -0.0041391241666666668,
   "tlmAdjustedCost": 0.30008650208333334},
  {"settlementDate": "2024-10-27", "settlementPeriod": 49, "startTime": "2024-10-27T23:00:00Z",
   "createdDateTime": null, "sequenceNumber": 2, "id": null, "acceptanceId": null,
   "bidOfferPairId": null, "cadlFlag": true, "soFlag": false, "storProviderFlag": false,
   "repricedIndicator": true, "reserveScarcityPrice": null, "originalPrice": 25.00,
   "volume": -120.125, "dmatAdjustedVolume": null, "arbitrageAdjustedVolume": -120.125,
   "nivAdjustedVolume": -60, "parAdjustedVolume": -60.0000, "finalPrice": 30.5,
   "transmissionLossMultiplier": 1, "tlmAdjustedVolume": null, "tlmAdjustedCost": null},
  {"settlementDate": "2024-10-27", "settlementPeriod": 49, "startTime": "2024-10-27T23:00:00",
   "createdDateTime": "2024-10-28T10:15:00+01:00", "sequenceNumber": 3, "id": "E_BTUIW-2",
   "acceptanceId": 9007199254740993, "bidOfferPairId": 2, "soFlag": true,
   "storProviderFlag": null, "repricedIndicator": false, "reserveScarcityPrice": null,
   "originalPrice": 12.3456789012345678901234567, "volume": -3.5, "dmatAdjustedVolume": -3.5,
   "finalPrice": null, "transmissionLossMultiplier": 0.98, "unknownNewField": {"x": [1, 2]}}
]}"#;

fn date() -> SettlementDate {
    "2024-10-27".parse().unwrap()
}

#[test]
fn xml_and_json_twins_parse_to_the_same_items() {
    let from_xml = parse_stack_xml(XML.as_bytes(), date(), 49, Side::Bid).unwrap();
    let from_json = parse_stack_json(JSON.as_bytes(), date(), 49, Side::Bid).unwrap();
    assert_eq!(from_xml.len(), 3);
    assert_eq!(from_xml, from_json);
    // Exactness: trailing zeros and long fractions survive as published.
    assert_eq!(from_xml[1].original_price.unwrap().to_string(), "25.00");
    assert_eq!(
        from_json[2].original_price.unwrap().to_string(),
        "12.3456789012345678901234567"
    );
    assert_eq!(from_json[2].acceptance_id, Some(9_007_199_254_740_993));
    insta::assert_json_snapshot!("stack_items", from_xml);
}

/// The fields the API's published OpenAPI document marks `nullable`, in its order.
const NULLABLE: [&str; 17] = [
    "createdDateTime",
    "id",
    "acceptanceId",
    "bidOfferPairId",
    "cadlFlag",
    "soFlag",
    "storProviderFlag",
    "reserveScarcityPrice",
    "originalPrice",
    "dmatAdjustedVolume",
    "arbitrageAdjustedVolume",
    "nivAdjustedVolume",
    "parAdjustedVolume",
    "finalPrice",
    "transmissionLossMultiplier",
    "tlmAdjustedVolume",
    "tlmAdjustedCost",
];

/// `item` with the field the API calls `name` set to null.
fn null_field(item: &mut StackItem, name: &str) {
    match name {
        "createdDateTime" => item.created_date_time = None,
        "id" => item.id = None,
        "acceptanceId" => item.acceptance_id = None,
        "bidOfferPairId" => item.bid_offer_pair_id = None,
        "cadlFlag" => item.cadl_flag = None,
        "soFlag" => item.so_flag = None,
        "storProviderFlag" => item.stor_provider_flag = None,
        "reserveScarcityPrice" => item.reserve_scarcity_price = None,
        "originalPrice" => item.original_price = None,
        "dmatAdjustedVolume" => item.dmat_adjusted_volume = None,
        "arbitrageAdjustedVolume" => item.arbitrage_adjusted_volume = None,
        "nivAdjustedVolume" => item.niv_adjusted_volume = None,
        "parAdjustedVolume" => item.par_adjusted_volume = None,
        "finalPrice" => item.final_price = None,
        "transmissionLossMultiplier" => item.transmission_loss_multiplier = None,
        "tlmAdjustedVolume" => item.tlm_adjusted_volume = None,
        "tlmAdjustedCost" => item.tlm_adjusted_cost = None,
        other => panic!("{other} is not a nullable field"),
    }
}

/// Every field the spec marks nullable, null in turn (`tests/fixtures/stack_nullable.*`,
/// written from the spec's field list): item 0 has every field, item k+1 has the k-th
/// nullable field null and the rest as item 0, the last has all of them null. Both formats
/// parse to the same items, each with exactly its field missing.
#[test]
fn every_nullable_field_may_be_null_in_json_and_xml() {
    let json = include_bytes!("fixtures/stack_nullable.json");
    let xml = include_bytes!("fixtures/stack_nullable.xml");
    let date: SettlementDate = "2024-03-21".parse().unwrap();
    let from_json = parse_stack_json(json, date, 35, Side::Bid).unwrap();
    let from_xml = parse_stack_xml(xml, date, 35, Side::Bid).unwrap();
    assert_eq!(from_json, from_xml);
    assert_eq!(from_json.len(), NULLABLE.len() + 2);
    let full = &from_json[0];
    for (k, name) in NULLABLE.iter().enumerate() {
        let mut want = full.clone();
        null_field(&mut want, name);
        want.sequence_number = Some(i64::try_from(k).unwrap() + 2);
        assert_eq!(
            from_json[k + 1],
            want,
            "item {} has only {name} null",
            k + 1
        );
    }
    let mut all_null = full.clone();
    for name in NULLABLE {
        null_field(&mut all_null, name);
    }
    all_null.sequence_number = Some(i64::try_from(NULLABLE.len()).unwrap() + 2);
    assert_eq!(from_json[NULLABLE.len() + 1], all_null);
    insta::assert_json_snapshot!("stack_nullable", from_json);
}

/// What the curtailment rule makes of those items for a wind unit: a null `id` or a null
/// `soFlag` is not curtailment; a null `originalPrice` cannot be priced and is an error
/// naming the date, period, side and unit; a null `finalPrice` cannot be stored (the
/// platform's column is NOT NULL) and is an error too; every other null is kept as null.
#[test]
fn nullable_fields_through_the_curtailment_rule() {
    let json = include_bytes!("fixtures/stack_nullable.json");
    let date: SettlementDate = "2024-03-21".parse().unwrap();
    let items = parse_stack_json(json, date, 35, Side::Bid).unwrap();
    let registry = settlement_model::BmRegistry::new([settlement_model::BmUnit {
        elexon_bm_unit: "T_WHILW-1".into(),
        national_grid_bm_unit: Some("WHILW-1".into()),
        bm_unit_name: Some("Whitelee".into()),
        lead_party_name: None,
        fuel_type: Some("WIND".into()),
        generation_capacity: None,
    }]);
    let field_of = |k: usize| NULLABLE.get(k.wrapping_sub(1)).copied();
    for (k, item) in items.iter().enumerate().take(NULLABLE.len() + 1) {
        let outcome = settlement_model::process_items(date, [(Side::Bid, item)], &registry);
        match field_of(k) {
            Some(field @ ("originalPrice" | "finalPrice")) => {
                let err = outcome.expect_err(field).to_string();
                assert!(
                    err.starts_with("2024-03-21 period 35 bid item T_WHILW-1: "),
                    "{err}"
                );
                assert!(err.contains(field), "{err}");
            }
            Some(field @ ("id" | "soFlag")) => {
                let out = outcome.unwrap();
                assert!(out.records.is_empty(), "{field} null is not curtailment");
                assert_eq!(out.null_id_items, usize::from(field == "id"));
            }
            other => {
                let out = outcome.unwrap();
                assert_eq!(out.records.len(), 1, "{other:?} null is still curtailment");
                let record = &out.records[0];
                assert_eq!(record.payment.to_string(), "3806.25");
                assert_eq!(record.cadl_flag, item.cadl_flag);
                assert_eq!(record.acceptance_id, item.acceptance_id);
            }
        }
    }
}

#[test]
fn bm_unit_list_snapshot() {
    let body = br#"[
      {"nationalGridBmUnit": "WHILW-1", "elexonBmUnit": "T_WHILW-1", "eic": "48W00000WHILW-1J",
       "fuelType": "WIND", "leadPartyName": "ScottishPower Renewables (UK) Limited",
       "leadPartyId": "SPRL", "bmUnitType": "T", "fpnFlag": true, "bmUnitName": "Whitelee",
       "generationCapacity": "305.0", "gspGroupId": null, "productionOrConsumptionFlag": "P"},
      {"nationalGridBmUnit": "DRAXX-1", "elexonBmUnit": "T_DRAXX-1", "fuelType": "BIOMASS",
       "leadPartyName": "Drax Power Ltd", "generationCapacity": 645, "bmUnitName": null},
      {"nationalGridBmUnit": "2__NNATP001", "elexonBmUnit": "2__NNATP001", "fuelType": null,
       "leadPartyName": null, "generationCapacity": null},
      {"nationalGridBmUnit": "ORPHAN", "elexonBmUnit": null, "fuelType": "WIND"}
    ]"#;
    let units = parse_bm_units_json(body).unwrap();
    assert_eq!(units.len(), 3);
    insta::assert_json_snapshot!("bm_units", units);
}
