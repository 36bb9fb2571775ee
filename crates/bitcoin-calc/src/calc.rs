//! The bitcoin a quantity of curtailed energy could have mined, in exact decimal arithmetic.

use rust_decimal::{Decimal, RoundingStrategy};
use settlement_model::{BitcoinRow, CurtailmentRecord};

use crate::miner::MinerModel;

/// Decimal places every bitcoin figure is rounded to (and carried at): 12, i.e. 10⁻⁴ satoshi.
///
/// A record of 0.001 MWh on an S9 is about 6·10⁻⁷ BTC, so 12 places keep at least five
/// significant digits of the smallest realistic record, while a year of sums (≲10⁶ BTC)
/// still fits a decimal's 28 digits with room to spare.
pub const BITCOIN_DECIMAL_PLACES: u32 = 12;

/// How the final value is rounded to [`BITCOIN_DECIMAL_PLACES`]: half away from zero
/// ("half-up" for these non-negative values), the rule of PostgreSQL's `round(numeric, 12)`,
/// so a cross-check in SQL rounds the same way.
pub const BITCOIN_ROUNDING: RoundingStrategy = RoundingStrategy::MidpointAwayFromZero;

/// 3.6e9 J/MWh × 1e12 H/TH = 3.6e21, written as 36 × 10²⁰; the 10²⁰ moves to the divisor.
const JOULE_HASH_FACTOR: Decimal = Decimal::from_parts(36, 0, 0, false, 0);

/// 2³² × 10⁻²⁰ = 0.00000000004294967296 (exact: mantissa 2³², scale 20).
const TWO_POW_32_E_MINUS_20: Decimal = Decimal::from_parts(0, 1, 0, false, 20);

/// Why a bitcoin figure cannot be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CalcError {
    /// The difficulty is zero or negative.
    #[error("the Bitcoin network difficulty must be positive, got {difficulty}")]
    NonPositiveDifficulty {
        /// The difficulty given.
        difficulty: Decimal,
    },
    /// The energy is negative (energy is |volume|).
    #[error("curtailed energy must not be negative, got {energy_mwh} MWh")]
    NegativeEnergy {
        /// The energy given.
        energy_mwh: Decimal,
    },
    /// The miner model's hash rate or power is not positive (a model built by hand).
    #[error("miner model {name} has a non-positive hash rate or power ({hashrate_ths} TH/s, {power_w} W)")]
    InvalidModel {
        /// The model's name.
        name: String,
        /// Its hash rate.
        hashrate_ths: Decimal,
        /// Its power.
        power_w: Decimal,
    },
    /// An intermediate product exceeds a decimal's range (about 7.9·10²⁸).
    #[error("bitcoin for {energy_mwh} MWh on {model} at difficulty {difficulty} overflows a 28-digit decimal")]
    Overflow {
        /// The energy.
        energy_mwh: Decimal,
        /// The model's name.
        model: String,
        /// The difficulty.
        difficulty: Decimal,
    },
}

/// The bitcoin `energy_mwh` of curtailed energy could have mined with `model` at `difficulty`
/// and block `subsidy` (BTC per block, see [`subsidy_on`](crate::subsidy_on)):
///
/// ```text
/// hashes  = energy MWh × 3.6e9 J/MWh ÷ power W × hashrate TH/s × 1e12 H/TH
/// bitcoin = hashes ÷ (difficulty × 2³²) × block_subsidy(date)
/// ```
///
/// **Arithmetic.** Rearranged so that there is exactly one division, done last:
///
/// ```text
/// bitcoin = (energy × hashrate × subsidy × 36) ÷ (power × 2³² × 10⁻²⁰ × difficulty)
/// ```
///
/// Numerator and divisor are exact products (their inputs have few digits, and the 10⁻²⁰ only
/// shifts the scale). The one division yields the quotient to 28 significant digits
/// (`rust_decimal`, pure integer arithmetic, so the same on every platform and for every
/// storage backend), and that is rounded to [`BITCOIN_DECIMAL_PLACES`] with
/// [`BITCOIN_ROUNDING`] and carried at exactly 12 places (`0.000994114921`), so the text of a
/// value is stable. The rounding error of a result is therefore at most 5·10⁻¹³ BTC.
///
/// Errors: a non-positive difficulty, a negative energy, a model with a non-positive hash
/// rate or power, or a product beyond a decimal's range (≈7.9·10²⁸; realistic inputs are
/// ten orders of magnitude below it).
///
/// ```
/// use bitcoin_calc::{bitcoin_for_energy, MinerCatalog};
/// use rust_decimal_macros::dec;
/// let s19 = MinerCatalog::defaults().get("S19J_PRO").unwrap().clone();
/// let before = bitcoin_for_energy(dec!(1), &s19, dec!(86388558925171), dec!(6.25)).unwrap();
/// let after = bitcoin_for_energy(dec!(1), &s19, dec!(86388558925171), dec!(3.125)).unwrap();
/// assert_eq!(before.to_string(), "0.001988229842");
/// assert_eq!(after.to_string(), "0.000994114921"); // the halving
/// ```
pub fn bitcoin_for_energy(
    energy_mwh: Decimal,
    model: &MinerModel,
    difficulty: Decimal,
    subsidy: Decimal,
) -> Result<Decimal, CalcError> {
    ModelAtDifficulty::new(model, difficulty, subsidy).bitcoin_for_energy(energy_mwh)
}

