//! One function per command: validate, call the library, print, return the exit code.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use elexon_client::Format;
use indicatif::{ProgressBar, ProgressStyle};
use reingest::app::{AppSettings, MigrationPolicy, StandardPipeline};
use reingest::error::{DifficultyError, InputError};
use reingest::ops::assess::AssessOptions;
use reingest::ops::range::{ArchiveReplay, RangeOptions, ReconcileOptions};
use reingest::output::render;
use reingest::output::status::{self, StatusForm};
use reingest::{Expectations, HttpDifficultyFeed, PipelineError, Progress, RunOptions, EXIT_OK};
use settlement_model::{PeriodRange, SettlementDate};
use store::prelude::*;

use crate::cli::{
    ArchiveCommand, BmuCommand, Cli, Command, DifficultyCommand, Global, ReportFormat, WireFormat,
};
use crate::metrics::Recorder;
use crate::out;

type CliPipeline = StandardPipeline;

/// Runs the command and returns the exit code; errors become one line on stderr.
/// With `--json`, an error is also one JSON document on stdout, so scripts always get one.
/// What the command observes (totals, API counters) goes to `metrics`.
pub async fn dispatch(args: Cli, metrics: &Recorder) -> i32 {
    let json = args.global.json;
    match execute(args, metrics).await {
        Ok(code) => code,
        Err(e) => {
            let text = crate::error_line::line(&e);
            out::error_line(format_args!("error: {text}"));
            if json {
                let doc = serde_json::json!({"error": text, "exit_code": e.exit_code()});
                // Already exit 2: a stdout that cannot take the document changes nothing.
                let _ = out::stdout(&format!("{doc}\n"));
            }
            e.exit_code()
        }
    }
}

/// The library's settings from the parsed flags (which fall back to the environment);
/// PostgreSQL sessions are named after `command`.
fn settings(g: &Global, command: &Command) -> AppSettings {
    let mut s = AppSettings::new(g.database_url.clone(), g.elexon_url.clone());
    s.format = match g.format {
        WireFormat::Xml => Format::Xml,
        WireFormat::Json => Format::Json,
    };
    s.difficulty_url = g.difficulty_url.clone();
    s.miners = g.miners.clone();
    s.miner_models = g.miner_models.clone();
    s.rate_limit = g.rate_limit;
    s.timeout = Duration::from_secs(g.timeout_secs);
    s.max_attempts = g.max_attempts;
    s.max_body_bytes = g.max_body_mib.saturating_mul(1024 * 1024);
    s.lock_timeout = Duration::from_secs(g.lock_timeout_secs);
    s.allow_insecure_http = g.allow_insecure_http;
    s.archive_dir = g.archive_dir.clone();
    s.application_name = format!("reingest {}", command.name());
    s.statement_timeout = Duration::from_secs(g.statement_timeout_secs);
    s.idle_in_transaction_timeout = Duration::from_secs(g.idle_in_transaction_timeout_secs);
    // A date in flight holds a connection for its swap and briefly another for reads; at most
    // 32, well under PostgreSQL's default 100 connections, however many --jobs.
    let jobs = match command {
        Command::Range(a) => a.jobs,
        Command::Reconcile(a) => a.jobs,
        Command::Status(a) => a.jobs,
        _ => 1,
    };
    let wanted = u32::try_from(jobs.saturating_mul(2).saturating_add(2)).unwrap_or(u32::MAX);
    s.pool_size = s.pool_size.max(wanted.min(32));
    s.describe_error = crate::error_line::line;
    s.describe_registry_note = crate::registry_note::line;
    s.migrations = match command {
        Command::Migrate { dry_run: true } => MigrationPolicy::Skip,
        Command::Migrate { dry_run: false } => MigrationPolicy::Apply,
        _ if g.auto_migrate => MigrationPolicy::Apply,
        _ => MigrationPolicy::Require,
    };
    s
}

