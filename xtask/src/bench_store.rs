//! `cargo xtask bench store`: the store's write path against the network's floor (issue 12).
//!
//! Three figures, each with its ratio and target, measured in one run on a stormy day (by
//! default 2024-12-05: 2,110 records and 6,330 bitcoin rows in the bundled simulator; the
//! issue's 2024-12-07 is calm there): the `reingest` binary, run the way an operator runs it,
//! against the simulator answering each request after a network-like latency (40 ms).
//!
//! - **the floor**: the simulator serving the day's 96 stack documents to a plain HTTP client,
//!   8 requests in flight: no tool can fetch the day faster than that;
//! - **a live run on PostgreSQL** (`reingest run DATE`, a re-ingest after a first one): target
//!   at most 1.4x the floor;
//! - **`run DATE --from-archive`** (no network) on PostgreSQL against the same on SQLite:
//!   target at most 1.5x;
//! - **SQL statements** one live run sends to PostgreSQL, read from the run's
//!   `--metrics-file` (`reingest_run_db_statements`): target at most 60.
//!
//! Each case runs the binary as a process (process start, connection, checks and all), so the
//! same harness measures another build: `--reingest-bin PATH` points it at, say, a release
//! build of an older commit, for before-and-after figures from one machine.
//!
//! Timings are floats here, and only here: they are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use futures::{StreamExt, TryStreamExt};
use settlement_model::{SettlementDate, Side};

use crate::bench_e2e::{Backend, Bench, Row, Samples};

/// A live PostgreSQL run may take at most this multiple of the floor.
const LIVE_TARGET: f64 = 1.4;
/// `--from-archive` on PostgreSQL may take at most this multiple of the same on SQLite.
const ARCHIVE_TARGET: f64 = 1.5;
/// Statements one live run may send to PostgreSQL.
const STATEMENTS_TARGET: u64 = 60;
/// Requests in flight of the floor's plain client.
const FLOOR_IN_FLIGHT: usize = 8;

/// Options of the store benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct StoreOpts {
    /// The date of the store benchmark (default: the simulator's stormiest day of 2024).
    #[arg(long = "store-date", default_value = "2024-12-05")]
    date: String,
    /// Timed repetitions of each store case (the median is reported).
    #[arg(long = "store-repetitions", default_value_t = 3)]
    repetitions: usize,
    /// Milliseconds the simulator waits before answering each request, as a real API over
    /// a network does (the floor is then about 96 / 8 × this).
    #[arg(long = "store-latency-ms", default_value_t = 40)]
    latency_ms: u64,
    /// The `reingest` binary to measure (default: this workspace's release build, built
    /// first). Point it at another build to compare commits on one machine.
    #[arg(long)]
    reingest_bin: Option<PathBuf>,
}

/// The medians of one backend's cases.
struct Measured {
    live_s: f64,
    archive_s: f64,
    statements: Option<u64>,
}

impl Bench {
    /// `bench store`: the floor, then each backend's live and archive runs, then the ratios.
    pub(crate) async fn store(&mut self, opts: &StoreOpts) -> Result<()> {
        let date = SettlementDate::parse(&opts.date)?;
        let reps = opts.repetitions.max(1);
        let bin = match &opts.reingest_bin {
            Some(path) => path.clone(),
            None => build_reingest()?,
        };
        println!(
            "\n== the store against the network's floor: {date}, `{}` as a process, the \
             simulator answering after {} ms; median of {reps} ==",
            bin.display(),
            opts.latency_ms
        );
        self.sim.set_latency(Duration::from_millis(opts.latency_ms));
        let measured = self.store_cases(&bin, date, reps).await;
        self.sim.set_latency(Duration::ZERO);
        let (floor, lite, pg) = measured?;
        let Some(pg) = pg else {
            return Ok(());
        };
        let live_ratio = pg.live_s / floor.median;
        self.rows.push(Row {
            what: format!("live run {date} / floor ({:.3} s)", floor.median),
            backend: "postgres",
            measured: format!("{:.3} s", pg.live_s),
            target: format!("<= {LIVE_TARGET}x"),
            ratio: format!("{live_ratio:.2}x"),
            ok: Some(live_ratio <= LIVE_TARGET),
        });
        let archive_ratio = pg.archive_s / lite.archive_s;
        self.rows.push(Row {
            what: format!("--from-archive {date} / SQLite ({:.3} s)", lite.archive_s),
            backend: "postgres",
            measured: format!("{:.3} s", pg.archive_s),
            target: format!("<= {ARCHIVE_TARGET}x"),
            ratio: format!("{archive_ratio:.2}x"),
            ok: Some(archive_ratio <= ARCHIVE_TARGET),
        });
        self.rows.push(Row {
            what: format!("SQL statements of one live run {date}"),
            backend: "postgres",
            measured: pg
                .statements
                .map_or_else(|| "not reported".to_owned(), |n| n.to_string()),
            target: format!("<= {STATEMENTS_TARGET}"),
            ratio: pg.statements.map_or_else(String::new, |n| {
                format!("{:.2}x", n as f64 / STATEMENTS_TARGET as f64)
            }),
            ok: pg.statements.map(|n| n <= STATEMENTS_TARGET),
        });
        Ok(())
    }

