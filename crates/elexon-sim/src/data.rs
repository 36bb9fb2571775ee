//! Pure, deterministic generators of the simulator's data: BM units, stack items and the
//! bitcoin difficulty history.
//!
//! Every function here is a pure function of its arguments: the same seed, date, period,
//! side and revision always give the same values, on every machine. Randomness comes from a
//! ChaCha8 generator whose 32-byte seed packs the arguments (no hashing, so no collisions).
//!
//! The weather model: each date has a *storminess* (0-1000, see [`storminess`]) smoothed
//! over neighbouring days and biased by season, so there are calm spells (few or no
//! curtailment items) and stormy spells (dozens per period, more at night).

use std::cell::RefCell;
use std::collections::HashSet;
use std::rc::Rc;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rust_decimal::prelude::MathematicalOps;
use rust_decimal::Decimal;
use settlement_model::{BmUnit, SettlementDate, Side, StackItem};

/// Storminess below this is a calm day: few curtailment items, many periods with none.
pub const CALM_BELOW: u32 = 250;
/// Storminess above this is a stormy day: dozens of curtailment items per period.
pub const STORMY_ABOVE: u32 = 650;

/// The simulated BM Unit reference data for `seed`: about 60 units, of which 40 are wind
/// farms (ids shaped like `T_ABCDW-1`, `E_ABCDW-1`, `2__PABCD001`), the rest CCGT, OCGT,
/// PS, NPSHYD, BIOMASS, NUCLEAR, OTHER and units with no fuel type. Lead party names are
/// invented; some hold apostrophes, quotes or ampersands, two are null.
pub fn bm_units(seed: u64) -> Vec<BmUnit> {
    let mut rng = rng_for(seed, Tag::Units, 0, 0, 0, 0);
    let mut codes = HashSet::new();
    let mut units = Vec::with_capacity(60);
    let mut code = |rng: &mut ChaCha8Rng| loop {
        let c = random_code(rng);
        if codes.insert(c.clone()) {
            return c;
        }
    };
    // Wind: 18 transmission, 10 embedded, 12 supplier-style ids.
    for i in 0..40u32 {
        let c = code(&mut rng);
        let n = rng.random_range(1..=4u32);
        let (id, ng) = match i {
            0..=17 => (format!("T_{c}W-{n}"), Some(format!("{c}W-{n}"))),
            18..=27 => (format!("E_{c}W-{n}"), Some(format!("{c}W-{n}"))),
            28..=35 => (
                format!("2__P{c}00{n}"),
                chance(&mut rng, 700).then(|| format!("{c}W-1")),
            ),
            _ => (
                format!("2__N{c}00{n}"),
                chance(&mut rng, 500).then(|| format!("{}PW0{n}", &c[..3])),
            ),
        };
        let name = match rng.random_range(0..10u32) {
            0 => None,
            1 => Some(id.clone()),
            2 => Some(format!("{} Wind Farm Phase {n}", title(&c))),
            3 => Some(format!("{} Offshore Wind", title(&c))),
            _ => Some(format!("{} Wind Farm", title(&c))),
        };
        units.push(BmUnit {
            elexon_bm_unit: id,
            national_grid_bm_unit: ng,
            bm_unit_name: name,
            lead_party_name: lead_party(&mut rng, i),
            fuel_type: Some("WIND".to_owned()),
            generation_capacity: Some(capacity(&mut rng, 5, 600)),
        });
    }
    // Everything else.
    let others: [(&str, Option<&str>, u32); 10] = [
        ("T_{}-{n}", Some("CCGT"), 5),
        ("T_{}G-{n}", Some("OCGT"), 1),
        ("T_{}-{n}", Some("PS"), 2),
        ("T_{}H-{n}", Some("NPSHYD"), 1),
        ("E_{}H-{n}", Some("NPSHYD"), 1),
        ("T_{}X-{n}", Some("BIOMASS"), 2),
        ("T_{}1{n}", Some("NUCLEAR"), 2),
        ("E_{}-{n}", Some("OTHER"), 1),
        ("2__A{}00{n}", None, 3),
        ("C__{}00{n}", None, 2),
    ];
    let mut i = 40;
    for (shape, fuel, count) in others {
        for _ in 0..count {
            let c = code(&mut rng);
            let n = rng.random_range(1..=4u32).to_string();
            let id = shape.replace("{}", &c).replace("{n}", &n);
            let ng = id
                .get(2..)
                .map(str::to_owned)
                .filter(|_| id.starts_with("T_"));
            units.push(BmUnit {
                national_grid_bm_unit: ng,
                bm_unit_name: chance(&mut rng, 800).then(|| format!("{} {}", title(&c), n)),
                lead_party_name: lead_party(&mut rng, i),
                fuel_type: fuel.map(str::to_owned),
                generation_capacity: Some(capacity(&mut rng, 10, 1300)),
                elexon_bm_unit: id,
            });
            i += 1;
        }
    }
    units
}

