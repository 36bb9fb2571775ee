//! The Markdown form of `reingest status`, for a ticket or a monthly review: the count per
//! state, the month totals, the dates that need attention with their commands, then every
//! date. Outside text (reasons, details) is escaped for a table cell.

use std::fmt::Write as _;

use crate::ops::assess::{Assessment, DayHealth};
use crate::output::human::{btc, gbp, grouped, mwh};

use super::totals::{models, month_totals, show};
use super::{fix_command, report_command, why};

/// Text safe in a Markdown table cell: pipes and backticks escaped, `<`, `>` and `&` as
/// entities (no raw HTML gets through), newlines as spaces.
fn cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace(['\n', '\r'], " ")
}

/// The document.
pub fn render(a: &Assessment) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Data health {} to {}\n", a.from, a.to);
    let _ = writeln!(
        out,
        "{} dates{}.\n",
        a.days.len(),
        if a.against_api {
            ", each compared with the API"
        } else {
            ""
        }
    );
    let _ = writeln!(out, "| state | dates | meaning |\n|---|---:|---|");
    for (state, n) in a.counts() {
        let _ = writeln!(out, "| {} | {n} | {} |", state.as_str(), state.meaning());
    }

    let models = models(a);
    let _ = writeln!(out, "\n## Month totals\n");
    let mut head = "| month | dates | records | energy | payment |".to_owned();
    let mut rule = "|---|---:|---:|---:|---:|".to_owned();
    for m in &models {
        let _ = write!(head, " {} |", cell(m));
        rule.push_str("---:|");
    }
    let _ = writeln!(out, "{head}\n{rule}");
    for t in month_totals(a) {
        let _ = write!(
            out,
            "| {} | {} | {} | {} | {} |",
            t.month,
            t.dates,
            grouped(t.records.into(), 0),
            show(t.energy_mwh, mwh),
            show(t.payment_gbp, gbp)
        );
        for m in &models {
            let _ = write!(
                out,
                " {} |",
                show(
                    t.bitcoin
                        .get(m)
                        .copied()
                        .unwrap_or(Some(rust_decimal::Decimal::ZERO)),
                    btc
                )
            );
        }
        let _ = writeln!(out);
    }

    let attention: Vec<_> = a.attention().collect();
    let _ = writeln!(out, "\n## Needs attention\n");
    if attention.is_empty() {
        let _ = writeln!(out, "Nothing: every date is verified.");
    } else {
        let _ = writeln!(out, "| date | state | why | fix | newest run's report |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for d in attention {
            let _ = writeln!(
                out,
                "| {} | {} | {} | `{}` | {} |",
                d.date,
                d.state.as_str(),
                cell(&why(d)),
                cell(&fix_command(d)),
                report_command(d).map_or_else(|| "-".to_owned(), |c| format!("`{}`", cell(&c)))
            );
        }
    }

    let _ = writeln!(out, "\n## Every date\n");
    let _ = writeln!(
        out,
        "| date | state | records | energy | payment | newest run | reason | who |"
    );
    let _ = writeln!(out, "|---|---|---:|---:|---:|---|---|---|");
    for d in &a.days {
        let (run, reason, who) = match &d.newest_run {
            Some(r) => (
                format!(
                    "`{}` {} {}",
                    r.run_id,
                    r.status.as_str(),
                    r.started_at.format("%Y-%m-%d %H:%M UTC")
                ),
                cell(r.reason.as_deref().unwrap_or("-")),
                cell(&format!("{}@{}", r.user, r.host)),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {run} | {reason} | {who} |",
            d.date,
            if d.state == DayHealth::Verified {
                d.state.as_str().to_owned()
            } else {
                format!("**{}**", d.state.as_str())
            },
            grouped(d.records.into(), 0),
            mwh(d.energy_mwh),
            gbp(d.payment_gbp)
        );
    }
    out
}