/// Rejects bad dates and period ranges before anything connects or writes.
fn validate(command: &Command) -> Result<(), PipelineError> {
    match command {
        Command::Run(a) => {
            let date = a.date;
            if let Some(p) = &a.periods {
                PeriodRange::parse(p, date)?;
            }
            if let Some(d) = a.difficulty.filter(|d| *d <= rust_decimal::Decimal::ZERO) {
                return Err(InputError::NotPositive {
                    what: "--difficulty",
                    value: d,
                }
                .into());
            }
            for (flag, t) in [
                ("--tolerance-energy", a.tolerance_energy),
                ("--tolerance-payment", a.tolerance_payment),
            ] {
                if let Some(t) = t.filter(|t| t.is_sign_negative()) {
                    return Err(InputError::Negative { flag, value: t }.into());
                }
            }
        }
        Command::Archive(ArchiveCommand::Prune { keep_last: 0 }) => {
            return Err(InputError::Zero {
                flag: "--keep-last",
                why: ": the newest run of every date keeps its sources",
            }
            .into());
        }
        Command::Range(a) => {
            RangeOptions::new(a.from, a.to, a.jobs, None)?;
        }
        Command::Reconcile(a) => {
            RangeOptions::new(a.from, a.to, a.jobs, None)?;
        }
        Command::Status(a) => {
            RangeOptions::new(a.from, a.to, a.jobs, None)?;
            if let Some(path) = &a.output {
                StatusForm::from_path(path)?;
            }
        }
        Command::Runs { limit: 0, .. } => {
            return Err(InputError::Zero {
                flag: "--limit",
                why: "",
            }
            .into());
        }
        Command::Difficulty(DifficultyCommand::Set { value, .. })
            if *value <= rust_decimal::Decimal::ZERO =>
        {
            return Err(InputError::NotPositive {
                what: "difficulty",
                value: *value,
            }
            .into());
        }
        _ => {}
    }
    Ok(())
}