    /// The floor, then each backend's cases (PostgreSQL's only when configured).
    async fn store_cases(
        &self,
        bin: &Path,
        date: SettlementDate,
        reps: usize,
    ) -> Result<(Samples, Measured, Option<Measured>)> {
        let floor = self.floor(date, reps).await?;
        println!(
            "floor: the simulator serving {} documents to a plain client, {FLOOR_IN_FLIGHT} in \
             flight: {}",
            2 * usize::from(date.periods()),
            floor.show()
        );
        let lite = self.store_backend(bin, Backend::Sqlite, date, reps).await?;
        let pg = if self.pg_url.is_some() {
            Some(
                self.store_backend(bin, Backend::Postgres, date, reps)
                    .await?,
            )
        } else {
            println!("PostgreSQL not configured: the store's ratios need it (--pg-url)");
            None
        };
        Ok((floor, lite, pg))
    }

    /// The simulator serving the day's stack documents to a plain client, `reps` times.
    async fn floor(&self, date: SettlementDate, reps: usize) -> Result<Samples> {
        let source = elexon_client::HttpSource::new(elexon_client::ClientConfig::with_base_url(
            self.sim.base_url(),
        ))?;
        let urls: Vec<String> = (1..=date.periods())
            .flat_map(|p| [Side::Bid, Side::Offer].map(|side| source.stack_url(date, p, side)))
            .collect();
        let client = reqwest::Client::new();
        let mut samples = Vec::with_capacity(reps);
        for _ in 0..reps {
            let started = Instant::now();
            futures::stream::iter(urls.iter().map(|url| {
                let client = &client;
                async move {
                    let response = client.get(url).send().await?.error_for_status()?;
                    response.bytes().await.map(|b| b.len())
                }
            }))
            .buffer_unordered(FLOOR_IN_FLIGHT)
            .try_collect::<Vec<usize>>()
            .await
            .context("the floor's plain client")?;
            samples.push(started.elapsed());
        }
        Ok(Samples::of_durations(&samples))
    }

    /// One backend: a fresh database made ready untimed (migrate, registry, difficulty, the
    /// first ingest), then `reps` live re-ingests and `reps` runs from the archive.
    async fn store_backend(
        &self,
        bin: &Path,
        backend: Backend,
        date: SettlementDate,
        reps: usize,
    ) -> Result<Measured> {
        let db = self.fresh_db(backend)?;
        let metrics = tempfile::tempdir()?;
        let reingest = Reingest {
            bin,
            db: db.url(),
            sim: &self.sim,
            metrics: metrics.path().join("run.prom"),
        };
        let day = date.to_string();
        let mut setup = Duration::ZERO;
        for args in [
            &["migrate"][..],
            &["bmu", "sync"],
            &["difficulty", "sync"],
            &["run", &day],
        ] {
            setup += reingest.run(args).await?;
        }
        let mut live = Vec::with_capacity(reps);
        let mut statements = None;
        for _ in 0..reps {
            live.push(reingest.run(&["run", &day]).await?);
            statements = reingest.statements().or(statements);
        }
        let mut archive = Vec::with_capacity(reps);
        for _ in 0..reps {
            archive.push(reingest.run(&["run", &day, "--from-archive"]).await?);
        }
        let (live, archive) = (
            Samples::of_durations(&live),
            Samples::of_durations(&archive),
        );
        println!(
            "{:<8} set-up (migrate, bmu sync, difficulty sync, first ingest) {:.3} s | \
             live run {} | --from-archive {} | statements of a live run: {}",
            backend.name(),
            setup.as_secs_f64(),
            live.show(),
            archive.show(),
            statements.map_or_else(
                || "not reported by this build".to_owned(),
                |n| n.to_string()
            )
        );
        Ok(Measured {
            live_s: live.median,
            archive_s: archive.median,
            statements,
        })
    }
}

/// The `reingest` binary pointed at one database and the simulator.
struct Reingest<'a> {
    bin: &'a Path,
    db: &'a str,
    sim: &'a elexon_sim::SimHandle,
    metrics: PathBuf,
}

impl Reingest<'_> {
    /// Runs `reingest ARGS` and returns its wall time; a failure is an error with its stderr.
    async fn run(&self, args: &[&str]) -> Result<Duration> {
        let mut cmd = tokio::process::Command::new(self.bin);
        // Only this case's settings: none of the caller's REINGEST_*/ELEXON_* variables.
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
            // A build that knows it writes the statement count there; older ones ignore it.
            .env("REINGEST_METRICS_FILE", &self.metrics)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let started = Instant::now();
        let output = cmd.output().await.context("running reingest")?;
        let wall = started.elapsed();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            bail!(
                "`reingest {}` failed ({}): {}",
                args.join(" "),
                output.status,
                stderr.trim()
            );
        }
        Ok(wall)
    }

    /// `reingest_run_db_statements` from the last run's metrics file, if the build wrote it.
    fn statements(&self) -> Option<u64> {
        let text = std::fs::read_to_string(&self.metrics).ok()?;
        text.lines()
            .find(|l| l.starts_with("reingest_run_db_statements"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    }
}

/// Builds this workspace's `reingest` binary in release mode; returns its path (beside this
/// xtask binary, which the benches run in release).
pub(crate) fn build_reingest() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let status = std::process::Command::new(cargo)
        .args([
            "build",
            "--release",
            "--locked",
            "-p",
            "reingest-cli",
            "--bin",
            "reingest",
        ])
        .status()
        .context("running cargo build")?;
    if !status.success() {
        bail!("building the reingest binary failed ({status})");
    }
    let exe = std::env::current_exe().context("locating the xtask binary")?;
    let bin = exe.with_file_name("reingest");
    if !bin.exists() {
        bail!("{} was not built", bin.display());
    }
    Ok(bin)
}
