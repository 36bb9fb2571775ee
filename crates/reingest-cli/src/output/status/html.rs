//! The HTML form of `reingest status`: one self-contained page (inline SVG and CSS, no
//! script, no external URL) that is a picture first — a calendar heatmap of the range (one
//! square per day, weeks as columns, months labelled, coloured by state, with a legend),
//! the daily curtailed energy as bars under it — then the month totals, the dates that
//! need attention with the commands that fix them, and every date. Every square carries its
//! date, state and figures in a `title`. Readable printed (`@media print`) and in dark mode
//! (`prefers-color-scheme`). All outside text (reasons, who, details) is escaped, and the
//! page is well-formed XML, so tests can parse it.

use std::fmt::Write as _;

use chrono::{Datelike, Duration, NaiveDate};
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;

use crate::ops::assess::{Assessment, DayAssessment, DayHealth};
use crate::output::human::{btc, gbp, grouped, mwh};

use super::totals::{models, month_totals, show};
use super::{fix_command, report_command, why};
use crate::output::escape::html as esc;

const STYLE: &str = r#"
:root { --bg: #ffffff; --fg: #1d2125; --muted: #5f6670; --rule: #d9dde2; --panel: #f5f7f9;
  --verified: #2f9e5b; --incomplete: #e3a21a; --drift: #7b5cc4; --inconsistent: #d64141;
  --failed: #7d1d1d; --never_run: #c9ced5; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171a; --fg: #e6e9ec; --muted: #a1a9b3; --rule: #343a41; --panel: #1d2126;
    --verified: #3dbd71; --incomplete: #f0b43a; --drift: #9d82e0; --inconsistent: #ef5f5f;
    --failed: #b84242; --never_run: #3b4149; }
}
* { box-sizing: border-box; }
body { background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, sans-serif;
  margin: 24px auto; max-width: 1100px; padding: 0 16px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 17px; margin: 28px 0 8px; border-bottom: 1px solid var(--rule); }
p.sub { color: var(--muted); margin: 0 0 16px; }
svg text { fill: var(--muted); font: 11px system-ui, sans-serif; }
svg .day { stroke: var(--bg); stroke-width: 1; }
.s-verified { fill: var(--verified); background: var(--verified); }
.s-incomplete { fill: var(--incomplete); background: var(--incomplete); }
.s-drift { fill: var(--drift); background: var(--drift); }
.s-inconsistent { fill: var(--inconsistent); background: var(--inconsistent); }
.s-failed { fill: var(--failed); background: var(--failed); }
.s-never_run { fill: var(--never_run); background: var(--never_run); }
ul.legend { list-style: none; padding: 0; margin: 8px 0 0; display: flex; flex-wrap: wrap; gap: 6px 18px; }
ul.legend li { display: flex; align-items: center; gap: 6px; }
.swatch { display: inline-block; width: 14px; height: 14px; border-radius: 3px; }
table { border-collapse: collapse; width: 100%; margin: 6px 0; }
th, td { text-align: left; padding: 4px 8px; border-bottom: 1px solid var(--rule); vertical-align: top; }
th { background: var(--panel); }
td:first-child, td:nth-child(2) { white-space: nowrap; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font: 12px ui-monospace, monospace; background: var(--panel); padding: 1px 4px;
  border-radius: 3px; word-break: break-all; }
