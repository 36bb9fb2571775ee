//! Properties of the bitcoin calculation over random inputs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
use common::subsidy;

use bitcoin_calc::{bitcoin_for_energy, MinerCatalog, MinerModel};
use chrono::NaiveDate;
use proptest::prelude::*;
use rust_decimal::Decimal;

/// One unit in the 12th decimal place.
const ULP: Decimal = Decimal::from_parts(1, 0, 0, false, 12);

/// 0 to 10,000 MWh with 3 decimal places (Elexon volumes carry at most a few).
fn energy() -> impl Strategy<Value = Decimal> {
    (0_i64..=10_000_000).prop_map(|milli| Decimal::new(milli, 3))
}

/// 1e9 to 2e15 with up to 2 decimal places (past, present and far-future difficulties).
fn difficulty() -> impl Strategy<Value = Decimal> {
    (100_000_000_000_i64..=200_000_000_000_000_000).prop_map(|centi| Decimal::new(centi, 2))
}

fn model() -> impl Strategy<Value = MinerModel> {
    let defaults = MinerCatalog::defaults().models().to_vec();
    prop_oneof![
        proptest::sample::select(defaults),
        (1_i64..=20_000, 100_i64..=200_000).prop_map(|(deci_ths, deci_w)| {
            MinerModel::new("CUSTOM", Decimal::new(deci_ths, 1), Decimal::new(deci_w, 1)).unwrap()
        }),
    ]
}

fn date() -> impl Strategy<Value = NaiveDate> {
    (0_i64..=8_000)
        .prop_map(|n| NaiveDate::from_ymd_opt(2009, 1, 3).unwrap() + chrono::Duration::days(n))
}

proptest! {
    /// Linearity: bitcoin(a + b) and bitcoin(a) + bitcoin(b) differ by at most one unit in
    /// the 12th place. Bound: each of the three values is the exact quotient (28 significant
    /// digits, error < 1e-20 here) rounded to 12 places, so each is within 5e-13 + 1e-20 of
    /// the true value and the difference is within 1.5e-12 + 3e-20; being a multiple of
    /// 1e-12, it is therefore 0 or ±1e-12.
    #[test]
    fn bitcoin_is_linear_in_energy(a in energy(), b in energy(), m in model(),
                                   d in difficulty(), on in date()) {
        let f = |e: Decimal| bitcoin_for_energy(e, &m, d, subsidy(on)).unwrap();
        let whole = f(a + b);
        let parts = f(a) + f(b);
        prop_assert!((whole - parts).abs() <= ULP, "{whole} vs {parts}");
        prop_assert_eq!(whole.scale(), 12);
    }

    /// Scaling by an integer k stays within k/2 + 1/2 units of the 12th place, for the same
    /// reason (k roundings of ≤ ½ unit on one side, one on the other).
    #[test]
    fn bitcoin_scales_with_energy(a in energy(), k in 1_u32..=50, m in model(),
                                  d in difficulty(), on in date()) {
        let f = |e: Decimal| bitcoin_for_energy(e, &m, d, subsidy(on)).unwrap();
        let k = Decimal::from(k);
        let bound = ULP * (k + Decimal::ONE) / Decimal::TWO;
        prop_assert!((f(a * k) - f(a) * k).abs() <= bound);
    }

    /// The halving halves: on 2024-04-20 the value is half of 2024-04-19's within one unit of
    /// the 12th place (2·v20 − v19 = 2·e20 − e19 with |e| ≤ 5e-13, a multiple of 1e-12).
    #[test]
    fn the_2024_halving_halves(e in energy(), m in model(), d in difficulty()) {
        let before = bitcoin_for_energy(e, &m, d, subsidy(NaiveDate::from_ymd_opt(2024, 4, 19).unwrap())).unwrap();
        let after = bitcoin_for_energy(e, &m, d, subsidy(NaiveDate::from_ymd_opt(2024, 4, 20).unwrap())).unwrap();
        prop_assert!((after * Decimal::TWO - before).abs() <= ULP);
    }

    /// More difficulty never yields more bitcoin; more energy never less.
    #[test]
    fn monotone(e in energy(), extra in energy(), m in model(), d in difficulty(), on in date()) {
        let f = |e: Decimal, d: Decimal| bitcoin_for_energy(e, &m, d, subsidy(on)).unwrap();
        prop_assert!(f(e, d * Decimal::TWO) <= f(e, d));
        prop_assert!(f(e + extra, d) >= f(e, d));
        prop_assert!(f(e, d) >= Decimal::ZERO);
    }
}
