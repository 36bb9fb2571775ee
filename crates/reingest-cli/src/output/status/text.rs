//! The text form of `reingest status`: one line per date, then one line per state.

use std::fmt::Write as _;

use crate::ops::assess::Assessment;
use crate::output::human::{gbp, grouped, mwh};

use super::{fix_command, why};

/// The table and the summary.
pub fn render(a: &Assessment) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10}  {:<12}  {:>9}  {:>16}  {:>16}  newest run",
        "date", "state", "records", "energy", "payment"
    );
    for d in &a.days {
        let run = d.newest_run.as_ref().map_or_else(
            || "-".to_owned(),
            |r| {
                format!(
                    "{} {} {} by {}@{}",
                    r.run_id,
                    r.status.as_str(),
                    r.started_at.format("%Y-%m-%d %H:%M"),
                    r.user,
                    r.host
                )
            },
        );
        let _ = writeln!(
            out,
            "{:<10}  {:<12}  {:>9}  {:>16}  {:>16}  {run}",
            d.date.to_string(),
            d.state.as_str(),
            grouped(d.records.into(), 0),
            mwh(d.energy_mwh),
            gbp(d.payment_gbp),
        );
    }
    let _ = writeln!(out);
    for (state, n) in a.counts() {
        let dates: Vec<String> = a
            .days
            .iter()
            .filter(|d| d.state == state)
            .map(|d| d.date.to_string())
            .collect();
        let shown = if dates.len() > 8 {
            format!("{}, … and {} more", dates[..8].join(", "), dates.len() - 8)
        } else {
            dates.join(", ")
        };
        let _ = writeln!(
            out,
            "{:<12} {:>4}{}",
            state.as_str(),
            n,
            if n > 0 && state != crate::ops::assess::DayHealth::Verified {
                format!("  {shown}")
            } else {
                String::new()
            }
        );
    }
    let attention: Vec<_> = a.attention().collect();
    if attention.is_empty() {
        let _ = writeln!(out, "\nall {} dates verified", a.days.len());
    } else {
        let _ = writeln!(
            out,
            "\n{} of {} dates need attention:",
            attention.len(),
            a.days.len()
        );
        for d in attention {
            let _ = writeln!(out, "  {}  {}: {}", d.date, d.state.as_str(), why(d));
            let _ = writeln!(out, "    fix:    {}", fix_command(d));
            if let Some(report) = super::report_command(d) {
                let _ = writeln!(out, "    report: {report}");
            }
        }
    }
    out
}
