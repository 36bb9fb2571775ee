//! `--metrics-file`: a Prometheus textfile written at the end of every command, successful or
//! not, for node_exporter's textfile collector (so cron has something to alert on besides
//! the exit code). The file is written beside its final name and renamed over it, so the
//! collector never reads half a file.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use elexon_client::HttpSource;
use reingest::ops::range::RangeReport;
use rust_decimal::Decimal;

use crate::setup_error::SetupError;

/// The labels every metric of one command carries.
#[derive(Debug, Clone, Default)]
pub struct Labels {
    /// The command, as in `application_name` (`run`, `bmu sync`, …).
    pub command: String,
    /// The date of a one-date command (empty otherwise).
    pub date: String,
    /// The first date of a range (empty otherwise).
    pub from: String,
    /// The last date of a range (empty otherwise).
    pub to: String,
}

/// What the command observed, filled in as it runs.
#[derive(Debug, Default)]
struct Observed {
    records: Option<u64>,
    energy_mwh: Option<Decimal>,
    payment_gbp: Option<Decimal>,
    failed_dates: Option<u64>,
    source: Option<HttpSource>,
    db_statements: Option<u64>,
}

/// Collects one command's metrics and writes them at its end (when a path is configured).
#[derive(Debug)]
pub struct Recorder {
    path: Option<PathBuf>,
    labels: Labels,
    started: Instant,
    observed: Mutex<Observed>,
}

impl Recorder {
    /// A recorder for the command described by `labels`, writing to `path` if there is one.
    pub fn new(path: Option<PathBuf>, labels: Labels) -> Self {
        Self {
            path,
            labels,
            started: Instant::now(),
            observed: Mutex::new(Observed::default()),
        }
    }

    fn observed(&self) -> MutexGuard<'_, Observed> {
        self.observed.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The day totals the command produced or read.
    pub fn totals(&self, records: u64, energy_mwh: Decimal, payment_gbp: Decimal) {
        let mut o = self.observed();
        o.records = Some(records);
        o.energy_mwh = Some(energy_mwh);
        o.payment_gbp = Some(payment_gbp);
    }

    /// A range's totals over its dates, and how many dates failed.
    pub fn range(&self, report: &RangeReport) {
        let records = report.dates.iter().map(|d| d.records).sum();
        let energy = report.dates.iter().map(|d| d.energy_mwh).sum();
        let payment = report.dates.iter().map(|d| d.payment_gbp).sum();
        self.totals(records, energy, payment);
        let failed = report
            .dates
            .iter()
            .filter(|d| !d.status.succeeded())
            .count();
        self.observed().failed_dates = Some(u64::try_from(failed).unwrap_or(u64::MAX));
    }

    /// The SQL statements the command sent to its database.
    pub fn db_statements(&self, n: u64) {
        self.observed().db_statements = Some(n);
    }

    /// The API client whose request and retry counters the metrics report.
    pub fn source(&self, source: &HttpSource) {
        self.observed().source = Some(source.clone());
    }

