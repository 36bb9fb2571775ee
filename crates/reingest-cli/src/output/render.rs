//! Human text and JSON rendering of reports, shared by the binary and `cargo xtask`: these
//! functions only build strings; the binary writes them (and handles a closed pipe).
//!
//! Text for people shows energy and money rounded to 2 decimals with thousands separators
//! and bitcoin to 8 ([`crate::output::human`]); the JSON document keeps every value exact.
//! Two exceptions stay exact, where rounding would hide what matters: a verification
//! check's detail (the values it compared; a mismatch can sit below the second decimal, and
//! the detail is the same text in the JSON document), and `diff`, which compares two runs
//! (rounded, a change of a few kWh would read `1.23 → 1.23`).

use std::fmt::Write as _;

use crate::ops::range::{RangeReport, ReconcileReport};
use crate::ops::registry_report::RegistryReport;
use crate::output::human::{btc, gbp, grouped, mwh};
use crate::{RunReport, VerificationReport, VerifyReport};
use serde::Serialize;
use settlement_model::BmUnit;

/// What a command prints: `value` as one pretty JSON document when `json`, else the text
/// `human` builds; either way ending with a newline, so commands run one after another in a
/// script print on their own lines.
pub fn output<T: Serialize>(
    json: bool,
    value: &T,
    human: impl FnOnce() -> String,
) -> Result<String, serde_json::Error> {
    if json {
        serde_json::to_string_pretty(value).map(with_final_newline)
    } else {
        Ok(with_final_newline(human()))
    }
}

/// `text` ending with exactly the newline it had, or one added.
fn with_final_newline(mut text: String) -> String {
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

fn checks(out: &mut String, v: &VerificationReport) {
    let _ = writeln!(out, "verification: {}", if v.ok { "OK" } else { "FAILED" });
    for c in &v.checks {
        let _ = writeln!(
            out,
            "  [{}] {:<34} {}",
            if c.ok { "ok" } else { "FAIL" },
            c.name,
            c.detail
        );
    }
}

/// `run` and `restore`.
pub fn run_text(r: &RunReport) -> String {
    let mut out = String::new();
    let what = if r.dry_run {
        "dry run (nothing written)"
    } else if !r.committed {
        "ROLLED BACK (verification failed; the database is unchanged)"
    } else if r.forced {
        "committed with --force despite failed checks"
    } else {
        "committed"
    };
    let _ = writeln!(out, "{} periods {}: {what}", r.date, r.periods);
    let _ = writeln!(out, "run id:      {}", r.run_id);
    if r.periods_expected > 0 {
        let _ = writeln!(
            out,
            "periods:     {} of {} fetched{}",
            r.periods_fetched,
            r.periods_expected,
            if r.periods_missing.is_empty() {
                String::new()
            } else {
                format!(", missing at the source: {:?}", r.periods_missing)
            }
        );
    }
    let _ = writeln!(out, "day records: {}", r.records);
    let _ = writeln!(out, "energy:      {}", mwh(r.energy_mwh));
    let _ = writeln!(out, "payment:     {}", gbp(r.payment_gbp));
    for (m, b) in &r.bitcoin {
        let _ = writeln!(out, "bitcoin:     {} ({m})", btc(*b));
    }
    let _ = writeln!(
        out,
        "difficulty:  {} ({}{}); block subsidy {}",
        r.inputs.difficulty,
        r.inputs.origin,
        r.inputs
            .difficulty_date
            .map(|d| format!(", adjusted {d}"))
            .unwrap_or_default(),
        btc(r.inputs.subsidy)
    );
    let _ = writeln!(
        out,
        "replaced:    {} records {} {}  ->  {} records {} {}",
        r.before.records,
        mwh(r.before.energy_mwh),
        gbp(r.before.payment_gbp),
        r.after.records,
        mwh(r.after.energy_mwh),
        gbp(r.after.payment_gbp)
    );
    if r.items_seen > 0 {
        let _ = writeln!(
            out,
            "items:       {} seen, {} without a unit id, {} ids not in the registry",
            r.items_seen,
            r.null_id_items,
            r.unclassified.len()
        );
    }
    for u in r.unclassified.iter().take(10) {
        let _ = writeln!(
            out,
            "  unknown unit {}: {} items, {}",
            u.id,
            u.items,
            mwh(u.volume_mwh)
        );
    }
    if let Some(note) = &r.registry {
        let _ = writeln!(out, "registry:    {note}");
    }
    let changed: Vec<_> = r.per_period.iter().filter(|p| p.changed).collect();
    if r.dry_run || !changed.is_empty() {
        let _ = writeln!(out, "periods that change ({}):", changed.len());
        for p in changed {
            let _ = writeln!(
                out,
                "  {:>2}: {:>4} records {:>14} MWh  ->  {:>4} records {:>14} MWh",
                p.period,
                p.before.records,
                grouped(p.before.energy_mwh, 2),
                p.after.records,
                grouped(p.after.energy_mwh, 2)
            );
        }
    }
    if !r.dry_run {
        checks(&mut out, &r.verification);
    }
    out
}

/// `verify`.
pub fn verify_text(r: &VerifyReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}: {} records, {}, {}; {} of {} periods logged",
        r.date,
        r.records,
        mwh(r.energy_mwh),
        gbp(r.payment_gbp),
        r.periods_fetched,
        r.periods_expected
    );
    for (m, b) in &r.bitcoin {
        let _ = writeln!(out, "bitcoin: {} ({m})", btc(*b));
    }
    checks(&mut out, &r.verification);
    for d in &r.drift {
        let _ = writeln!(
            out,
            "  drift period {:>2}: stored {} records {} {}, API {} records {} {}",
            d.period,
            d.before.records,
            mwh(d.before.energy_mwh),
            gbp(d.before.payment_gbp),
            d.after.records,
            mwh(d.after.energy_mwh),
            gbp(d.after.payment_gbp)
        );
    }
    out
}

