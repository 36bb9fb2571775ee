//! The document of a run for a ticket (`reingest report`): what an operator used to write up
//! by hand, assembled from the audit log and the run's evidence, rendered as Markdown
//! ([`markdown`]) or self-contained HTML ([`html`]); `--json` prints [`RunDocument`] itself.

pub mod html;
pub mod markdown;

use serde::Serialize;
use settlement_model::DayTotals;
use store::{AuditRow, SettlementStore};

use crate::error::{InputError, PipelineError};
use crate::evidence::EvidenceDocument;
use crate::ops::context::Context;
use crate::ops::run_evidence;
use crate::ops::run_ref::RunRef;
use elexon_client::SettlementSource;

/// Everything the report of one run shows.
#[derive(Debug, Clone, Serialize)]
pub struct RunDocument {
    /// The run's audit row: who, where, when, why, status, totals, inputs.
    pub run: AuditRow,
    /// What the run recorded of its inputs and effects (`None` for runs before evidence
    /// was recorded; the report then says so).
    pub evidence: Option<EvidenceDocument>,
    /// The command that puts back what the run replaced.
    pub restore_command: String,
}

impl RunDocument {
    /// The run's totals before and after, as recorded in the audit log.
    pub fn totals(&self) -> (DayTotals, DayTotals) {
        let r = &self.run;
        let n = |v: i64| u64::try_from(v).unwrap_or(0);
        (
            DayTotals {
                records: n(r.records_before),
                energy_mwh: r.energy_before,
                payment_gbp: r.payment_before,
            },
            DayTotals {
                records: n(r.records_after),
                energy_mwh: r.energy_after,
                payment_gbp: r.payment_after,
            },
        )
    }

    /// The header rows both renderings show: run, reason, who, when, tool, fingerprint.
    pub fn header(&self) -> Vec<(&'static str, String)> {
        let r = &self.run;
        vec![
            ("Run", format!("{} ({}, {})", r.run_id, r.kind, r.status)),
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
                self.evidence
                    .as_ref()
                    .map_or_else(|| "not recorded".into(), |e| e.fingerprint.total.clone()),
            ),
        ]
    }

    /// The bitcoin inputs as list items: difficulty (source, adjustment), subsidy, miner
    /// models, registry; or one item saying they were not recorded.
    pub fn inputs_items(&self) -> Vec<String> {
        let mut items = match self.run.inputs {
            Some(i) => vec![
                format!(
                    "difficulty {} ({}{})",
                    i.difficulty,
                    i.origin,
                    i.difficulty_date
                        .map(|d| format!(", the adjustment of {d}"))
                        .unwrap_or_default()
                ),
                format!("block subsidy {}", crate::output::human::btc(i.subsidy)),
            ],
            None => vec!["not recorded for this run".to_owned()],
        };
        if let Some(e) = &self.evidence {
            let models: Vec<String> = e
                .miners
                .iter()
                .map(|m| format!("{} ({} TH/s, {} W)", m.name, m.hashrate_ths, m.power_w))
                .collect();
            items.push(format!("miner models: {}", models.join(", ")));
            items.push(format!(
                "BM unit registry: {} units, snapshot {}",
                e.registry_units, e.registry_hash
            ));
        }
        items
    }

    /// The restore and replay instructions.
    pub fn restore_text(&self) -> String {
        let r = &self.run;
        format!(
            "{} puts back what this run replaced (periods {}), through the same verified swap; \
             it is refused while a later run holds any of those periods, unless --force. \
             Replay it exactly: reingest run {} --from-archive {} --as-recorded.",
            self.restore_command, r.periods, r.settlement_date, r.run_id
        )
    }

    /// A short title: `Reingestion of DATE, periods A-B`.
    pub fn title(&self) -> String {
        format!(
            "Reingestion of {}, periods {}",
            self.run.settlement_date, self.run.periods
        )
    }
}

/// The work of [`Pipeline::report`](crate::Pipeline::report).
pub(crate) async fn report<S, St>(
    cx: &Context<S, St>,
    what: &RunRef,
) -> Result<RunDocument, PipelineError>
where
    S: SettlementSource,
    St: SettlementStore + 'static,
{
    let run = match what {
        RunRef::Date(date) => {
            let date = *date;
            cx.with_store(move |s| s.runs(Some(date)))
                .await?
                .into_iter()
                .find(|r| r.committed())
                .ok_or(InputError::NoCommittedRun { date })?
        }
        RunRef::Run(id) => {
            let id = id.clone();
            let found = cx.with_store(move |s| s.run(&id)).await?;
            found.ok_or_else(|| InputError::UnknownRunOrDate {
                what: what.to_string(),
            })?
        }
    };
    let evidence = run_evidence::evidence(cx, &run.run_id).await?;
    Ok(RunDocument {
        restore_command: format!("reingest restore {}", run.run_id),
        run,
        evidence,
    })
}

