//! Command-line arguments (clap) and logging set-up.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::setup_error::SetupError;
use reingest::{RunRef, SettlementDate};
use rust_decimal::Decimal;

/// Rebuild GB wind-curtailment settlement data for any date from the Elexon API,
/// recompute its summaries and Bitcoin potential, and verify the result.
///
/// Nothing is deleted until every period of the day has been fetched and processed; the
/// day is then replaced in one database transaction that verifies itself before it commits.
///
/// Exit codes: 0 success/verified, 1 verification mismatch, 2 error, 130 interrupted.
#[derive(Debug, Parser)]
#[command(name = "reingest", version, about, long_about = None, after_help = EXAMPLES)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

const EXAMPLES: &str = "Examples:
  reingest run 2024-03-21 --periods 1-4 --dry-run     # what would change, writes nothing
  reingest run 2024-03-21 --reason 'missing periods'  # replace the whole day, verified
  reingest verify 2024-03-21 --against-api            # check the stored day, and drift
  reingest range 2024-03-01 2024-03-31 --jobs 4       # a month
  reingest range 2024-01-01 2024-12-31 --from-archive # recalculate a year offline
  reingest runs --date 2024-03-21 && reingest restore RUN_ID";

/// Options that apply to every command.
#[derive(Debug, Args)]
pub struct Global {
    /// Database: sqlite://PATH (embedded) or postgres://USER@HOST/DB.
    #[arg(
        long,
        env = "DATABASE_URL",
        hide_env_values = true,
        default_value = "sqlite://reingest.db",
        global = true
    )]
    pub database_url: String,

    /// Elexon Insights API base URL.
    #[arg(
        long,
        env = "ELEXON_BASE_URL",
        default_value = "https://data.elexon.co.uk/bmrs/api/v1",
        global = true
    )]
    pub elexon_url: String,

    /// Wire format asked of the API. Give it before the command (`reingest --format json run
    /// …`) or as ELEXON_FORMAT: after `report`, `--format` chooses md or html.
    #[arg(long, env = "ELEXON_FORMAT", value_enum, default_value = "json")]
    pub format: WireFormat,

    /// Print one JSON document on stdout instead of human text.
    #[arg(long, global = true)]
    pub json: bool,

    /// Only errors on stderr; no progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,

    /// Also write logs to this file.
    #[arg(long, env = "REINGEST_LOG_FILE", global = true)]
    pub log_file: Option<PathBuf>,

    /// Mempool.space-compatible difficulty-adjustments URL, read when a date's difficulty is unknown.
    #[arg(
        long,
        env = "REINGEST_DIFFICULTY_URL",
        default_value = "https://mempool.space/api/v1/mining/difficulty-adjustments",
        global = true
    )]
    pub difficulty_url: String,

    /// Miner models to compute bitcoin for (comma-separated names).
    #[arg(long, env = "REINGEST_MINERS", value_delimiter = ',', global = true)]
    pub miners: Vec<String>,

    /// Define extra miner models: NAME:THS:WATTS, comma-separated (e.g. S21:200:3500), or
    /// @FILE holding such lines or a JSON array [{"name","hashrate_ths","power_w"}].
    #[arg(long, env = "REINGEST_MINER_MODELS", global = true)]
    pub miner_models: Option<String>,

    /// API requests per minute for the whole process (the API allows 5,000).
    #[arg(
        long,
        env = "REINGEST_RATE_LIMIT",
        default_value_t = 4500,
        global = true
    )]
    pub rate_limit: u32,

    /// Seconds before one API request times out (it is then retried).
    #[arg(long, default_value_t = 30, global = true)]
    pub timeout_secs: u64,

    /// Attempts per API request, including the first.
    #[arg(long, default_value_t = 5, global = true)]
    pub max_attempts: u32,

    /// Largest API response accepted, MiB.
    #[arg(long, default_value_t = 64, global = true)]
    pub max_body_mib: usize,

    /// Seconds to wait for another run of the same date to finish.
    #[arg(long, default_value_t = 60, global = true)]
    pub lock_timeout_secs: u64,

    /// PostgreSQL: longest a single statement may run, seconds (0: no limit).
    #[arg(
        long,
        env = "REINGEST_STATEMENT_TIMEOUT_SECS",
        default_value_t = 300,
        global = true
    )]
    pub statement_timeout_secs: u64,

    /// PostgreSQL: longest a session may sit idle inside a transaction, seconds (0: no limit).
    #[arg(
        long,
        env = "REINGEST_IDLE_IN_TRANSACTION_TIMEOUT_SECS",
        default_value_t = 60,
        global = true
    )]
    pub idle_in_transaction_timeout_secs: u64,

    /// On PostgreSQL, apply pending migrations on start instead of stopping (exit 2) and
    /// asking for `reingest migrate`. SQLite always migrates on start.
    #[arg(
        long,
        env = "REINGEST_AUTO_MIGRATE",
        global = true,
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    pub auto_migrate: bool,

    /// Allow a plain-http API URL that is not on this machine (unsafe).
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,

    /// Keep archived API responses in this folder (default: beside an SQLite file; a
    /// table on PostgreSQL).
    #[arg(long, env = "REINGEST_ARCHIVE_DIR", global = true)]
    pub archive_dir: Option<PathBuf>,

    /// At the end of the command (failed ones too), write Prometheus metrics to this file
    /// (node_exporter textfile collector: written beside it, then renamed over it).
    #[arg(long, env = "REINGEST_METRICS_FILE", global = true)]
    pub metrics_file: Option<PathBuf>,
}