async fn execute(args: Cli, metrics: &Recorder) -> Result<i32, PipelineError> {
    let g = &args.global;
    validate(&args.command)?;
    let settings = settings(g, &args.command);
    // Miner models are checked before connecting too.
    settings.pipeline_config()?;
    let pipeline = settings.build().await?;
    metrics.source(pipeline.source());
    let json = g.json;
    match args.command {
        Command::Run(a) => {
            let date = a.date;
            let periods = a
                .periods
                .as_deref()
                .map(|p| PeriodRange::parse(p, date))
                .transpose()?;
            let mut pipeline = pipeline;
            if let Some(d) = a.difficulty {
                pipeline = pipeline.with_difficulty_override(d);
            }
            let opts = RunOptions {
                date,
                periods,
                dry_run: a.dry_run,
                reason: a.reason,
                expectations: Expectations {
                    energy_mwh: a.expect_energy,
                    payment_gbp: a.expect_payment,
                    tolerance_energy: a.tolerance_energy,
                    tolerance_payment: a.tolerance_payment,
                    fingerprint: None,
                },
                force: a.force,
                allow_missing_periods: a.allow_missing_periods,
                no_registry_refresh: a.no_registry_refresh,
                range_tag: None,
            };
            let bar = progress_bar(g, "fetching", 0);
            let report = match a.from_archive.as_deref() {
                Some(run) => {
                    let run = Some(run).filter(|r| !r.is_empty());
                    pipeline
                        .run_from_archive(&opts, run, a.as_recorded, &bar)
                        .await
                }
                None => pipeline.run(&opts, &bar).await,
            };
            bar.finish();
            let report = report?;
            metrics.totals(report.records, report.energy_mwh, report.payment_gbp);
            Ok(out::print(
                json,
                &report,
                || render::run_text(&report),
                report.exit_code(),
            ))
        }
        Command::Verify(a) => {
            let date = a.date;
            let bar = progress_bar(g, "fetching", 0);
            let report = pipeline.verify(date, a.against_api, &bar).await;
            bar.finish();
            let report = report?;
            metrics.totals(report.records, report.energy_mwh, report.payment_gbp);
            Ok(out::print(
                json,
                &report,
                || render::verify_text(&report),
                report.exit_code(),
            ))
        }
        Command::Range(a) => {
            let from = a.from;
            let to = a.to;
            let mut opts = RangeOptions::new(from, to, a.jobs, a.reason)?.resume(a.resume);
            if a.from_archive {
                opts = opts.from_archive(ArchiveReplay {
                    as_recorded: a.as_recorded,
                    fetch_missing: a.fetch_missing,
                });
            }
            let bar = progress_bar(g, "dates", opts.dates().len());
            let report = pipeline.range(&opts, &bar).await;
            bar.finish();
            let report = report?;
            metrics.range(&report);
            Ok(out::print(
                json,
                &report,
                || render::range_text(&report),
                report.exit_code(),
            ))
        }
        Command::Reconcile(a) => {
            let from = a.from;
            let to = a.to;
            let opts = ReconcileOptions {
                from,
                to,
                against_api: a.against_api,
                fix: a.fix,
                threshold_energy: a.threshold_energy,
                threshold_payment: a.threshold_payment,
                jobs: a.jobs,
            };
            let bar = progress_bar(g, "dates", from.through(to).count());
            let report = pipeline.reconcile(&opts, &bar).await;
            bar.finish();
            let report = report?;
            if let Some(fixed) = &report.fixed {
                metrics.range(fixed);
            }
            Ok(out::print(
                json,
                &report,
                || render::reconcile_text(&report),
                report.exit_code(),
            ))
        }
        Command::Status(a) => {
            let opts = AssessOptions {
                from: a.from,
                to: a.to,
                against_api: a.against_api,
                jobs: a.jobs,
            };
            let bar = progress_bar(g, "dates", opts.from.through(opts.to).count());
            let assessment = pipeline.assess(&opts, &bar).await;
            bar.finish();
            let assessment = assessment?;
            if let Some(path) = &a.output {
                let text = status::render(&assessment, StatusForm::from_path(path)?);
                std::fs::write(path, text).map_err(|source| InputError::File {
                    action: "write",
                    path: path.clone(),
                    source,
                })?;
                out::error_line(format_args!("status written to {}", path.display()));
            }
            let code = if assessment.attention().next().is_some() {
                reingest::EXIT_MISMATCH
            } else {
                EXIT_OK
            };
            if json || a.output.is_none() {
                Ok(out::print(
                    json,
                    &assessment,
                    || status::render(&assessment, StatusForm::Text),
                    code,
                ))
            } else {
                Ok(code)
            }
        }
        Command::Runs { date, since, limit } => {
            let query = store::RunsQuery {
                date,
                since: since.map(|d| d.naive()),
                limit,
            };
            let store = Arc::clone(pipeline.store());
            let runs = tokio::task::spawn_blocking(move || store.runs_page(&query)).await??;
            let runs = pipeline.listing(runs).await?;
            let code = out::print(
                json,
                &runs,
                || {
                    let mut text = render::runs_text(&runs);
                    if runs.len() == limit {
                        text.push_str(&format!(
                            "(the newest {limit} runs; --limit N or --since DATE for others)\n"
                        ));
                    }
                    text
                },
                EXIT_OK,
            );
            Ok(code)
        }
        Command::Restore { run_id, force } => {
            let report = pipeline.restore(&run_id, force).await?;
            metrics.totals(report.records, report.energy_mwh, report.payment_gbp);
            Ok(out::print(
                json,
                &report,
                || render::run_text(&report),
                report.exit_code(),
            ))
        }
        Command::Report {
            what,
            format,
            output,
        } => {
            let doc = pipeline.report(&what).await?;
            if json {
                return Ok(out::print(true, &doc, String::new, EXIT_OK));
            }
            let text = match format {
                ReportFormat::Md => reingest::output::document::markdown::render(&doc),
                ReportFormat::Html => reingest::output::document::html::render(&doc),
            };
            match output {
                Some(path) => {
                    std::fs::write(&path, text).map_err(|source| InputError::File {
                        action: "write",
                        path: path.clone(),
                        source,
                    })?;
                    out::error_line(format_args!("report written to {}", path.display()));
                    Ok(EXIT_OK)
                }
                None => Ok(out::print(false, &(), || text, EXIT_OK)),
            }
        }
        Command::Diff { date, run_a, run_b } => {
            let report = pipeline
                .diff(date, run_a.as_deref(), run_b.as_deref())
                .await?;
            Ok(out::print(
                json,
                &report,
                || render::diff_text(&report),
                EXIT_OK,
            ))
        }
        Command::Archive(ArchiveCommand::Prune { keep_last }) => {
            let report = pipeline.prune_archive(keep_last).await?;
            let code = out::print(
                json,
                &report,
                || {
                    format!(
                        "archive pruned: {} entries deleted, {} kept (sources of {} runs); \
                     backups kept for {} runs, {} backed-up rows of older runs deleted\n",
                        report.deleted,
                        report.kept,
                        report.runs_kept,
                        report.backups_kept,
                        report.backup_rows_deleted
                    )
                },
                EXIT_OK,
            );
            Ok(code)
        }
        Command::Bmu(cmd) => bmu(&pipeline, cmd, json).await,
        Command::Difficulty(cmd) => difficulty(&pipeline, g, cmd, json).await,
        Command::Migrate { dry_run: false } => Ok(out::print(
            json,
            &serde_json::json!({"migrated": true}),
            || "migrations applied: the database is up to date".to_owned(),
            EXIT_OK,
        )),
        Command::Migrate { dry_run: true } => {
            let store = Arc::clone(pipeline.store());
            let pending =
                tokio::task::spawn_blocking(move || store.pending_migration_sql()).await??;
            let names: Vec<&str> = pending.iter().map(|(n, _)| n.as_str()).collect();
            let code = out::print(
                json,
                &serde_json::json!({"pending": names, "sql": pending.iter().map(|(_, s)| *s).collect::<Vec<_>>()}),
                || {
                    if pending.is_empty() {
                        return "no pending migrations: the database is up to date\n".to_owned();
                    }
                    let mut out = format!(
                        "-- {} pending migration(s); nothing was changed\n",
                        pending.len()
                    );
                    for (name, sql) in &pending {
                        out.push_str(&format!("\n-- migration {name}\n{sql}"));
                        if !sql.ends_with('\n') {
                            out.push('\n');
                        }
                    }
                    out
                },
                EXIT_OK,
            );
            Ok(code)
        }
    }
}

