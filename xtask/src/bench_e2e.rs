//! `cargo xtask bench day|store|year|baseline|all`: the end-to-end benchmarks (`BENCHMARKS.md`;
//! `store` is in [`crate::bench_store`]).
//!
//! This process runs the in-process simulator and creates a fresh database per case
//! (SQLite in a temporary folder; PostgreSQL as `reingest_bench_*` on the server of
//! `--pg-url` / `REINGEST_TEST_DATABASE_URL`, dropped afterwards). The measured work runs
//! in a child process (`bench worker`, see [`crate::bench_worker`]) that reports its
//! timings and its own peak RSS; the simulator's statistics (requests, peak per second and
//! per minute) are read here after each case. Every figure is measured in this run and
//! printed with its ratio to the target.
//!
//! Timings are floats here, and only here: they are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::process::{ExitCode, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use diesel::{Connection, PgConnection};
use elexon_sim::{SimConfig, SimHandle, SimStats, Simulator};
use settlement_model::SettlementDate;

/// The production rate limit of the Elexon API (requests per minute).
const PRODUCTION_LIMIT: u32 = 4_500;
/// Target wall time of one day, seconds.
const DAY_TARGET_S: f64 = 0.5;
/// Target wall time of the year, seconds.
const YEAR_TARGET_S: f64 = 60.0;
/// Target peak resident memory of the year, MB.
const YEAR_TARGET_MB: f64 = 200.0;

/// Where PostgreSQL is, and whether to re-run in release mode.
#[derive(Debug, Clone, clap::Args)]
pub struct Common {
    /// A PostgreSQL server URL on which to create fresh databases (e.g.
    /// postgres://postgres@127.0.0.1:5432/test). Unset: PostgreSQL cases are skipped.
    #[arg(long, env = "REINGEST_TEST_DATABASE_URL")]
    pg_url: Option<String>,
    /// Skip PostgreSQL even when it is configured.
    #[arg(long)]
    no_pg: bool,
    /// Run in this build instead of re-running in release mode.
    #[arg(long)]
    no_release: bool,
}

/// Options of the one-day benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct DayOpts {
    /// The date.
    #[arg(long, default_value = "2024-03-21")]
    date: String,
    /// Timed runs after the cold one (the median is reported).
    #[arg(long, default_value_t = 5)]
    repetitions: usize,
}

/// Options of the year benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct YearOpts {
    /// First date of the range.
    #[arg(long, default_value = "2024-01-01")]
    pub(crate) from: String,
    /// Last date of the range (inclusive).
    #[arg(long, default_value = "2024-12-30")]
    pub(crate) to: String,
    /// Dates in flight.
    #[arg(long, default_value_t = 8)]
    jobs: usize,
    /// The client's rate limit for the year runs, requests per minute (the simulator is
    /// local; at the production 4,500/min the year takes at least requests / 4,500 minutes).
    #[arg(long, default_value_t = 60_000)]
    rate_limit: u32,
    /// Injected per-request latencies, ms (one year run per value and backend).
    #[arg(long, value_delimiter = ',', default_value = "0,20")]
    latency_ms: Vec<u64>,
    /// Days (from --from) run at the production limit of 4,500/min on SQLite, to show the
    /// limiter holds it over full 60-second windows (0: skip).
    #[arg(long, default_value_t = 50)]
    limit_check_days: u32,
    /// Experiment: keep the year runs' source archive in a fresh folder under this one
    /// (e.g. /dev/shm) instead of beside the SQLite file.
    #[arg(long)]
    archive_under: Option<std::path::PathBuf>,
    /// Also run the year once on SQLite, 0 ms, with this client limit (requests per minute),
    /// to show what the pipeline does when the limiter is out of the way (0: skip).
    #[arg(long, default_value_t = 600_000)]
    unthrottled_limit: u32,
}