/// The wire format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WireFormat {
    /// JSON: the shape the API's published OpenAPI document describes field by field.
    Json,
    /// XML, parsed with roxmltree (element names matched case-insensitively).
    Xml,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Reingest one date (or some of its periods), verified, in one transaction.
    ///
    /// Fetches both stacks of every period (46/48/50 by the clock), keeps wind constraint
    /// bids as curtailment, replaces the date's records, recomputes daily/monthly/yearly
    /// summaries and bitcoin, verifies, and commits, or rolls back on a failed check.
    #[command(after_help = "Examples:
  reingest run 2024-03-21 --periods 1-4 --dry-run
  reingest run 2024-03-21 --reason 'ticket 123: missing periods' --expect-energy 1234.5")]
    Run(RunArgs),

    /// Reingest every date from FROM to TO inclusive, N dates at a time.
    ///
    /// With --from-archive, recompute each date from the API responses its newest committed
    /// run archived, with no network, through the same verified swap: the way to apply a new
    /// miner model, a corrected difficulty or a fixed registry to history.
    #[command(after_help = "Examples:
  reingest range 2024-03-01 2024-03-31 --jobs 4 --reason backfill
  reingest --miner-models S21:200:3500 --miners S19J_PRO,S9,M20S,S21 \\
    range 2024-01-01 2024-12-31 --from-archive --reason 'add S21'
  reingest range 2024-01-01 2024-12-31 --from-archive --as-recorded   # reproduce exactly
  reingest range 2024-03-01 2024-03-31 --from-archive --resume        # after Ctrl-C")]
    Range(RangeArgs),

    /// Check a stored date without changing it (exit 0 verified, 1 mismatch).
    #[command(
        after_help = "Examples:\n  reingest verify 2024-03-21\n  reingest verify 2024-03-21 --against-api --json"
    )]
    Verify(VerifyArgs),

    /// One state per date of a range, as a table, Markdown, an HTML calendar or JSON.
    ///
    /// Each date is verified (every check passes), incomplete (periods missing at the
    /// source or never fetched), drift (with --against-api: periods differ from the API
    /// now), inconsistent (stored rows do not add up: the failed checks are named), failed
    /// (its newest run failed or was rolled back) or never_run; with its records, MWh, £,
    /// BTC per model and newest run. The range is read in a fixed number of statements, not
    /// one per date. --output picks the form from the extension
    /// (.md, .html, .json, .txt); the HTML page is self-contained (a calendar heatmap, daily
    /// energy bars, month totals, and the dates needing attention with the command that
    /// fixes each). Exit 0 when every date is verified, 1 when any needs attention.
    /// `reconcile` is this assessment plus --fix.
    #[command(after_help = "Examples:
  reingest status 2024-03-01 2024-03-31
  reingest status 2024-01-01 2024-12-31 --output health.html
  reingest status 2024-03-01 2024-03-31 --output march.md
  reingest status 2024-03-01 2024-03-07 --against-api --json | jq '.days[] | select(.state != \"verified\")'")]
    Status(StatusArgs),

    /// List dates whose data is missing or inconsistent; --fix reingests them.
    #[command(after_help = "Example:\n  reingest reconcile 2024-03-01 2024-03-31 --fix")]
    Reconcile(ReconcileArgs),

    /// The audit log of runs, newest first (the newest 50 unless --limit says otherwise).
    #[command(
        after_help = "Examples:\n  reingest runs --date 2024-03-21\n  reingest runs --since 2024-03-01 --limit 200\n  reingest runs --json | jq '.[0].status'"
    )]
    Runs {
        /// Only runs of this settlement date.
        #[arg(long)]
        date: Option<SettlementDate>,
        /// Only runs started on or after this day, YYYY-MM-DD (from 00:00 UTC).
        #[arg(long)]
        since: Option<SettlementDate>,
        /// At most this many runs, the newest (the database reads no more).
        #[arg(long, default_value_t = 50)]
        limit: usize,
    },

    /// Put back the rows a run replaced, through the same verified swap as a run.
    ///
    /// The periods the run replaced hold again what they held before it; every other period
    /// keeps what it holds now; summaries and bitcoin are recomputed and verified. A restore
    /// that does not verify changes nothing (exit 1). The restore is itself an audited run,
    /// so it can be restored in turn.
    #[command(
        after_help = "Examples:\n  reingest runs --date 2024-03-21\n  reingest restore 5f0c…\n  reingest restore 5f0c… --force   # even though a later run replaced some of its periods"
    )]
    Restore {
        /// The run id, from `reingest runs`.
        run_id: String,
        /// Restore even when a later committed run replaced some of the same periods (those
        /// periods then lose the later run's rows; the later run stays restorable).
        #[arg(long)]
        force: bool,
    },

    /// The document of a run for a ticket: why, who, checks, totals, per period, units,
    /// difficulty and subsidy, and how to restore it.
    ///
    /// Give a run id, or a date for its newest committed run. Markdown for tickets, or one
    /// self-contained HTML page (inline CSS and chart, no script, prints cleanly); --json
    /// prints the same content as data.
    #[command(
        after_help = "Examples:\n  reingest report 2024-03-21 > ticket.md\n  reingest report 5f0c… --format html --output 2024-03-21.html\n  reingest report 2024-03-21 --json"
    )]
    Report {
        /// A run id (from `reingest runs`) or a date, YYYY-MM-DD.
        what: RunRef,
        /// md (Markdown) or html.
        #[arg(long, value_enum, default_value_t = ReportFormat::Md)]
        format: ReportFormat,
        /// Write the document to FILE instead of stdout.
        #[arg(long, value_name = "FILE")]
        output: Option<PathBuf>,
    },

    /// What changed in a date between two runs, from their archived API responses.
    #[command(
        after_help = "Examples:\n  reingest diff 2024-03-21                 # the date's last two runs\n  reingest diff 2024-03-21 RUN_A RUN_B --json"
    )]
    Diff {
        /// The date.
        date: SettlementDate,
        /// The older run (default: the second newest committed run).
        run_a: Option<String>,
        /// The newer run (default: the newest committed run).
        run_b: Option<String>,
    },

    /// The archive of raw API responses.
    #[command(subcommand)]
    Archive(ArchiveCommand),

    /// The BM unit registry: sync from the API, import the platform's file, list.
    #[command(
        subcommand,
        after_help = "Examples:\n  reingest bmu sync\n  reingest bmu import bmu-mapping.json\n  reingest bmu list --wind"
    )]
    Bmu(BmuCommand),

    /// The Bitcoin difficulty table: import a file, set one date, sync from a URL.
    #[command(
        subcommand,
        after_help = "Examples:\n  reingest difficulty sync\n  reingest difficulty import difficulty-2024.json\n  reingest difficulty set 2024-04-20 86871474313762"
    )]
    Difficulty(DifficultyCommand),

    /// Apply the database's pending migrations (only additions: tables, nullable columns,
    /// indexes — those on the platform's tables built CONCURRENTLY).
    ///
    /// On PostgreSQL this is the only command that changes the schema: the others stop with
    /// exit 2 while a migration is pending, unless --auto-migrate. The embedded SQLite
    /// database migrates on every command's start.
    #[command(
        after_help = "Examples:\n  DATABASE_URL=postgres://user@db-host/curtailment reingest migrate --dry-run   # the SQL, nothing changed\n  DATABASE_URL=postgres://user@db-host/curtailment reingest migrate"
    )]
    Migrate {
        /// Print the SQL of every pending migration and change nothing.
        #[arg(long)]
        dry_run: bool,
    },
}

