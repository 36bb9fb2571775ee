//! `reingest status FROM TO`: the [`Assessment`] of a range in four forms — a text table
//! (`text`), Markdown (`markdown`), a self-contained HTML page whose first part is a
//! calendar of the range (`html`), and JSON (the assessment serialised, exact decimals).
//! `--output FILE` picks the form from the file's extension; month totals shared by the
//! forms are in `totals`.

use std::path::Path;

use crate::error::InputError;
use crate::ops::assess::{Assessment, DayAssessment, DayHealth};
use crate::verify::check_name::CheckName;

pub mod html;
pub mod markdown;
pub mod text;
pub mod totals;

#[cfg(test)]
mod fixture_tests;

/// A form of the status report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusForm {
    /// The text table (stdout's default).
    Text,
    /// Markdown (`.md`).
    Markdown,
    /// One self-contained HTML page (`.html`, `.htm`).
    Html,
    /// The assessment as one JSON document (`.json`, or the global `--json`).
    Json,
}

impl StatusForm {
    /// The form a file's extension names: `.md`, `.html`/`.htm`, `.json`, `.txt`; any other
    /// is an input error naming the extensions known.
    pub fn from_path(path: &Path) -> Result<Self, InputError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("md" | "markdown") => Ok(StatusForm::Markdown),
            Some("html" | "htm") => Ok(StatusForm::Html),
            Some("json") => Ok(StatusForm::Json),
            Some("txt") => Ok(StatusForm::Text),
            _ => Err(InputError::OutputExtension {
                path: path.to_path_buf(),
            }),
        }
    }
}

/// The report in `form`, ending with a newline.
pub fn render(a: &Assessment, form: StatusForm) -> String {
    match form {
        StatusForm::Text => text::render(a),
        StatusForm::Markdown => markdown::render(a),
        StatusForm::Html => html::render(a),
        StatusForm::Json => match serde_json::to_string_pretty(a) {
            Ok(s) => format!("{s}\n"),
            // Serialising plain data cannot fail; say so in the document if it ever does.
            Err(e) => format!("{{\"error\": \"cannot render JSON: {e}\"}}\n"),
        },
    }
}

/// The command that fixes a date that needs attention: a run of the whole date, with a
/// reason naming its state.
pub fn fix_command(day: &DayAssessment) -> String {
    format!(
        "reingest run {} --reason 'status: {}'",
        day.date,
        day.state.as_str()
    )
}

/// The command for the report of the date's newest run, if it has one.
pub fn report_command(day: &DayAssessment) -> Option<String> {
    day.newest_run
        .as_ref()
        .map(|r| format!("reingest report {}", r.run_id))
}

/// Why a date needs attention, in one line: its failed checks, missing or drifted periods,
/// the newest run's failure, or the error that stopped its comparison with the API.
pub fn why(day: &DayAssessment) -> String {
    let mut parts = Vec::new();
    if let Some(e) = &day.error {
        parts.push(format!("could not be checked: {}", shortened(e)));
    }
    match day.state {
        DayHealth::Failed => {
            if let Some(r) = &day.newest_run {
                parts.push(format!(
                    "newest run {}{}",
                    r.status.as_str(),
                    r.detail
                        .as_deref()
                        .map(|d| format!(": {}", shortened(d)))
                        .unwrap_or_default()
                ));
            }
        }
        DayHealth::NeverRun => parts.push("never ingested".into()),
        DayHealth::Incomplete => parts.push(format!(
            "periods not fetched: {}",
            periods(&day.missing_periods)
        )),
        DayHealth::Drift => parts.push(format!(
            "periods differing from the API: {}",
            periods(&day.drift_periods)
        )),
        DayHealth::Inconsistent => {
            let names: Vec<&str> = day
                .failed_checks
                .iter()
                .filter(|c| c.name != CheckName::PeriodsFetched && c.name != CheckName::MatchesApi)
                .map(|c| c.name.as_str())
                .collect();
            parts.push(format!("failed checks: {}", names.join(", ")));
        }
        DayHealth::Verified => {}
    }
    parts.join("; ")
}

/// The first line of `text`, at most 200 characters (an error's detail can run long; the
/// run's report has all of it).
fn shortened(text: &str) -> String {
    const MAX: usize = 200;
    let line = text.lines().next().unwrap_or_default();
    if line.chars().count() > MAX || line.len() < text.trim_end().len() {
        let cut: String = line.chars().take(MAX).collect();
        format!("{cut}…")
    } else {
        line.to_owned()
    }
}

/// Periods as `1-3,7,9-10`.
pub fn periods(list: &[u8]) -> String {
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    while i < list.len() {
        let start = list[i];
        let mut end = start;
        while i + 1 < list.len() && list[i + 1] == end.saturating_add(1) {
            i += 1;
            end = list[i];
        }
        out.push(if start == end {
            start.to_string()
        } else {
            format!("{start}-{end}")
        });
        i += 1;
    }
    out.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_are_runs() {
        assert_eq!(periods(&[1, 2, 3, 7, 9, 10]), "1-3,7,9-10");
        assert_eq!(periods(&[]), "");
        assert_eq!(periods(&[48]), "48");
    }

    #[test]
    fn the_extension_picks_the_form() {
        let form = |p: &str| StatusForm::from_path(Path::new(p));
        assert_eq!(form("health.html").unwrap(), StatusForm::Html);
        assert_eq!(form("a/b.MD").unwrap(), StatusForm::Markdown);
        assert_eq!(form("x.json").unwrap(), StatusForm::Json);
        assert!(form("x.pdf").is_err());
        assert!(form("noext").is_err());
    }
}