async fn bmu(pipeline: &CliPipeline, cmd: BmuCommand, json: bool) -> Result<i32, PipelineError> {
    let code = match cmd {
        BmuCommand::Sync => {
            let report = pipeline.sync_bm_units().await?;
            out::print(
                json,
                &report,
                || render::registry_text(&report, "the API"),
                EXIT_OK,
            )
        }
        BmuCommand::Import { file } => {
            let body = std::fs::read(&file).map_err(|source| InputError::File {
                action: "read",
                path: file.clone(),
                source,
            })?;
            let list = elexon_client::parse_bm_units_json(&body).map_err(|source| {
                InputError::BmUnitsFile {
                    path: file.clone(),
                    source,
                }
            })?;
            if list.units.is_empty() && list.without_id.is_empty() {
                return Err(InputError::NoBmUnits { path: file }.into());
            }
            let report = pipeline
                .replace_registry(list, settlement_model::RegistryOrigin::File)
                .await?;
            out::print(
                json,
                &report,
                || render::registry_text(&report, &file.display().to_string()),
                EXIT_OK,
            )
        }
        BmuCommand::List { wind } => {
            let store = Arc::clone(pipeline.store());
            let mut units = tokio::task::spawn_blocking(move || store.bm_units()).await??;
            if wind {
                units.retain(|u| u.is_wind());
            }
            units.sort_by(|a, b| a.elexon_bm_unit.cmp(&b.elexon_bm_unit));
            out::print(json, &units, || render::bmu_text(&units), EXIT_OK)
        }
    };
    Ok(code)
}

