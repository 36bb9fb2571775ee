//! The measured half of the end-to-end benchmarks, run as a child process of
//! `cargo xtask bench day|year|baseline|all` (hidden subcommand `bench worker`).
//!
//! The parent runs the simulator and owns the databases; this process only runs the
//! pipeline (or the baseline loop) against the simulator's URL and prints one JSON line
//! with its timings and its own peak resident memory (`VmHWM` of `/proc/self/status`), so
//! the memory figure is the pipeline's alone, not the simulator's.
//!
//! Timings are floats here, and only here: they are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use reingest::app::{AppSettings, StandardPipeline};
use reingest::ops::fetch::fetch_range;
use reingest::ops::range::RangeOptions;
use reingest::{NoProgress, RunOptions};
use settlement_model::{PeriodRange, SettlementDate};
use store::SourceArchive;

use crate::bench_baseline;

/// What the worker measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Mode {
    /// One date: first ingest and re-ingest on fresh databases, and a phase breakdown.
    Day,
    /// `run_range` over `--from..=--to` with `--jobs`.
    Year,
    /// The old scripts' loop over `--from..=--to`.
    Baseline,
}

/// Options of the hidden `bench worker` subcommand (set by the parent, not by hand).
#[derive(Debug, clap::Args)]
pub struct Args {
    /// What to measure.
    #[arg(long, value_enum)]
    mode: Mode,
    /// The (fresh, empty) databases: `day` uses one per repetition and the last for the
    /// phase breakdown; the other modes use the first.
    #[arg(long, required = true)]
    database_url: Vec<String>,
    /// The simulator's Elexon base URL.
    #[arg(long)]
    elexon_url: String,
    /// The simulator's difficulty URL.
    #[arg(long)]
    difficulty_url: String,
    /// Requests per minute of the client's limiter.
    #[arg(long)]
    rate_limit: u32,
    /// First date.
    #[arg(long)]
    from: String,
    /// Last date (inclusive).
    #[arg(long)]
    to: String,
    /// Dates in flight (`year`).
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// Keep the source archive in this folder instead of beside the SQLite file.
    #[arg(long)]
    archive_dir: Option<std::path::PathBuf>,
    /// Pause after every period, ms (`baseline`).
    #[arg(long, default_value_t = 500)]
    period_pause_ms: u64,
    /// Extra pause after every batch of four periods, ms (`baseline`).
    #[arg(long, default_value_t = 1000)]
    batch_pause_ms: u64,
}

/// Runs the worker on its own runtime and prints one JSON line.
pub fn run(args: &Args) -> Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let doc = rt.block_on(measure(args))?;
    let mut doc = doc;
    if let Some(obj) = doc.as_object_mut() {
        obj.insert("vm_hwm_kb".into(), peak_rss_kb().into());
        obj.insert("cpu_s".into(), cpu_seconds().into());
    }
    println!("{doc}");
    Ok(ExitCode::SUCCESS)
}

async fn measure(args: &Args) -> Result<serde_json::Value> {
    let from = SettlementDate::parse(&args.from)?;
    let to = SettlementDate::parse(&args.to)?;
    let first_url = args.database_url.first().cloned().unwrap_or_default();
    let mut settings = AppSettings::new(first_url.clone(), args.elexon_url.clone());
    settings.difficulty_url = args.difficulty_url.clone();
    settings.rate_limit = args.rate_limit;
    settings.timeout = Duration::from_secs(30);
    settings.archive_dir.clone_from(&args.archive_dir);
    match args.mode {
        Mode::Day => day(&settings, &args.database_url, from).await,
        Mode::Year => year(&settings, from, to, args.jobs).await,
        Mode::Baseline => {
            let pauses = bench_baseline::Pauses {
                per_period: Duration::from_millis(args.period_pause_ms),
                per_batch_of_four: Duration::from_millis(args.batch_pause_ms),
            };
            let started = Instant::now();
            let pipeline = settings.build().await.context("building the pipeline")?;
            let dates: Vec<SettlementDate> = from.through(to).collect();
            let out = bench_baseline::run(&pipeline, &first_url, &dates, pauses).await?;
            Ok(serde_json::json!({
                "wall_s": started.elapsed().as_secs_f64(),
                "loop_s": out.elapsed.as_secs_f64(),
                "pause_s": out.paused.as_secs_f64(),
                "fetch_s": out.fetching.as_secs_f64(),
                "insert_s": out.inserting.as_secs_f64(),
                "dates": dates.len(),
                "periods": out.periods,
                "records": out.records,
                "requests": out.requests,
                "inserts": out.inserts,
            }))
        }
    }
}

