//! insta snapshots of one day's summary and bitcoin rollup for a fixed set of ~20 records.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use bitcoin_calc::{bitcoin_rows, MinerCatalog};
use rust_decimal::Decimal;
use settlement_model::{
    BitcoinSummary, CurtailmentRecord, DailySummary, MonthlySummary, SettlementDate, SummaryPeriod,
    YearMonth, YearlySummary,
};

/// What the rollup snapshot shows: the curtailment rows, then the bitcoin rows.
#[derive(serde::Serialize)]
struct Rollup {
    difficulty: Decimal,
    daily: DailySummary,
    monthly: MonthlySummary,
    yearly: YearlySummary,
    bitcoin: Vec<BitcoinSummary>,
}

/// xorshift64: a fixed, dependency-free sequence, so the records never change.
struct Seeded(u64);

impl Seeded {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

const FARMS: [&str; 6] = [
    "T_WHILW-1",
    "T_SGRWO-2",
    "E_BABAW-1",
    "T_MOWEO-3",
    "T_BEATO-1",
    "E_CLDRW-1",
];

/// 20 records of 2024-10-27 (a 50-period day), periods 1-50, volumes to the kWh, prices to
/// the penny; one record has a positive bid price (a negative payment).
fn the_day() -> (SettlementDate, Vec<CurtailmentRecord>) {
    let date: SettlementDate = "2024-10-27".parse().unwrap();
    let mut rng = Seeded(0x5eed_2024_1027);
    let mut records: Vec<CurtailmentRecord> = (0..20)
        .map(|i| {
            let period = u8::try_from(1 + rng.next(50)).unwrap();
            let volume = -Decimal::new(i64::try_from(1 + rng.next(150_000)).unwrap(), 3);
            let price = if i == 7 {
                Decimal::new(1250, 2)
            } else {
                -Decimal::new(i64::try_from(rng.next(9_000)).unwrap(), 2)
            };
            let farm = FARMS[usize::try_from(rng.next(6)).unwrap()];
            CurtailmentRecord {
                cadl_flag: Some(false),
                sequence_number: Some(i),
                ..CurtailmentRecord::bid(date, period, farm, volume, price).unwrap()
            }
        })
        .collect();
    records
        .sort_by(|a, b| (a.settlement_period, &a.farm_id).cmp(&(b.settlement_period, &b.farm_id)));
    (date, records)
}

/// The difficulty in force on 2024-10-27 (epoch from 2024-10-23).
fn difficulty() -> Decimal {
    "95672703408223".parse().unwrap()
}

/// The block subsidy on 2024-10-27 (epoch 4, from the 2024-04-20 halving).
fn subsidy() -> Decimal {
    "3.125".parse().unwrap()
}

#[test]
fn day_summary() {
    let (date, records) = the_day();
    let detail = summaries::day_detail(date, &records).unwrap();
    assert_eq!(detail.records, 20);
    assert_eq!(
        detail.per_period.values().map(|p| p.records).sum::<u64>(),
        20
    );
    assert_eq!(
        detail
            .per_period
            .values()
            .map(|p| p.energy_mwh)
            .sum::<Decimal>(),
        detail.summary.total_curtailed_energy
    );
    insta::assert_yaml_snapshot!("day_summary_2024_10_27", detail);
}

#[test]
fn bitcoin_rollup() {
    let (date, records) = the_day();
    let models = MinerCatalog::defaults().models().to_vec();
    let rows = bitcoin_rows(&records, &models, difficulty(), subsidy()).unwrap();
    assert_eq!(rows.len(), 60);
    let names: Vec<String> = models.iter().map(|m| m.name.clone()).collect();
    let day = |d: &str| SummaryPeriod::Day(d.parse().unwrap());
    let month = |m: &str| SummaryPeriod::Month(YearMonth::parse(m).unwrap());
    let s = |period, model: &str, btc: &str| BitcoinSummary {
        period,
        miner_model: model.to_owned(),
        bitcoin_mined: btc.parse().unwrap(),
    };
    // Other days of October and other months of 2024, as the store would read them.
    let other_dailies = [
        s(day("2024-10-26"), "S19J_PRO", "0.250000000000"),
        s(day("2024-10-26"), "S9", "0.077000000000"),
        s(day("2024-10-26"), "M20S", "0.154000000000"),
        s(day("2024-10-01"), "S19J_PRO", "1.000000000001"),
    ];
    let other_monthlies = [
        s(month("2024-09"), "S19J_PRO", "12.345678901234"),
        s(month("2024-09"), "S9", "3.000000000000"),
    ];
    let rollup =
        summaries::bitcoin_rollup(date, &rows, &names, &other_dailies, &other_monthlies).unwrap();
    assert_eq!(rollup.len(), 9);
    let (day_rows, _) = rollup.split_at(3);
    assert_eq!(
        day_rows.to_vec(),
        summaries::bitcoin_daily(date, &rows).unwrap()
    );

    let (curtailment_day, curtailment_month, curtailment_year) = summaries::rollup(
        date,
        &records,
        &[DailySummary {
            date: "2024-10-26".parse().unwrap(),
            total_curtailed_energy: "100.5".parse().unwrap(),
            total_payment: "4020.25".parse().unwrap(),
        }],
        &[MonthlySummary {
            year_month: YearMonth::parse("2024-09").unwrap(),
            total_curtailed_energy: "2000".parse().unwrap(),
            total_payment: "80000".parse().unwrap(),
        }],
    )
    .unwrap();
    insta::assert_yaml_snapshot!(
        "rollup_2024_10_27",
        Rollup {
            difficulty: difficulty(),
            daily: curtailment_day,
            monthly: curtailment_month,
            yearly: curtailment_year,
            bitcoin: rollup,
        }
    );
}
