//! The pipeline's unit tests, on the in-memory seams (`crate::testing`): no database and no
//! network, only the role traits of `store` and `elexon_client::SettlementSource`. Each test
//! is a scenario of `tests/pipeline.rs` (which runs them on real databases against the
//! simulator) reduced to what the seams must carry.

use std::sync::Arc;

use rust_decimal::Decimal;
use settlement_model::{
    CurtailmentRecord, DayTotals, DifficultyOrigin, PeriodRange, RegistryOrigin, Side,
    SummaryPeriod,
};
use store::{AuditLog, DaySwap, FetchStatus, RunStatus, SourceArchive, StoreError, UnitRegistry};

use crate::error::PipelineError;
use crate::evidence::Fingerprint;
use crate::pipeline::{NoProgress, Pipeline, RunOptions};
use crate::testing::fixtures::{config, day, pipeline, SeamPipeline};
use crate::testing::CannedSource;
use crate::verify::Expectations;

/// Records in one order whatever order they were stored in.
fn canonical(mut records: Vec<CurtailmentRecord>) -> Vec<CurtailmentRecord> {
    store::contract::sort_records(&mut records);
    records
}

fn in_periods(records: &[CurtailmentRecord], range: PeriodRange) -> Vec<CurtailmentRecord> {
    canonical(
        records
            .iter()
            .filter(|r| range.contains(r.settlement_period))
            .cloned()
            .collect(),
    )
}

fn outside(records: &[CurtailmentRecord], range: PeriodRange) -> Vec<CurtailmentRecord> {
    canonical(
        records
            .iter()
            .filter(|r| !range.contains(r.settlement_period))
            .cloned()
            .collect(),
    )
}

fn fingerprint(p: &SeamPipeline, date: settlement_model::SettlementDate) -> Fingerprint {
    Fingerprint::of(&p.store().day_state(date).unwrap(), date)
}

