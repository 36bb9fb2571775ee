//! The pipeline's [`SwapHooks`]: summarize and recalc inside the store's transaction, then
//! verify what was written before it commits.

use settlement_model::{BitcoinInputs, CurtailmentRecord, PeriodRange, SettlementDate};
use store::{DayState, DeriveContext, DerivedRows, HookError, SwapHooks};

use bitcoin_calc::MinerModel;

use crate::verify::{check_day, Expectations, VerificationReport, VerifyInputs};

/// Where the records a swap writes come from, and so what verification expects of them.
pub(crate) enum RecordsFrom {
    /// Fetched and processed now: the fetch log must cover the range.
    Fetched {
        /// The processed records.
        records: Vec<CurtailmentRecord>,
        /// The periods they replace.
        range: PeriodRange,
        /// Whether periods not published at the source (404, or both stacks empty) are acceptable.
        missing_allowed: bool,
    },
    /// Put back from a run's backup: nothing was fetched.
    Restored {
        /// The backed-up records.
        records: Vec<CurtailmentRecord>,
        /// The periods the restored run replaced.
        range: PeriodRange,
    },
}

/// Derives summaries and bitcoin rows with the pure crates, and verifies the state the
/// store reads back. Keeps the verification report and the state for the run report.
pub(crate) struct PipelineHooks {
    date: SettlementDate,
    miners: Vec<MinerModel>,
    model_names: Vec<String>,
    inputs: BitcoinInputs,
    from: RecordsFrom,
    expectations: Expectations,
    pub(crate) report: Option<VerificationReport>,
    pub(crate) state: Option<DayState>,
}

impl PipelineHooks {
    pub(crate) fn new(
        date: SettlementDate,
        miners: Vec<MinerModel>,
        inputs: BitcoinInputs,
        from: RecordsFrom,
        expectations: Expectations,
    ) -> Self {
        let model_names = miners.iter().map(|m| m.name.clone()).collect();
        Self {
            date,
            miners,
            model_names,
            inputs,
            from,
            expectations,
            report: None,
            state: None,
        }
    }
}

impl SwapHooks for PipelineHooks {
    fn derive(&mut self, ctx: &DeriveContext) -> Result<DerivedRows, HookError> {
        let (daily, monthly, yearly) = summaries::rollup(
            self.date,
            &ctx.day_records,
            &ctx.month_other_dailies,
            &ctx.year_other_monthlies,
        )?;
        let bitcoin_rows = bitcoin_calc::bitcoin_rows(
            &ctx.day_records,
            &self.miners,
            self.inputs.difficulty,
            self.inputs.subsidy,
        )?;
        let bitcoin_summaries = summaries::bitcoin_rollup(
            self.date,
            &bitcoin_rows,
            &self.model_names,
            &ctx.month_other_bitcoin_dailies,
            &ctx.year_other_bitcoin_monthlies,
        )?;
        Ok(DerivedRows {
            daily,
            monthly,
            yearly,
            bitcoin_rows,
            bitcoin_summaries,
        })
    }

    fn verify(&mut self, state: &DayState) -> bool {
        let (records, range, fetched, missing_allowed) = match &self.from {
            RecordsFrom::Fetched {
                records,
                range,
                missing_allowed,
            } => (records, *range, true, *missing_allowed),
            RecordsFrom::Restored { records, range } => (records, *range, false, false),
        };
        let report = check_day(
            state,
            &VerifyInputs {
                date: self.date,
                processed: Some((records.as_slice(), range)),
                miners: &self.miners,
                bitcoin: &self.inputs,
                expectations: &self.expectations,
                check_fetch_log: fetched,
                missing_allowed,
            },
        );
        let ok = report.ok;
        self.report = Some(report);
        self.state = Some(state.clone());
        ok
    }
}