/// `range`.
pub fn range_text(r: &RangeReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10}  {:<8}  {:>7}  {:>7}  {:>14}  {:>14}  {:>8}  detail",
        "date", "status", "periods", "records", "energy MWh", "payment £", "ms"
    );
    for d in &r.dates {
        let _ = writeln!(
            out,
            "{:<10}  {:<8}  {:>7}  {:>7}  {:>14}  {:>14}  {:>8}  {}",
            d.date.to_string(),
            d.status.as_str(),
            d.periods,
            d.records,
            grouped(d.energy_mwh, 2),
            grouped(d.payment_gbp, 2),
            d.duration_ms,
            d.detail.as_deref().unwrap_or("")
        );
    }
    let ok = r.dates.iter().filter(|d| d.status.succeeded()).count();
    let _ = writeln!(
        out,
        "{ok} of {} dates succeeded in {} ms",
        r.dates.len(),
        r.duration_ms
    );
    let missing = r.without_archive();
    if !missing.is_empty() {
        let _ = writeln!(
            out,
            "{} dates have no archived run (nothing changed; --fetch-missing fetches them):",
            missing.len()
        );
        for date in missing {
            let _ = writeln!(out, "  {date}");
        }
    }
    out
}

/// `reconcile`.
pub fn reconcile_text(r: &ReconcileReport) -> String {
    let mut out = String::new();
    if r.findings.is_empty() {
        let _ = writeln!(out, "{} dates checked: all consistent", r.checked);
    } else {
        let _ = writeln!(
            out,
            "{} dates checked, {} need attention:",
            r.checked,
            r.findings.len()
        );
        for f in &r.findings {
            for reason in &f.reasons {
                let _ = writeln!(out, "  {}  {reason}", f.date);
            }
        }
    }
    if let Some(fixed) = &r.fixed {
        let _ = writeln!(out, "fixed:");
        out.push_str(&range_text(fixed));
    }
    out
}

