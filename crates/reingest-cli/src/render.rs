//! Human text and JSON rendering of reports, shared by the binary and `cargo xtask`.
//! JSON goes to stdout as one document.

use std::fmt::Write as _;

use crate::range::{RangeReport, ReconcileReport};
use crate::{RunReport, VerificationReport, VerifyReport};
use serde::Serialize;
use settlement_model::BmUnit;

/// Prints `value` as JSON when `json`, else the text `human` builds; either way the output
/// ends with a newline, so commands run one after another in a script print on their own
/// lines.
pub fn print<T: Serialize>(json: bool, value: &T, human: impl FnOnce() -> String) {
    if json {
        match serde_json::to_string_pretty(value) {
            Ok(s) => println!("{s}"),
            Err(e) => eprintln!("error: cannot render JSON: {e}"),
        }
    } else {
        print!("{}", with_final_newline(human()));
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
    let _ = writeln!(out, "energy:      {} MWh", r.energy_mwh);
    let _ = writeln!(out, "payment:     £{}", r.payment_gbp);
    for (m, b) in &r.bitcoin {
        let _ = writeln!(out, "bitcoin:     {b} BTC ({m})");
    }
    let _ = writeln!(
        out,
        "difficulty:  {} ({}{}); block subsidy {} BTC",
        r.inputs.difficulty,
        r.inputs.origin,
        r.inputs
            .difficulty_date
            .map(|d| format!(", adjusted {d}"))
            .unwrap_or_default(),
        r.inputs.subsidy
    );
    let _ = writeln!(
        out,
        "replaced:    {} records {} MWh £{}  ->  {} records {} MWh £{}",
        r.before.records,
        r.before.energy_mwh,
        r.before.payment_gbp,
        r.after.records,
        r.after.energy_mwh,
        r.after.payment_gbp
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
            "  unknown unit {}: {} items, {} MWh",
            u.id, u.items, u.volume_mwh
        );
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
                p.before.energy_mwh,
                p.after.records,
                p.after.energy_mwh
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
        "{}: {} records, {} MWh, £{}; {} of {} periods logged",
        r.date, r.records, r.energy_mwh, r.payment_gbp, r.periods_fetched, r.periods_expected
    );
    for (m, b) in &r.bitcoin {
        let _ = writeln!(out, "bitcoin: {b} BTC ({m})");
    }
    checks(&mut out, &r.verification);
    for d in &r.drift {
        let _ = writeln!(
            out,
            "  drift period {:>2}: stored {} records {} MWh £{}, API {} records {} MWh £{}",
            d.period,
            d.before.records,
            d.before.energy_mwh,
            d.before.payment_gbp,
            d.after.records,
            d.after.energy_mwh,
            d.after.payment_gbp
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
            d.energy_mwh.round_dp(3).to_string(),
            d.payment_gbp.round_dp(2).to_string(),
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
            r.energy_after.round_dp(3).to_string(),
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
pub fn diff_text(r: &crate::archive::DiffReport) -> String {
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