/// How stormy `date` is for `seed`, 0 (dead calm) to 1000 (gale): a three-day smoothed
/// noise plus a seasonal bias (windier in winter). Below [`CALM_BELOW`] a day is calm,
/// above [`STORMY_ABOVE`] stormy.
pub fn storminess(seed: u64, date: SettlementDate) -> u32 {
    let noise = |d: NaiveDate| -> i64 {
        let days = i64::from(d.num_days_from_ce());
        let mut rng = rng_for(seed, Tag::Weather, days, 0, 0, 0);
        rng.random_range(0..=1000i64)
    };
    let d = date.naive();
    let prev = d.pred_opt().unwrap_or(d);
    let next = d.succ_opt().unwrap_or(d);
    let smooth = (noise(prev) + 2 * noise(d) + noise(next)) / 4;
    // Smoothing pulls values to the middle; stretch them back out.
    let stretched = (smooth - 500) * 9 / 5 + 500;
    let season = match d.month() {
        11 | 12 | 1 | 2 => 120,
        3 | 10 => 60,
        6..=8 => -120,
        _ => 0,
    };
    u32::try_from((stretched + season).clamp(0, 1000)).unwrap_or(0)
}

/// The stack items published for `date`, `period` and `side` by calculation run
/// `revision` (0 is the first run; see [`crate::SimHandle::set_revision`]).
///
/// Revision 0 is generated from a ChaCha generator seeded by (seed, date, period, side).
/// A later revision takes those items and, in about half the periods, changes some volumes
/// and prices, sometimes adding or removing an item, with a generator seeded by the
/// revision too; its `createdDateTime` is weeks later. Items are ranked by price and
/// numbered from 1 (`sequenceNumber`); `startTime` is the period's start
/// ([`settlement_model::SettlementPeriod::start_utc`]).
///
/// Any period number is accepted: validating it against the date is the server's job.
pub fn stack_items(
    seed: u64,
    date: SettlementDate,
    period: u8,
    side: Side,
    revision: u32,
) -> Vec<StackItem> {
    with_pools(seed, |pools| {
        let gen = Generator::new(seed, date, period, side, pools);
        let mut items = gen.base_items();
        if revision > 0 {
            gen.revise(&mut items, revision);
        }
        rank(&mut items, side);
        let created = created_date_time(seed, date, period, side, revision);
        for item in &mut items {
            item.created_date_time = Some(created);
        }
        items
    })
}

/// When calculation run `revision` published the stack: the next day around 09:00 UTC for
/// revision 0, and about four weeks later for each later revision.
pub fn created_date_time(
    seed: u64,
    date: SettlementDate,
    period: u8,
    side: Side,
    revision: u32,
) -> DateTime<Utc> {
    let days = i64::from(date.naive().num_days_from_ce());
    let mut rng = rng_for(seed, Tag::Created, days, period, side_byte(side), revision);
    let next_day = date.naive().succ_opt().unwrap_or(date.naive());
    let base = Utc.from_utc_datetime(&next_day.and_time(chrono::NaiveTime::MIN));
    base + Duration::hours(9)
        + Duration::seconds(i64::from(period) * 37 + rng.random_range(0..30i64))
        + Duration::milliseconds(rng.random_range(0..1000i64))
        + Duration::days(28 * i64::from(revision))
        + Duration::hours(if revision > 0 {
            rng.random_range(0..6i64)
        } else {
            0
        })
}

/// The real times of the halving blocks (and genesis), which anchor simulated block heights:
/// the simulated chain passes each halving height on the real halving day, so halving days
/// held as data and the feed's heights agree. After the last, ten minutes a block (the next
/// halving, block 1,050,000, then falls on 2028-04-17).
const HEIGHT_ANCHORS: [(u64, i64); 5] = [
    (0, 1_231_006_505),       // 2009-01-03 18:15:05 genesis
    (210_000, 1_354_116_278), // 2012-11-28 15:24:38
    (420_000, 1_468_082_773), // 2016-07-09 16:46:13
    (630_000, 1_589_225_023), // 2020-05-11 19:23:43
    (840_000, 1_713_571_767), // 2024-04-20 00:09:27
];