/// [`bitcoin_for_energy`] for one model at one difficulty and subsidy, with the part that
/// does not depend on the energy (the checks of the difficulty and the model, and the
/// divisor `power × 2³² × 10⁻²⁰ × difficulty`) worked out once: a day's records share it.
/// Each figure, and each error, is exactly [`bitcoin_for_energy`]'s (it is the same code).
///
/// ```
/// use bitcoin_calc::{bitcoin_for_energy, MinerCatalog, ModelAtDifficulty};
/// use rust_decimal_macros::dec;
/// let s19 = MinerCatalog::defaults().get("S19J_PRO").unwrap().clone();
/// let at = ModelAtDifficulty::new(&s19, dec!(86388558925171), dec!(6.25));
/// assert_eq!(at.bitcoin_for_energy(dec!(1)).unwrap().to_string(), "0.001988229842");
/// assert_eq!(
///     at.bitcoin_for_energy(dec!(2.5)),
///     bitcoin_for_energy(dec!(2.5), &s19, dec!(86388558925171), dec!(6.25))
/// );
/// ```
#[derive(Debug, Clone)]
pub struct ModelAtDifficulty<'a> {
    model: &'a MinerModel,
    difficulty: Decimal,
    subsidy: Decimal,
    /// `power × 2³² × 10⁻²⁰ × difficulty`, `None` when it overflows.
    divisor: Option<Decimal>,
}

impl<'a> ModelAtDifficulty<'a> {
    /// `model` at `difficulty` and block `subsidy` (BTC per block).
    pub fn new(model: &'a MinerModel, difficulty: Decimal, subsidy: Decimal) -> Self {
        let divisor = model
            .power_w
            .checked_mul(TWO_POW_32_E_MINUS_20)
            .and_then(|x| x.checked_mul(difficulty));
        Self {
            model,
            difficulty,
            subsidy,
            divisor,
        }
    }

    /// The model.
    pub fn model(&self) -> &'a MinerModel {
        self.model
    }

    /// The bitcoin `energy_mwh` could have mined: [`bitcoin_for_energy`] with this model,
    /// difficulty and subsidy (the same checks in the same order, the same arithmetic).
    pub fn bitcoin_for_energy(&self, energy_mwh: Decimal) -> Result<Decimal, CalcError> {
        let (model, difficulty, subsidy) = (self.model, self.difficulty, self.subsidy);
        if difficulty <= Decimal::ZERO {
            return Err(CalcError::NonPositiveDifficulty { difficulty });
        }
        if energy_mwh.is_sign_negative() && !energy_mwh.is_zero() {
            return Err(CalcError::NegativeEnergy { energy_mwh });
        }
        if model.hashrate_ths <= Decimal::ZERO || model.power_w <= Decimal::ZERO {
            return Err(CalcError::InvalidModel {
                name: model.name.clone(),
                hashrate_ths: model.hashrate_ths,
                power_w: model.power_w,
            });
        }
        let overflow = || CalcError::Overflow {
            energy_mwh,
            model: model.name.clone(),
            difficulty,
        };
        let numerator = energy_mwh
            .checked_mul(model.hashrate_ths)
            .and_then(|x| x.checked_mul(subsidy))
            .and_then(|x| x.checked_mul(JOULE_HASH_FACTOR))
            .ok_or_else(overflow)?;
        let divisor = self.divisor.ok_or_else(overflow)?;
        let quotient = numerator.checked_div(divisor).ok_or_else(overflow)?;
        let mut rounded = quotient.round_dp_with_strategy(BITCOIN_DECIMAL_PLACES, BITCOIN_ROUNDING);
        // Carry exactly 12 places (rescale only pads with zeros here: the value is already
        // rounded and far below the 10¹⁶ where 12 places would stop fitting).
        rounded.rescale(BITCOIN_DECIMAL_PLACES);
        Ok(rounded)
    }
}