async fn difficulty(
    pipeline: &CliPipeline,
    g: &Global,
    cmd: DifficultyCommand,
    json: bool,
) -> Result<i32, PipelineError> {
    let rows = match cmd {
        DifficultyCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|source| InputError::File {
                action: "read",
                path: file.clone(),
                source,
            })?;
            bitcoin_calc::parse_difficulty_entries(&text).map_err(|source| {
                InputError::DifficultyFile {
                    path: file.clone(),
                    source,
                }
            })?
        }
        DifficultyCommand::Set { date, value } => {
            vec![settlement_model::DifficultyEntry::new(date.naive(), value)]
        }
        DifficultyCommand::Halving { height, date } => {
            let day = date.naive();
            let halving = settlement_model::Halving::new(height, day)
                .ok_or(InputError::NotAHalving { height })?;
            let store = Arc::clone(pipeline.store());
            tokio::task::spawn_blocking(move || store.upsert_halving(halving, "operator"))
                .await??;
            return Ok(out::print(
                json,
                &serde_json::json!({"halving": {"height": height, "date": day.to_string()}}),
                || format!("halving at block {height}: {day}"),
                EXIT_OK,
            ));
        }
        DifficultyCommand::Sync { url } => {
            let url = url.unwrap_or_else(|| g.difficulty_url.clone());
            let feed = HttpDifficultyFeed::new(pipeline.source().clone(), url.clone());
            reingest::DifficultyFeed::fetch(&feed)
                .await
                .map_err(|source| DifficultyError::FeedUnreadable {
                    feed: reingest::DifficultyFeed::describe(&feed),
                    source,
                })?
        }
    };
    let count = rows.len();
    let store = Arc::clone(pipeline.store());
    let n = tokio::task::spawn_blocking(move || store.upsert_difficulties(&rows)).await??;
    Ok(out::print(
        json,
        &serde_json::json!({"difficulty_entries": n}),
        || format!("difficulty table: {n} of {count} entries written"),
        EXIT_OK,
    ))
}

/// A progress bar on stderr when it is a terminal, hidden otherwise. For `run` and
/// `verify` it counts requests; for `range` and `reconcile`, dates, with the records seen
/// and the dates that failed so far.
struct Bar {
    bar: ProgressBar,
    records: AtomicU64,
    failed: AtomicU64,
}

impl Bar {
    fn new(bar: ProgressBar) -> Self {
        Self {
            bar,
            records: AtomicU64::new(0),
            failed: AtomicU64::new(0),
        }
    }

    fn finish(&self) {
        crate::term::set_active_bar(None);
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn fetch_started(&self, date: SettlementDate, requests: usize) {
        self.bar.set_length(requests as u64);
        self.bar.set_position(0);
        self.bar.set_message(format!("{date}"));
    }
    fn request_done(&self) {
        self.bar.inc(1);
    }
    fn date_done(&self, total: usize, records: u64, ok: bool) {
        let records = self.records.fetch_add(records, Ordering::Relaxed) + records;
        let failed = self.failed.fetch_add(u64::from(!ok), Ordering::Relaxed) + u64::from(!ok);
        self.bar.set_length(total as u64);
        self.bar
            .set_message(format!("dates: {records} records, {failed} failed"));
        self.bar.inc(1);
    }
}

/// A bar counting `len` things (0: set when the work starts).
fn progress_bar(g: &Global, what: &str, len: usize) -> Bar {
    if g.quiet || !std::io::stderr().is_terminal() {
        return Bar::new(ProgressBar::hidden());
    }
    let bar = ProgressBar::new(len as u64);
    let style =
        ProgressStyle::with_template("{spinner} {msg} [{bar:40}] {pos}/{len} {per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar());
    bar.set_style(style);
    bar.set_message(what.to_owned());
    crate::term::set_active_bar(Some(bar.clone()));
    Bar::new(bar)
}
