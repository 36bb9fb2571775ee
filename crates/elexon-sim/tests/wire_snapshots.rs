//! Snapshots of the wire documents for a handful of hand-made items, so a change of shape
//! (names, order, nulls, decimal text) shows up in review.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use chrono::{DateTime, Utc};
use elexon_sim::wire;
use rust_decimal::Decimal;
use settlement_model::{BmUnit, SettlementDate, StackItem};

fn dec(s: &str) -> Decimal {
    s.parse().unwrap()
}

fn time(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn items() -> Vec<StackItem> {
    let d: SettlementDate = "2024-03-21".parse().unwrap();
    let start = d.period(35).unwrap().start_utc();
    // The API's documented example stack document.
    let mut a = StackItem::new(d.naive(), 35, dec("-52.5"));
    a.start_time = Some(start);
    a.created_date_time = Some(time("2024-03-22T09:03:18.74Z"));
    a.sequence_number = Some(1);
    a.id = Some("T_WHILW-1".into());
    a.acceptance_id = Some(102_999);
    a.bid_offer_pair_id = Some(-1);
    a.cadl_flag = Some(false);
    a.so_flag = Some(true);
    a.repriced_indicator = Some(false);
    a.reserve_scarcity_price = Some(Decimal::ZERO);
    a.original_price = Some(dec("-72.5"));
    a.dmat_adjusted_volume = Some(dec("-52.5"));
    a.final_price = Some(dec("-72.5"));
    a.transmission_loss_multiplier = Some(dec("0.9933898"));
    // A system row: no unit id, most fields null, a long repeating decimal.
    let mut b = StackItem::new(d.naive(), 35, dec("-0.004166666666666667"));
    b.start_time = Some(start);
    b.sequence_number = Some(2);
    // A positive-price, CADL-flagged item: a trailing-zero price and long decimals.
    let mut c = StackItem::new(d.naive(), 35, dec("-1.428571428571429"));
    c.start_time = Some(start);
    c.created_date_time = Some(time("2024-03-22T09:03:18Z"));
    c.sequence_number = Some(3);
    c.id = Some("2__PABCD001".into());
    c.cadl_flag = Some(true);
    c.so_flag = Some(true);
    c.stor_provider_flag = Some(false);
    c.repriced_indicator = Some(true);
    c.original_price = Some(dec("12.30"));
    c.final_price = Some(dec("12.3"));
    c.tlm_adjusted_volume = Some(dec("-1.4191253571428571"));
    c.tlm_adjusted_cost = Some(dec("-17.455241892857142330"));
    vec![a, b, c]
}

#[test]
fn stack_xml_snapshot() {
    let d: SettlementDate = "2024-03-21".parse().unwrap();
    let xml = wire::stack_xml(&items(), d, 35);
    roxmltree::Document::parse(&xml).unwrap();
    insta::assert_snapshot!("stack_xml", xml);
    insta::assert_snapshot!("stack_xml_empty", wire::stack_xml(&[], d, 35));
}

#[test]
fn stack_json_snapshot() {
    let json = wire::stack_json(&items());
    let back: Vec<StackItem> = wire::stack_json_items(&json).unwrap();
    assert_eq!(back, items());
    insta::assert_snapshot!("stack_json", json);
}

#[test]
fn bmunits_and_difficulty_json_snapshot() {
    let units = vec![
        BmUnit {
            elexon_bm_unit: "T_ABCDW-1".into(),
            national_grid_bm_unit: Some("ABCDW-1".into()),
            bm_unit_name: Some("Abcd Wind Farm".into()),
            lead_party_name: Some("O'Hare \"Wind\" & Co".into()),
            fuel_type: Some("WIND".into()),
            generation_capacity: Some(dec("24.700")),
        },
        BmUnit {
            elexon_bm_unit: "2__AEFGH001".into(),
            national_grid_bm_unit: None,
            bm_unit_name: None,
            lead_party_name: None,
            fuel_type: None,
            generation_capacity: None,
        },
    ];
    let json = wire::bmunits_json(&units);
    let back: Vec<BmUnit> = serde_json::from_str(&json).unwrap();
    assert_eq!(back, units);
    insta::assert_snapshot!("bmunits_json", json);
    let rows = vec![
        (
            1_703_429_523,
            822_528,
            dec("72006146478567.1"),
            dec("1.0820"),
        ),
        (
            1_704_567_890,
            824_544,
            dec("73197634206448.35"),
            dec("1.0165"),
        ),
    ];
    insta::assert_snapshot!("difficulty_json", wire::difficulty_json(&rows));
}
