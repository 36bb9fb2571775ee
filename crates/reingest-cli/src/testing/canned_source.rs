//! [`CannedSource`]: a [`SettlementSource`] serving fixed, hand-planted stacks, so the
//! pipeline's unit tests know exactly which records a day must end up with.
//!
//! Five BM units: four wind farms and a gas plant. Every period's bid stack holds, besides
//! the curtailment, one item of each kind the rule in `../shared/elexon-api.md` §4 must drop:
//! a wind bid that is not a constraint action (`soFlag` false), a gas bid with `soFlag` true,
//! and a system row without a unit id; the offer stack holds positive-volume offers and,
//! every fifth period, a negative-volume wind offer with `soFlag` true, which *is*
//! curtailment. Every seventh period one wind bid has a positive price, so its payment is
//! negative (never an absolute value). A later calculation run (revision) curtails more in
//! odd periods only, so partial runs can tell replaced periods from kept ones.
//!
//! Bodies are the API's JSON ([`elexon_sim::wire::stack_json`]), so the archive can re-parse
//! them exactly as it re-parses the real API's.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::sync::{Mutex, MutexGuard, PoisonError};

use bytes::Bytes;
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use elexon_client::{FetchError, Format, SettlementSource, StackResponse, Target};
use rust_decimal::Decimal;
use settlement_model::{BmUnit, CurtailmentRecord, SettlementDate, Side, StackItem};

/// The wind farms: Elexon id and lead party.
const WIND: [(&str, Option<&str>); 4] = [
    ("T_ALPHW-1", Some("Alpha Wind Ltd")),
    ("T_BRAVW-2", Some("Bravo Offshore Wind")),
    ("E_CHRLW-1", None),
    ("2__PDELT001", Some("Delta & Sons' Energy")),
];

/// The gas plant: never curtailment, whatever its flags.
const GAS: &str = "T_GASCC-1";

/// What the source is told to do besides answering.
#[derive(Debug, Default)]
struct Behaviour {
    /// The calculation run each date is published from (0 when absent).
    revisions: BTreeMap<SettlementDate, u32>,
    /// Periods that answer HTTP 500 on both sides.
    failing: BTreeSet<(SettlementDate, u8)>,
    /// Periods that answer 404 (not published) on both sides.
    unpublished: BTreeSet<(SettlementDate, u8)>,
    /// Periods whose items are published with a null `originalPrice`.
    unpriced: BTreeSet<(SettlementDate, u8)>,
    /// Stack requests answered so far.
    requests: u64,
}

/// A [`SettlementSource`] of canned stacks (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct CannedSource {
    behaviour: Mutex<Behaviour>,
}

/// One planted stack item and the curtailment record it must become, if any.
struct Planted {
    item: StackItem,
    record: Option<CurtailmentRecord>,
}

impl CannedSource {
    /// A source publishing revision 0 of every date.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    fn behaviour(&self) -> MutexGuard<'_, Behaviour> {
        self.behaviour
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Publishes `date` from calculation run `revision` from now on.
    pub(crate) fn set_revision(&self, date: SettlementDate, revision: u32) {
        self.behaviour().revisions.insert(date, revision);
    }

    /// Makes both stacks of `period` of `date` answer HTTP 500.
    pub(crate) fn fail_period(&self, date: SettlementDate, period: u8) {
        self.behaviour().failing.insert((date, period));
    }

    /// Makes both stacks of `period` of `date` answer 404 (not published).
    pub(crate) fn unpublish_period(&self, date: SettlementDate, period: u8) {
        self.behaviour().unpublished.insert((date, period));
    }

    /// Publishes every item of `period` of `date` with a null `originalPrice`, as the API's
    /// spec allows.
    pub(crate) fn unprice_period(&self, date: SettlementDate, period: u8) {
        self.behaviour().unpriced.insert((date, period));
    }

    /// How many stack requests were answered (successfully or not).
    pub(crate) fn requests(&self) -> u64 {
        self.behaviour().requests
    }

    /// The BM unit list the source publishes.
    pub(crate) fn units() -> Vec<BmUnit> {
        let unit = |id: &str, lead: Option<&str>, fuel: &str| BmUnit {
            elexon_bm_unit: id.to_owned(),
            national_grid_bm_unit: id.strip_prefix("T_").map(str::to_owned),
            bm_unit_name: Some(format!("{id} unit")),
            lead_party_name: lead.map(str::to_owned),
            fuel_type: Some(fuel.to_owned()),
            generation_capacity: Some(Decimal::new(250, 0)),
        };
        let mut units: Vec<BmUnit> = WIND
            .iter()
            .map(|(id, lead)| unit(id, *lead, "WIND"))
            .collect();
        units.push(unit(GAS, Some("Gas Co"), "CCGT"));
        units
    }

    /// The items of one stack as published by calculation run `revision`.
    pub(crate) fn items(
        date: SettlementDate,
        period: u8,
        side: Side,
        revision: u32,
    ) -> Vec<StackItem> {
        planted(date, period, side, revision)
            .into_iter()
            .map(|p| p.item)
            .collect()
    }

    /// Every curtailment record the whole day's stacks of `revision` imply, in stack order.
    pub(crate) fn expected_records(date: SettlementDate, revision: u32) -> Vec<CurtailmentRecord> {
        date.all_periods()
            .flat_map(|p| Side::BOTH.map(|side| (p.number(), side)))
            .flat_map(|(period, side)| planted(date, period, side, revision))
            .filter_map(|p| p.record)
            .collect()
    }

