//! Embedding the pipeline in another service, as its Rust code would: build the standard
//! pipeline from a database URL and an API URL, run one date, read the report, verify the
//! stored day. It names dates with `reingest::SettlementDate` (no dependency on
//! `settlement-model`) and passes `None` where it wants no progress callbacks.
//!
//! The bundled simulator (`elexon-sim`) stands in for the Elexon API and the difficulty
//! feed, and the database is a fresh SQLite file in a temporary folder, so this runs offline:
//!
//! ```sh
//! cargo run --example embed -p reingest-cli [DATE]     # DATE defaults to 2024-03-21
//! ```
//!
//! A real service passes its own `postgres://…` or `sqlite://…` URL and
//! `https://data.elexon.co.uk/bmrs/api/v1`, and leaves the difficulty feed at its default.

use std::error::Error;

use elexon_sim::{SimConfig, Simulator};
use reingest::{Pipeline, RunOptions, SettlementDate, VerifyOptions};

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let date: SettlementDate = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "2024-03-21".to_owned())
        .parse()?;

    // Stand-ins for the service's API and database.
    let sim = Simulator::start(SimConfig::default()).await?;
    let dir = tempfile::tempdir()?;
    let database_url = format!("sqlite://{}", dir.path().join("curtailment.db").display());

    // The one entry point: connects and migrates on tokio's blocking pool, with the
    // difficulty feed and the source archive on.
    let pipeline = Pipeline::builder(&database_url, sim.base_url())
        .difficulty_url(sim.difficulty_url())
        .application_name("embed-example")
        .build()
        .await?;

    let mut options = RunOptions::new(date);
    options.reason = Some("examples/embed.rs".to_owned());
    let report = pipeline.run(&options, None).await?;

    println!("date        {}", report.date);
    println!(
        "periods     {}/{} fetched",
        report.periods_fetched, report.periods_expected
    );
    println!("records     {}", report.records);
    // Rounded for people; the report's fields are exact.
    println!(
        "energy      {}",
        reingest::output::human::mwh(report.energy_mwh)
    );
    println!(
        "payment     {}",
        reingest::output::human::gbp(report.payment_gbp)
    );
    for (model, btc) in &report.bitcoin {
        println!(
            "bitcoin     {model}: {}",
            reingest::output::human::btc(*btc)
        );
    }
    println!(
        "difficulty  {} ({:?})",
        report.inputs.difficulty, report.inputs.origin
    );
    println!("run id      {}", report.run_id);
    println!(
        "verified    {} ({} checks), committed: {}",
        report.verification.ok,
        report.verification.checks.len(),
        report.committed
    );

    // Later, the stored day checked again (against the API too: `.against_api(true)`).
    let check = pipeline
        .verify(date, VerifyOptions::default(), None)
        .await?;
    println!(
        "re-checked  {} ({} records stored)",
        check.verification.ok, check.records
    );

    sim.shutdown().await;
    if !report.verification.ok || !check.verification.ok {
        return Err(format!("{date} did not verify").into());
    }
    Ok(())
}
