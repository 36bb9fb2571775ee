//! The run document as Markdown, for tickets.

use std::fmt::Write as _;

use rust_decimal::Decimal;
use settlement_model::DayTotals;

use super::RunDocument;

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
    let rows: Vec<(&str, String)> = vec![
        ("Run", format!("`{}` ({}, {})", r.run_id, r.kind, r.status)),
        ("Reason", r.reason.clone().unwrap_or_else(|| "—".into())),
        ("Who", format!("{}@{}", r.user, r.host)),
        (
            "When",
            format!(
                "{} (took {} ms)",
                r.started_at.format("%Y-%m-%d %H:%M:%S UTC"),
                r.duration_ms
            ),
        ),
        ("Tool", format!("reingest {}", r.tool_version)),
        (
            "Fingerprint",
            doc.evidence.as_ref().map_or_else(
                || "not recorded".into(),
                |e| format!("`{}`", e.fingerprint.total),
            ),
        ),
    ];
    for (k, v) in rows {
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
                p.created.map_or_else(
                    || "—".into(),
                    |t| t.format("%Y-%m-%d %H:%M UTC").to_string()
                )
            );
        }
        let _ = writeln!(out, "\n`*` the period changed.");
        let list = |v: &[String]| {
            if v.is_empty() {
                "none".to_owned()
            } else {
                v.iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            }
        };
        let _ = writeln!(
            out,
            "\n## Units\n\n- appeared: {}\n- vanished: {}",
            list(&e.units_appeared),
            list(&e.units_vanished)
        );
    }

    let _ = writeln!(out, "\n## Bitcoin inputs\n");
    match r.inputs {
        Some(i) => {
            let _ = writeln!(
                out,
                "- difficulty {} ({}{})\n- block subsidy {} BTC",
                i.difficulty,
                i.origin,
                i.difficulty_date
                    .map(|d| format!(", the adjustment of {d}"))
                    .unwrap_or_default(),
                i.subsidy
            );
        }
        None => {
            let _ = writeln!(out, "Not recorded for this run.");
        }
    }
    if let Some(e) = &doc.evidence {
        let models: Vec<String> = e
            .miners
            .iter()
            .map(|m| format!("{} ({} TH/s, {} W)", m.name, m.hashrate_ths, m.power_w))
            .collect();
        let _ = writeln!(
            out,
            "- miner models: {}\n- BM unit registry: {} units, snapshot `{}`",
            models.join(", "),
            e.registry_units,
            e.registry_hash
        );
    }

    let _ = writeln!(
        out,
        "\n## Drift against the API\n\nNot part of the run; check it now with \
         `reingest verify {} --against-api`.",
        r.settlement_date
    );
    let _ = writeln!(
        out,
        "\n## How to restore\n\n`{}` puts back what this run replaced (periods {}), through \
         the same verified swap; it is refused while a later run holds any of those periods, \
         unless `--force`. Replay it exactly: `reingest run {} --from-archive {} --as-recorded`.",
        doc.restore_command, r.periods, r.settlement_date, r.run_id
    );
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
