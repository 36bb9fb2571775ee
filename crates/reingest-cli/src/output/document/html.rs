//! The run document as one self-contained HTML page: inline CSS (screen and print), an inline
//! SVG chart of curtailed energy per period before and after, no script and no external URL.
//! The markup is also well-formed XML, so tools (and our tests) can parse it.
//!
//! Figures are shown for people ([`crate::output::human`]: 2 decimals, thousands separators), each
//! in an element whose `title` holds the exact value; all text is escaped.

use std::fmt::Write as _;

use rust_decimal::Decimal;

use super::markdown::change;
use super::{created_text, unit_list, RunDocument};
use crate::evidence::PeriodEvidence;
use crate::output::escape::html as esc;
use crate::output::human::grouped;

/// A number cell: the figure rounded for people, the exact value in its `title`.
fn num(exact: impl std::fmt::Display, shown: &str) -> String {
    format!(
        "<td class=\"n\" title=\"{}\">{}</td>",
        esc(&exact.to_string()),
        esc(shown)
    )
}

/// A figure's cell: [`grouped`] to 2 decimals, exact in the `title`.
fn fig(value: Decimal) -> String {
    num(value, &grouped(value, 2))
}

const STYLE: &str = "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;\
color:#1d2330;max-width:60rem;margin:2rem auto;padding:0 1rem}\
h1{font-size:1.5rem;margin-bottom:.5rem}h2{font-size:1.15rem;margin-top:2rem;\
border-bottom:1px solid #d5d9e0;padding-bottom:.2rem}\
table{border-collapse:collapse;width:100%;margin:.5rem 0}\
th,td{border:1px solid #d5d9e0;padding:.25rem .5rem;text-align:left;vertical-align:top}\
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}\
tr.changed td{background:#fff7e0}.ok{color:#17663a}.fail{color:#a4161a;font-weight:600}\
code{font:13px ui-monospace,Menlo,Consolas,monospace;word-break:break-all}\
svg{width:100%;height:auto;border:1px solid #d5d9e0}\
rect.before{fill:#9aa5b8}rect.after{fill:#2f6fd0}.legend span{margin-right:1rem}\
@media print{body{margin:0;max-width:none;font-size:11px}h2{break-after:avoid}\
table,svg{break-inside:avoid}tr.changed td{background:none;font-weight:600}}";