/// Options of the baseline.
#[derive(Debug, Clone, clap::Args)]
pub struct BaselineOpts {
    /// Days (from --baseline-from) the baseline really runs; the year is extrapolated.
    #[arg(long, default_value_t = 2)]
    baseline_days: u32,
    /// First day of the baseline sample.
    #[arg(long, default_value = "2024-01-01")]
    baseline_from: String,
    /// Injected per-request latencies of the baseline runs, ms.
    #[arg(long, value_delimiter = ',', default_value = "0,20")]
    baseline_latency_ms: Vec<u64>,
}

/// `bench day`.
#[derive(Debug, clap::Args)]
pub struct DayArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    day: DayOpts,
}

/// `bench year`.
#[derive(Debug, clap::Args)]
pub struct YearArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    year: YearOpts,
}

/// `bench baseline`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {
    #[command(flatten)]
    common: Common,
    #[command(flatten)]
    baseline: BaselineOpts,
    /// The range the baseline is extrapolated to.
    #[arg(long, default_value = "2024-01-01")]
    from: String,
    /// Last date of the extrapolated range.
    #[arg(long, default_value = "2024-12-30")]
    to: String,
}

/// A database backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// One row of the summary table.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) backend: &'static str,
    pub(crate) measured: String,
    pub(crate) target: String,
    /// measured / target (lower is better), or a speed-up.
    pub(crate) ratio: String,
    pub(crate) ok: Option<bool>,
}

/// A finished year run, for the baseline ratio.
#[derive(Debug, Clone)]
struct YearResult {
    backend: Backend,
    latency_ms: u64,
    wall_s: f64,
}

/// Everything the benches collect.
pub(crate) struct Bench {
    pub(crate) sim: SimHandle,
    pub(crate) pg_url: Option<String>,
    pub(crate) rows: Vec<Row>,
    years: Vec<YearResult>,
    started: Instant,
    /// `taskset -c` CPU list the next workers are pinned to (`None`: every core).
    cpus: Option<String>,
}

/// Entry point of `bench day`.
pub fn day(args: &DayArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| b.day(&args.day).await)
}

/// Entry point of `bench year`.
pub fn year(args: &YearArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| b.year(&args.year).await)
}

/// Entry point of `bench baseline`.
pub fn baseline(args: &BaselineArgs) -> Result<ExitCode> {
    drive(&args.common, async |b: &mut Bench| {
        b.baseline(&args.baseline, &args.from, &args.to).await
    })
}

