//! The run document as Markdown, for tickets.
//!
//! Figures are for people ([`crate::output::human`]: 2 decimals, thousands separators); `--json`
//! has them exact. Text from outside (a reason, who ran it, a unit's id, a miner model's
//! name) is escaped: Markdown passes raw HTML through to the page that renders it, and a
//! `|` or a line break would end a table cell or row.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use settlement_model::DayTotals;

use super::{created_text, unit_list, RunDocument};
use crate::output::human::{grouped, signed};

/// Text in a Markdown table cell or line: `&`, `<` and `>` as HTML entities (never raw
/// HTML), `|` escaped (it would end the cell), line breaks as spaces (they would end the
/// row).
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// `text` as inline code, shown verbatim, with `|` escaped for the table; text that code
/// cannot show safely as escaped text ([`cell`]) instead: a backtick or a line break would
/// end the code, and `<`, `>`, `&` are kept out of the document raw altogether (inside
/// code they would be harmless, but a reader of the raw text, or a renderer that gets code
/// wrong, should never see markup).
fn code(text: &str) -> String {
    if text.is_empty() || text.contains(['`', '\n', '\r', '<', '>', '&']) {
        cell(text)
    } else {
        format!("`{}`", text.replace('|', "\\|"))
    }
}

/// `after − before` for people, with its sign ([`signed`], 2 decimals), or `overflow`.
pub(crate) fn change(before: Decimal, after: Decimal) -> String {
    after
        .checked_sub(before)
        .map_or_else(|| "overflow".to_owned(), |d| signed(d, 2))
}

/// A figure in a table, for people: 2 decimals, grouped.
fn fig(value: Decimal) -> String {
    grouped(value, 2)
}

/// The document as Markdown.
///
/// Every line ends with a newline; table cells are escaped.
pub fn render(doc: &RunDocument) -> String {
    let mut out = String::new();
    let r = &doc.run;
    let _ = writeln!(out, "# {}\n", cell(&doc.title()));
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in doc.header() {
        let v = if k == "Run" || k == "Fingerprint" {
            code(&v)
        } else {
            cell(&v)
        };
        let _ = writeln!(out, "| {k} | {v} |");
    }
    if let Some(detail) = &r.detail {
        let _ = writeln!(out, "\n> {}", cell(detail));
    }

    let _ = writeln!(out, "\n## Verification\n");
    match &doc.evidence {
        Some(e) => {
            let _ = writeln!(
                out,
                "{}\n\n| check | result | detail |\n|---|---|---|",
                if e.verification.ok {
                    "Every check passed."
                } else {
                    "**Some checks failed.**"
                }
            );
            for c in &e.verification.checks {
                let _ = writeln!(
                    out,
                    "| {} | {} | {} |",
                    code(c.name.as_str()),
                    if c.ok { "ok" } else { "**FAILED**" },
                    cell(&c.detail)
                );
            }
        }
        None => {
            let _ = writeln!(out, "Not recorded for this run (it predates run evidence).");
        }
    }

    let (before, after) = doc.totals();
    let _ = writeln!(
        out,
        "\n## Totals of periods {}\n\n| | before | after | change |\n|---|---:|---:|---:|",
        r.periods
    );
    let _ = writeln!(
        out,
        "| records | {} | {} | {:+} |",
        before.records,
        after.records,
        i128::from(after.records) - i128::from(before.records)
    );
    let _ = writeln!(
        out,
        "| energy (MWh) | {} | {} | {} |",
        fig(before.energy_mwh),
        fig(after.energy_mwh),
        change(before.energy_mwh, after.energy_mwh)
    );
    let _ = writeln!(
        out,
        "| payment (£) | {} | {} | {} |",
        fig(before.payment_gbp),
        fig(after.payment_gbp),
        change(before.payment_gbp, after.payment_gbp)
    );

    if let Some(e) = &doc.evidence {
        let _ = writeln!(
            out,
            "\n## Per period\n\n| period | records | energy before (MWh) | energy after (MWh) | \
             payment before (£) | payment after (£) | Elexon calculation run |\n\
             |---:|---:|---:|---:|---:|---:|---|"
        );
        for p in &e.per_period {
            let counts = |t: &DayTotals| t.records.to_string();
            let _ = writeln!(
                out,
                "| {}{} | {} → {} | {} | {} | {} | {} | {} |",
                p.period,
                if p.before == p.after { "" } else { " *" },
                counts(&p.before),
                counts(&p.after),
                fig(p.before.energy_mwh),
                fig(p.after.energy_mwh),
                fig(p.before.payment_gbp),
                fig(p.after.payment_gbp),
                created_text(p)
            );
        }
        let _ = writeln!(out, "\n`*` the period changed.");
        let list = |v: &[String]| unit_list(v, code);
        let _ = writeln!(
            out,
            "\n## Units\n\n- appeared: {}\n- vanished: {}",
            list(&e.units_appeared),
            list(&e.units_vanished)
        );
    }

    let _ = writeln!(out, "\n## Bitcoin inputs\n");
    for item in doc.inputs_items() {
        let _ = writeln!(out, "- {}", cell(&item));
    }

    let _ = writeln!(
        out,
        "\n## Drift against the API\n\nNot part of the run; check it now with \
         `reingest verify {} --against-api`.",
        r.settlement_date
    );
    let _ = writeln!(out, "\n## How to restore\n\n{}", doc.restore_text());
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fixture_run_as_markdown() {
        let md = super::render(&crate::output::document::fixture());
        assert!(md.ends_with('\n'));
        assert!(md.contains("ticket 123: missing periods &lt;17 &amp; 18&gt;"));
        assert!(md.contains("| energy (MWh) | 1,330.00 | 1,408.70 | +78.70 |"));
        insta::assert_snapshot!("run_document_markdown", md);
    }

    /// The `|` that delimit a table row's cells (not `\|`, an escaped one in a cell).
    fn cell_delimiters(row: &str) -> usize {
        let mut escaped = false;
        let mut n = 0;
        for c in row.chars() {
            if c == '|' && !escaped {
                n += 1;
            }
            escaped = c == '\\' && !escaped;
        }
        n
    }

    #[test]
    fn text_from_outside_is_escaped_and_keeps_its_row() {
        let mut doc = crate::output::document::fixture();
        doc.run.reason = Some("<img src=x onerror=alert(1)>|x".into());
        doc.run.user = "o|ps\n| injected | row |".into();
        if let Some(e) = doc.evidence.as_mut() {
            e.units_appeared = vec!["T_<b>X`-1".into(), "T|<i>Y-1".into()];
            e.miners[0].name = "<script>S19</script>".into();
        }
        let md = super::render(&doc);
        for raw in ["<img", "<b>", "<i>", "<script"] {
            assert!(!md.contains(raw), "raw {raw:?} in {md}");
        }
        let reason = md.lines().find(|l| l.starts_with("| Reason |")).unwrap();
        assert_eq!(
            reason,
            "| Reason | &lt;img src=x onerror=alert(1)&gt;\\|x |"
        );
        assert_eq!(cell_delimiters(reason), 3, "{reason}");
        let who = md.lines().find(|l| l.starts_with("| Who |")).unwrap();
        assert_eq!(cell_delimiters(who), 3, "{who}");
        assert!(!md.lines().any(|l| l.starts_with("| injected")), "{md}");
        assert!(
            md.contains("- appeared: T_&lt;b&gt;X`-1, T\\|&lt;i&gt;Y-1"),
            "unit ids that code cannot show are escaped text: {md}"
        );
    }
}