impl Command {
    /// The command as typed (`run`, `bmu sync`, …): the `command` label of the metrics and
    /// the PostgreSQL `application_name` (`reingest run`).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Run(_) => "run",
            Command::Range(_) => "range",
            Command::Verify(_) => "verify",
            Command::Reconcile(_) => "reconcile",
            Command::Status(_) => "status",
            Command::Runs { .. } => "runs",
            Command::Restore { .. } => "restore",
            Command::Diff { .. } => "diff",
            Command::Report { .. } => "report",
            Command::Archive(ArchiveCommand::Prune { .. }) => "archive prune",
            Command::Bmu(BmuCommand::Sync) => "bmu sync",
            Command::Bmu(BmuCommand::Import { .. }) => "bmu import",
            Command::Bmu(BmuCommand::List { .. }) => "bmu list",
            Command::Difficulty(DifficultyCommand::Import { .. }) => "difficulty import",
            Command::Difficulty(DifficultyCommand::Set { .. }) => "difficulty set",
            Command::Difficulty(DifficultyCommand::Sync { .. }) => "difficulty sync",
            Command::Difficulty(DifficultyCommand::Halving { .. }) => "difficulty halving",
            Command::Migrate { .. } => "migrate",
        }
    }

    /// The dates the command is about, as typed: `(date, from, to)`, each empty when it
    /// does not apply (a range has `from` and `to`, a one-date command `date`).
    pub fn dates(&self) -> (String, String, String) {
        let one = |d: &SettlementDate| (d.to_string(), String::new(), String::new());
        match self {
            Command::Run(a) => one(&a.date),
            Command::Verify(a) => one(&a.date),
            Command::Diff { date, .. }
            | Command::Runs {
                date: Some(date), ..
            }
            | Command::Difficulty(DifficultyCommand::Set { date, .. }) => one(date),
            Command::Range(a) => (String::new(), a.from.to_string(), a.to.to_string()),
            Command::Reconcile(a) => (String::new(), a.from.to_string(), a.to.to_string()),
            Command::Status(a) => (String::new(), a.from.to_string(), a.to.to_string()),
            _ => Default::default(),
        }
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// The settlement date, YYYY-MM-DD (Europe/London).
    pub date: SettlementDate,
    /// Only these periods: N or A-B (e.g. 1-4); the rest of the day is left as stored.
    #[arg(long)]
    pub periods: Option<String>,
    /// Fetch and process, print per-period before/after, write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Why you are reingesting (kept in the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// Expected day energy, MWh; verification fails outside the tolerance.
    #[arg(long)]
    pub expect_energy: Option<Decimal>,
    /// Expected day payment, GBP.
    #[arg(long)]
    pub expect_payment: Option<Decimal>,
    /// Allowed energy difference, MWh (default 0.001).
    #[arg(long)]
    pub tolerance_energy: Option<Decimal>,
    /// Allowed payment difference, GBP (default 0.01).
    #[arg(long)]
    pub tolerance_payment: Option<Decimal>,
    /// Commit even if verification fails (the report and exit code 1 still say so).
    #[arg(long)]
    pub force: bool,
    /// Accept periods the API does not publish (404): recorded as missing.
    #[arg(long)]
    pub allow_missing_periods: bool,
    /// Never refresh the BM unit registry, even when the day holds unit ids it does not know
    /// (by default a registry filled from the API is refreshed once, at most once a day).
    #[arg(long)]
    pub no_registry_refresh: bool,
    /// Use this Bitcoin difficulty instead of the table.
    #[arg(long)]
    pub difficulty: Option<Decimal>,
    /// Recompute from the archived responses of RUN_ID (default: the date's latest
    /// committed run), with no network.
    #[arg(long, value_name = "RUN_ID", num_args = 0..=1, default_missing_value = "")]
    pub from_archive: Option<String>,
    /// With --from-archive: replay with exactly the reference data the run recorded (its
    /// registry snapshot, difficulty, subsidy and miner models), and fail (exit 1, nothing
    /// changed) unless the rows reproduce its fingerprint. Without it, today's registry and
    /// difficulty are used and the report says which differed.
    #[arg(long, requires = "from_archive")]
    pub as_recorded: bool,
}