pub(crate) fn drive(
    common: &Common,
    body: impl AsyncFnOnce(&mut Bench) -> Result<()>,
) -> Result<ExitCode> {
    if cfg!(debug_assertions) && !common.no_release {
        return crate::bench_parse::rerun_in_release();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sim = Simulator::start(SimConfig::default())
            .await
            .context("starting the simulator")?;
        machine_banner();
        let pg_url = if common.no_pg {
            println!("PostgreSQL: skipped (--no-pg)");
            None
        } else if let Some(url) = &common.pg_url {
            PgConnection::establish(url).with_context(|| {
                format!(
                    "PostgreSQL at {url} (--pg-url / REINGEST_TEST_DATABASE_URL) is unreachable"
                )
            })?;
            println!(
                "PostgreSQL: fresh databases on {}",
                settlement_model::redact_url(url)
            );
            Some(url.clone())
        } else {
            println!(
                "PostgreSQL: skipped (REINGEST_TEST_DATABASE_URL unset; pass --pg-url postgres://…)"
            );
            None
        };
        let mut bench = Bench {
            sim: sim.clone(),
            pg_url,
            rows: Vec::new(),
            years: Vec::new(),
            cpus: None,
            started: Instant::now(),
        };
        let result = body(&mut bench).await;
        sim.shutdown().await;
        result?;
        bench.print_table();
        Ok(if bench.rows.iter().any(|r| r.ok == Some(false)) {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    })
}

fn machine_banner() {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("MemTotal:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or_else(|| "?".to_owned(), |kb| format!("{:.1} GB", kb as f64 / 1e6));
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default();
    println!(
        "machine: {cores} cores, {mem} RAM, {rustc}, release build; load average at start: {}",
        load_average()
    );
}

/// The 1, 5 and 15-minute load averages (other work on the machine skews the timings).
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}

/// A fresh, empty database; PostgreSQL ones are dropped on drop.
type BenchDb = temp_db::TempDb;

impl Bench {
    pub(crate) fn backends(&self) -> Vec<Backend> {
        let mut v = vec![Backend::Sqlite];
        if self.pg_url.is_some() {
            v.push(Backend::Postgres);
        }
        v
    }

    pub(crate) fn fresh_db(&self, backend: Backend) -> Result<BenchDb> {
        Ok(match backend {
            Backend::Sqlite => temp_db::TempDb::sqlite("bench.db")?,
            Backend::Postgres => {
                let admin = self
                    .pg_url
                    .as_deref()
                    .context("PostgreSQL is not configured")?;
                temp_db::TempDb::postgres(admin, "reingest_bench")?
            }
        })
    }

    /// Runs one worker against `dbs` fresh databases of `backend` with `latency` injected,
    /// alone; returns its JSON report (with the simulator's CPU time added) and the
    /// simulator's statistics of the case.
    async fn worker(
        &self,
        backend: Backend,
        dbs: usize,
        latency_ms: u64,
        args: &[String],
    ) -> Result<(serde_json::Value, SimStats)> {
        let dbs = (0..dbs.max(1))
            .map(|_| self.fresh_db(backend))
            .collect::<Result<Vec<_>>>()?;
        self.sim.set_latency(Duration::from_millis(latency_ms));
        self.sim.reset_stats();
        let cpu_before = crate::bench_worker::cpu_seconds();
        let result = spawn_worker(&self.sim, &dbs, args, self.cpus.as_deref()).await;
        let stats = self.sim.stats();
        let sim_cpu = crate::bench_worker::cpu_seconds() - cpu_before;
        self.sim.set_latency(Duration::ZERO);
        drop(dbs);
        let mut doc = result?;
        if let Some(obj) = doc.as_object_mut() {
            obj.insert("sim_cpu_s".into(), sim_cpu.into());
        }
        Ok((doc, stats))
    }

    pub(crate) async fn day(&mut self, opts: &DayOpts) -> Result<()> {
        let date = SettlementDate::parse(&opts.date)?;
        let reps = opts.repetitions.max(1);
        println!(
            "\n== one day end to end: {date} ({} periods, both stacks = {} requests); per repetition a \
             fresh database with the BM unit registry and difficulty already synced (set-up timed \
             apart), then the first ingest of the date and a re-ingest of it; median of {reps} \
             (target < {DAY_TARGET_S} s) ==",
            date.periods(),
            2 * usize::from(date.periods()),
        );
        for backend in self.backends() {
            for limit in [PRODUCTION_LIMIT, 60_000] {
                let args = [
                    "--mode".to_owned(),
                    "day".to_owned(),
                    "--rate-limit".to_owned(),
                    limit.to_string(),
                    "--from".to_owned(),
                    date.to_string(),
                    "--to".to_owned(),
                    date.to_string(),
                ];
                let (doc, _) = self.worker(backend, reps + 1, 0, &args).await?;
                let first = Samples::of(&doc, "first_s");
                let again = Samples::of(&doc, "again_s");
                let setup = Samples::of(&doc, "setup_s");
                // After the limiter's burst, the rest of a day's 96 requests are spaced
                // 60 s / (limit - burst - 1) apart (elexon-client's quota).
                let burst = elexon_client::rate_limit_burst(limit);
                let spaced = 96u32.saturating_sub(burst);
                let spacing =
                    f64::from(spaced) * 60.0 / f64::from(limit.saturating_sub(burst + 1).max(1));
                println!(
                    "{:<8} limit {:>6}/min: first ingest {} | re-ingest {} | set-up (migrate, \
                     registry, difficulty) {}; {} records; limiter spacing alone {spacing:.3} s",
                    backend.name(),
                    limit,
                    first.show(),
                    again.show(),
                    setup.show(),
                    doc["records"],
                );
                let (fetch, process, archive, full) = (
                    f(&doc, "fetch_s"),
                    f(&doc, "process_s"),
                    f(&doc, "archive_s"),
                    f(&doc, "run_archived_s"),
                );
                println!(
                    "{:<8} limit {:>6}/min: phases of one first ingest: fetch {:.3} s, process {:.3} s, \
                     archive {} bodies {:.3} s, then a full run with the bodies already archived \
                     {:.3} s (so the store swap ≈ {:.3} s); peak RSS {:.0} MB",
                    backend.name(),
                    limit,
                    fetch,
                    process,
                    doc["archive_bodies"],
                    archive,
                    full,
                    full - fetch - process,
                    f(&doc, "vm_hwm_kb") / 1e3
                );
                for (kind, m) in [("first ingest", first.median), ("re-ingest", again.median)] {
                    self.rows.push(Row {
                        what: format!("day {date} {kind}, limit {limit}/min"),
                        backend: backend.name(),
                        measured: format!("{m:.3} s"),
                        target: format!("< {DAY_TARGET_S} s"),
                        ratio: format!("{:.2}x", m / DAY_TARGET_S),
                        ok: Some(m < DAY_TARGET_S),
                    });
                }
            }
        }
        Ok(())
    }

    pub(crate) async fn year(&mut self, opts: &YearOpts) -> Result<()> {
        let from = SettlementDate::parse(&opts.from)?;
        let to = SettlementDate::parse(&opts.to)?;
        let days = from.through(to).count();
        let periods: usize = from.through(to).map(|d| usize::from(d.periods())).sum();
        let requests = 2 * periods;
        println!(
            "\n== {days} days {from}..{to} ({periods} periods, {requests} stack requests), \
             --jobs {}, client limit {}/min (targets < {YEAR_TARGET_S} s, < {YEAR_TARGET_MB} MB peak RSS) ==",
            opts.jobs, opts.rate_limit
        );
        for backend in self.backends() {
            for &latency in &opts.latency_ms {
                let archive = match &opts.archive_under {
                    Some(dir) => Some(tempfile::tempdir_in(dir)?),
                    None => None,
                };
                let mut args = range_args(opts.rate_limit, from, to, opts.jobs);
                if let Some(a) = &archive {
                    args.push("--archive-dir".to_owned());
                    args.push(a.path().display().to_string());
                    println!("(experiment: source archive in {})", a.path().display());
                }
                let (doc, stats) = self.worker(backend, 1, latency, &args).await?;
                drop(archive);
                let wall = f(&doc, "wall_s");
                let rss_mb = f(&doc, "vm_hwm_kb") / 1e3;
                let rate = stats.total_requests as f64 / wall * 60.0;
                println!(
                    "{:<8} {:>2} ms/request: {:.1} s wall ({:.1} s in run_range), {} dates, {} records, \
                     date median {} ms / max {} ms; peak RSS {:.0} MB; {} requests, {:.0}/min average, \
                     peak {}/s and {}/min (limit {}/min, {:.0}/s); HTTP 200: {}; BM unit and difficulty \
                     requests: {} and {}; CPU: pipeline {:.1} s, simulator {:.1} s",
                    backend.name(),
                    latency,
                    wall,
                    f(&doc, "range_s"),
                    doc["dates"],
                    doc["records"],
                    doc["date_median_ms"],
                    doc["date_max_ms"],
                    rss_mb,
                    stats.total_requests,
                    rate,
                    stats.peak_per_second,
                    stats.peak_per_minute,
                    opts.rate_limit,
                    f64::from(opts.rate_limit) / 60.0,
                    stats.status(200),
                    stats.bmunit_requests,
                    stats.difficulty_requests,
                    f(&doc, "cpu_s"),
                    f(&doc, "sim_cpu_s")
                );
                let label = format!("year {days} d, jobs {}, {latency} ms/req", opts.jobs);
                self.rows.push(Row {
                    what: label.clone(),
                    backend: backend.name(),
                    measured: format!("{wall:.1} s"),
                    target: format!("< {YEAR_TARGET_S} s"),
                    ratio: format!("{:.2}x", wall / YEAR_TARGET_S),
                    ok: Some(wall < YEAR_TARGET_S),
                });
                self.rows.push(Row {
                    what: format!("  peak RSS ({latency} ms)"),
                    backend: backend.name(),
                    measured: format!("{rss_mb:.0} MB"),
                    target: format!("< {YEAR_TARGET_MB} MB"),
                    ratio: format!("{:.2}x", rss_mb / YEAR_TARGET_MB),
                    ok: Some(rss_mb < YEAR_TARGET_MB),
                });
                self.rows.push(Row {
                    what: format!("  peak requests/min ({latency} ms)"),
                    backend: backend.name(),
                    measured: stats.peak_per_minute.to_string(),
                    target: format!("<= {}", opts.rate_limit),
                    ratio: format!(
                        "{:.2}x",
                        stats.peak_per_minute as f64 / f64::from(opts.rate_limit)
                    ),
                    ok: Some(stats.peak_per_minute <= u64::from(opts.rate_limit)),
                });
                self.years.push(YearResult {
                    backend,
                    latency_ms: latency,
                    wall_s: wall,
                });
            }
        }
        if opts.unthrottled_limit > 0 {
            let limit = opts.unthrottled_limit;
            let (doc, stats) = self
                .range_case(Backend::Sqlite, 0, limit, from, to, opts.jobs)
                .await?;
            let wall = f(&doc, "wall_s");
            println!(
                "sqlite    0 ms/request, limit {limit}/min (the limiter out of the way): {wall:.1} s wall, \
                 {} records, peak RSS {:.0} MB, peak {}/s; CPU: pipeline {:.1} s, simulator {:.1} s",
                doc["records"],
                f(&doc, "vm_hwm_kb") / 1e3,
                stats.peak_per_second,
                f(&doc, "cpu_s"),
                f(&doc, "sim_cpu_s")
            );
            self.rows.push(Row {
                what: format!("year {days} d, jobs {}, 0 ms, limit {limit}/min", opts.jobs),
                backend: "sqlite",
                measured: format!("{wall:.1} s"),
                target: format!("< {YEAR_TARGET_S} s"),
                ratio: format!("{:.2}x", wall / YEAR_TARGET_S),
                ok: Some(wall < YEAR_TARGET_S),
            });
            // The same on one core: how far --jobs scales with cores (CPU work runs on the
            // blocking pool, so every core parses and processes).
            self.cpus = Some("0".to_owned());
            let one = self
                .range_case(Backend::Sqlite, 0, limit, from, to, opts.jobs)
                .await;
            self.cpus = None;
            let one_wall = f(&one?.0, "wall_s");
            let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
            println!(
                "sqlite    the same pinned to 1 core (taskset -c 0): {one_wall:.1} s wall; \
                 {cores} cores are {:.2}x faster",
                one_wall / wall
            );
            self.rows.push(Row {
                what: format!("  {cores} cores vs 1 core (taskset), limiter out of the way"),
                backend: "sqlite",
                measured: format!("{wall:.1} s vs {one_wall:.1} s"),
                target: "> 1x".into(),
                ratio: format!("{:.2}x", one_wall / wall),
                ok: Some(one_wall > wall),
            });
        }
        let production_min = requests as f64 / f64::from(PRODUCTION_LIMIT);
        println!(
            "at the production limit of {PRODUCTION_LIMIT}/min the {requests} stack requests of these \
             {days} days need at least {production_min:.1} min ({:.0} s): the API's limit, not \
             this tool, bounds a real backfill",
            production_min * 60.0
        );
        self.rows.push(Row {
            what: format!("year at production {PRODUCTION_LIMIT}/min (computed)"),
            backend: "-",
            measured: format!("{:.0} s", production_min * 60.0),
            target: "limit-bound".into(),
            ratio: format!("{requests} req / {PRODUCTION_LIMIT}"),
            ok: None,
        });
        if opts.limit_check_days > 0 {
            self.limit_check(from, opts).await?;
        }
        Ok(())
    }

    async fn range_case(
        &self,
        backend: Backend,
        latency: u64,
        limit: u32,
        from: SettlementDate,
        to: SettlementDate,
        jobs: usize,
    ) -> Result<(serde_json::Value, SimStats)> {
        self.worker(backend, 1, latency, &range_args(limit, from, to, jobs))
            .await
    }

    /// A stretch long enough to fill several 60-second windows, at the production limit.
    async fn limit_check(&mut self, from: SettlementDate, opts: &YearOpts) -> Result<()> {
        let mut to = from;
        for _ in 1..opts.limit_check_days {
            to = to.succ().context("date overflow")?;
        }
        let requests: usize = from.through(to).map(|d| 2 * usize::from(d.periods())).sum();
        println!(
            "\n== the limiter at the production limit: {from}..{to} ({} days, {requests} stack requests) \
             at {PRODUCTION_LIMIT}/min, --jobs {}, sqlite, 0 ms ==",
            opts.limit_check_days, opts.jobs
        );
        let (doc, stats) = self
            .range_case(Backend::Sqlite, 0, PRODUCTION_LIMIT, from, to, opts.jobs)
            .await?;
        let wall = f(&doc, "wall_s");
        let sustained = stats.total_requests as f64 / wall * 60.0;
        println!(
            "{wall:.1} s wall; {} requests, {sustained:.0}/min sustained; peak {}/s and {}/min \
             (limit {PRODUCTION_LIMIT}/min = {:.0}/s); HTTP 429 from the simulator: {}",
            stats.total_requests,
            stats.peak_per_second,
            stats.peak_per_minute,
            f64::from(PRODUCTION_LIMIT) / 60.0,
            stats.status(429)
        );
        self.rows.push(Row {
            what: format!(
                "limiter: {} d at {PRODUCTION_LIMIT}/min, peak/min",
                opts.limit_check_days
            ),
            backend: "sqlite",
            measured: stats.peak_per_minute.to_string(),
            target: format!("<= {PRODUCTION_LIMIT}"),
            ratio: format!(
                "{:.3}x",
                stats.peak_per_minute as f64 / f64::from(PRODUCTION_LIMIT)
            ),
            ok: Some(stats.peak_per_minute <= u64::from(PRODUCTION_LIMIT)),
        });
        self.rows.push(Row {
            what: format!("  sustained rate ({wall:.0} s run)"),
            backend: "sqlite",
            measured: format!("{sustained:.0}/min"),
            target: format!("~{PRODUCTION_LIMIT}"),
            ratio: format!("{:.3}x", sustained / f64::from(PRODUCTION_LIMIT)),
            ok: None,
        });
        Ok(())
    }

    /// Every baseline case (backend × latency) at once: they spend most of their time
    /// asleep, so running them side by side costs no more wall time than one. Each case has
    /// its own database; each latency its own simulator (same seed, same data). Then ours,
    /// alone, on the same sample.
    pub(crate) async fn baseline(
        &mut self,
        opts: &BaselineOpts,
        year_from: &str,
        year_to: &str,
    ) -> Result<()> {
        let from = SettlementDate::parse(&opts.baseline_from)?;
        let mut to = from;
        for _ in 1..opts.baseline_days.max(1) {
            to = to.succ().context("date overflow")?;
        }
        let (yf, yt) = (
            SettlementDate::parse(year_from)?,
            SettlementDate::parse(year_to)?,
        );
        let year_days = yf.through(yt).count();
        let year_periods: usize = yf.through(yt).map(|d| usize::from(d.periods())).sum();
        println!(
            "\n== baseline, the old scripts' way: periods one at a time, 500 ms pause per period + 1 s \
             per batch of four, one INSERT per row; {from}..{to} measured (all cases side by side), \
             {year_days} days ({year_periods} periods) EXTRAPOLATED ==",
        );
        let mut sims = Vec::new();
        for &latency in &opts.baseline_latency_ms {
            let sim = Simulator::start(SimConfig {
                latency: Duration::from_millis(latency),
                ..SimConfig::default()
            })
            .await
            .context("starting a baseline simulator")?;
            sims.push((latency, sim));
        }
        let args = [
            "--mode".to_owned(),
            "baseline".to_owned(),
            "--rate-limit".to_owned(),
            "60000".to_owned(),
            "--from".to_owned(),
            from.to_string(),
            "--to".to_owned(),
            to.to_string(),
        ];
        let mut cases = Vec::new();
        for backend in self.backends() {
            for (latency, sim) in &sims {
                cases.push((backend, *latency, sim, self.fresh_db(backend)?));
            }
        }
        let started = Instant::now();
        let results = futures::future::join_all(
            cases
                .iter()
                .map(|(_, _, sim, db)| spawn_worker(sim, std::slice::from_ref(db), &args, None)),
        )
        .await;
        println!(
            "(the {} baseline cases ran side by side in {:.0} s)",
            cases.len(),
            started.elapsed().as_secs_f64()
        );
        let done: Vec<(Backend, u64)> = cases.iter().map(|(b, l, _, _)| (*b, *l)).collect();
        drop(cases);
        for (_, sim) in sims {
            sim.shutdown().await;
        }
        for ((backend, latency), doc) in done.into_iter().zip(results) {
            let doc = doc?;
            let loop_s = f(&doc, "loop_s");
            let periods = f(&doc, "periods");
            let per_period = loop_s / periods;
            let extrapolated = per_period * year_periods as f64;
            // Ours on the very same sample, same data, same latency, alone.
            let (ours, _) = self
                .range_case(backend, latency, 60_000, from, to, 8)
                .await?;
            let ours_s = f(&ours, "wall_s");
            println!(
                "{:<8} {:>2} ms/request: {loop_s:.1} s for {periods} periods ({:.3} s/period: pauses {:.1} s, \
                 fetch {:.2} s, {} single-row INSERTs {:.2} s); {} requests; \
                 year EXTRAPOLATED {:.0} s = {:.2} h; ours (--jobs 8) on the same {} days: {ours_s:.2} s ({:.0}x faster)",
                backend.name(),
                latency,
                per_period,
                f(&doc, "pause_s"),
                f(&doc, "fetch_s"),
                doc["inserts"],
                f(&doc, "insert_s"),
                doc["requests"],
                extrapolated,
                extrapolated / 3600.0,
                opts.baseline_days,
                loop_s / ours_s
            );
            self.rows.push(Row {
                what: format!(
                    "baseline {} d measured, {latency} ms/req",
                    opts.baseline_days
                ),
                backend: backend.name(),
                measured: format!("{loop_s:.1} s"),
                target: format!("ours {ours_s:.2} s"),
                ratio: format!("{:.0}x faster", loop_s / ours_s),
                ok: Some(loop_s / ours_s > 20.0),
            });
            let year = self
                .years
                .iter()
                .find(|y| y.backend == backend && y.latency_ms == latency)
                .cloned();
            let production_s = 2.0 * year_periods as f64 / f64::from(PRODUCTION_LIMIT) * 60.0;
            self.rows.push(Row {
                what: format!("  baseline year EXTRAPOLATED, {latency} ms/req"),
                backend: backend.name(),
                measured: format!("{extrapolated:.0} s"),
                target: match &year {
                    Some(y) => format!("ours {:.1} s", y.wall_s),
                    None => "-".into(),
                },
                ratio: match &year {
                    Some(y) => format!("{:.0}x faster", extrapolated / y.wall_s),
                    None => "(run bench all)".into(),
                },
                ok: year.map(|y| extrapolated / y.wall_s > 20.0),
            });
            self.rows.push(Row {
                what: format!("  vs ours bound by {PRODUCTION_LIMIT}/min"),
                backend: backend.name(),
                measured: format!("{extrapolated:.0} s"),
                target: format!(">= {production_s:.0} s"),
                ratio: format!("<= {:.0}x faster", extrapolated / production_s),
                ok: Some(extrapolated / production_s > 20.0),
            });
        }
        Ok(())
    }

    fn print_table(&self) {
        let elapsed = self.started.elapsed().as_secs_f64();
        println!(
            "\n== summary (all figures measured in this run, {elapsed:.0} s; ratio = measured / target \
             unless it says faster; load average now {}) ==",
            load_average()
        );
        println!(
            "{:<48} {:<8} {:>12} {:>14} {:>22}  status",
            "benchmark", "backend", "measured", "target", "ratio"
        );
        for r in &self.rows {
            println!(
                "{:<48} {:<8} {:>12} {:>14} {:>22}  {}",
                r.what,
                r.backend,
                r.measured,
                r.target,
                r.ratio,
                match r.ok {
                    Some(true) => "OK",
                    Some(false) => "MISSED",
                    None => "",
                }
            );
        }
    }
}

/// Runs `bench worker ARGS` on `dbs` against `sim`; returns its JSON report.
async fn spawn_worker(
    sim: &SimHandle,
    dbs: &[BenchDb],
    args: &[String],
    cpus: Option<&str>,
) -> Result<serde_json::Value> {
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    // `taskset -c LIST` pins the worker (not the simulator, which runs in this process).
    let mut cmd = match cpus {
        Some(list) => {
            let mut c = tokio::process::Command::new("taskset");
            c.args(["-c", list]).arg(exe);
            c
        }
        None => tokio::process::Command::new(exe),
    };
    cmd.args(["bench", "worker"]);
    for db in dbs {
        cmd.args(["--database-url", db.url()]);
    }
    let output = cmd
        .args(["--elexon-url", &sim.base_url()])
        .args(["--difficulty-url", &sim.difficulty_url()])
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .output()
        .await
        .context("running the bench worker")?;
    if !output.status.success() {
        bail!("the bench worker failed ({})", output.status);
    }
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| format!("worker output {line:?}"))
}

