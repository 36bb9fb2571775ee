//! `elexon-sim`: runs the Elexon API simulator until Ctrl-C.
//!
//! ```text
//! elexon-sim --port 0 [--seed N] [--latency-ms N] [--bm-units FILE]
//! ```
//! (`--bm-units FILE` serves that file as `/reference/bmunits/all`, byte for byte, e.g. a list
//! with the real API's null and repeated ids, instead of the seed's units)
//! prints `listening on http://127.0.0.1:PORT/bmrs/api/v1` on stdout once it accepts
//! connections, then `difficulty feed on http://127.0.0.1:PORT/…` (the mempool.space-shaped
//! difficulty adjustments it serves: give it to `reingest` as `--difficulty-url` or
//! `REINGEST_DIFFICULTY_URL`, so nothing reaches mempool.space).

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use elexon_sim::{SimConfig, Simulator};

/// A deterministic simulator of the Elexon Insights API, for tests and demos.
#[derive(Debug, Parser)]
#[command(name = "elexon-sim", version)]
struct Args {
    /// The port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// The address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: std::net::IpAddr,
    /// The seed of the generated data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Milliseconds added to every request.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Serve this file as `/reference/bmunits/all` instead of the seed's units.
    #[arg(long, value_name = "FILE")]
    bm_units: Option<std::path::PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let bm_units = match &args.bm_units {
        Some(path) => match std::fs::read(path) {
            Ok(body) => Some(body),
            Err(e) => {
                eprintln!("elexon-sim: cannot read {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => None,
    };
    let config = SimConfig {
        seed: args.seed,
        latency: Duration::from_millis(args.latency_ms),
        bind: SocketAddr::new(args.host, args.port),
    };
    let sim = match Simulator::start(config).await {
        Ok(sim) => sim,
        Err(e) => {
            eprintln!("elexon-sim: {e}");
            return ExitCode::from(2);
        }
    };
    if let Some(body) = bm_units {
        sim.serve_bm_units(body);
    }
    let mut out = std::io::stdout();
    let _ = writeln!(out, "listening on {}", sim.base_url());
    let _ = writeln!(out, "difficulty feed on {}", sim.difficulty_url());
    let _ = out.flush();
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("elexon-sim: cannot wait for Ctrl-C: {e}");
    }
    sim.shutdown().await;
    ExitCode::SUCCESS
}