/// `runs`.
pub fn runs_text(runs: &[crate::RunListing]) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<36}  {:<8}  {:<10}  {:<6}  {:<11}  {:>7}  {:>14}  {:<20}  {:<12}  {:<10}  reason",
        "run id",
        "kind",
        "date",
        "periods",
        "status",
        "records",
        "energy MWh",
        "started",
        "fingerprint",
        "evidence"
    );
    for l in runs {
        let r = &l.run;
        let _ = writeln!(
            out,
            "{:<36}  {:<8}  {:<10}  {:<6}  {:<11}  {:>7}  {:>14}  {:<20}  {:<12}  {:<10}  {}",
            r.run_id,
            r.kind,
            r.settlement_date.to_string(),
            r.periods,
            r.status,
            r.records_after,
            grouped(r.energy_after, 2),
            r.started_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            l.fingerprint
                .as_deref()
                .map_or("-", |f| f.get(..12).unwrap_or(f)),
            l.evidence.as_str(),
            r.reason.as_deref().unwrap_or("")
        );
    }
    out
}

/// `diff`.
pub fn diff_text(r: &crate::evidence::archive::DiffReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: run {} → run {}", r.date, r.run_a, r.run_b);
    if r.periods.is_empty() {
        let _ = writeln!(
            out,
            "no differences: both runs used identical API responses"
        );
        return out;
    }
    let _ = writeln!(
        out,
        "{} periods differ; records +{} −{}; volume {:+} MWh; payment £{:+}",
        r.periods.len(),
        r.records_added,
        r.records_removed,
        r.volume_delta,
        r.payment_delta
    );
    let stamp = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%d %H:%M").to_string())
            .unwrap_or_else(|| "-".into())
    };
    for p in &r.periods {
        let _ = writeln!(
            out,
            "  period {:>2}: source {} (created {} → {})",
            p.period,
            if p.source_changed { "changed" } else { "same" },
            stamp(p.created_a),
            stamp(p.created_b)
        );
        for f in &p.farms {
            let _ = writeln!(
                out,
                "    {:<8} {:<14} volume {} → {} MWh, payment £{} → £{}",
                f.change, f.farm_id, f.volume_a, f.volume_b, f.payment_a, f.payment_b
            );
        }
    }
    out
}

/// `bmu sync` and `bmu import`: what was stored (from `from`), left out and merged, and a
/// `warning:` line per id whose occurrences differed in other fields than the fuel type.
pub fn registry_text(report: &RegistryReport, from: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "BM unit registry replaced: {} units from {from} ({} wind)",
        report.bm_units, report.wind_units
    );
    let left = &report.without_id;
    let _ = writeln!(
        out,
        "left out: {} units without an Elexon id ({} of them WIND)",
        left.units, left.wind
    );
    if report.duplicates_merged.is_empty() {
        let _ = writeln!(out, "duplicates merged: none");
    } else {
        let _ = writeln!(
            out,
            "duplicates merged: {} ({})",
            report.duplicates_merged.len(),
            report.duplicates_merged.join(", ")
        );
    }
    for warning in report.warnings() {
        let _ = writeln!(out, "warning: {warning}");
    }
    out
}