#[derive(Debug, Args)]
pub struct RangeArgs {
    /// First date, YYYY-MM-DD.
    pub from: SettlementDate,
    /// Last date, inclusive.
    pub to: SettlementDate,
    /// Dates in flight at once (they share one rate limit and one connection pool).
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub reason: Option<String>,
    /// After an interruption: skip dates an earlier run of this same range committed.
    #[arg(long)]
    pub resume: bool,
    /// Recompute every date from its archived API responses, with no network: today's
    /// registry, difficulty table and miner models (--miners, --miner-models) apply, read
    /// once for the range. Dates never fetched are listed at the end and the command exits
    /// 1, the other dates done.
    #[arg(long)]
    pub from_archive: bool,
    /// With --from-archive: replay each date's newest committed run exactly (its registry
    /// snapshot, difficulty, subsidy and miner models); a date whose rows do not reproduce
    /// its fingerprint fails (rolled back, exit 1).
    #[arg(long, requires = "from_archive")]
    pub as_recorded: bool,
    /// With --from-archive: fetch the dates that have no archived run from the API
    /// (rate-limited as a live range) instead of listing them.
    #[arg(long, requires = "from_archive")]
    pub fetch_missing: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The date.
    pub date: SettlementDate,
    /// Also fetch the day from the API and report per-period drift.
    #[arg(long)]
    pub against_api: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// First date, YYYY-MM-DD.
    pub from: SettlementDate,
    /// Last date, inclusive.
    pub to: SettlementDate,
    /// Also fetch each date from the API and mark the periods that differ (drift).
    #[arg(long)]
    pub against_api: bool,
    /// Write the report to this file instead of printing the table; the extension picks
    /// the form: .md (Markdown), .html (a self-contained page), .json, .txt.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Dates fetched from the API at once (with --against-api).
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
}

