//! `cargo xtask bench parse`: builds a large stack document in memory, then times our
//! `parse_stack_xml` against a bare `roxmltree::Document::parse` of the same bytes and prints
//! throughput and the ratio (target: ours within 2x of the bare parse).
//!
//! Timings are floats here, and only here: they are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::fmt::Write as _;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use elexon_client::parse_stack_xml;
use settlement_model::{SettlementDate, Side};

/// Options of `bench parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// Items in the generated stack document.
    #[arg(long, default_value_t = 20_000)]
    items: usize,
    /// Timed iterations of each parser (the median is reported).
    #[arg(long, default_value_t = 10)]
    iterations: usize,
    /// Exit with status 1 when our parser is slower than this multiple of the bare parse.
    #[arg(long)]
    max_ratio: Option<f64>,
    /// Run in this (unoptimised) build instead of re-running in release mode.
    #[arg(long)]
    no_release: bool,
}

/// The ratio the issue sets as the target.
const TARGET_RATIO: f64 = 2.0;

/// Runs the benchmark; re-runs itself with `--release` first when built without optimisations.
pub fn run(args: &Args) -> Result<ExitCode> {
    if cfg!(debug_assertions) && !args.no_release {
        return rerun_in_release();
    }
    if args.items == 0 || args.iterations == 0 {
        bail!("--items and --iterations must be at least 1");
    }
    let date: SettlementDate = "2024-10-27".parse().context("bench date")?;
    let (period, side) = (49, Side::Bid);
    let doc = stack_document(date, period, args.items);
    let bytes = doc.len() as f64;
    println!(
        "stack document: {} items, {:.1} MB{}",
        args.items,
        bytes / 1e6,
        if cfg!(debug_assertions) {
            " (unoptimised build)"
        } else {
            ""
        }
    );

    // Warm up, and check both parsers accept the document.
    let items = parse_stack_xml(doc.as_bytes(), date, period, side).context("our parser")?;
    if items.len() != args.items {
        bail!("parsed {} items, expected {}", items.len(), args.items);
    }
    roxmltree::Document::parse(&doc).context("roxmltree")?;

    let mut bare = Vec::with_capacity(args.iterations);
    let mut ours = Vec::with_capacity(args.iterations);
    for _ in 0..args.iterations {
        let start = Instant::now();
        let parsed = roxmltree::Document::parse(&doc).context("roxmltree")?;
        std::hint::black_box(parsed.root().first_child().is_some());
        drop(parsed);
        bare.push(start.elapsed());

        let start = Instant::now();
        let items = parse_stack_xml(doc.as_bytes(), date, period, side).context("our parser")?;
        std::hint::black_box(items.len());
        drop(items);
        ours.push(start.elapsed());
    }
    let bare = median(&mut bare).as_secs_f64();
    let ours = median(&mut ours).as_secs_f64();
    let ratio = ours / bare;
    println!(
        "roxmltree::Document::parse  median {:>8.2} ms  {:>7.1} MB/s",
        bare * 1e3,
        bytes / bare / 1e6
    );
    println!(
        "parse_stack_xml             median {:>8.2} ms  {:>7.1} MB/s  {:>10.0} items/s",
        ours * 1e3,
        bytes / ours / 1e6,
        args.items as f64 / ours
    );
    println!(
        "ratio: {ratio:.2}x the bare parse (target: within {TARGET_RATIO:.1}x) {}",
        if ratio <= TARGET_RATIO {
            "OK"
        } else {
            "OVER TARGET"
        }
    );
    match args.max_ratio {
        Some(max) if ratio > max => {
            eprintln!("ratio {ratio:.2} exceeds --max-ratio {max}");
            Ok(ExitCode::from(1))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// Benchmarks mean nothing unoptimised: run the same command again from a release build.
pub(crate) fn rerun_in_release() -> Result<ExitCode> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut forwarded: Vec<String> = std::env::args().skip(1).collect();
    forwarded.push("--no-release".to_owned());
    eprintln!("(re-running the benchmark in a release build)");
    let status = Command::new(cargo)
        .args(["run", "--quiet", "--release", "--package", "xtask", "--"])
        .args(&forwarded)
        .status()
        .context("running cargo")?;
    Ok(match status.code() {
        Some(0) => ExitCode::SUCCESS,
        Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
        None => ExitCode::from(2),
    })
}

fn median(samples: &mut [Duration]) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

/// A stack document in the API's XmlSerializer shape with `items` varied items.
fn stack_document(date: SettlementDate, period: u8, items: usize) -> String {
    let start = date
        .period(u32::from(period))
        .map(|p| p.start_utc().format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_default();
    let mut doc = String::with_capacity(items * 1_300 + 512);
    doc.push_str(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <ResponseWithMetadataOfSettlementStackResponse \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\">\n  \
         <Metadata><Datasets><string>ISPSTACK</string></Datasets></Metadata>\n  <Data>\n",
    );
    let nil = |name: &str| format!("      <{name} xsi:nil=\"true\" />\n");
    for i in 0..items {
        let wind = i % 3 != 0;
        let volume = format!("-{}.{:03}", i % 400, (i * 37) % 1000);
        let price = format!("{}{}.5", if i % 5 == 0 { "" } else { "-" }, i % 120);
        let _ = write!(
            doc,
            "    <SettlementStackResponse>\n      \
             <SettlementDate>{date}</SettlementDate>\n      \
             <SettlementPeriod>{period}</SettlementPeriod>\n      \
             <StartTime>{start}</StartTime>\n      \
             <CreatedDateTime>2024-10-28T09:03:18.74Z</CreatedDateTime>\n      \
             <SequenceNumber>{seq}</SequenceNumber>\n      \
             <Id>{id}</Id>\n      \
             <AcceptanceId>{acc}</AcceptanceId>\n      \
             <BidOfferPairId>-{pair}</BidOfferPairId>\n      \
             <CadlFlag>{cadl}</CadlFlag>\n      \
             <SoFlag>{so}</SoFlag>\n",
            seq = i + 1,
            id = if wind {
                format!("T_WIND{:04}-1", i % 900)
            } else {
                format!("E_CCGT{:03}-2", i % 90)
            },
            acc = 100_000 + i,
            pair = 1 + i % 3,
            cadl = i % 7 == 0,
            so = wind,
        );
        doc.push_str(&nil("StorProviderFlag"));
        let _ = write!(
            doc,
            "      <RepricedIndicator>false</RepricedIndicator>\n      \
             <ReserveScarcityPrice>0</ReserveScarcityPrice>\n      \
             <OriginalPrice>{price}</OriginalPrice>\n      \
             <Volume>{volume}</Volume>\n      \
             <DmatAdjustedVolume>{volume}</DmatAdjustedVolume>\n",
        );
        for name in [
            "ArbitrageAdjustedVolume",
            "NivAdjustedVolume",
            "ParAdjustedVolume",
        ] {
            doc.push_str(&nil(name));
        }
        let _ = write!(
            doc,
            "      <FinalPrice>{price}</FinalPrice>\n      \
             <TransmissionLossMultiplier>0.99{tlm:05}</TransmissionLossMultiplier>\n      \
             <TlmAdjustedVolume>-0.0041666666666666{tail}</TlmAdjustedVolume>\n",
            tlm = i % 100_000,
            tail = i % 10,
        );
        doc.push_str(&nil("TlmAdjustedCost"));
        doc.push_str("    </SettlementStackResponse>\n");
    }
    doc.push_str("  </Data>\n</ResponseWithMetadataOfSettlementStackResponse>\n");
    doc
}
