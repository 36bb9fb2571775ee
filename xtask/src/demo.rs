//! `cargo xtask demo`: the whole job offline, against the bundled simulator, into SQLite.

use anyhow::{Context, Result};
use elexon_sim::{SimConfig, Simulator};
use reingest::app::AppSettings;
use reingest::{NoProgress, RunOptions};
use settlement_model::SettlementDate;

/// The demo's dates: an ordinary day, the spring (46-period) and autumn (50-period) clock
/// changes.
const DATES: [&str; 3] = ["2024-03-21", "2024-03-31", "2024-10-27"];

/// Runs the demo into `db_path` (replaced if it exists) and prints a table.
pub async fn run(db_path: &str) -> Result<()> {
    let sim = Simulator::start(SimConfig::default())
        .await
        .context("starting the simulator")?;
    println!("simulator listening at {}", sim.base_url());
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let _ = std::fs::remove_file(format!("{db_path}{suffix}"));
    }
    let _ = std::fs::remove_dir_all(format!("{db_path}.archive"));
    let mut settings = AppSettings::new(format!("sqlite://{db_path}"), sim.base_url());
    settings.difficulty_url = sim.difficulty_url();
    let pipeline = settings
        .build()
        .await
        .context("opening the demo database")?;
    println!(
        "fresh database {db_path}: the first run fills the BM unit registry and the difficulty table from the simulator\n"
    );
    println!(
        "{:<10}  {:>7}  {:>7}  {:>14}  {:>14}  {:>14}  verified",
        "date", "periods", "records", "energy MWh", "payment £", "BTC S19J_PRO"
    );
    let mut all_ok = true;
    for d in DATES {
        let date = SettlementDate::parse(d)?;
        let mut opts = RunOptions::new(date);
        opts.reason = Some("cargo xtask demo".into());
        let run = pipeline.run(&opts, &NoProgress).await?;
        let verify = pipeline.verify(date, true, &NoProgress).await?;
        all_ok &= run.verification.ok && verify.verification.ok;
        println!(
            "{:<10}  {:>7}  {:>7}  {:>14}  {:>14}  {:>14}  {}",
            d,
            run.periods_fetched,
            run.records,
            reingest::output::human::grouped(run.energy_mwh, 2),
            reingest::output::human::grouped(run.payment_gbp, 2),
            run.bitcoin
                .get("S19J_PRO")
                .map(|b| reingest::output::human::grouped(*b, 8))
                .unwrap_or_default(),
            if verify.verification.ok {
                "yes (and matches the API)"
            } else {
                "NO"
            }
        );
    }
    let stats = sim.stats();
    println!(
        "\n{} API requests; try: cargo run -p reingest-cli -- --database-url sqlite://{db_path} runs",
        stats.total_requests
    );
    sim.shutdown().await;
    anyhow::ensure!(all_ok, "a demo date did not verify");
    Ok(())
}