/// The worker's arguments for a `run_range` case.
fn range_args(limit: u32, from: SettlementDate, to: SettlementDate, jobs: usize) -> Vec<String> {
    vec![
        "--mode".to_owned(),
        "year".to_owned(),
        "--rate-limit".to_owned(),
        limit.to_string(),
        "--from".to_owned(),
        from.to_string(),
        "--to".to_owned(),
        to.to_string(),
        "--jobs".to_owned(),
        jobs.to_string(),
    ]
}

/// Timing samples, seconds: their median and range.
pub(crate) struct Samples {
    pub(crate) median: f64,
    min: f64,
    max: f64,
}

impl Samples {
    /// The samples of a worker report's `key` (an array of seconds).
    fn of(doc: &serde_json::Value, key: &str) -> Self {
        Self::of_secs(
            doc[key]
                .as_array()
                .map(|a| a.iter().filter_map(serde_json::Value::as_f64).collect())
                .unwrap_or_default(),
        )
    }

    /// The samples of measured durations.
    pub(crate) fn of_durations(times: &[Duration]) -> Self {
        Self::of_secs(times.iter().map(Duration::as_secs_f64).collect())
    }

    fn of_secs(mut v: Vec<f64>) -> Self {
        v.sort_by(f64::total_cmp);
        Self {
            median: v.get(v.len() / 2).copied().unwrap_or(f64::NAN),
            min: v.first().copied().unwrap_or(f64::NAN),
            max: v.last().copied().unwrap_or(f64::NAN),
        }
    }

    pub(crate) fn show(&self) -> String {
        format!(
            "median {:.3} s (min {:.3}, max {:.3})",
            self.median, self.min, self.max
        )
    }
}

/// A number field of a worker report (NaN when absent).
fn f(doc: &serde_json::Value, key: &str) -> f64 {
    doc[key].as_f64().unwrap_or(f64::NAN)
}