#[tokio::test]
async fn a_date_runs_verifies_and_stores_the_records_the_source_implies() {
    let p = pipeline();
    let date = day("2024-03-21");
    let report = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    assert!(report.committed, "{:?}", report.verification);
    assert!(report.verification.ok, "{:?}", report.verification);
    assert!(!report.forced && !report.dry_run);
    assert_eq!((report.periods_expected, report.periods_fetched), (48, 48));

    let expected = CannedSource::expected_records(date, 0);
    let totals = DayTotals::from_records(&expected).unwrap();
    assert_eq!(
        (report.records, report.energy_mwh, report.payment_gbp),
        (totals.records, totals.energy_mwh, totals.payment_gbp)
    );
    // Every item of every stack was seen; the system rows without a unit are counted.
    assert_eq!(report.null_id_items, 48);
    assert!(report.unclassified.is_empty());

    let s = p.store().day_state(date).unwrap();
    assert_eq!(canonical(s.records.clone()), canonical(expected));
    assert!(
        s.records.iter().any(|r| r.payment < Decimal::ZERO),
        "a positive bid price is a negative payment, kept as such"
    );
    assert!(s.records.iter().any(|r| r.side == Side::Offer));
    assert!(s.records.iter().all(|r| r.farm_id != "T_GASCC-1"));

    // Summaries: the day is the only one of its month and year.
    let daily = s.daily.clone().unwrap();
    assert_eq!(
        (daily.total_curtailed_energy, daily.total_payment),
        (totals.energy_mwh, totals.payment_gbp)
    );
    let monthly = s.monthly.clone().unwrap();
    let yearly = s.yearly.clone().unwrap();
    assert_eq!(monthly.total_curtailed_energy, totals.energy_mwh);
    assert_eq!(yearly.total_payment, totals.payment_gbp);
    assert_eq!(s.summary_row_counts, [1, 1, 1]);

    // Bitcoin: a row per record and model, and a summary per model for day, month and year.
    let models = ["M20S", "S19J_PRO", "S9"];
    assert_eq!(report.bitcoin.keys().cloned().collect::<Vec<_>>(), models);
    assert_eq!(s.bitcoin_rows.len(), s.records.len() * models.len());
    for model in models {
        let rows: Decimal = s
            .bitcoin_rows
            .iter()
            .filter(|r| r.miner_model == model)
            .map(|r| r.bitcoin_mined)
            .sum();
        assert!(rows > Decimal::ZERO, "{model}");
        assert_eq!(report.bitcoin[model], rows, "{model}");
        for period in [
            SummaryPeriod::Day(date),
            SummaryPeriod::Month(date.year_month()),
            SummaryPeriod::Year(date.year()),
        ] {
            let summary = s
                .bitcoin_summaries
                .iter()
                .find(|b| b.period == period && b.miner_model == model)
                .unwrap_or_else(|| panic!("no {model} summary of {period}"));
            assert_eq!(summary.bitcoin_mined, rows, "{model} {period}");
        }
    }

    // The fetch log covers both stacks of every period, each filed in the archive.
    assert_eq!(s.fetch_log.len(), 96);
    for e in &s.fetch_log {
        assert_eq!(e.status, FetchStatus::Fetched);
        let hash = e.source_hash.as_deref().unwrap();
        assert_eq!(p.store().get_source(hash).unwrap().format, "json");
    }

    // The registry was filled from the source on first use.
    assert_eq!(
        p.store().registry_state().unwrap().unwrap().origin,
        RegistryOrigin::Api
    );
    assert_eq!(
        p.store().bm_units().unwrap().len(),
        CannedSource::units().len()
    );

    // The audit row, with the bitcoin inputs the trust rules chose.
    let runs = p.store().runs(Some(date)).unwrap();
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.run_id, report.run_id);
    assert!(run.committed());
    assert_eq!(
        (run.kind.as_str(), run.status.as_str(), run.periods.as_str()),
        ("run", "committed", "1-48")
    );
    assert_eq!(run.records_before, 0);
    assert_eq!(run.records_after, i64::try_from(totals.records).unwrap());
    assert_eq!(run.energy_after, totals.energy_mwh);
    let inputs = run.inputs.unwrap();
    assert_eq!(inputs.origin, DifficultyOrigin::Table);
    assert_eq!(inputs.difficulty_date, Some("2024-03-14".parse().unwrap()));
    assert_eq!(inputs.subsidy, Decimal::new(625, 2));

    // The evidence names the rows it wrote.
    let doc = p.evidence(&report.run_id).await.unwrap().unwrap();
    assert_eq!(doc.fingerprint, Fingerprint::of(&s, date));
    assert_eq!(
        report.fingerprint.as_deref(),
        Some(doc.fingerprint.total.as_str())
    );
}

#[tokio::test]
async fn running_a_date_twice_leaves_identical_rows() {
    let p = pipeline();
    let date = day("2024-03-21");
    p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let first = p.store().day_state(date).unwrap();
    let again = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    assert!(again.committed && again.verification.ok);
    assert!(again.per_period.iter().all(|c| !c.changed));
    assert_eq!(again.before, again.after);
    let second = p.store().day_state(date).unwrap();
    assert_eq!(
        Fingerprint::of(&first, date),
        Fingerprint::of(&second, date)
    );
    assert_eq!(first.records, second.records);
    assert_eq!(first.bitcoin_rows, second.bitcoin_rows);
    assert_eq!(first.bitcoin_summaries, second.bitcoin_summaries);
    assert_eq!(
        (first.daily, first.monthly, first.yearly),
        (second.daily, second.monthly, second.yearly)
    );
    let statuses: Vec<RunStatus> = p
        .store()
        .runs(Some(date))
        .unwrap()
        .into_iter()
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [RunStatus::Committed, RunStatus::Committed]);
}