    /// Writes the file if a path is configured; `exit_code` is the command's.
    pub fn write(&self, exit_code: i32) -> Result<(), SetupError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let text = self.render(exit_code, self.started.elapsed(), SystemTime::now());
        write_atomically(path, &text).map_err(|error| SetupError::MetricsWrite {
            path: path.clone(),
            error,
        })
    }

    /// The textfile: `# HELP`, `# TYPE` and one sample per metric the command has a value
    /// for.
    pub fn render(&self, exit_code: i32, elapsed: Duration, now: SystemTime) -> String {
        let labels = format!(
            "command=\"{}\",date=\"{}\",from=\"{}\",to=\"{}\"",
            escape(&self.labels.command),
            escape(&self.labels.date),
            escape(&self.labels.from),
            escape(&self.labels.to)
        );
        let since_epoch = now.duration_since(UNIX_EPOCH).unwrap_or_default();
        let o = self.observed();
        let mut samples: Vec<(&str, &str, String)> = vec![
            (
                "reingest_last_run_timestamp_seconds",
                "When the last run of the command ended, Unix time.",
                seconds(since_epoch),
            ),
            (
                "reingest_last_run_success",
                "1 if the last run exited 0, else 0.",
                u8::from(exit_code == reingest::EXIT_OK).to_string(),
            ),
            (
                "reingest_last_run_exit_code",
                "The exit code of the last run: 0 ok, 1 verification mismatch, 2 error, 130 interrupted.",
                exit_code.to_string(),
            ),
            (
                "reingest_run_duration_seconds",
                "Wall time of the last run.",
                seconds(elapsed),
            ),
        ];
        if let Some(n) = o.records {
            samples.push((
                "reingest_run_records",
                "Curtailment records of the date (a range: of all its dates).",
                n.to_string(),
            ));
        }
        if let Some(e) = o.energy_mwh {
            samples.push((
                "reingest_run_energy_mwh",
                "Curtailed energy of the date (a range: of all its dates), MWh.",
                e.to_string(),
            ));
        }
        if let Some(p) = o.payment_gbp {
            samples.push((
                "reingest_run_payment_gbp",
                "Curtailment payment of the date (a range: of all its dates), GBP.",
                p.to_string(),
            ));
        }
        if let Some(n) = o.failed_dates {
            samples.push((
                "reingest_run_failed_dates",
                "Dates of the range that did not succeed.",
                n.to_string(),
            ));
        }
        if let Some(source) = &o.source {
            samples.push((
                "reingest_run_api_requests",
                "HTTP requests sent to the API and the difficulty feed, retries included.",
                source.requests_sent().to_string(),
            ));
            samples.push((
                "reingest_run_api_retries",
                "HTTP requests that were retries of a failed one.",
                source.retries().to_string(),
            ));
        }
        if let Some(n) = o.db_statements {
            samples.push((
                "reingest_run_db_statements",
                "SQL statements sent to the database (BEGIN and COMMIT included).",
                n.to_string(),
            ));
        }
        let mut out = String::new();
        for (name, help, value) in samples {
            let _ = writeln!(out, "# HELP {name} {help}");
            let _ = writeln!(out, "# TYPE {name} gauge");
            let _ = writeln!(out, "{name}{{{labels}}} {value}");
        }
        out
    }
}

/// Checks before any work that the metrics file's folder exists, so a typo fails at once
/// rather than after an hour's range.
pub fn check_path(path: &Path) -> Result<(), SetupError> {
    let dir = folder(path);
    if dir.is_dir() {
        Ok(())
    } else {
        Err(SetupError::MetricsFolder {
            path: path.to_path_buf(),
            folder: dir.to_path_buf(),
        })
    }
}

/// The folder a file is in (`.` for a bare name).
fn folder(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// Writes `text` to a hidden temporary file in `path`'s folder (not ending in `.prom`, so
/// the collector ignores it), then renames it over `path`.
fn write_atomically(path: &Path, text: &str) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "metrics".to_owned());
    let tmp = folder(path).join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&tmp, text).and_then(|()| std::fs::rename(&tmp, path));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// A duration as decimal seconds with millisecond precision, from integers.
fn seconds(d: Duration) -> String {
    format!("{}.{:03}", d.as_secs(), d.subsec_millis())
}

/// A label value escaped as the text format requires (`\`, `"` and newlines).
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn every_sample_has_help_type_labels_and_a_numeric_value() {
        let r = Recorder::new(
            None,
            Labels {
                command: "run".into(),
                date: "2024-03-21\"\\\n".into(),
                ..Labels::default()
            },
        );
        r.totals(3, Decimal::new(-12345, 3), Decimal::new(1000001, 2));
        let text = r.render(
            1,
            Duration::from_millis(61_005),
            UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        );
        assert!(text.contains(
            "reingest_run_energy_mwh{command=\"run\",date=\"2024-03-21\\\"\\\\\\n\",from=\"\",to=\"\"} -12.345\n"
        ));
        assert!(text.contains("reingest_last_run_success{"));
        assert!(text.contains("} 0\n"));
        assert!(text.contains("reingest_run_duration_seconds{") && text.contains("} 61.005\n"));
        assert!(text.contains("} 1700000000.000\n"));
        assert!(!text.contains("reingest_run_failed_dates"), "not a range");
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = line.rsplit_once(' ').unwrap();
            value.parse::<f64>().unwrap();
        }
    }

    #[test]
    fn the_file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("reingest.prom");
        std::fs::write(&path, "old").unwrap();
        let r = Recorder::new(Some(path.clone()), Labels::default());
        r.write(2).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("reingest_last_run_success{"), "{text}");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temp file left"
        );
        assert!(check_path(&path).is_ok());
        assert!(check_path(&dir.path().join("missing/x.prom")).is_err());
    }
}
