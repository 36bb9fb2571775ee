//! `cargo xtask`: project tasks that are code rather than shell (matklad's cargo-xtask
//! pattern). A small clap dispatcher; each task lives in its own module.
//!
//! - `cargo xtask demo [--db PATH]`: the whole job offline against the bundled simulator,
//!   into SQLite (`./demo.db`), with a table of results.
//! - `cargo xtask verify-date DATE [--against-api] [--json]`: `reingest verify` for cron
//!   jobs (same environment variables, output and exit codes).
//! - `cargo xtask bench parse [--items N] [--iterations N] [--max-ratio R]`: our XML stack
//!   parser against a bare `roxmltree::Document::parse` of the same bytes.
//! - `cargo xtask bench day|year|baseline|store|range|all`: the end-to-end benchmarks against
//!   the in-process simulator (see BENCHMARKS.md), each figure with its ratio to the target.

mod bench_baseline;
mod bench_e2e;
mod bench_parse;
mod bench_range;
mod bench_status;
mod bench_store;
mod bench_suite;
mod bench_worker;
mod demo;
mod verify_date;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Project tasks for reingest.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Offline demo: simulator → SQLite, three dates (one a 50-period clock change), verified.
    Demo {
        /// The SQLite file to (re)create.
        #[arg(long, default_value = "demo.db")]
        db: String,
    },
    /// Verify a stored date like `reingest verify` (exit 0 verified, 1 mismatch, 2 error).
    VerifyDate {
        /// The date, YYYY-MM-DD.
        date: String,
        /// Also fetch the day from the API and report drift.
        #[arg(long)]
        against_api: bool,
        /// One JSON document on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Benchmarks that print ratios.
    Bench {
        #[command(subcommand)]
        bench: Bench,
    },
}

#[derive(Debug, Subcommand)]
enum Bench {
    /// Throughput of `parse_stack_xml` and its ratio to a bare roxmltree parse.
    Parse(bench_parse::Args),
    /// One day end to end against the simulator, SQLite and PostgreSQL (target < 0.5 s).
    Day(bench_e2e::DayArgs),
    /// The stormy day on PostgreSQL against the simulator's serving time, --from-archive on
    /// PostgreSQL against SQLite, and the statements of one run (targets 1.4x, 1.5x, 60).
    Store(bench_suite::StoreArgs),
    /// 365 days with --jobs 8, 0 and 20 ms per request (targets < 60 s, < 200 MB), and the
    /// rate limiter at the production limit.
    Year(bench_e2e::YearArgs),
    /// The old scripts' way on a sample of days, extrapolated to the year, and the ratio.
    Baseline(bench_e2e::BaselineArgs),
    /// `reingest status` over a year on PostgreSQL (target < 2 s), and its statements
    /// against a month's (equal).
    Status(bench_suite::StatusArgs),
    /// A year recalculated from the archive: `range --from-archive` against a loop of
    /// `run --from-archive` processes, SQLite and PostgreSQL (targets 1/3, 30 s, 100 MB).
    Range(bench_suite::RangeArgs),
    /// Day, store, year, baseline and range, with one summary table of ratios.
    All(Box<bench_suite::AllArgs>),
    /// The measured child process of the end-to-end benches (internal).
    #[command(hide = true)]
    Worker(bench_worker::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench { bench } => match bench {
            Bench::Parse(args) => bench_parse::run(&args),
            Bench::Day(args) => bench_e2e::day(&args),
            Bench::Store(args) => bench_suite::store(&args),
            Bench::Year(args) => bench_e2e::year(&args),
            Bench::Baseline(args) => bench_e2e::baseline(&args),
            Bench::Status(args) => bench_suite::status(&args),
            Bench::Range(args) => bench_suite::range(&args),
            Bench::All(args) => bench_suite::all(&args),
            Bench::Worker(args) => bench_worker::run(&args),
        },
        Command::Demo { db } => runtime()
            .and_then(|rt| rt.block_on(demo::run(&db)))
            .map(|()| ExitCode::SUCCESS),
        Command::VerifyDate {
            date,
            against_api,
            json,
        } => runtime().map(|rt| {
            let code = rt.block_on(verify_date::run(&date, against_api, json));
            ExitCode::from(u8::try_from(code).unwrap_or(2))
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}