#[tokio::test]
async fn a_partial_run_replaces_only_its_periods_and_keeps_summaries_consistent() {
    let p = pipeline();
    let date = day("2024-02-10");
    p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let before = p.store().day_state(date).unwrap();

    // A later calculation run changes the odd periods; reingest periods 1-4 only.
    p.source().set_revision(date, 1);
    let range = PeriodRange::parse("1-4", date).unwrap();
    let mut opts = RunOptions::new(date);
    opts.periods = Some(range);
    let r = p.run(&opts, &NoProgress).await.unwrap();
    assert!(r.committed && r.verification.ok, "{:?}", r.verification);
    assert_eq!(r.periods_expected, 4);
    let changed: Vec<(u8, bool)> = r.per_period.iter().map(|c| (c.period, c.changed)).collect();
    assert_eq!(changed, [(1, true), (2, false), (3, true), (4, false)]);

    let after = p.store().day_state(date).unwrap();
    assert_eq!(
        outside(&after.records, range),
        outside(&before.records, range)
    );
    assert_eq!(
        in_periods(&after.records, range),
        in_periods(&CannedSource::expected_records(date, 1), range)
    );
    // Periods 5-48 of the source changed too, but were not asked for.
    assert_ne!(
        canonical(after.records.clone()),
        canonical(CannedSource::expected_records(date, 1))
    );
    let totals = DayTotals::from_records(&after.records).unwrap();
    assert_eq!(
        after.daily.as_ref().unwrap().total_curtailed_energy,
        totals.energy_mwh
    );
    assert_eq!(after.bitcoin_rows.len(), after.records.len() * 3);

    // The backup holds exactly what periods 1-4 held; the audit row names the range.
    assert_eq!(
        canonical(p.store().backup_records(&r.run_id).unwrap()),
        in_periods(&before.records, range)
    );
    let run = p.store().run(&r.run_id).unwrap().unwrap();
    assert_eq!(run.periods, "1-4");
    assert_eq!(
        run.records_before,
        i64::try_from(in_periods(&before.records, range).len()).unwrap()
    );
    let v = p.verify(date, false, &NoProgress).await.unwrap();
    assert!(v.verification.ok, "{:?}", v.verification);
}

#[tokio::test]
async fn a_failed_expectation_rolls_back_everything_and_force_commits() {
    let p = pipeline();
    let date = day("2024-03-22");
    let first = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let before = p.store().data();

    p.source().set_revision(date, 2);
    let mut opts = RunOptions::new(date);
    opts.expectations = Expectations {
        energy_mwh: Some(first.energy_mwh + Decimal::ONE),
        ..Expectations::default()
    };
    let r = p.run(&opts, &NoProgress).await.unwrap();
    assert!(!r.verification.ok && !r.committed && !r.forced);
    assert_eq!(r.exit_code(), 1);
    assert_eq!(r.verification.failed(), vec!["expected_energy"]);
    assert_eq!(
        p.store().data(),
        before,
        "no record, summary, bitcoin row, fetch log, backup or evidence changed"
    );
    let run = p.store().run(&r.run_id).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::RolledBack);
    assert!(!run.committed());
    assert_eq!(run.records_before, i64::try_from(first.records).unwrap());
    assert!(p.evidence(&r.run_id).await.unwrap().is_none());

    opts.force = true;
    let forced = p.run(&opts, &NoProgress).await.unwrap();
    assert!(forced.committed && forced.forced && !forced.verification.ok);
    let run = p.store().run(&forced.run_id).unwrap().unwrap();
    assert_eq!(run.status, RunStatus::Forced);
    assert!(run.committed());
    assert_eq!(
        canonical(p.store().day_state(date).unwrap().records),
        canonical(CannedSource::expected_records(date, 2))
    );
}

