//! Progress callbacks: what a long operation reports as it goes (a terminal's progress bar,
//! a service's metrics, or nothing).

use settlement_model::SettlementDate;

/// Progress callbacks (a terminal progress bar, or nothing).
pub trait Progress: Send + Sync {
    /// A date's fetch begins with `requests` requests.
    fn fetch_started(&self, _date: SettlementDate, _requests: usize) {}
    /// One request finished.
    fn request_done(&self) {}
    /// One date of a range (of `total`) finished with `records` records (`ok` false when
    /// it failed or did not verify).
    fn date_done(&self, _total: usize, _records: u64, _ok: bool) {}
}

/// Reports no progress.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;
impl Progress for NoProgress {}

/// What a call's `progress` argument may be: `None` (no progress reported), a reference to
/// any [`Progress`] (`&my_bar`, and `&NoProgress` as before), or a `&dyn Progress`.
///
/// ```
/// # async fn demo(pipeline: &reingest::StandardPipeline) -> Result<(), reingest::PipelineError> {
/// use reingest::{RunOptions, SettlementDate};
/// let date: SettlementDate = "2024-03-21".parse()?;
/// let report = pipeline.run(&RunOptions::new(date), None).await?;
/// # Ok(()) }
/// ```
pub trait IntoProgress<'a> {
    /// The callbacks to report to.
    fn into_progress(self) -> &'a dyn Progress;
}

impl<'a, P: Progress> IntoProgress<'a> for &'a P {
    fn into_progress(self) -> &'a dyn Progress {
        self
    }
}

impl<'a> IntoProgress<'a> for &'a dyn Progress {
    fn into_progress(self) -> &'a dyn Progress {
        self
    }
}

impl<'a> IntoProgress<'a> for Option<&'a dyn Progress> {
    fn into_progress(self) -> &'a dyn Progress {
        self.unwrap_or(&NoProgress)
    }
}
