//! `cargo xtask bench status`: `reingest status` over a year on PostgreSQL (issue 20).
//!
//! A fresh PostgreSQL database is filled untimed with a year of the simulator
//! (`reingest range FROM TO --jobs 8`, the client's limiter raised out of the way; the set-up
//! time is printed) and vacuumed as autovacuum would have done (also untimed), then the
//! `reingest` binary runs `status FROM TO --json` as an operator would (process start,
//! connection and all), `--status-repetitions` times; the median is compared with the
//! target of 2 s. The statements the year sends (its `--metrics-file`'s
//! `reingest_run_db_statements`) are compared with a month's: they must be the same.
//!
//! Timings are floats here, and only here: they are measurements, not money.
#![allow(clippy::float_arithmetic)]

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use settlement_model::SettlementDate;

use crate::bench_e2e::{Backend, Bench, Row, Samples};

/// `status` over the year may take at most this long, seconds.
const STATUS_TARGET_S: f64 = 2.0;

/// Options of the status benchmark.
#[derive(Debug, Clone, clap::Args)]
pub struct StatusOpts {
    /// First date of the year filled and assessed.
    #[arg(long = "status-from", default_value = "2024-01-01")]
    from: String,
    /// Last date, inclusive.
    #[arg(long = "status-to", default_value = "2024-12-30")]
    to: String,
    /// Timed repetitions of `status` over the range (the median is reported).
    #[arg(long = "status-repetitions", default_value_t = 3)]
    repetitions: usize,
    /// The `reingest` binary to measure (default: this workspace's release build, built
    /// first).
    #[arg(long = "status-reingest-bin")]
    reingest_bin: Option<PathBuf>,
}

impl Bench {
    /// `bench status`: fill a year on PostgreSQL, then time `status` over it.
    pub(crate) async fn status(&mut self, opts: &StatusOpts) -> Result<()> {
        let (from, to) = (
            SettlementDate::parse(&opts.from)?,
            SettlementDate::parse(&opts.to)?,
        );
        if self.pg_url.is_none() {
            println!("PostgreSQL not configured: `bench status` measures it (--pg-url)");
            return Ok(());
        }
        let bin = match &opts.reingest_bin {
            Some(path) => path.clone(),
            None => crate::bench_store::build_reingest()?,
        };
        let days = from.through(to).count();
        println!(
            "\n== `reingest status` over {days} dates ({from}..{to}) on PostgreSQL, `{}` as a \
             process; median of {} ==",
            bin.display(),
            opts.repetitions.max(1)
        );
        let db = self.fresh_db(Backend::Postgres)?;
        let metrics = tempfile::tempdir()?;
        let prom = metrics.path().join("status.prom");
        let run = |args: Vec<String>| run(&bin, db.url(), &self.sim, &prom, args);
        let (f, t) = (from.to_string(), to.to_string());
        let mut setup = Duration::ZERO;
        for args in [
            vec!["migrate".to_owned()],
            vec!["bmu".into(), "sync".into()],
            vec!["difficulty".into(), "sync".into()],
            vec![
                "--rate-limit".into(),
                "600000".into(),
                "range".into(),
                f.clone(),
                t.clone(),
                "--jobs".into(),
                "8".into(),
            ],
        ] {
            setup += run(args).await?.0;
        }
        println!(
            "set-up (migrate, bmu sync, difficulty sync, range of {days} dates): {:.1} s",
            setup.as_secs_f64()
        );
        // What autovacuum does to a platform's year long before anyone asks for its status
        // (visibility hints set, statistics taken), done now and untimed: otherwise the first
        // timed reads pay for it, or race autovacuum for the two cores.
        let vacuum = Instant::now();
        {
            use diesel::connection::SimpleConnection as _;
            use diesel::Connection as _;
            diesel::PgConnection::establish(db.url())
                .context("connecting to vacuum the filled database")?
                .batch_execute("VACUUM (ANALYZE)")
                .context("VACUUM (ANALYZE) of the filled database")?;
        }
        println!(
            "VACUUM (ANALYZE) of the filled database, untimed: {:.1} s",
            vacuum.elapsed().as_secs_f64()
        );
        let month_end = from
            .through(to)
            .take_while(|d| d.year_month() == from.year_month())
            .last()
            .unwrap_or(from);
        let (_, month_statements, _) = run(vec![
            "--json".into(),
            "status".into(),
            f.clone(),
            month_end.to_string(),
        ])
        .await?;
        let mut times = Vec::new();
        let mut year_statements = None;
        let mut attention = 0;
        for _ in 0..opts.repetitions.max(1) {
            let (wall, n, needs) =
                run(vec!["--json".into(), "status".into(), f.clone(), t.clone()]).await?;
            times.push(wall);
            year_statements = n;
            attention = needs;
        }
        let year = Samples::of_durations(&times);
        println!(
            "status {f}..{t}: {} | statements {} (a month: {}) | dates needing attention: {attention}",
            year.show(),
            show(year_statements),
            show(month_statements)
        );
        let ratio = year.median / STATUS_TARGET_S;
        self.rows.push(Row {
            what: format!("status over {days} dates"),
            backend: "postgres",
            measured: format!("{:.3} s", year.median),
            target: format!("< {STATUS_TARGET_S} s"),
            ratio: format!("{ratio:.2}x"),
            ok: Some(year.median < STATUS_TARGET_S),
        });
        self.rows.push(Row {
            what: format!("statements of status: {days} dates vs a month"),
            backend: "postgres",
            measured: format!("{} vs {}", show(year_statements), show(month_statements)),
            target: "equal".into(),
            ratio: String::new(),
            ok: Some(year_statements.is_some() && year_statements == month_statements),
        });
        Ok(())
    }
}

fn show(n: Option<u64>) -> String {
    n.map_or_else(|| "not reported".to_owned(), |n| n.to_string())
}

/// Runs `reingest ARGS` against `db` and the simulator; returns its wall time, the
/// statements it reported and, for `status --json`, how many dates need attention. Exit 0
/// and 1 (dates need attention) are answers; anything else is an error with its stderr.
async fn run(
    bin: &Path,
    db: &str,
    sim: &elexon_sim::SimHandle,
    metrics: &Path,
    args: Vec<String>,
) -> Result<(Duration, Option<u64>, usize)> {
    let mut cmd = tokio::process::Command::new(bin);
    for (name, _) in std::env::vars_os() {
        let name = name.to_string_lossy();
        if name.starts_with("REINGEST_") || name.starts_with("ELEXON_") {
            cmd.env_remove(name.as_ref());
        }
    }
    cmd.args(&args)
        .env("DATABASE_URL", db)
        .env("ELEXON_BASE_URL", sim.base_url())
        .env("REINGEST_DIFFICULTY_URL", sim.difficulty_url())
        .env("REINGEST_METRICS_FILE", metrics)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let started = Instant::now();
    let output = cmd.output().await.context("running reingest")?;
    let wall = started.elapsed();
    if !matches!(output.status.code(), Some(0 | 1)) {
        bail!(
            "`reingest {}` failed ({}): {}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        );
    }
    let statements = std::fs::read_to_string(metrics).ok().and_then(|text| {
        text.lines()
            .find(|l| l.starts_with("reingest_run_db_statements"))
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse().ok())
    });
    let attention = serde_json::from_slice::<serde_json::Value>(&output.stdout)
        .ok()
        .and_then(|doc| {
            doc["days"]
                .as_array()
                .map(|days| days.iter().filter(|d| d["state"] != "verified").count())
        })
        .unwrap_or(0);
    Ok((wall, statements, attention))
}