#[tokio::test]
async fn a_hook_that_cannot_derive_rolls_back_and_the_run_is_recorded_failed() {
    let p = pipeline();
    let date = day("2024-03-21");
    p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let before = p.store().data();
    // A difficulty of zero passes the trust rules (it is the operator's override) but the
    // bitcoin calculation refuses it inside the swap.
    let broken = Pipeline::new(CannedSource::new(), Arc::clone(p.store()), config())
        .with_difficulty_override(Decimal::ZERO);
    broken.source().set_revision(date, 1);
    let err = broken
        .run(&RunOptions::new(date), &NoProgress)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PipelineError::Store(StoreError::Derive { .. })),
        "{err:?}"
    );
    assert_eq!(err.exit_code(), 2);
    assert_eq!(p.store().data(), before, "everything rolled back");
    let runs = p.store().runs(Some(date)).unwrap();
    assert_eq!(runs[0].status, RunStatus::Failed);
    assert!(
        runs[0].detail.as_deref().unwrap().contains("positive"),
        "{:?}",
        runs[0].detail
    );
}

#[tokio::test]
async fn a_fetch_failure_stops_the_run_before_any_write() {
    let p = pipeline();
    let date = day("2024-03-21");
    p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let before = p.store().data();
    p.source().set_revision(date, 1);
    p.source().fail_period(date, 17);
    let err = p
        .run(&RunOptions::new(date), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::Fetch(_)), "{err:?}");
    let text = crate::error::describe(&err);
    assert!(text.contains("period 17"), "{text}");
    assert_eq!(p.store().data(), before);
    let runs = p.store().runs(Some(date)).unwrap();
    assert_eq!(
        (runs.len(), runs[0].status.as_str()),
        (2, "failed"),
        "the failure is audited"
    );
}

/// A wind unit's constraint bid published with a null `originalPrice` cannot be priced: the
/// run stops naming the date, period, side and unit, and nothing is written (never a zero
/// payment).
#[tokio::test]
async fn an_unpriceable_curtailment_item_stops_the_run_before_any_write() {
    let p = pipeline();
    let date = day("2024-03-21");
    p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let before = p.store().data();
    p.source().unprice_period(date, 9);
    let err = p
        .run(&RunOptions::new(date), &NoProgress)
        .await
        .unwrap_err();
    assert!(matches!(err, PipelineError::Process(_)), "{err:?}");
    assert_eq!(err.exit_code(), 2);
    let text = crate::error::describe(&err);
    assert!(
        text.contains("2024-03-21 period 9 bid item T_") && text.contains("originalPrice is null"),
        "{text}"
    );
    assert!(text.contains("nothing was written"), "{text}");
    assert_eq!(p.store().data(), before);
}

#[tokio::test]
async fn a_missing_period_is_recorded_when_allowed() {
    let p = pipeline();
    let date = day("2024-03-21");
    p.source().unpublish_period(date, 30);
    let err = p
        .run(&RunOptions::new(date), &NoProgress)
        .await
        .unwrap_err();
    let text = crate::error::describe(&err);
    assert!(text.contains("404"), "{text}");
    let mut opts = RunOptions::new(date);
    opts.allow_missing_periods = true;
    let r = p.run(&opts, &NoProgress).await.unwrap();
    assert!(r.committed && r.verification.ok, "{:?}", r.verification);
    assert_eq!(r.periods_missing, vec![30]);
    let s = p.store().day_state(date).unwrap();
    assert!(s.records.iter().all(|r| r.settlement_period != 30));
    let missing: Vec<(u8, FetchStatus)> = s
        .fetch_log
        .iter()
        .filter(|e| e.status == FetchStatus::Missing)
        .map(|e| (e.settlement_period, e.status))
        .collect();
    assert_eq!(
        missing,
        [(30, FetchStatus::Missing), (30, FetchStatus::Missing)]
    );
    // Verification on its own (no --allow-missing-periods) reports the gap.
    let v = p.verify(date, false, &NoProgress).await.unwrap();
    assert_eq!(v.verification.failed(), vec!["periods_fetched"]);
}