/// One [`BitcoinRow`] per record per model (records in the order given, models in the order
/// given within each record), each at `difficulty` (recorded in the row) and `subsidy`. The
/// records are of one settlement date, whose difficulty and subsidy these are.
///
/// ```
/// use bitcoin_calc::{bitcoin_rows, MinerCatalog};
/// use rust_decimal_macros::dec;
/// use settlement_model::CurtailmentRecord;
/// let date = "2024-04-19".parse().unwrap();
/// let record = CurtailmentRecord::bid(date, 7, "T_EXAMPLE-1", dec!(-1), dec!(-50)).unwrap();
/// let models = MinerCatalog::defaults().models().to_vec();
/// let rows = bitcoin_rows(&[record], &models, dec!(86388558925171), dec!(6.25)).unwrap();
/// assert_eq!(rows.len(), 3);
/// assert_eq!((rows[0].miner_model.as_str(), rows[0].bitcoin_mined.to_string().as_str()),
///            ("S19J_PRO", "0.001988229842"));
/// ```
pub fn bitcoin_rows(
    records: &[CurtailmentRecord],
    models: &[MinerModel],
    difficulty: Decimal,
    subsidy: Decimal,
) -> Result<Vec<BitcoinRow>, CalcError> {
    let mut rows = Vec::with_capacity(records.len() * models.len());
    let models: Vec<ModelAtDifficulty<'_>> = models
        .iter()
        .map(|m| ModelAtDifficulty::new(m, difficulty, subsidy))
        .collect();
    for record in records {
        for at in &models {
            let model = at.model();
            let bitcoin_mined = at.bitcoin_for_energy(record.energy())?;
            rows.push(BitcoinRow {
                settlement_date: record.settlement_date,
                settlement_period: record.settlement_period,
                farm_id: record.farm_id.clone(),
                miner_model: model.name.clone(),
                bitcoin_mined,
                difficulty,
            });
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn s19() -> MinerModel {
        MinerModel::new("S19J_PRO", dec!(100), dec!(3050)).unwrap()
    }

    #[test]
    fn constants_are_what_they_claim() {
        assert_eq!(
            TWO_POW_32_E_MINUS_20 * dec!(1e20),
            Decimal::from(4_294_967_296_u64)
        );
        assert_eq!(JOULE_HASH_FACTOR * dec!(1e20), dec!(3.6e9) * dec!(1e12));
    }

    #[test]
    fn zero_energy_is_zero_at_twelve_places() {
        let v = bitcoin_for_energy(Decimal::ZERO, &s19(), dec!(1), dec!(6.25)).unwrap();
        assert_eq!(v.to_string(), "0.000000000000");
        // A negative zero (from |-0|) is still zero, not an error.
        let neg_zero = Decimal::new(-0, 3);
        assert!(bitcoin_for_energy(neg_zero, &s19(), dec!(1), dec!(6.25)).is_ok());
    }

    #[test]
    fn invalid_inputs_are_errors() {
        let d = dec!(6.25);
        assert_eq!(
            bitcoin_for_energy(dec!(1), &s19(), dec!(0), d),
            Err(CalcError::NonPositiveDifficulty {
                difficulty: dec!(0)
            })
        );
        assert!(matches!(
            bitcoin_for_energy(dec!(-1), &s19(), dec!(1), d),
            Err(CalcError::NegativeEnergy { .. })
        ));
        let mut broken = s19();
        broken.power_w = Decimal::ZERO;
        assert!(matches!(
            bitcoin_for_energy(dec!(1), &broken, dec!(1), d),
            Err(CalcError::InvalidModel { .. })
        ));
    }

    #[test]
    fn overflow_is_an_error_not_a_panic() {
        let huge = MinerModel::new("HUGE", Decimal::MAX, dec!(1)).unwrap();
        let err = bitcoin_for_energy(Decimal::MAX, &huge, dec!(1), dec!(6.25)).unwrap_err();
        assert!(matches!(err, CalcError::Overflow { .. }), "{err:?}");
        let err = bitcoin_for_energy(dec!(1), &s19(), Decimal::MAX, dec!(6.25));
        // A vast difficulty is no overflow: the divisor's scale absorbs it, the answer is ~0.
        assert_eq!(err.unwrap(), Decimal::ZERO);
    }
}
