//! The run document as Markdown, for tickets.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use settlement_model::DayTotals;

use super::{created_text, unit_list, RunDocument};

/// Text in a Markdown table cell: pipes escaped, no line breaks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// `after − before` with its sign, or `overflow`.
pub(crate) fn change(before: Decimal, after: Decimal) -> String {
    after
        .checked_sub(before)
        .map_or_else(|| "overflow".to_owned(), |d| format!("{d:+}"))
}

/// The document as Markdown.
///
/// Every line ends with a newline; table cells are escaped.
pub fn render(doc: &RunDocument) -> String {
    let mut out = String::new();
    let r = &doc.run;
    let _ = writeln!(out, "# {}\n", doc.title());
    let _ = writeln!(out, "| | |\n|---|---|");
    for (k, v) in doc.header() {
        let v = if k == "Run" || k == "Fingerprint" {
            format!("`{v}`")
        } else {
            v
        };
        let _ = writeln!(out, "| {k} | {} |", cell(&v));
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
                    "| `{}` | {} | {} |",
                    c.name,
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
        before.energy_mwh,
        after.energy_mwh,
        change(before.energy_mwh, after.energy_mwh)
    );
    let _ = writeln!(
        out,
        "| payment (£) | {} | {} | {} |",
        before.payment_gbp,
        after.payment_gbp,
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
                p.before.energy_mwh,
                p.after.energy_mwh,
                p.before.payment_gbp,
                p.after.payment_gbp,
                created_text(p)
            );
        }
        let _ = writeln!(out, "\n`*` the period changed.");
        let list = |v: &[String]| unit_list(v, |u| format!("`{u}`"));
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
        let md = super::render(&crate::document::fixture());
        assert!(md.ends_with('\n'));
        assert!(md.contains("ticket 123: missing periods <17 & 18>"));
        insta::assert_snapshot!("run_document_markdown", md);
    }
}