#[tokio::test]
async fn a_dry_run_writes_nothing_and_reports_what_would_change() {
    let p = pipeline();
    let date = day("2024-03-21");
    let mut opts = RunOptions::new(date);
    opts.dry_run = true;
    let r = p.run(&opts, &NoProgress).await.unwrap();
    assert!(r.dry_run && !r.committed);
    assert_eq!(r.per_period.len(), 48);
    assert!(r.per_period.iter().any(|c| c.changed));
    let expected = DayTotals::from_records(&CannedSource::expected_records(date, 0)).unwrap();
    assert_eq!(
        (r.records, r.energy_mwh),
        (expected.records, expected.energy_mwh)
    );
    assert_eq!(r.bitcoin.len(), 3);
    assert_eq!(p.source().requests(), 96, "it fetched every stack");

    assert_eq!(p.store().data(), Default::default(), "no settlement data");
    assert!(p.store().runs(None).unwrap().is_empty(), "not audited");
    assert!(
        p.store().source_hashes().unwrap().is_empty(),
        "nothing archived"
    );
}

#[tokio::test]
async fn restore_of_a_run_brings_back_the_rows_it_replaced() {
    let p = pipeline();
    let date = day("2024-02-20");
    let first = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let original = p.store().day_state(date).unwrap();
    p.source().set_revision(date, 1);
    let second = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    assert!(second.committed);
    assert_ne!(Fingerprint::of(&original, date), fingerprint(&p, date));

    let restored = p.restore(&second.run_id, false).await.unwrap();
    assert!(restored.committed, "{:?}", restored.verification);
    assert!(restored.verification.ok, "{:?}", restored.verification);
    let now = p.store().day_state(date).unwrap();
    assert_eq!(
        Fingerprint::of(&now, date),
        Fingerprint::of(&original, date)
    );
    assert_eq!(
        canonical(now.records.clone()),
        canonical(original.records.clone())
    );
    assert_eq!(now.daily, original.daily);
    // The fetch log is put back as it stood before the restored run.
    let logged = |s: &store::DayState| -> Vec<Option<String>> {
        s.fetch_log.iter().map(|e| e.source_hash.clone()).collect()
    };
    assert_eq!(logged(&now), logged(&original));
    let kinds: Vec<store::RunKind> = p
        .store()
        .runs(Some(date))
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            store::RunKind::Restore,
            store::RunKind::Run,
            store::RunKind::Run
        ]
    );

    // The first run is older than two committed runs over its periods: refused unless
    // forced, and then the day holds what it held before it (nothing).
    let refused = p.restore(&first.run_id, false).await.unwrap_err();
    assert!(
        matches!(refused, PipelineError::Store(StoreError::LaterRuns { .. })),
        "{refused:?}"
    );
    let emptied = p.restore(&first.run_id, true).await.unwrap();
    assert!(emptied.committed, "{:?}", emptied.verification);
    let empty = p.store().day_state(date).unwrap();
    assert!(empty.records.is_empty() && empty.bitcoin_rows.is_empty());
    assert_eq!(
        empty.daily.unwrap().total_curtailed_energy,
        Decimal::ZERO,
        "the summary row stays, updated in place"
    );

    assert!(p.restore("no-such-run", false).await.is_err());
}

#[tokio::test]
async fn a_replay_from_the_archive_as_recorded_reproduces_the_run() {
    let p = pipeline();
    let date = day("2024-03-21");
    let original = p.run(&RunOptions::new(date), &NoProgress).await.unwrap();
    let requests = p.source().requests();
    // The source moves on; the replay must not ask it.
    p.source().set_revision(date, 1);
    let replay = p
        .run_from_archive(&RunOptions::new(date), None, true, &NoProgress)
        .await
        .unwrap();
    assert!(
        replay.committed && replay.verification.ok,
        "{:?}",
        replay.verification
    );
    assert!(replay
        .verification
        .checks
        .iter()
        .any(|c| c.name == "fingerprint_matches_recorded" && c.ok));
    assert_eq!(replay.fingerprint, original.fingerprint);
    assert_eq!(p.source().requests(), requests, "no request to the source");
    let run = p.store().run(&replay.run_id).unwrap().unwrap();
    assert!(run.reason.unwrap().contains(&original.run_id));
}