/// Per database but the last: build (migrate), fill the registry and the difficulty table
/// (the set-up, timed apart), then time the first ingest of `date` and a re-ingest of it
/// (same data: the archive already holds the bodies, the swap backs up the old rows).
/// On the last database: the phases apart (fetch, process, archive, then a full run).
async fn day(
    settings: &AppSettings,
    urls: &[String],
    date: SettlementDate,
) -> Result<serde_json::Value> {
    let (breakdown_url, reps) = urls
        .split_last()
        .context("day needs at least two databases")?;
    let (mut setup, mut first, mut again) = (Vec::new(), Vec::new(), Vec::new());
    let mut records = 0;
    for url in reps {
        let t = Instant::now();
        let pipeline = prepared(settings, url, date).await?;
        setup.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        records = run_day(&pipeline, date).await?.0;
        first.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        run_day(&pipeline, date).await?;
        again.push(t.elapsed().as_secs_f64());
    }

    let pipeline = prepared(settings, breakdown_url, date).await?;
    let t = Instant::now();
    let fetched = fetch_range(
        pipeline.source(),
        date,
        PeriodRange::full(date),
        false,
        &|| {},
    )
    .await?;
    let fetch_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let registry = pipeline.ensure_registry().await?;
    let processed = reingest::ops::fetch::process_fetched(date, &fetched, &registry)?;
    let process_s = t.elapsed().as_secs_f64();
    let bodies: Vec<(&'static str, bytes::Bytes)> = fetched
        .iter()
        .filter_map(|f| {
            f.response
                .as_ref()
                .map(|r| (r.format.as_str(), r.body.clone()))
        })
        .collect();
    let store = std::sync::Arc::clone(pipeline.store());
    let t = Instant::now();
    tokio::task::spawn_blocking(move || -> Result<()> {
        for (format, body) in bodies {
            store.put_source(format, &body)?;
        }
        Ok(())
    })
    .await??;
    let archive_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    run_day(&pipeline, date).await?;
    let run_archived_s = t.elapsed().as_secs_f64();
    Ok(serde_json::json!({
        "setup_s": setup,
        "first_s": first,
        "again_s": again,
        "records": records,
        "processed_records": processed.records.len(),
        "fetch_s": fetch_s,
        "process_s": process_s,
        "archive_s": archive_s,
        "archive_bodies": fetched.len(),
        "run_archived_s": run_archived_s,
    }))
}

/// The pipeline on `url`, migrated, with the registry and `date`'s difficulty in the store.
async fn prepared(
    settings: &AppSettings,
    url: &str,
    date: SettlementDate,
) -> Result<StandardPipeline> {
    let mut s = settings.clone();
    s.database_url = url.to_owned();
    let pipeline = s.build().await.context("building the pipeline")?;
    pipeline.ensure_registry().await?;
    pipeline.bitcoin_inputs(date).await?;
    Ok(pipeline)
}

async fn run_day(pipeline: &StandardPipeline, date: SettlementDate) -> Result<(u64, usize)> {
    let mut opts = RunOptions::new(date);
    opts.reason = Some("cargo xtask bench day".into());
    let report = pipeline.run(&opts, &NoProgress).await?;
    if !(report.committed && report.verification.ok) {
        bail!(
            "{date} did not commit verified: {:?}",
            report.verification.failed()
        );
    }
    Ok((report.records, report.periods_fetched))
}

async fn year(
    settings: &AppSettings,
    from: SettlementDate,
    to: SettlementDate,
    jobs: usize,
) -> Result<serde_json::Value> {
    let started = Instant::now();
    let pipeline = settings.build().await.context("building the pipeline")?;
    let opts = RangeOptions::new(from, to, jobs, Some("cargo xtask bench year".into()))?;
    let report = pipeline.range(&opts, &NoProgress).await?;
    let wall_s = started.elapsed().as_secs_f64();
    let failed: Vec<String> = report
        .dates
        .iter()
        .filter(|d| d.status != reingest::ops::range::DateStatus::Ok)
        .map(|d| {
            format!(
                "{} {}: {}",
                d.date,
                d.status.as_str(),
                d.detail.clone().unwrap_or_default()
            )
        })
        .collect();
    if let Some(first) = failed.first() {
        bail!(
            "{} of {} dates failed; first: {first}",
            failed.len(),
            report.dates.len()
        );
    }
    let mut durations: Vec<u64> = report.dates.iter().map(|d| d.duration_ms).collect();
    durations.sort_unstable();
    Ok(serde_json::json!({
        "wall_s": wall_s,
        "range_s": report.duration_ms as f64 / 1e3,
        "dates": report.dates.len(),
        "periods": report.dates.iter().map(|d| d.periods).sum::<usize>(),
        "records": report.dates.iter().map(|d| d.records).sum::<u64>(),
        "date_median_ms": durations.get(durations.len() / 2).copied().unwrap_or(0),
        "date_max_ms": durations.last().copied().unwrap_or(0),
    }))
}

/// This process's peak resident set size, kB (`VmHWM`), or 0 where `/proc` is missing.
fn peak_rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU time (user + system) this process has used, seconds (`/proc/self/stat`; Linux's
/// `USER_HZ` is 100), or 0 where `/proc` is missing.
pub fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            // Fields after the command name (which is in parentheses and may hold spaces).
            let rest = s.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some((utime + stime) as f64 / 100.0)
        })
        .unwrap_or(0.0)
}