/// `bmu list`.
pub fn bmu_text(units: &[BmUnit]) -> String {
    let mut out = String::new();
    for u in units {
        let _ = writeln!(
            out,
            "{:<14} {:<8} {:<10} {}",
            u.elexon_bm_unit,
            u.fuel_type.as_deref().unwrap_or("-"),
            u.generation_capacity
                .map(|c| c.to_string())
                .unwrap_or_else(|| "-".into()),
            u.lead_party_name.as_deref().unwrap_or("")
        );
    }
    let _ = writeln!(out, "{} units", units.len());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Check, PeriodChange, UnclassifiedUnit};
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use settlement_model::{BitcoinInputs, DayTotals, DifficultyOrigin, PeriodRange};

    fn totals(records: u64, energy_mwh: Decimal, payment_gbp: Decimal) -> DayTotals {
        DayTotals {
            records,
            energy_mwh,
            payment_gbp,
        }
    }

    fn verification() -> VerificationReport {
        VerificationReport::from_checks(vec![Check {
            name: "daily_matches_records".into(),
            ok: true,
            detail: "daily summary = Σ records, exactly".into(),
        }])
    }

    /// A committed run with the figures of issue 22: 20-digit decimals, as the pipeline's
    /// exact sums have them.
    fn run_report() -> RunReport {
        let date = "2024-03-21".parse().unwrap_or_else(|_| unreachable!());
        let inputs = BitcoinInputs {
            difficulty: dec!(83148355189239),
            difficulty_date: "2024-03-09".parse().ok(),
            origin: DifficultyOrigin::Table,
            subsidy: dec!(6.25),
        };
        let mut r = RunReport::new(
            date,
            PeriodRange::full(date),
            inputs,
            "5f0c2a9e-1b7d-4c1e-9a3f-2d8e6b4c0a11".into(),
        );
        r.periods_expected = 48;
        r.periods_fetched = 48;
        r.records = 1_204;
        r.energy_mwh = dec!(27314.6906076389340706);
        r.payment_gbp = dec!(1540974.881591938382399725);
        r.bitcoin
            .insert("S19J_PRO".into(), dec!(12.345678912345678));
        r.bitcoin.insert("S9".into(), dec!(1.0000000049));
        r.committed = true;
        r.before = totals(1_190, dec!(26999.123456789), dec!(1520000.004999));
        r.after = totals(1_204, r.energy_mwh, r.payment_gbp);
        r.per_period = vec![PeriodChange {
            period: 17,
            before: totals(20, dec!(1234.5678), dec!(-98765.4321)),
            after: totals(34, dec!(1549.1363076389340706), dec!(-77791.5491)),
            changed: true,
            cause: None,
        }];
        r.items_seen = 5_000;
        r.null_id_items = 3;
        r.unclassified = vec![UnclassifiedUnit {
            id: "T_NEW-1".into(),
            items: 2,
            volume_mwh: dec!(-1234.005),
        }];
        r.verification = verification();
        r.fingerprint = Some("ab".repeat(32));
        r.duration_ms = 1_234;
        r
    }

    #[test]
    fn run_text_rounds_and_groups_figures() {
        let text = run_text(&run_report());
        assert!(text.contains("energy:      27,314.69 MWh\n"), "{text}");
        assert!(text.contains("payment:     £1,540,974.88\n"), "{text}");
        assert!(text.contains("12.34567891 BTC (S19J_PRO)"), "{text}");
        insta::assert_snapshot!("run_text", text);
    }

    #[test]
    fn verify_text_rounds_and_groups_figures() {
        let r = run_report();
        let v = VerifyReport {
            date: r.date,
            periods_expected: 48,
            periods_fetched: 48,
            records: r.records,
            energy_mwh: r.energy_mwh,
            payment_gbp: r.payment_gbp,
            bitcoin: r.bitcoin.clone(),
            verification: verification(),
            run_id: Some(r.run_id.clone()),
            drift: r.per_period.clone(),
        };
        let text = verify_text(&v);
        assert!(
            text.starts_with("2024-03-21: 1204 records, 27,314.69 MWh, £1,540,974.88;"),
            "{text}"
        );
        insta::assert_snapshot!("verify_text", text);
    }

    /// `--json` keeps every value exact, and is byte for byte what the binary printed before
    /// the human figures were rounded: the pretty document and one newline.
    #[test]
    fn the_json_document_keeps_exact_values() {
        let r = run_report();
        let doc = output(true, &r, || unreachable!("no text for --json"))
            .unwrap_or_else(|e| panic!("{e}"));
        let before = serde_json::to_string_pretty(&r).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(doc, format!("{before}\n"));
        assert!(doc.contains("\"energy_mwh\": \"27314.6906076389340706\""));
        assert!(doc.contains("\"payment_gbp\": \"1540974.881591938382399725\""));
        insta::assert_snapshot!("run_json", doc);
    }

    #[test]
    fn text_output_ends_with_one_newline() {
        let ok = |t: &str| output(false, &(), || t.to_owned()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(ok("a"), "a\n");
        assert_eq!(ok("a\n"), "a\n");
    }
}
