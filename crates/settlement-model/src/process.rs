//! The process step: which stack items are wind curtailment (constraint bids of wind units: `soFlag`, negative volume).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::{BmRegistry, DayTotals, SettlementDate, Side, StackItem};

/// One curtailment record: a wind unit's constraint bid (or negative offer) in one period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurtailmentRecord {
    /// The settlement date.
    pub settlement_date: SettlementDate,
    /// The settlement period.
    pub settlement_period: u8,
    /// The Elexon BM Unit id.
    pub farm_id: String,
    /// The lead party's name from the registry.
    pub lead_party_name: Option<String>,
    /// MWh as published: negative for curtailment.
    pub volume: Decimal,
    /// £, `volume × original_price`: positive is money paid to the farm.
    pub payment: Decimal,
    /// £/MWh.
    pub original_price: Decimal,
    /// £/MWh.
    pub final_price: Decimal,
    /// The system-operator flag (always true for a kept item).
    pub so_flag: bool,
    /// The CADL flag as published.
    pub cadl_flag: Option<bool>,
    /// The acceptance id.
    pub acceptance_id: Option<i64>,
    /// The bid-offer pair id.
    pub bid_offer_pair_id: Option<i64>,
    /// The stack the item came from.
    pub side: Side,
    /// The item's rank in its stack.
    pub sequence_number: Option<i64>,
}

impl CurtailmentRecord {
    /// A bid-stack record of `farm_id` with `payment = volume × price` (the price as both
    /// original and final price) and every optional field empty: a handy fixture for tests
    /// and examples. `None` when the product overflows a decimal.
    ///
    /// ```
    /// use rust_decimal::Decimal;
    /// use settlement_model::CurtailmentRecord;
    /// let r = CurtailmentRecord::bid("2024-04-19".parse().unwrap(), 7, "T_A-1", Decimal::new(-125, 1), Decimal::from(-40)).unwrap();
    /// assert_eq!(r.payment, Decimal::from(500));
    /// ```
    pub fn bid(
        settlement_date: SettlementDate,
        settlement_period: u8,
        farm_id: impl Into<String>,
        volume: Decimal,
        price: Decimal,
    ) -> Option<Self> {
        Some(Self {
            settlement_date,
            settlement_period,
            farm_id: farm_id.into(),
            lead_party_name: None,
            volume,
            payment: volume.checked_mul(price)?,
            original_price: price,
            final_price: price,
            so_flag: true,
            cadl_flag: None,
            acceptance_id: None,
            bid_offer_pair_id: None,
            side: Side::Bid,
            sequence_number: None,
        })
    }

    /// Curtailed energy, MWh: `|volume|`.
    pub fn energy(&self) -> Decimal {
        self.volume.abs()
    }
}

/// A stack item whose unit id is not in the registry: the registry may be stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnclassifiedItem {
    /// The unknown BM Unit id.
    pub id: String,
    /// The settlement period.
    pub settlement_period: u8,
    /// The stack side.
    pub side: Side,
    /// The item's volume, MWh.
    pub volume: Decimal,
}

/// What the process step made of a day's (or a period range's) stack items.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProcessOutcome {
    /// The curtailment records, in input order.
    pub records: Vec<CurtailmentRecord>,
    /// Items whose id is not in the registry (never guessed to be wind).
    pub unclassified: Vec<UnclassifiedItem>,
    /// Items with no unit id (system rows); never curtailment.
    pub null_id_items: usize,
    /// Items looked at.
    pub items_seen: usize,
}

impl ProcessOutcome {
    /// Totals of the kept records.
    pub fn totals(&self) -> Result<DayTotals, crate::SumOverflow> {
        DayTotals::from_records(&self.records)
    }
}

/// Why an item that qualifies as curtailment cannot become a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{date} period {period} {side} item {id}: {problem}")]
pub struct ProcessError {
    /// The settlement date.
    pub date: SettlementDate,
    /// The period.
    pub period: u8,
    /// The side.
    pub side: Side,
    /// The unit id.
    pub id: String,
    /// What is wrong.
    pub problem: String,
}