/// When a period's responses were calculated, or `—`.
pub(crate) fn created_text(p: &crate::evidence::PeriodEvidence) -> String {
    p.created.map_or_else(
        || "—".into(),
        |t| t.format("%Y-%m-%d %H:%M UTC").to_string(),
    )
}

/// A list of unit ids, or `none`.
pub(crate) fn unit_list(ids: &[String], show: impl Fn(&str) -> String) -> String {
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.iter().map(|u| show(u)).collect::<Vec<_>>().join(", ")
    }
}

/// A test fixture: a committed full-day run of 2024-03-21 with deterministic figures.
#[cfg(test)]
pub(crate) fn fixture() -> RunDocument {
    use crate::evidence::{Fingerprint, PeriodEvidence};
    use crate::verify::{Check, VerificationReport};
    use chrono::TimeZone;
    use rust_decimal::Decimal;
    use settlement_model::{BitcoinInputs, DifficultyOrigin};

    let date: settlement_model::SettlementDate =
        "2024-03-21".parse().unwrap_or_else(|_| unreachable!());
    let started = chrono::Utc
        .with_ymd_and_hms(2024, 4, 2, 9, 30, 0)
        .single()
        .unwrap_or_else(|| unreachable!());
    let per_period: Vec<PeriodEvidence> = (1..=48u8)
        .map(|p| {
            let e = |n: i64| DayTotals {
                records: u64::try_from(n % 5).unwrap_or(0),
                energy_mwh: Decimal::new(n * 125, 1),
                payment_gbp: Decimal::new(n * 4_375, 2),
            };
            let k = i64::from(p);
            PeriodEvidence {
                period: p,
                before: e((k * 7) % 23),
                after: e((k * 7) % 23 + i64::from(p % 3 == 0)),
                created: Some(started - chrono::Duration::days(11) + chrono::Duration::minutes(k)),
            }
        })
        .collect();
    let inputs = BitcoinInputs {
        difficulty: Decimal::new(83_148_355_189_239, 0),
        difficulty_date: "2024-03-09".parse().ok(),
        origin: DifficultyOrigin::Table,
        subsidy: Decimal::new(625, 2),
    };
    let fp = |c: char| std::iter::repeat_n(c, 64).collect::<String>();
    let run = AuditRow {
        run_id: "5f0c2a9e-1b7d-4c1e-9a3f-2d8e6b4c0a11".into(),
        kind: store::RunKind::Run,
        settlement_date: date,
        periods: "1-48".into(),
        reason: Some("ticket 123: missing periods <17 & 18>".into()),
        user: "ops".into(),
        host: "batch-1".into(),
        status: store::RunStatus::Committed,
        records_before: 230,
        records_after: 246,
        energy_before: Decimal::new(13_300, 1),
        energy_after: Decimal::new(14_087, 1),
        payment_before: Decimal::new(4_655_000, 2),
        payment_after: Decimal::new(4_930_625, 2),
        per_period_counts: "{}".into(),
        started_at: started,
        duration_ms: 1_234,
        tool_version: "0.1.0".into(),
        detail: None,
        inputs: Some(inputs),
        backup_pruned_at: None,
        range_tag: None,
    };
    let evidence = EvidenceDocument {
        fingerprint: Fingerprint {
            total: fp('a'),
            records: fp('b'),
            bitcoin: fp('c'),
            summaries: fp('d'),
        },
        registry_hash: fp('e'),
        registry_units: 312,
        miners: bitcoin_calc::MinerCatalog::defaults().models().to_vec(),
        inputs,
        tool_version: "0.1.0".into(),
        verification: VerificationReport::from_checks(vec![
            Check {
                name: crate::CheckName::PeriodsFetched,
                ok: true,
                detail: "48 of 48 periods (1-48) fetched and logged (both stacks)".into(),
            },
            Check {
                name: crate::CheckName::PaymentsMatchPrices,
                ok: true,
                detail: "246 records: payment = volume × original price, exactly".into(),
            },
        ]),
        per_period,
        units_appeared: vec!["T_NEWFARM-1".into()],
        units_vanished: vec![],
    };
    RunDocument {
        restore_command: format!("reingest restore {}", run.run_id),
        run,
        evidence: Some(evidence),
    }
}
