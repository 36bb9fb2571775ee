//! `cargo xtask verify-date DATE [--against-api] [--json]`: `reingest verify` for cron jobs,
//! configured by the same environment variables, with the same output and exit codes.

use reingest::app::AppSettings;
use reingest::output::render;
use reingest::{NoProgress, PipelineError, EXIT_ERROR};
use settlement_model::SettlementDate;

/// Verifies `date`; returns the exit code (0 verified, 1 mismatch, 2 error).
pub async fn run(date: &str, against_api: bool, json: bool) -> i32 {
    match verify(date, against_api, json).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            EXIT_ERROR
        }
    }
}

async fn verify(date: &str, against_api: bool, json: bool) -> Result<i32, PipelineError> {
    let date = SettlementDate::parse(date)?;
    let pipeline = AppSettings::from_env()?.build().await?;
    let report = pipeline.verify(date, against_api, &NoProgress).await?;
    match render::output(json, &report, || render::verify_text(&report)) {
        Ok(text) => print!("{text}"),
        Err(e) => {
            eprintln!("error: cannot render JSON: {e}");
            return Ok(EXIT_ERROR);
        }
    }
    Ok(report.exit_code())
}