/// The inline SVG chart: one bar pair (before, after) per period.
fn chart(periods: &[PeriodEvidence]) -> String {
    const HEIGHT: i64 = 200;
    const BAR: usize = 6;
    const GAP: usize = 4;
    let max = periods
        .iter()
        .flat_map(|p| [p.before.energy_mwh, p.after.energy_mwh])
        .max()
        .unwrap_or(Decimal::ZERO);
    let height = |energy: Decimal| -> Decimal {
        if max <= Decimal::ZERO {
            return Decimal::ZERO;
        }
        energy
            .checked_mul(Decimal::from(HEIGHT))
            .and_then(|x| x.checked_div(max))
            .unwrap_or(Decimal::ZERO)
            .max(Decimal::ZERO)
            .round_dp(2)
    };
    let width = periods.len() * (2 * BAR + GAP) + GAP;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {}\" role=\"img\" \
         aria-label=\"Curtailed energy per period, before and after\">\n",
        HEIGHT + 16
    );
    for (i, p) in periods.iter().enumerate() {
        let x = GAP + i * (2 * BAR + GAP);
        for (class, totals, dx) in [("before", &p.before, 0), ("after", &p.after, BAR)] {
            let h = height(totals.energy_mwh);
            let _ = writeln!(
                svg,
                "<rect class=\"{class}\" data-period=\"{}\" x=\"{}\" y=\"{}\" width=\"{BAR}\" \
                 height=\"{h}\"><title>period {} {class}: {} MWh</title></rect>",
                p.period,
                x + dx,
                Decimal::from(HEIGHT) - h,
                p.period,
                totals.energy_mwh
            );
        }
        if p.period == 1 || p.period % 6 == 0 {
            let _ = writeln!(
                svg,
                "<text x=\"{}\" y=\"{}\" font-size=\"9\">{}</text>",
                x,
                HEIGHT + 12,
                p.period
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// The document as a self-contained HTML page.
pub fn render(doc: &RunDocument) -> String {
    let r = &doc.run;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n\
         <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>",
        esc(&doc.title()),
        esc(&doc.title())
    );
    let _ = writeln!(out, "<table>");
    for (k, v) in doc.header() {
        let _ = writeln!(out, "<tr><th>{k}</th><td>{}</td></tr>", esc(&v));
    }
    let _ = writeln!(out, "</table>");
    if let Some(detail) = &r.detail {
        let _ = writeln!(out, "<p>{}</p>", esc(detail));
    }

    let _ = writeln!(out, "<h2>Verification</h2>");
    match &doc.evidence {
        Some(e) => {
            let _ = writeln!(
                out,
                "<table>\n<tr><th>check</th><th>result</th><th>detail</th></tr>"
            );
            for c in &e.verification.checks {
                let (class, word) = if c.ok {
                    ("ok", "ok")
                } else {
                    ("fail", "FAILED")
                };
                let _ = writeln!(
                    out,
                    "<tr><td><code>{}</code></td><td class=\"{class}\">{word}</td><td>{}</td></tr>",
                    esc(c.name.as_str()),
                    esc(&c.detail)
                );
            }
            let _ = writeln!(out, "</table>");
        }
        None => {
            let _ = writeln!(
                out,
                "<p>Not recorded for this run (it predates run evidence).</p>"
            );
        }
    }

    let (before, after) = doc.totals();
    let _ = writeln!(
        out,
        "<h2>Totals of periods {}</h2>\n<table>\n<tr><th></th><th class=\"n\">before</th>\
         <th class=\"n\">after</th><th class=\"n\">change</th></tr>",
        esc(&r.periods)
    );
    let _ = writeln!(
        out,
        "<tr><td>records</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{:+}</td></tr>",
        before.records,
        after.records,
        i128::from(after.records) - i128::from(before.records)
    );
    for (name, b, a) in [
        ("energy (MWh)", before.energy_mwh, after.energy_mwh),
        ("payment (£)", before.payment_gbp, after.payment_gbp),
    ] {
        let exact_change = a
            .checked_sub(b)
            .map_or_else(|| "overflow".to_owned(), |d| format!("{d:+}"));
        let _ = writeln!(
            out,
            "<tr><td>{name}</td>{}{}{}</tr>",
            fig(b),
            fig(a),
            num(exact_change, &change(b, a))
        );
    }
    let _ = writeln!(out, "</table>");

    if let Some(e) = &doc.evidence {
        let _ = writeln!(
            out,
            "<h2>Curtailed energy per period</h2>\n<p class=\"legend\"><span>■ before \
             (grey)</span><span>■ after (blue)</span></p>\n{}",
            chart(&e.per_period)
        );
        let _ = writeln!(
            out,
            "<h2>Per period</h2>\n<table>\n<tr><th class=\"n\">period</th><th class=\"n\">records</th>\
             <th class=\"n\">energy before (MWh)</th><th class=\"n\">energy after (MWh)</th>\
             <th class=\"n\">payment before (£)</th><th class=\"n\">payment after (£)</th>\
             <th>Elexon calculation run</th></tr>"
        );
        for p in &e.per_period {
            let _ =
                writeln!(
                out,
                "<tr{}><td class=\"n\">{}</td><td class=\"n\">{} → {}</td>{}{}{}{}<td>{}</td></tr>",
                if p.before == p.after { "" } else { " class=\"changed\"" },
                p.period,
                p.before.records,
                p.after.records,
                fig(p.before.energy_mwh),
                fig(p.after.energy_mwh),
                fig(p.before.payment_gbp),
                fig(p.after.payment_gbp),
                created_text(p)
            );
        }
        let _ = writeln!(out, "</table>");
        let list = |v: &[String]| unit_list(v, esc);
        let _ = writeln!(
            out,
            "<h2>Units</h2>\n<ul>\n<li>appeared: {}</li>\n<li>vanished: {}</li>\n</ul>",
            list(&e.units_appeared),
            list(&e.units_vanished)
        );
    }

    let _ = writeln!(out, "<h2>Bitcoin inputs</h2>\n<ul>");
    for item in doc.inputs_items() {
        let _ = writeln!(out, "<li>{}</li>", esc(&item));
    }
    let _ = writeln!(out, "</ul>");
    let _ = writeln!(
        out,
        "<h2>Drift against the API</h2>\n<p>Not part of the run; check it now with \
         <code>reingest verify {} --against-api</code>.</p>",
        r.settlement_date
    );
    let _ = writeln!(
        out,
        "<h2>How to restore</h2>\n<p>{}</p>\n</body>\n</html>",
        esc(&doc.restore_text())
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fixture_run_as_html() {
        let html = render(&crate::output::document::fixture());
        assert!(html.contains("<td class=\"n\" title=\"1408.7\">1,408.70</td>"));
        assert!(html.contains("<td class=\"n\" title=\"+2756.25\">+2,756.25</td>"));
        insta::assert_snapshot!("run_document_html", html);
    }

    fn parse(html: &str) -> roxmltree::Document<'_> {
        roxmltree::Document::parse_with_options(
            html,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..roxmltree::ParsingOptions::default()
            },
        )
        .expect("the page is well-formed")
    }

    #[test]
    fn text_from_outside_is_text_and_every_figure_keeps_its_exact_value() {
        let mut doc = crate::output::document::fixture();
        let reason = "<img src=x onerror=alert(1)>|x";
        doc.run.reason = Some(reason.into());
        doc.run.user = "o\"ps' <b>".into();
        if let Some(e) = doc.evidence.as_mut() {
            e.units_appeared = vec!["T_<i>X-1".into()];
        }
        let html = render(&doc);
        for raw in ["<img", "<b>", "<i>"] {
            assert!(!html.contains(raw), "raw {raw:?} in {html}");
        }
        let tree = parse(&html);
        let row = tree
            .descendants()
            .find(|n| {
                n.has_tag_name("tr")
                    && n.first_element_child().and_then(|c| c.text()) == Some("Reason")
            })
            .expect("a Reason row");
        let cells: Vec<_> = row.children().filter(|n| n.is_element()).collect();
        assert_eq!(cells.len(), 2);
        assert_eq!(cells[1].text(), Some(reason));
        // Every number cell shows a rounded figure and holds the exact one in its title.
        let mut figures = 0;
        for td in tree.descendants().filter(|n| n.has_tag_name("td")) {
            if let (Some(exact), Some(shown)) = (td.attribute("title"), td.text()) {
                let exact: Decimal = exact.trim_start_matches('+').parse().expect("exact");
                let shown: Decimal = shown
                    .trim_start_matches('+')
                    .replace(',', "")
                    .parse()
                    .expect("shown");
                let rounded = exact.round_dp_with_strategy(
                    2,
                    rust_decimal::RoundingStrategy::MidpointAwayFromZero,
                );
                assert_eq!(rounded, shown, "{exact} shown as {shown}");
                figures += 1;
            }
        }
        assert_eq!(figures, 6 + 4 * 48, "the totals and every period's figures");
    }

    #[test]
    fn one_bar_pair_per_period_and_nothing_external() {
        let doc = crate::output::document::fixture();
        let html = render(&doc);
        let tree = parse(&html);
        let bars = |class: &str| -> Vec<String> {
            tree.descendants()
                .filter(|n| n.has_tag_name("rect") && n.attribute("class") == Some(class))
                .filter_map(|n| n.attribute("data-period").map(str::to_owned))
                .collect()
        };
        let periods: Vec<String> = (1..=48).map(|p: u8| p.to_string()).collect();
        assert_eq!(bars("before"), periods);
        assert_eq!(bars("after"), periods);
        // No script, and no URL but the SVG namespace name (an identifier, never fetched).
        assert!(tree.descendants().all(|n| !n.has_tag_name("script")));
        for node in tree.descendants() {
            for a in node.attributes() {
                let external =
                    a.value().contains("://") && a.value() != "http://www.w3.org/2000/svg";
                assert!(!external, "external URL in {}={}", a.name(), a.value());
            }
        }
        assert!(!html.contains("url("), "no CSS url()");
        // Text is escaped.
        assert!(html.contains("missing periods &lt;17 &amp; 18&gt;"));
    }
}
