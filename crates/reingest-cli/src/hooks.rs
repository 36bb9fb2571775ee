//! The pipeline's [`SwapHooks`]: summarize and recalc inside the store's transaction, then
//! verify what was written before it commits.

use rust_decimal::Decimal;
use settlement_model::{CurtailmentRecord, PeriodRange, SettlementDate};
use store::{DayState, DeriveContext, DerivedRows, SwapHooks};

use bitcoin_calc::MinerModel;

use crate::verify::{check_day, Expectations, VerificationReport, VerifyInputs};

/// Derives summaries and bitcoin rows with the pure crates, and verifies the state the
/// store reads back. Keeps the verification report and the state for the run report.
pub(crate) struct PipelineHooks {
    date: SettlementDate,
    miners: Vec<MinerModel>,
    model_names: Vec<String>,
    difficulty: Decimal,
    processed: Option<(Vec<CurtailmentRecord>, PeriodRange)>,
    expectations: Expectations,
    missing_allowed: bool,
    accept_any: bool,
    pub(crate) report: Option<VerificationReport>,
    pub(crate) state: Option<DayState>,
}

impl PipelineHooks {
    pub(crate) fn new(
        date: SettlementDate,
        miners: Vec<MinerModel>,
        difficulty: Decimal,
        processed: Option<(Vec<CurtailmentRecord>, PeriodRange)>,
        expectations: Expectations,
        missing_allowed: bool,
    ) -> Self {
        let model_names = miners.iter().map(|m| m.name.clone()).collect();
        Self {
            date,
            miners,
            model_names,
            difficulty,
            processed,
            expectations,
            missing_allowed,
            accept_any: false,
            report: None,
            state: None,
        }
    }

    /// Commit whatever the checks say (a restore puts back what was there, consistent or
    /// not); the report still tells.
    pub(crate) fn accept_any(mut self) -> Self {
        self.accept_any = true;
        self
    }
}

impl SwapHooks for PipelineHooks {
    fn derive(&mut self, ctx: &DeriveContext) -> Result<DerivedRows, String> {
        let (daily, monthly, yearly) = summaries::rollup(
            self.date,
            &ctx.day_records,
            &ctx.month_other_dailies,
            &ctx.year_other_monthlies,
        )
        .map_err(|e| e.to_string())?;
        let bitcoin_rows =
            bitcoin_calc::bitcoin_rows(&ctx.day_records, &self.miners, self.difficulty)
                .map_err(|e| e.to_string())?;
        let bitcoin_summaries = summaries::bitcoin_rollup(
            self.date,
            &bitcoin_rows,
            &self.model_names,
            &ctx.month_other_bitcoin_dailies,
            &ctx.year_other_bitcoin_monthlies,
        )
        .map_err(|e| e.to_string())?;
        Ok(DerivedRows {
            daily,
            monthly,
            yearly,
            bitcoin_rows,
            bitcoin_summaries,
        })
    }

    fn verify(&mut self, state: &DayState) -> bool {
        let report = check_day(
            state,
            &VerifyInputs {
                date: self.date,
                processed: self
                    .processed
                    .as_ref()
                    .map(|(r, range)| (r.as_slice(), *range)),
                models: &self.model_names,
                expectations: &self.expectations,
                missing_allowed: self.missing_allowed,
            },
        );
        let ok = report.ok || self.accept_any;
        self.report = Some(report);
        self.state = Some(state.clone());
        ok
    }
}