    fn answer(
        &self,
        date: SettlementDate,
        period: u8,
        side: Side,
    ) -> Result<StackResponse, FetchError> {
        let (revision, unpriced) = {
            let mut b = self.behaviour();
            b.requests += 1;
            if b.unpublished.contains(&(date, period)) {
                return Err(FetchError::NotPublished { date, period, side });
            }
            if b.failing.contains(&(date, period)) {
                return Err(FetchError::Status {
                    target: Target::Stack { date, period, side },
                    url: format!("memory://stack/all/{side}/{date}/{period}"),
                    status: 500,
                    retry_after: None,
                    detail: "canned failure".into(),
                });
            }
            (
                b.revisions.get(&date).copied().unwrap_or(0),
                b.unpriced.contains(&(date, period)),
            )
        };
        let mut items = Self::items(date, period, side, revision);
        if unpriced {
            for item in &mut items {
                item.original_price = None;
            }
        }
        let body = Bytes::from(elexon_sim::wire::stack_json(&items));
        Ok(StackResponse {
            items,
            body,
            format: Format::Json,
        })
    }
}

impl SettlementSource for CannedSource {
    fn stack(
        &self,
        date: SettlementDate,
        period: u8,
        side: Side,
    ) -> impl Future<Output = Result<StackResponse, FetchError>> + Send {
        let answer = self.answer(date, period, side);
        async move { answer }
    }

    async fn bm_units(&self) -> Result<Vec<BmUnit>, FetchError> {
        Ok(Self::units())
    }
}

/// When calculation run `revision` of `date` was published: the next day at 09:00 UTC, four
/// weeks later for each later run.
fn created(date: SettlementDate, revision: u32) -> Option<DateTime<Utc>> {
    let next_day = date.naive().succ_opt()?;
    let base = Utc.from_utc_datetime(&next_day.and_time(NaiveTime::MIN));
    Some(base + Duration::hours(9) + Duration::days(28 * i64::from(revision)))
}

/// A constraint-action item of `id` and the record it must become.
fn curtailment(
    date: SettlementDate,
    period: u8,
    side: Side,
    unit: usize,
    volume: Decimal,
    price: Decimal,
) -> Planted {
    let (id, lead) = WIND[unit % WIND.len()];
    let mut item = StackItem::new(date.naive(), period, volume);
    item.id = Some(id.to_owned());
    item.so_flag = Some(true);
    item.cadl_flag = Some(period % 2 == 0);
    item.original_price = Some(price);
    item.final_price = Some(price);
    let unit_no = i64::try_from(unit).unwrap_or(0);
    item.acceptance_id = Some(i64::from(period) * 1000 + unit_no);
    item.bid_offer_pair_id = Some(-1 - unit_no);
    let record = CurtailmentRecord {
        settlement_date: date,
        settlement_period: period,
        farm_id: id.to_owned(),
        lead_party_name: lead.map(str::to_owned),
        volume,
        payment: volume * price,
        original_price: price,
        final_price: price,
        so_flag: true,
        cadl_flag: item.cadl_flag,
        acceptance_id: item.acceptance_id,
        bid_offer_pair_id: item.bid_offer_pair_id,
        side,
        sequence_number: None,
    };
    Planted {
        item,
        record: Some(record),
    }
}

/// An item the curtailment rule must drop.
fn dropped(
    date: SettlementDate,
    period: u8,
    id: Option<&str>,
    volume: Decimal,
    so_flag: bool,
) -> Planted {
    let mut item = StackItem::new(date.naive(), period, volume);
    item.id = id.map(str::to_owned);
    item.so_flag = Some(so_flag);
    item.original_price = Some(Decimal::new(-2_500, 2));
    item.final_price = Some(Decimal::new(-2_500, 2));
    Planted { item, record: None }
}

/// The planted stack of one side of one period, ranked and stamped.
fn planted(date: SettlementDate, period: u8, side: Side, revision: u32) -> Vec<Planted> {
    let p = i64::from(period);
    let mut out = Vec::new();
    match side {
        Side::Bid => {
            for (unit, (id, _)) in WIND.iter().enumerate() {
                let u = i64::try_from(unit).unwrap_or(0);
                let mut volume = -Decimal::new(p * 37 + u * 113 + 250, 2);
                if revision > 0 && period % 2 == 1 {
                    volume -= Decimal::new(i64::from(revision) * 125, 2);
                }
                if (p + u) % 4 == 0 {
                    // An energy-balancing bid: not a constraint action.
                    out.push(dropped(date, period, Some(id), volume, false));
                    continue;
                }
                let price = if unit == 3 && period % 7 == 0 {
                    Decimal::new(1_250, 2)
                } else {
                    -Decimal::new(3_500 + u * 275 + p * 11, 2)
                };
                out.push(curtailment(date, period, side, unit, volume, price));
            }
            out.push(dropped(date, period, Some(GAS), Decimal::new(-40, 0), true));
            out.push(dropped(date, period, None, Decimal::new(-3, 0), true));
        }
        Side::Offer => {
            out.push(dropped(
                date,
                period,
                Some(WIND[0].0),
                Decimal::new(15, 0),
                true,
            ));
            out.push(dropped(date, period, Some(GAS), Decimal::new(60, 0), true));
            if period % 5 == 0 {
                let volume = -Decimal::new(p * 3 + 100, 2);
                out.push(curtailment(
                    date,
                    period,
                    side,
                    2,
                    volume,
                    Decimal::new(-1_999, 2),
                ));
            }
        }
    }
    let created = created(date, revision);
    for (rank, planted) in out.iter_mut().enumerate() {
        let sequence = Some(i64::try_from(rank).unwrap_or(0) + 1);
        planted.item.sequence_number = sequence;
        planted.item.created_date_time = created;
        if let Some(r) = planted.record.as_mut() {
            r.sequence_number = sequence;
        }
    }
    out
}