.axis { stroke: var(--rule); }
@media print {
  :root { --bg: #ffffff; --fg: #000000; --muted: #333333; --rule: #999999; --panel: #eeeeee; }
  body { margin: 0; max-width: none; font-size: 11px; }
  * { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
  h2, table, figure { break-inside: avoid; }
}
figure { margin: 0; }
"#;

/// The page.
pub fn render(a: &Assessment) -> String {
    let mut out = String::new();
    let title = format!("Data health {} to {}", a.from, a.to);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n\
         <meta name=\"color-scheme\" content=\"light dark\"/>\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let attention = a.attention().count();
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p class=\"sub\">{} dates, {} need attention{}.</p>",
        esc(&title),
        a.days.len(),
        attention,
        if a.against_api {
            "; each compared with the API"
        } else {
            ""
        }
    );
    calendar(&mut out, a);
    legend(&mut out, a);
    bars(&mut out, a);
    totals(&mut out, a);
    attention_list(&mut out, a);
    every_date(&mut out, a);
    out.push_str("</body>\n</html>\n");
    out
}

/// What a square's `title` says: date, state, figures, and why it needs attention.
fn square_title(d: &DayAssessment) -> String {
    let mut t = format!(
        "{} — {}: {} records, {}, {}",
        d.date,
        d.state.as_str(),
        grouped(d.records.into(), 0),
        mwh(d.energy_mwh),
        gbp(d.payment_gbp)
    );
    for (model, v) in &d.bitcoin {
        let _ = write!(t, ", {model} {}", btc(*v));
    }
    if d.needs_attention() {
        let _ = write!(t, "; {}", why(d));
    }
    t
}

/// The heatmap: weeks (Monday first) as columns, weekdays as rows.
fn calendar(out: &mut String, a: &Assessment) {
    let first = a.from.naive();
    let start = first - Duration::days(i64::from(first.weekday().num_days_from_monday()));
    let col = |d: NaiveDate| usize::try_from((d - start).num_days() / 7).unwrap_or(0);
    let cols = col(a.to.naive()) + 1;
    // Squares as large as fit the page, between 12 and 40 px.
    let cell = (900 / cols).clamp(12, 40);
    let (left, top) = (34, 18);
    let width = left + cols * cell + 4;
    let height = top + 7 * cell + 4;
    let _ = writeln!(
        out,
        "<h2>Calendar</h2>\n<figure>\n<svg class=\"calendar\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"one square per day, coloured by state\">"
    );
    for (row, name) in [(0, "Mon"), (2, "Wed"), (4, "Fri"), (6, "Sun")] {
        let _ = writeln!(
            out,
            "<text x=\"0\" y=\"{}\">{name}</text>",
            top + row * cell + cell * 3 / 4
        );
    }
    // Each month labelled above its first week; a label the next one would overlap (the
    // range's first, partial month) gives way.
    let mut labels: Vec<(usize, NaiveDate)> = a
        .days
        .iter()
        .map(|d| d.date.naive())
        .filter(|day| day.day() == 1 || *day == first)
        .map(|day| (left + col(day) * cell, day))
        .collect();
    let mut i = 0;
    while i + 1 < labels.len() {
        if labels[i + 1].0 < labels[i].0 + 56 {
            labels.remove(i);
        } else {
            i += 1;
        }
    }
    let mut labelled_year = None;
    for (x, day) in labels {
        let label = if labelled_year != Some(day.year()) {
            labelled_year = Some(day.year());
            day.format("%b %Y").to_string()
        } else {
            day.format("%b").to_string()
        };
        let _ = writeln!(
            out,
            "<text class=\"month\" x=\"{x}\" y=\"12\">{label}</text>"
        );
    }
    for d in &a.days {
        let day = d.date.naive();
        let x = left + col(day) * cell;
        let row = usize::try_from(day.weekday().num_days_from_monday()).unwrap_or(0);
        let y = top + row * cell;
        let size = cell.saturating_sub(2);
        let _ = writeln!(
            out,
            "<rect class=\"day s-{state}\" data-date=\"{date}\" data-state=\"{state}\" x=\"{x}\" y=\"{y}\" \
             width=\"{size}\" height=\"{size}\" rx=\"2\"><title>{title}</title></rect>",
            state = d.state.as_str(),
            date = d.date,
            title = esc(&square_title(d))
        );
    }
    out.push_str("</svg>\n</figure>\n");
}

/// The legend: each state's colour, name, meaning and count.
fn legend(out: &mut String, a: &Assessment) {
    out.push_str("<ul class=\"legend\">\n");
    for (state, n) in a.counts() {
        let _ = writeln!(
            out,
            "<li data-state=\"{s}\"><span class=\"swatch s-{s}\"></span><strong>{s}</strong> {n} — {}</li>",
            state.meaning(),
            s = state.as_str()
        );
    }
    out.push_str("</ul>\n");
}

/// A bar's height in pixels: `value / max × full`, exact until the final rounding.
fn bar_height(value: Decimal, max: Decimal, full: u32) -> u32 {
    if max.is_zero() {
        return 0;
    }
    value
        .abs()
        .checked_mul(Decimal::from(full))
        .and_then(|v| v.checked_div(max))
        .and_then(|v| v.round().to_u32())
        .unwrap_or(full)
        .min(full)
}

/// The daily curtailed energy as bars, coloured by state, under the calendar.
fn bars(out: &mut String, a: &Assessment) {
    const FULL: u32 = 120;
    let max = a
        .days
        .iter()
        .map(|d| d.energy_mwh.abs())
        .max()
        .unwrap_or(Decimal::ZERO);
    let n = a.days.len().max(1);
    let step = (900 / n).clamp(2, 30);
    let (left, top) = (34, 8);
    let width = left + n * step + 4;
    let height = top + FULL as usize + 22;
    let _ = writeln!(
        out,
        "<h2>Curtailed energy per day</h2>\n<figure>\n<svg class=\"bars\" width=\"{width}\" height=\"{height}\" \
         viewBox=\"0 0 {width} {height}\" role=\"img\" aria-label=\"daily curtailed energy\">"
    );
    let base = top + FULL as usize;
    let _ = writeln!(
        out,
        "<line class=\"axis\" x1=\"{left}\" y1=\"{base}\" x2=\"{}\" y2=\"{base}\"/>\n\
         <text x=\"0\" y=\"{}\">max</text><text x=\"{left}\" y=\"{}\">{}</text>",
        width - 4,
        top + 8,
        base + 16,
        esc(&mwh(max))
    );
    for (i, d) in a.days.iter().enumerate() {
        let h = bar_height(d.energy_mwh, max, FULL) as usize;
        let _ = writeln!(
            out,
            "<rect class=\"bar s-{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{h}\"><title>{}: {}</title></rect>",
            d.state.as_str(),
            left + i * step,
            base - h,
            step.saturating_sub(1).max(1),
            d.date,
            esc(&mwh(d.energy_mwh))
        );
    }
    out.push_str("</svg>\n</figure>\n");
}

/// Month totals: MWh, £, BTC per model.
fn totals(out: &mut String, a: &Assessment) {
    let models = models(a);
    out.push_str("<h2>Month totals</h2>\n<table class=\"totals\">\n<thead><tr><th>month</th><th class=\"n\">dates</th><th class=\"n\">records</th><th class=\"n\">energy</th><th class=\"n\">payment</th>");
    for m in &models {
        let _ = write!(out, "<th class=\"n\">{}</th>", esc(m));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for t in month_totals(a) {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td>",
            t.month,
            t.dates,
            grouped(t.records.into(), 0),
            esc(&show(t.energy_mwh, mwh)),
            esc(&show(t.payment_gbp, gbp))
        );
        for m in &models {
            let _ = write!(
                out,
                "<td class=\"n\">{}</td>",
                esc(&show(
                    t.bitcoin.get(m).copied().unwrap_or(Some(Decimal::ZERO)),
                    btc
                ))
            );
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody>\n</table>\n");
}

/// The dates that need attention, each with the command that fixes it and its newest run's
/// report.
fn attention_list(out: &mut String, a: &Assessment) {
    out.push_str("<h2>Needs attention</h2>\n");
    let days: Vec<&DayAssessment> = a.attention().collect();
    if days.is_empty() {
        out.push_str("<p>Nothing: every date is verified.</p>\n");
        return;
    }
    out.push_str("<table class=\"attention\">\n<thead><tr><th>date</th><th>state</th><th>why</th><th>fix</th><th>newest run's report</th></tr></thead>\n<tbody>\n");
    for d in days {
        let _ = writeln!(
            out,
            "<tr data-date=\"{}\"><td>{}</td><td><span class=\"swatch s-{s}\"></span> {s}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
            d.date,
            d.date,
            esc(&why(d)),
            esc(&fix_command(d)),
            report_command(d).map_or_else(|| "-".to_owned(), |c| format!("<code>{}</code>", esc(&c))),
            s = d.state.as_str()
        );
    }
    out.push_str("</tbody>\n</table>\n");
}

/// Every date with its figures and newest run (id, time, reason, who).
fn every_date(out: &mut String, a: &Assessment) {
    out.push_str("<h2>Every date</h2>\n<table class=\"dates\">\n<thead><tr><th>date</th><th>state</th><th class=\"n\">records</th><th class=\"n\">energy</th><th class=\"n\">payment</th><th>newest run</th><th>reason</th><th>who</th></tr></thead>\n<tbody>\n");
    for d in &a.days {
        let (run, reason, who) = match &d.newest_run {
            Some(r) => (
                format!(
                    "<code>{}</code> {} {}",
                    esc(&r.run_id),
                    r.status.as_str(),
                    r.started_at.format("%Y-%m-%d %H:%M UTC")
                ),
                esc(r.reason.as_deref().unwrap_or("-")),
                esc(&format!("{}@{}", r.user, r.host)),
            ),
            None => ("-".into(), "-".into(), "-".into()),
        };
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td>{}{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{run}</td><td>{reason}</td><td>{who}</td></tr>",
            d.date,
            if d.state == DayHealth::Verified { "" } else { "⚠ " },
            d.state.as_str(),
            grouped(d.records.into(), 0),
            esc(&mwh(d.energy_mwh)),
            esc(&gbp(d.payment_gbp))
        );
    }
    out.push_str("</tbody>\n</table>\n");
}