/// Applies the curtailment rule to stack items of `date`.
///
/// An item is kept when its `id` is a wind unit in `registry`, its `volume < 0` and its
/// `soFlag` is true. Each kept item becomes a [`CurtailmentRecord`] with
/// `payment = volume × originalPrice` (never an absolute value).
///
/// Nulls, as the API's spec allows them on every field but the date, period, start time,
/// `repricedIndicator` and `volume`: an item with a null `id` names no unit and is never
/// curtailment (counted in [`ProcessOutcome::null_id_items`]); a null `soFlag` is not a
/// constraint action, so not curtailment; a kept item with a null `originalPrice` cannot be
/// priced and a null `finalPrice` cannot be stored (the platform's column is `NOT NULL`):
/// both are a [`ProcessError`] naming the date, period, side and unit, never a zero. Any
/// other null is kept as null.
///
/// ```
/// use rust_decimal::Decimal;
/// use settlement_model::{process_items, BmRegistry, BmUnit, Side, StackItem};
/// let date: settlement_model::SettlementDate = "2024-03-21".parse().unwrap();
/// let reg = BmRegistry::new([BmUnit { elexon_bm_unit: "T_WHILW-1".into(),
///     national_grid_bm_unit: None, bm_unit_name: None, lead_party_name: None,
///     fuel_type: Some("WIND".into()), generation_capacity: None }]);
/// let mut item = StackItem::new(date.naive(), 35, Decimal::new(-525, 1));
/// item.id = Some("T_WHILW-1".into());
/// item.so_flag = Some(true);
/// item.original_price = Some(Decimal::new(-725, 1));
/// item.final_price = Some(Decimal::new(-725, 1));
/// let out = process_items(date, [(Side::Bid, &item)], &reg).unwrap();
/// assert_eq!(out.records[0].payment, Decimal::new(380625, 2)); // 3806.25 paid to the farm
/// ```
pub fn process_items<'a>(
    date: SettlementDate,
    items: impl IntoIterator<Item = (Side, &'a StackItem)>,
    registry: &BmRegistry,
) -> Result<ProcessOutcome, ProcessError> {
    let mut out = ProcessOutcome::default();
    for (side, item) in items {
        out.items_seen += 1;
        let Some(id) = item.id.as_deref() else {
            out.null_id_items += 1;
            continue;
        };
        let Some(unit) = registry.get(id) else {
            out.unclassified.push(UnclassifiedItem {
                id: id.to_owned(),
                settlement_period: item.settlement_period,
                side,
                volume: item.volume,
            });
            continue;
        };
        let kept = unit.is_wind() && item.volume < Decimal::ZERO && item.so_flag == Some(true);
        if !kept {
            continue;
        }
        let problem = |problem: &str| ProcessError {
            date,
            period: item.settlement_period,
            side,
            id: id.to_owned(),
            problem: problem.to_owned(),
        };
        let original_price = item
            .original_price
            .ok_or_else(|| problem("originalPrice is null, so its payment cannot be computed"))?;
        let final_price = item
            .final_price
            .ok_or_else(|| problem("finalPrice is null"))?;
        let payment = item
            .volume
            .checked_mul(original_price)
            .ok_or_else(|| problem("volume × originalPrice overflows"))?;
        out.records.push(CurtailmentRecord {
            settlement_date: date,
            settlement_period: item.settlement_period,
            farm_id: id.to_owned(),
            lead_party_name: unit.lead_party_name.clone(),
            volume: item.volume,
            payment,
            original_price,
            final_price,
            so_flag: true,
            cadl_flag: item.cadl_flag,
            acceptance_id: item.acceptance_id,
            bid_offer_pair_id: item.bid_offer_pair_id,
            side,
            sequence_number: item.sequence_number,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::BmUnit;
    use rust_decimal_macros::dec;

    fn unit(id: &str, fuel: &str) -> BmUnit {
        BmUnit {
            elexon_bm_unit: id.into(),
            national_grid_bm_unit: None,
            bm_unit_name: None,
            lead_party_name: Some(format!("{id} Ltd")),
            fuel_type: Some(fuel.into()),
            generation_capacity: None,
        }
    }

    fn item(id: Option<&str>, volume: Decimal, so: Option<bool>, price: Decimal) -> StackItem {
        let mut it = StackItem::new(
            chrono::NaiveDate::from_ymd_opt(2024, 3, 21).unwrap(),
            7,
            volume,
        );
        it.id = id.map(str::to_owned);
        it.so_flag = so;
        it.original_price = Some(price);
        it.final_price = Some(price);
        it
    }

    fn check(
        items: &[(Side, StackItem)],
        expected_records: usize,
        unknown: usize,
        null: usize,
    ) -> ProcessOutcome {
        let reg = BmRegistry::new([unit("W-1", "WIND"), unit("G-1", "CCGT")]);
        let date = "2024-03-21".parse().unwrap();
        let out = process_items(date, items.iter().map(|(s, i)| (*s, i)), &reg).unwrap();
        assert_eq!(out.records.len(), expected_records, "{out:?}");
        assert_eq!(out.unclassified.len(), unknown);
        assert_eq!(out.null_id_items, null);
        assert_eq!(out.items_seen, items.len());
        out
    }

    #[test]
    fn the_rule_keeps_wind_so_flagged_negative_volumes() {
        let p = dec!(-50);
        check(
            &[(Side::Bid, item(Some("W-1"), dec!(-10), Some(true), p))],
            1,
            0,
            0,
        );
        check(
            &[(Side::Offer, item(Some("W-1"), dec!(-10), Some(true), p))],
            1,
            0,
            0,
        );
        check(
            &[(Side::Bid, item(Some("W-1"), dec!(10), Some(true), p))],
            0,
            0,
            0,
        );
        check(
            &[(Side::Bid, item(Some("W-1"), dec!(0), Some(true), p))],
            0,
            0,
            0,
        );
        check(
            &[(Side::Bid, item(Some("W-1"), dec!(-10), Some(false), p))],
            0,
            0,
            0,
        );
        check(
            &[(Side::Bid, item(Some("W-1"), dec!(-10), None, p))],
            0,
            0,
            0,
        );
        check(
            &[(Side::Bid, item(Some("G-1"), dec!(-10), Some(true), p))],
            0,
            0,
            0,
        );
        check(
            &[(Side::Bid, item(Some("X-9"), dec!(-10), Some(true), p))],
            0,
            1,
            0,
        );
        check(
            &[(Side::Bid, item(None, dec!(-10), Some(true), p))],
            0,
            0,
            1,
        );
    }

    #[test]
    fn payment_keeps_its_sign() {
        let out = check(
            &[
                (
                    Side::Bid,
                    item(
                        Some("W-1"),
                        dec!(-0.004166666666666667),
                        Some(true),
                        dec!(-72.5),
                    ),
                ),
                (
                    Side::Bid,
                    item(Some("W-1"), dec!(-2), Some(true), dec!(15.25)),
                ),
            ],
            2,
            0,
            0,
        );
        assert_eq!(out.records[0].payment, dec!(0.3020833333333333575));
        assert_eq!(out.records[1].payment, dec!(-30.50));
        let totals = out.totals().unwrap();
        assert_eq!(totals.energy_mwh, dec!(2.004166666666666667));
        assert_eq!(totals.payment_gbp, dec!(-30.1979166666666666425));
        assert_eq!(out.records[0].lead_party_name.as_deref(), Some("W-1 Ltd"));
    }

    #[test]
    fn a_kept_item_without_a_price_is_an_error() {
        let reg = BmRegistry::new([unit("W-1", "WIND")]);
        let mut it = item(Some("W-1"), dec!(-1), Some(true), dec!(1));
        it.original_price = None;
        let err =
            process_items("2024-03-21".parse().unwrap(), [(Side::Bid, &it)], &reg).unwrap_err();
        assert!(
            err.to_string()
                .contains("2024-03-21 period 7 bid item W-1: originalPrice is null"),
            "{err}"
        );
    }
}