/// The simulated time of block `height`: linear between the anchors, 600 s a block after.
fn time_of_height(height: u64) -> i64 {
    let to_i64 = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    for w in HEIGHT_ANCHORS.windows(2) {
        let ((h0, t0), (h1, t1)) = (w[0], w[1]);
        if height <= h1 {
            return t0 + (t1 - t0) * to_i64(height - h0) / to_i64(h1 - h0);
        }
    }
    let (h, t) = HEIGHT_ANCHORS[HEIGHT_ANCHORS.len() - 1];
    t + to_i64(height - h) * 600
}

/// The simulated bitcoin difficulty history for `seed`: one row per adjustment (every 2,016
/// blocks, about two weeks) from the genesis block (3 January 2009) to the end of 2030, as
/// `(unix_time, block_height, difficulty, change_ratio)`, oldest first. Heights follow the
/// real halving days (anchored at each halving's block height and day).
///
/// Difficulty follows a rough log-linear path through realistic anchors (1 in 2009, about
/// 7e13 in 2024, about 4e14 in 2030) with a few per cent of noise each adjustment, so it
/// sometimes falls. Difficulty has two decimals; the change ratio four.
pub fn difficulty_adjustments(seed: u64) -> Vec<(i64, u64, Decimal, Decimal)> {
    // (unix time, difficulty) anchors; between them growth is geometric.
    const ANCHORS: [(i64, i64); 12] = [
        (1_231_006_505, 1),                   // 2009-01-03 genesis
        (1_262_304_000, 1),                   // 2010-01-01
        (1_293_840_000, 15_000),              // 2011-01-01
        (1_325_376_000, 1_200_000),           // 2012-01-01
        (1_388_534_400, 1_400_000_000),       // 2014-01-01
        (1_451_606_400, 100_000_000_000),     // 2016-01-01
        (1_514_764_800, 1_900_000_000_000),   // 2018-01-01
        (1_577_836_800, 13_800_000_000_000),  // 2020-01-01
        (1_640_995_200, 24_000_000_000_000),  // 2022-01-01
        (1_704_067_200, 72_000_000_000_000),  // 2024-01-01
        (1_767_225_600, 150_000_000_000_000), // 2026-01-01
        (1_924_992_000, 420_000_000_000_000), // 2031-01-01
    ];
    const END: i64 = 1_924_992_000;
    let mut rng = rng_for(seed, Tag::Difficulty, 0, 0, 0, 0);
    let mut rows = Vec::with_capacity(600);
    let mut time = ANCHORS[0].0;
    let mut height = 0u64;
    let mut difficulty = Decimal::ONE;
    rows.push((time, height, difficulty, Decimal::ZERO));
    let mut seg = 0;
    while time < END {
        height += 2016;
        time = time_of_height(height);
        while seg + 1 < ANCHORS.len() - 1 && time >= ANCHORS[seg + 1].0 {
            seg += 1;
        }
        let (t0, d0) = ANCHORS[seg];
        let (t1, d1) = ANCHORS[seg + 1];
        // target = d0 * (d1/d0)^((time - t0)/(t1 - t0))
        let frac = Decimal::from(time - t0) / Decimal::from(t1 - t0);
        let ratio = Decimal::from(d1) / Decimal::from(d0);
        let target = Decimal::from(d0) * (ratio.ln() * frac).exp();
        let noise = Decimal::new(i64::from(rng.random_range(960..=1040u32)), 3);
        let next = (target * noise).max(Decimal::ONE).round_dp(2);
        let change = if difficulty.is_zero() {
            Decimal::ONE
        } else {
            (next / difficulty).round_dp(4)
        };
        difficulty = next;
        rows.push((time, height, difficulty, change));
    }
    rows
}

// ---------------------------------------------------------------------------------------
// Internals.

#[derive(Clone, Copy)]
#[repr(u8)]
enum Tag {
    Units = 1,
    Weather = 2,
    Stack = 3,
    Revision = 4,
    Created = 5,
    Difficulty = 6,
}

fn side_byte(side: Side) -> u8 {
    match side {
        Side::Bid => 0,
        Side::Offer => 1,
    }
}