#[derive(Debug, Args)]
pub struct ReconcileArgs {
    /// First date.
    pub from: SettlementDate,
    /// Last date, inclusive.
    pub to: SettlementDate,
    /// Also compare each date with the API.
    #[arg(long)]
    pub against_api: bool,
    /// Reingest every date found.
    #[arg(long)]
    pub fix: bool,
    /// Drift threshold for energy, MWh.
    #[arg(long, default_value = "1")]
    pub threshold_energy: Decimal,
    /// Drift threshold for payment, GBP.
    #[arg(long, default_value = "10")]
    pub threshold_payment: Decimal,
    /// Dates in flight at once for --fix.
    #[arg(long, default_value_t = 4)]
    pub jobs: usize,
}

#[derive(Debug, Subcommand)]
pub enum ArchiveCommand {
    /// Delete archived responses except those of each date's newest N runs (the newest
    /// run of every date always keeps its sources).
    #[command(after_help = "Example:\n  reingest archive prune --keep-last 3")]
    Prune {
        /// Runs per date whose sources are kept (at least 1).
        #[arg(long, default_value_t = 3)]
        keep_last: usize,
    },
}

#[derive(Debug, Subcommand)]
pub enum BmuCommand {
    /// Replace the registry with the API's /reference/bmunits/all.
    Sync,
    /// Replace the registry with a JSON array file (elexonBmUnit, fuelType, leadPartyName, …).
    Import {
        /// The file.
        file: PathBuf,
    },
    /// List the registry.
    List {
        /// Only wind units.
        #[arg(long)]
        wind: bool,
    },
}

