//! `cargo xtask`: project tasks that are code rather than shell (matklad's cargo-xtask
//! pattern). A small clap dispatcher; each task lives in its own module.
//!
//! - `cargo xtask bench parse [--items N] [--iterations N] [--max-ratio R]`: our XML stack
//!   parser against a bare `roxmltree::Document::parse` of the same bytes.

mod bench_parse;

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
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Bench {
            bench: Bench::Parse(args),
        } => bench_parse::run(&args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
