//! `cargo xtask bench range`: recalculating history from the archive (issue 19).
//!
//! Per backend, in one run: a fresh database, the days (2024 by default; `--range-days N`
//! for the first N of them) archived once from the simulator by a live `reingest range`
//! (untimed set-up), then, timed, side by side over the same dates:
//!
//! - **the loop**: one `reingest run DATE --from-archive` process per date, as a shell loop
//!   does it (each process connects, checks migrations, reads the registry and the
//!   difficulty table);
//! - **the range**: one `reingest range FROM TO --from-archive` process, the reference data
//!   read once, `--range-jobs` dates in flight.
//!
//! Each prints seconds, days per second, rows written per second (each day's records and
//! its bitcoin rows, one per record and miner model) and peak RSS (the largest `VmHWM` of
//! the measured process, polled from `/proc`; for the loop, the largest of its processes).
//! Targets: the range at most one third of the loop on each backend, the year on
//! PostgreSQL in at most 30 s, peak RSS at most 100 MB.
//!
//! Timings are floats here, and only here: they are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use settlement_model::SettlementDate;

use crate::bench_e2e::{Backend, Bench, Row};

/// The range may take at most this fraction of the loop.
const LOOP_RATIO_TARGET: f64 = 1.0 / 3.0;
/// Seconds a year from the archive may take on PostgreSQL.
const PG_YEAR_TARGET_S: f64 = 30.0;
/// Peak resident memory of the range, MB.
const RSS_TARGET_MB: f64 = 100.0;
/// Miner models of the default settings: one bitcoin row per record and model.
const DEFAULT_MODELS: u64 = 3;

/// Options of the range benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct RangeOpts {
    /// First date of the recalculated range.
    #[arg(long = "range-from", default_value = "2024-01-01")]
    from: String,
    /// Days from --range-from (default: the whole of 2024). Fewer on a busy machine: the
    /// loop runs one process per day.
    #[arg(long = "range-days", default_value_t = 366)]
    days: u32,
    /// Dates in flight of `range --from-archive` (and of the untimed archiving).
    #[arg(long = "range-jobs", default_value_t = 4)]
    jobs: usize,
    /// The `reingest` binary to measure (default: this workspace's release build, built
    /// first).
    #[arg(long = "range-reingest-bin")]
    reingest_bin: Option<std::path::PathBuf>,
}

/// One timed case.
struct Case {
    wall_s: f64,
    rss_mb: f64,
}

impl Bench {
    /// `bench range`: per backend, archive the days, then the loop and the range.
    pub(crate) async fn range(&mut self, opts: &RangeOpts) -> Result<()> {
        let from = SettlementDate::parse(&opts.from)?;
        let dates: Vec<SettlementDate> = from.through_days(opts.days.max(1));
        let to = *dates.last().context("no dates")?;
        let bin = match &opts.reingest_bin {
            Some(path) => path.clone(),
            None => crate::bench_store::build_reingest()?,
        };
        println!(
            "\n== recalculating {} days {from}..{to} from the archive: `reingest range \
             --from-archive --jobs {}` against a loop of `reingest run DATE --from-archive` \
             processes (targets: range <= 1/3 of the loop, a year on PostgreSQL <= \
             {PG_YEAR_TARGET_S} s, peak RSS <= {RSS_TARGET_MB} MB) ==",
            dates.len(),
            opts.jobs
        );
        for backend in self.backends() {
            let db = self.fresh_db(backend)?;
            let r = Reingest {
                bin: &bin,
                db: db.url(),
                sim: &self.sim,
            };
            let (first, last) = (from.to_string(), to.to_string());
            let jobs = opts.jobs.to_string();
            let started = Instant::now();
            r.run(&["migrate"]).await?;
            r.run(&["range", &first, &last, "--jobs", &jobs]).await?;
            println!(
                "{:<8} set-up: {} days archived from the simulator in {:.1} s (untimed)",
                backend.name(),
                dates.len(),
                started.elapsed().as_secs_f64()
            );

            let mut loop_rss = 0.0_f64;
            let started = Instant::now();
            for date in &dates {
                let case = r
                    .measure(&["run", &date.to_string(), "--from-archive"])
                    .await?;
                loop_rss = loop_rss.max(case.1.rss_mb);
            }
            let looped = Case {
                wall_s: started.elapsed().as_secs_f64(),
                rss_mb: loop_rss,
            };
            let (out, range) = r
                .measure(&[
                    "--json",
                    "range",
                    &first,
                    &last,
                    "--from-archive",
                    "--jobs",
                    &jobs,
                ])
                .await?;
            let doc: serde_json::Value =
                serde_json::from_slice(&out).context("the range's --json document")?;
            let records: u64 = doc["dates"]
                .as_array()
                .map(|a| a.iter().filter_map(|d| d["records"].as_u64()).sum())
                .unwrap_or(0);
            let rows = records * (1 + DEFAULT_MODELS);
            let days = dates.len() as f64;
            for (what, c) in [("loop of runs", &looped), ("range", &range)] {
                println!(
                    "{:<8} {what:<12}: {:.2} s, {:.1} days/s, {:.0} rows/s ({rows} rows: \
                     {records} records and their bitcoin rows), peak RSS {:.0} MB",
                    backend.name(),
                    c.wall_s,
                    days / c.wall_s,
                    rows as f64 / c.wall_s,
                    c.rss_mb
                );
            }
            self.range_rows(backend, dates.len(), &looped, &range);
        }
        Ok(())
    }