/// A generator whose seed packs every argument, so distinct arguments never share a stream.
fn rng_for(seed: u64, tag: Tag, days: i64, period: u8, side: u8, revision: u32) -> ChaCha8Rng {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8] = tag as u8;
    bytes[9..17].copy_from_slice(&days.to_le_bytes());
    bytes[17] = period;
    bytes[18] = side;
    bytes[19..23].copy_from_slice(&revision.to_le_bytes());
    ChaCha8Rng::from_seed(bytes)
}

/// True with probability `per_mille` / 1000.
fn chance(rng: &mut ChaCha8Rng, per_mille: u32) -> bool {
    rng.random_range(0..1000u32) < per_mille
}

fn random_code(rng: &mut ChaCha8Rng) -> String {
    const CONSONANTS: &[u8] = b"BCDFGHKLMNPRSTVWY";
    const VOWELS: &[u8] = b"AEIOU";
    let mut s = String::with_capacity(4);
    for i in 0..4 {
        let set = if i % 2 == 0 || chance(rng, 300) {
            CONSONANTS
        } else {
            VOWELS
        };
        s.push(char::from(set[rng.random_range(0..set.len())]));
    }
    s
}

fn title(code: &str) -> String {
    let mut out = String::with_capacity(code.len());
    for (i, c) in code.chars().enumerate() {
        if i == 0 {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

fn capacity(rng: &mut ChaCha8Rng, min_mw: i64, max_mw: i64) -> Decimal {
    // Three decimals kept (e.g. "24.700"), as the API prints them.
    Decimal::new(
        rng.random_range(min_mw * 1000..=max_mw * 1000) / 100 * 100,
        3,
    )
}

fn lead_party(rng: &mut ChaCha8Rng, index: u32) -> Option<String> {
    const PARTIES: [&str; 18] = [
        "Northwind Generation Limited",
        "Glen Aird Renewables Ltd",
        "O'Hare Wind Energy Ltd",
        "Carn Dearg Power Limited",
        "\"Blue Ridge\" Offshore Wind Limited",
        "Smith & Partners Energy LLP",
        "Firth Renewable Supply Ltd",
        "Moorland Wind Farm (Holdings) Ltd",
        "Aberlour Energy Trading plc",
        "Saltire Clean Power Ltd",
        "Tŷ Gwynt Cyf",
        "Eastern Coastal Generation Ltd",
        "MacLeod's Hill Wind Ltd",
        "Highland <Grid> Services Ltd",
        "Pennine Power Company Limited",
        "Severn Estuary Energy Ltd",
        "Riverside Thermal Generation Ltd",
        "Isle Hydro & Storage Ltd",
    ];
    if index == 7 || index == 52 {
        return None;
    }
    Some(PARTIES[rng.random_range(0..PARTIES.len())].to_owned())
}

/// The units a stack draws from, by role.
struct Pools {
    wind: Vec<String>,
    other: Vec<(String, Option<String>)>,
}

thread_local! {
    static POOLS: RefCell<Option<(u64, Rc<Pools>)>> = const { RefCell::new(None) };
}

fn with_pools<T>(seed: u64, f: impl FnOnce(&Pools) -> T) -> T {
    let pools = POOLS.with(|cell| {
        let mut cached = cell.borrow_mut();
        match cached.as_ref() {
            Some((s, pools)) if *s == seed => Rc::clone(pools),
            _ => {
                let units = bm_units(seed);
                let pools = Rc::new(Pools {
                    wind: units
                        .iter()
                        .filter(|u| u.is_wind())
                        .map(|u| u.elexon_bm_unit.clone())
                        .collect(),
                    other: units
                        .iter()
                        .filter(|u| !u.is_wind())
                        .map(|u| (u.elexon_bm_unit.clone(), u.fuel_type.clone()))
                        .collect(),
                });
                *cached = Some((seed, Rc::clone(&pools)));
                pools
            }
        }
    });
    f(&pools)
}

struct Generator<'a> {
    seed: u64,
    date: SettlementDate,
    period: u8,
    side: Side,
    days: i64,
    start: DateTime<Utc>,
    pools: &'a Pools,
}

/// What kind of item to make.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    /// A wind unit's constraint action (soFlag true): curtailment when volume < 0.
    WindConstraint,
    /// A wind unit's energy action (soFlag false or null).
    WindEnergy,
    /// A wind unit flagged CADL only.
    WindCadl,
    /// A non-wind unit.
    Other,
    /// A system row without a unit id.
    System,
}

impl<'a> Generator<'a> {
    fn new(seed: u64, date: SettlementDate, period: u8, side: Side, pools: &'a Pools) -> Self {
        Self {
            seed,
            date,
            period,
            side,
            days: i64::from(date.naive().num_days_from_ce()),
            start: date.start_utc() + Duration::minutes(30 * (i64::from(period) - 1)),
            pools,
        }
    }

    fn rng(&self, tag: Tag, revision: u32) -> ChaCha8Rng {
        rng_for(
            self.seed,
            tag,
            self.days,
            self.period,
            side_byte(self.side),
            revision,
        )
    }

    /// Curtailment is likelier at night, when demand is low.
    fn period_factor(&self) -> u32 {
        match (self.period.saturating_sub(1)) / 2 {
            0..=6 => 1200,
            7..=15 => 900,
            16..=19 => 750,
            _ => 1050,
        }
    }

    fn base_items(&self) -> Vec<StackItem> {
        let mut rng = self.rng(Tag::Stack, 0);
        let storm = storminess(self.seed, self.date);
        let base = storm * storm * 40 / 1_000_000 * self.period_factor() / 1000;
        let mut roles = Vec::new();
        match self.side {
            Side::Bid => {
                let extra = u32::from(chance(&mut rng, 300)) + rng.random_range(0..=base / 5);
                roles.extend(std::iter::repeat_n(
                    Role::WindConstraint,
                    (base + extra) as usize,
                ));
                let energy = rng.random_range(0..=base / 3 + 1);
                roles.extend(std::iter::repeat_n(Role::WindEnergy, energy as usize));
                if chance(&mut rng, 250) {
                    roles.push(Role::WindCadl);
                }
                let others = rng.random_range(3..=8u32);
                roles.extend(std::iter::repeat_n(Role::Other, others as usize));
                if chance(&mut rng, 120) {
                    roles.push(Role::System);
                }
            }
            Side::Offer => {
                let others = rng.random_range(4..=10u32);
                roles.extend(std::iter::repeat_n(Role::Other, others as usize));
                if chance(&mut rng, 300) {
                    roles.push(Role::WindEnergy);
                }
                // Rare negative-volume constraint offers from wind units, on windy days.
                if storm > CALM_BELOW && chance(&mut rng, 150) {
                    roles.push(Role::WindConstraint);
                }
                if chance(&mut rng, 60) {
                    roles.push(Role::System);
                }
            }
        }
        roles
            .into_iter()
            .map(|role| self.item(&mut rng, role))
            .collect()
    }

    fn item(&self, rng: &mut ChaCha8Rng, role: Role) -> StackItem {
        let mut it = StackItem::new(self.date.naive(), self.period, Decimal::ZERO);
        it.start_time = Some(self.start);
        let pick_wind = |rng: &mut ChaCha8Rng| {
            self.pools
                .wind
                .get(rng.random_range(0..self.pools.wind.len().max(1)))
                .cloned()
        };
        let bid = self.side == Side::Bid;
        match role {
            Role::WindConstraint => {
                it.id = pick_wind(rng);
                it.so_flag = Some(true);
                it.cadl_flag = match rng.random_range(0..10u32) {
                    0..=6 => Some(false),
                    7 | 8 => None,
                    _ => Some(true),
                };
                it.volume = -wind_volume(rng);
                it.original_price = Some(if chance(rng, 50) {
                    money(rng.random_range(0..=3000i64))
                } else {
                    -money(rng.random_range(100..=15000i64))
                });
            }
            Role::WindEnergy => {
                it.id = pick_wind(rng);
                it.so_flag = if chance(rng, 150) { None } else { Some(false) };
                it.cadl_flag = Some(false);
                let v = wind_volume(rng);
                it.volume = if bid { -v } else { v };
                it.original_price = Some(if bid {
                    -money(rng.random_range(0..=9000i64))
                } else {
                    money(rng.random_range(5000..=20000i64))
                });
            }
            Role::WindCadl => {
                it.id = pick_wind(rng);
                it.so_flag = Some(false);
                it.cadl_flag = Some(true);
                it.volume = -wind_volume(rng);
                it.original_price = Some(-money(rng.random_range(100..=8000i64)));
            }
            Role::Other => {
                let (id, fuel) = self
                    .pools
                    .other
                    .get(rng.random_range(0..self.pools.other.len().max(1)))
                    .cloned()
                    .unwrap_or_default();
                it.id = Some(id);
                it.so_flag = Some(chance(rng, 400));
                it.cadl_flag = if chance(rng, 100) {
                    None
                } else {
                    Some(chance(rng, 80))
                };
                it.stor_provider_flag = match rng.random_range(0..20u32) {
                    0 => Some(true),
                    1..=5 => Some(false),
                    _ => None,
                };
                let v = Decimal::new(rng.random_range(500..=250_000i64), 3).normalize();
                it.volume = if bid { -v } else { v };
                let price = match fuel.as_deref() {
                    Some("NUCLEAR") => -money(rng.random_range(0..=5000i64)),
                    Some("PS") => money(rng.random_range(1000..=12000i64)),
                    _ if bid => money(rng.random_range(1500..=9000i64)),
                    _ => money(rng.random_range(6000..=35000i64)),
                };
                it.original_price = Some(price);
            }
            Role::System => {
                it.id = None;
                it.so_flag = Some(chance(rng, 500));
                it.cadl_flag = None;
                let v = small_decimal(rng);
                it.volume = if bid { -v } else { v };
                it.original_price = chance(rng, 500).then(|| money(rng.random_range(0..=9000i64)));
            }
        }
        it.acceptance_id = chance(rng, 950).then(|| rng.random_range(100_000..=999_999i64));
        let pair = rng.random_range(1..=6i64);
        it.bid_offer_pair_id = chance(rng, 950).then_some(if bid { -pair } else { pair });
        it.repriced_indicator = Some(chance(rng, 100));
        it.reserve_scarcity_price = chance(rng, 600).then_some(Decimal::ZERO);
        it.final_price = if role == Role::System {
            it.original_price
        } else if chance(rng, 150) {
            it.original_price
                .map(|p| p + money(rng.random_range(-500..=500i64)))
        } else {
            it.original_price
        };
        it.transmission_loss_multiplier = chance(rng, 900)
            .then(|| Decimal::new(rng.random_range(9_800_000..=10_100_000i64), 7).normalize());
        let with_tlm = chance(rng, 700);
        let dmat = chance(rng, 800);
        let arbitrage = chance(rng, 500);
        let niv = chance(rng, 300);
        let par = chance(rng, 100);
        derive_volumes(&mut it, with_tlm, dmat, arbitrage, niv, par);
        it
    }

    /// A later calculation run: in about half the periods some items change.
    fn revise(&self, items: &mut Vec<StackItem>, revision: u32) {
        let mut rng = self.rng(Tag::Revision, revision);
        if !chance(&mut rng, 550) || items.is_empty() {
            return;
        }
        let candidates: Vec<usize> = {
            let wind: Vec<usize> = items
                .iter()
                .enumerate()
                .filter(|(_, it)| it.so_flag == Some(true) && it.volume < Decimal::ZERO)
                .filter(|(_, it)| {
                    it.id
                        .as_ref()
                        .is_some_and(|id| self.pools.wind.contains(id))
                })
                .map(|(i, _)| i)
                .collect();
            if wind.is_empty() {
                (0..items.len()).collect()
            } else {
                wind
            }
        };
        let changes = rng.random_range(1..=candidates.len().div_ceil(4).max(1));
        for _ in 0..changes {
            let i = candidates[rng.random_range(0..candidates.len())];
            let it = &mut items[i];
            let factor = Decimal::new(i64::from(rng.random_range(800..=1200u32)), 3);
            let mut v = (it.volume * factor).round_dp(3).normalize();
            if v == it.volume || v.is_zero() {
                v = it.volume + Decimal::new(if it.volume.is_sign_negative() { -1 } else { 1 }, 3);
            }
            it.volume = v;
            if chance(&mut rng, 300) {
                let delta = money(rng.random_range(100..=500i64));
                it.original_price = it.original_price.map(|p| p - delta);
                it.final_price = it.final_price.map(|p| p - delta);
            }
            let with_tlm = it.tlm_adjusted_volume.is_some();
            let (d, a, n, p) = (
                it.dmat_adjusted_volume.is_some(),
                it.arbitrage_adjusted_volume.is_some(),
                it.niv_adjusted_volume.is_some(),
                it.par_adjusted_volume.is_some(),
            );
            derive_volumes(it, with_tlm, d, a, n, p);
        }
        if self.side == Side::Bid && chance(&mut rng, 150) {
            let new = self.item(&mut rng, Role::WindConstraint);
            items.push(new);
        } else if chance(&mut rng, 100) && items.len() > 1 {
            let i = candidates[rng.random_range(0..candidates.len())];
            items.remove(i);
        }
    }
}

fn derive_volumes(it: &mut StackItem, tlm: bool, dmat: bool, arb: bool, niv: bool, par: bool) {
    it.dmat_adjusted_volume = dmat.then_some(it.volume);
    it.arbitrage_adjusted_volume = arb.then_some(it.volume);
    it.niv_adjusted_volume = niv.then_some(it.volume);
    it.par_adjusted_volume = par.then_some(it.volume);
    it.tlm_adjusted_volume = match (tlm, it.transmission_loss_multiplier) {
        (true, Some(m)) => it.volume.checked_mul(m),
        _ => None,
    };
    it.tlm_adjusted_cost = match (it.tlm_adjusted_volume, it.final_price) {
        (Some(v), Some(p)) => v.checked_mul(p),
        _ => None,
    };
}

/// A positive MWh amount of a wind action, sometimes a long repeating decimal.
fn wind_volume(rng: &mut ChaCha8Rng) -> Decimal {
    match rng.random_range(0..20u32) {
        0..=15 => Decimal::new(rng.random_range(100..=150_000i64), 3).normalize(),
        16..=18 => small_decimal(rng),
        _ => (Decimal::from(rng.random_range(1..=700i64)) / Decimal::from(7))
            .round_dp(15)
            .normalize(),
    }
}

/// `k / 240` to 18 places (e.g. `0.004166666666666667`): a ramp's energy in one minute.
fn small_decimal(rng: &mut ChaCha8Rng) -> Decimal {
    (Decimal::from(rng.random_range(1..=2000i64)) / Decimal::from(240))
        .round_dp(18)
        .normalize()
}

/// Pence to pounds, e.g. `-7250` → `-72.5`.
fn money(pence: i64) -> Decimal {
    Decimal::new(pence, 2).normalize()
}

/// Ranks a stack by price (bids cheapest first, offers cheapest first; nulls last) and
/// numbers it from 1.
fn rank(items: &mut [StackItem], _side: Side) {
    items.sort_by(|a, b| match (a.original_price, b.original_price) {
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => std::cmp::Ordering::Less,
        (None, Some(_)) => std::cmp::Ordering::Greater,
        (None, None) => std::cmp::Ordering::Equal,
    });
    for (i, it) in items.iter_mut().enumerate() {
        it.sequence_number = Some(i64::try_from(i).unwrap_or(i64::MAX) + 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> SettlementDate {
        s.parse().unwrap()
    }

    #[test]
    fn units_have_the_expected_mix() {
        let units = bm_units(42);
        assert!((55..=65).contains(&units.len()), "{}", units.len());
        assert_eq!(units.iter().filter(|u| u.is_wind()).count(), 40);
        let ids: HashSet<_> = units.iter().map(|u| &u.elexon_bm_unit).collect();
        assert_eq!(ids.len(), units.len(), "ids are unique");
        for fuel in [
            "CCGT", "PS", "NPSHYD", "BIOMASS", "NUCLEAR", "OCGT", "OTHER",
        ] {
            assert!(
                units.iter().any(|u| u.fuel_type.as_deref() == Some(fuel)),
                "{fuel}"
            );
        }
        assert!(units.iter().any(|u| u.fuel_type.is_none()));
        assert!(units
            .iter()
            .any(|u| u.elexon_bm_unit.starts_with("T_") && u.is_wind()));
        assert!(units
            .iter()
            .any(|u| u.elexon_bm_unit.starts_with("E_") && u.is_wind()));
        assert!(units
            .iter()
            .any(|u| u.elexon_bm_unit.starts_with("2__P") && u.is_wind()));
        assert_eq!(bm_units(42), units);
        assert_ne!(bm_units(43), units);
    }

    #[test]
    fn stacks_are_deterministic_and_ranked() {
        let d = date("2024-03-21");
        let a = stack_items(42, d, 35, Side::Bid, 0);
        assert_eq!(a, stack_items(42, d, 35, Side::Bid, 0));
        assert_ne!(a, stack_items(42, d, 36, Side::Bid, 0));
        assert_ne!(a, stack_items(42, d, 35, Side::Offer, 0));
        for (i, it) in a.iter().enumerate() {
            assert_eq!(it.sequence_number, Some(i as i64 + 1));
            assert_eq!(it.settlement_period, 35);
            assert_eq!(
                it.start_time,
                Some(d.period(35).unwrap().start_utc()),
                "start time is the period's"
            );
            assert!(it.created_date_time.unwrap() > it.start_time.unwrap());
        }
    }

    #[test]
    fn calm_and_stormy_days_exist() {
        let first = date("2024-01-01");
        let mut calm = 0;
        let mut stormy = 0;
        for d in first.through(date("2024-12-31")) {
            let s = storminess(42, d);
            calm += usize::from(s < CALM_BELOW);
            stormy += usize::from(s > STORMY_ABOVE);
        }
        assert!(calm > 20, "calm days {calm}");
        assert!(stormy > 20, "stormy days {stormy}");
    }

    #[test]
    fn a_year_has_every_kind_of_item() {
        let units = bm_units(42);
        let wind: HashSet<_> = units
            .iter()
            .filter(|u| u.is_wind())
            .map(|u| u.elexon_bm_unit.clone())
            .collect();
        let mut seen = [false; 8];
        let mut per_day = Vec::new();
        for d in date("2024-01-01").through(date("2024-03-31")) {
            let mut curtailed = 0;
            for p in 1..=d.periods() {
                for side in Side::BOTH {
                    for it in stack_items(42, d, p, side, 0) {
                        let is_wind = it.id.as_ref().is_some_and(|id| wind.contains(id));
                        let curt =
                            is_wind && it.so_flag == Some(true) && it.volume.is_sign_negative();
                        curtailed += usize::from(curt);
                        seen[0] |= curt && it.cadl_flag == Some(true);
                        seen[1] |= curt && it.original_price.unwrap() > Decimal::ZERO;
                        seen[2] |= curt && side == Side::Offer;
                        seen[3] |= it.id.is_none();
                        seen[4] |= it.volume.to_string().len() > 18;
                        seen[5] |= it.transmission_loss_multiplier.is_none();
                        seen[6] |=
                            is_wind && it.cadl_flag == Some(true) && it.so_flag == Some(false);
                        seen[7] |= !is_wind && it.id.is_some();
                        if curt {
                            assert!(it.original_price.is_some() && it.final_price.is_some());
                        }
                    }
                }
            }
            per_day.push(curtailed);
        }
        assert_eq!(seen, [true; 8], "{seen:?}");
        let min = per_day.iter().min().unwrap();
        let max = per_day.iter().max().unwrap();
        assert!(*min < 60 && *max > 800, "min {min} max {max}");
    }

    #[test]
    fn revisions_change_some_periods_and_move_created_later() {
        let d = date("2024-02-10");
        let mut changed = 0;
        for p in 1..=48 {
            let r0 = stack_items(42, d, p, Side::Bid, 0);
            let r1 = stack_items(42, d, p, Side::Bid, 1);
            assert!(r1[0].created_date_time > r0[0].created_date_time);
            let strip = |v: Vec<StackItem>| {
                v.into_iter()
                    .map(|mut i| {
                        i.created_date_time = None;
                        i
                    })
                    .collect::<Vec<_>>()
            };
            if strip(r0) != strip(r1) {
                changed += 1;
            }
        }
        assert!((10..=40).contains(&changed), "changed periods {changed}");
    }

    #[test]
    fn difficulty_history_is_realistic() {
        let rows = difficulty_adjustments(42);
        assert_eq!(rows[0].1, 0);
        assert!(rows
            .windows(2)
            .all(|w| w[1].0 > w[0].0 && w[1].1 == w[0].1 + 2016));
        let last = rows.last().unwrap();
        assert!(last.0 >= 1_924_992_000);
        // Mid-2024: between 5e13 and 1e14.
        let mid_2024 = rows.iter().find(|r| r.0 >= 1_719_792_000).unwrap();
        let lo = Decimal::from(50_000_000_000_000i64);
        let hi = Decimal::from(100_000_000_000_000i64);
        assert!(mid_2024.2 > lo && mid_2024.2 < hi, "{}", mid_2024.2);
        assert_eq!(rows, difficulty_adjustments(42));
        // The halving heights fall on the real halving days: the adjustments either side of
        // block 840,000 bracket 2024-04-20, those of 1,050,000 bracket 2028-04-17.
        let day = |t: i64| {
            DateTime::from_timestamp(t, 0)
                .unwrap()
                .date_naive()
                .to_string()
        };
        for (height, halving_day) in [(840_000, "2024-04-20"), (1_050_000, "2028-04-17")] {
            let after = rows.iter().position(|r| r.1 >= height).unwrap();
            assert!(day(rows[after - 1].0).as_str() <= halving_day);
            assert!(day(rows[after].0).as_str() >= halving_day);
        }
    }
}