/// The format of `reingest report`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Markdown, for tickets.
    Md,
    /// One self-contained HTML page.
    Html,
}

#[derive(Debug, Subcommand)]
pub enum DifficultyCommand {
    /// Import a CSV (date,difficulty), a JSON map {"YYYY-MM-DD": "…"} or a mempool.space dump.
    Import {
        /// The file.
        file: PathBuf,
    },
    /// Set the difficulty in force from DATE.
    Set {
        /// The date.
        date: SettlementDate,
        /// The difficulty.
        value: Decimal,
    },
    /// Read a mempool.space-compatible difficulty-adjustments URL into the table.
    Sync {
        /// The URL (default: --difficulty-url).
        #[arg(long)]
        url: Option<String>,
    },
    /// Record the UTC day of a halving block (the block subsidy halves from that day on).
    ///
    /// The four halvings up to block 840,000 (2024-04-20) are shipped; add the next one
    /// (block 1,050,000) once it has happened. Until then a date past it stops with exit 2
    /// rather than assume a subsidy.
    #[command(after_help = "Example:\n  reingest difficulty halving 1050000 2028-04-17")]
    Halving {
        /// The halving block's height (a multiple of 210000).
        height: u64,
        /// The UTC day of that block, YYYY-MM-DD.
        date: SettlementDate,
    },
}

/// Whether log lines on stderr may carry colour: only on a terminal, and only when
/// `NO_COLOR` is not set (<https://no-color.org>; any value, even empty, turns colour off).
fn stderr_colour() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Sets up tracing: stderr (warnings by default, `RUST_LOG` respected; colour only on a
/// terminal without `NO_COLOR`), optionally a file (never coloured).
pub fn init_logging(global: &Global) -> Result<(), SetupError> {
    use tracing_subscriber::prelude::*;
    use tracing_subscriber::{fmt, EnvFilter};
    let default = if global.quiet {
        "error"
    } else {
        "warn,reingest=info,store=info"
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let stderr = fmt::layer()
        .with_writer(|| crate::term::LogWriter)
        .with_ansi(stderr_colour())
        .with_target(false)
        .compact();
    let file_layer = match &global.log_file {
        Some(path) => {
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(|error| SetupError::LogFile {
                    path: path.clone(),
                    error,
                })?;
            Some(
                fmt::layer()
                    .with_writer(std::sync::Mutex::new(file))
                    .with_ansi(false),
            )
        }
        None => None,
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(stderr)
        .with(file_layer)
        .try_init()
        .map_err(|error| SetupError::Logging { error })
}