    fn range_rows(&mut self, backend: Backend, days: usize, looped: &Case, range: &Case) {
        let ratio = range.wall_s / looped.wall_s;
        self.rows.push(Row {
            what: format!(
                "range --from-archive {days} d / loop of runs ({:.1} s)",
                looped.wall_s
            ),
            backend: backend.name(),
            measured: format!("{:.2} s", range.wall_s),
            target: "<= 0.33x".to_owned(),
            ratio: format!("{ratio:.2}x"),
            ok: Some(ratio <= LOOP_RATIO_TARGET),
        });
        if backend == Backend::Postgres {
            // The target is for a year: fewer days are scaled to 366 to compare.
            let year_s = range.wall_s * 366.0 / days as f64;
            self.rows.push(Row {
                what: format!("range --from-archive, a year (from {days} d)"),
                backend: backend.name(),
                measured: format!("{year_s:.1} s"),
                target: format!("<= {PG_YEAR_TARGET_S} s"),
                ratio: format!("{:.2}x", year_s / PG_YEAR_TARGET_S),
                ok: Some(year_s <= PG_YEAR_TARGET_S),
            });
        }
        self.rows.push(Row {
            what: format!("range --from-archive {days} d, peak RSS"),
            backend: backend.name(),
            measured: format!("{:.0} MB", range.rss_mb),
            target: format!("<= {RSS_TARGET_MB} MB"),
            ratio: format!("{:.2}x", range.rss_mb / RSS_TARGET_MB),
            ok: Some(range.rss_mb <= RSS_TARGET_MB),
        });
    }
}

/// The first `n` dates from `self`.
trait ThroughDays {
    fn through_days(self, n: u32) -> Vec<SettlementDate>;
}

impl ThroughDays for SettlementDate {
    fn through_days(self, n: u32) -> Vec<SettlementDate> {
        std::iter::successors(Some(self), |d| d.succ())
            .take(n as usize)
            .collect()
    }
}

/// The `reingest` binary pointed at one database and the simulator.
struct Reingest<'a> {
    bin: &'a Path,
    db: &'a str,
    sim: &'a elexon_sim::SimHandle,
}

impl Reingest<'_> {
    fn command(&self, args: &[&str]) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new(self.bin);
        for (name, _) in std::env::vars_os() {
            let name = name.to_string_lossy();
            if name.starts_with("REINGEST_") || name.starts_with("ELEXON_") {
                cmd.env_remove(name.as_ref());
            }
        }
        cmd.args(args)
            .env("DATABASE_URL", self.db)
            .env("ELEXON_BASE_URL", self.sim.base_url())
            .env("REINGEST_DIFFICULTY_URL", self.sim.difficulty_url())
            .env("REINGEST_RATE_LIMIT", "600000")
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `reingest ARGS` untimed; a failure is an error with its stderr.
    async fn run(&self, args: &[&str]) -> Result<()> {
        self.measure(args).await.map(|_| ())
    }

    /// Runs `reingest ARGS`, polling its peak RSS; returns its stdout, wall time and peak.
    async fn measure(&self, args: &[&str]) -> Result<(Vec<u8>, Case)> {
        let started = Instant::now();
        let child = self.command(args).spawn().context("running reingest")?;
        let pid = child.id();
        let output = child.wait_with_output();
        tokio::pin!(output);
        let mut peak_kb = 0_u64;
        let output = loop {
            tokio::select! {
                out = &mut output => break out.context("waiting for reingest")?,
                () = tokio::time::sleep(Duration::from_millis(20)) => {
                    peak_kb = peak_kb.max(pid.map_or(0, vm_hwm_kb));
                }
            }
        };
        let wall_s = started.elapsed().as_secs_f64();
        if !output.status.success() {
            bail!(
                "`reingest {}` failed ({}): {}",
                args.join(" "),
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            );
        }
        Ok((
            output.stdout,
            Case {
                wall_s,
                rss_mb: peak_kb as f64 / 1e3,
            },
        ))
    }
}

/// `VmHWM` of process `pid`, kB (0 once it has gone, or without `/proc`).
fn vm_hwm_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
