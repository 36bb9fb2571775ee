//! One contract, three stores: every scenario here runs on the in-memory store
//! (`store::memory::MemoryStore`), on SQLite and on PostgreSQL, through the role traits
//! only (`cargo test -p store conformance`). PostgreSQL runs when REINGEST_TEST_DATABASE_URL
//! is set, and fails (never skips) when it is set and unreachable.
//!
//! Each scenario is a function of a [`Subject`]; [`scenarios!`] makes a test of it per
//! store: `conformance::memory::NAME`, `conformance::sqlite::NAME`,
//! `conformance::postgres::NAME`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use settlement_model::{BitcoinRow, PeriodRange, SettlementDate, SummaryPeriod};
use store::memory::MemoryStore;
use store::prelude::*;
use store::{
    AuditRow, DayState, DeriveContext, DerivedRows, HookError, RunStatus, RunsQuery, StoreError,
    SwapHooks, SwapPlan,
};

use crate::common::{
    audit, date, dump, fresh_pg, fresh_sqlite, gen_records, open, pg_base_url, plan, sum_records,
    swap, SumHooks, TestDb,
};

/// A store under the suite.
pub enum Subject {
    Memory(Box<MemoryStore>),
    Sql(TestDb),
}

impl Subject {
    fn memory() -> Self {
        Subject::Memory(Box::default())
    }

    fn sqlite() -> Self {
        let (url, guard) = fresh_sqlite();
        Subject::Sql(open("sqlite", url, guard, store::StoreConfig::default()))
    }

    /// A fresh PostgreSQL database, or `None` (skipped) when REINGEST_TEST_DATABASE_URL is
    /// unset; panics when it is set and unreachable.
    fn postgres() -> Option<Self> {
        let base = pg_base_url()?;
        let (url, guard) = fresh_pg(&base);
        Some(Subject::Sql(open(
            "postgres",
            url,
            guard,
            store::StoreConfig::default(),
        )))
    }

    fn store(&self) -> &dyn SettlementStore {
        match self {
            Subject::Memory(m) => m.as_ref(),
            Subject::Sql(db) => &db.store,
        }
    }

    fn label(&self) -> &'static str {
        match self {
            Subject::Memory(_) => "memory",
            Subject::Sql(db) => db.label,
        }
    }

    /// Everything a swap writes (not the audit log), as text: equal before and after an
    /// operation that changed nothing.
    fn data(&self) -> String {
        match self {
            Subject::Memory(m) => format!("{:?}", m.data()),
            Subject::Sql(db) => format!("{:?}", dump(&db.url)),
        }
    }
}

/// A test of every scenario on every store.
macro_rules! scenarios {
    ($($name:ident),+ $(,)?) => {
        mod memory {
            $(#[test]
            fn $name() {
                super::$name(&super::Subject::memory());
            })+
        }
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(&super::Subject::sqlite());
            })+
        }
        mod postgres {
            $(#[test]
            fn $name() {
                if let Some(subject) = super::Subject::postgres() {
                    super::$name(&subject);
                }
            })+
        }
    };
}

scenarios!(
    a_commit_replaces_the_swapped_periods_and_keeps_the_others,
    the_backup_holds_the_replaced_records,
    a_rejected_swap_rolls_back_everything_and_audits_the_totals,
    a_forced_commit_is_audited_forced,
    a_hook_error_fails_the_run_and_changes_nothing,
    derived_rows_outside_the_date_month_and_year_are_refused,
    an_older_running_run_becomes_interrupted,
    the_day_reads_agree_after_swaps,
    the_audit_reads_agree,
    delete_backups_deletes_the_backup_and_marks_the_run,
    a_run_id_is_used_once,
    a_bad_plan_is_refused_before_any_write,
);

fn full(d: SettlementDate) -> PeriodRange {
    PeriodRange::full(d)
}

fn run_of(s: &Subject, run_id: &str) -> AuditRow {
    s.store()
        .run(run_id)
        .unwrap()
        .unwrap_or_else(|| panic!("{}: no audit row of {run_id}", s.label()))
}

fn a_commit_replaces_the_swapped_periods_and_keeps_the_others(s: &Subject) {
    let st = s.store();
    let (d, other) = (date("2024-03-21"), date("2024-03-22"));
    let first = gen_records(d, full(d), 2, "A", 1);
    let neighbour = gen_records(other, full(other), 1, "B", 2);
    swap(st, d, full(d), first.clone());
    swap(st, other, full(other), neighbour.clone());

    let part = PeriodRange::parse("5-8", d).unwrap();
    let new = gen_records(d, part, 3, "C", 3);
    let out = swap(st, d, part, new.clone());
    let in_part = |r: &&settlement_model::CurtailmentRecord| part.contains(r.settlement_period);
    let old_part: Vec<_> = first.iter().filter(in_part).cloned().collect();
    assert_eq!(out.replaced, old_part, "{}", s.label());
    assert_eq!((out.before.records, out.after.records), (8, 12));

    let state = st.day_state(d).unwrap();
    let kept: Vec<_> = state
        .records
        .iter()
        .filter(|r| !part.contains(r.settlement_period))
        .cloned()
        .collect();
    let outside: Vec<_> = first
        .iter()
        .filter(|r| !part.contains(r.settlement_period))
        .cloned()
        .collect();
    assert_eq!(kept, outside, "{}: other periods kept", s.label());
    let swapped: Vec<_> = state.records.iter().filter(in_part).cloned().collect();
    assert_eq!(swapped, new, "{}", s.label());
    assert_eq!(
        st.day_state(other).unwrap().records,
        neighbour,
        "{}: other dates kept",
        s.label()
    );

    // Summaries derived from the whole day, the month from both days.
    let (e, p) = sum_records(&state.records);
    let daily = state.daily.clone().unwrap();
    assert_eq!((daily.total_curtailed_energy, daily.total_payment), (e, p));
    let (e2, _) = sum_records(&neighbour);
    assert_eq!(
        state.monthly.as_ref().unwrap().total_curtailed_energy,
        e + e2
    );
    assert_eq!(state.bitcoin_rows.len(), state.records.len() * 2);

    let run = run_of(s, &out.run_id);
    assert_eq!(run.status, RunStatus::Committed);
    assert_eq!(run.periods, "5-8");
    assert_eq!((run.records_before, run.records_after), (8, 12));
    assert_eq!(
        (run.energy_before, run.energy_after),
        (out.before.energy_mwh, out.after.energy_mwh)
    );
    assert_eq!(
        (run.payment_before, run.payment_after),
        (out.before.payment_gbp, out.after.payment_gbp)
    );
    assert_eq!(run.per_period_counts, r#"{"5": 3, "6": 3, "7": 3, "8": 3}"#);
    assert_eq!(run.detail, None);
    // The fetch log of the swapped periods is the new run's, the others the first run's.
    let logged = st.run_fetch_log(&out.run_id).unwrap();
    assert_eq!(logged.len(), 8, "{}", s.label());
    assert_eq!(state.fetch_log.len(), 96, "{}", s.label());
}

fn the_backup_holds_the_replaced_records(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    let first = gen_records(d, full(d), 2, "A", 1);
    let a = swap(st, d, full(d), first.clone());
    let b = swap(st, d, full(d), gen_records(d, full(d), 1, "B", 2));
    assert_eq!(
        st.backup_records(&b.run_id).unwrap(),
        first,
        "{}",
        s.label()
    );
    assert_eq!(b.replaced, first);
    assert!(st.backup_records(&a.run_id).unwrap().is_empty());
    assert!(st.backup_records("no-such-run").unwrap().is_empty());
    // A partial swap backs up its periods only.
    let part = PeriodRange::parse("10-11", d).unwrap();
    let before = st.day_records(d).unwrap();
    let c = swap(st, d, part, Vec::new());
    let expected: Vec<_> = before
        .into_iter()
        .filter(|r| part.contains(r.settlement_period))
        .collect();
    assert_eq!(st.backup_records(&c.run_id).unwrap(), expected);
}

fn a_rejected_swap_rolls_back_everything_and_audits_the_totals(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    let first = gen_records(d, full(d), 2, "A", 1);
    swap(st, d, full(d), first.clone());
    let before = s.data();

    let second = gen_records(d, full(d), 3, "B", 2);
    let mut hooks = SumHooks::new(d);
    hooks.verify = false;
    let out = st
        .swap(plan(d, full(d), second.clone()), &mut hooks)
        .unwrap();
    assert!(!out.committed, "{}", s.label());
    assert_eq!((out.before.records, out.after.records), (96, 144));
    assert_eq!(out.replaced, first);
    // What verification saw was the new day; none of it stayed.
    assert_eq!(hooks.last_state.unwrap().records, second);
    assert_eq!(s.data(), before, "{}: every change rolled back", s.label());
    assert_eq!(st.day_state(d).unwrap().records, first);

    let run = run_of(s, &out.run_id);
    assert_eq!(run.status, RunStatus::RolledBack);
    assert!(!run.committed());
    assert_eq!(
        run.detail.as_deref(),
        Some("verification failed: every change was rolled back")
    );
    assert_eq!((run.records_before, run.records_after), (96, 144));
    assert_eq!(
        (run.energy_before, run.energy_after),
        (out.before.energy_mwh, out.after.energy_mwh)
    );
    assert_eq!(run.energy_before, sum_records(&first).0);
    assert_eq!(run.energy_after, sum_records(&second).0);
    assert_eq!(
        (run.payment_before, run.payment_after),
        (sum_records(&first).1, sum_records(&second).1)
    );
    assert!(st.backup_records(&out.run_id).unwrap().is_empty());
}

fn a_forced_commit_is_audited_forced(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    swap(st, d, full(d), gen_records(d, full(d), 2, "A", 1));
    let second = gen_records(d, full(d), 1, "B", 2);
    let mut hooks = SumHooks::new(d);
    hooks.verify = false;
    let mut forced = plan(d, full(d), second.clone());
    forced.force = true;
    let out = st.swap(forced, &mut hooks).unwrap();
    assert!(out.committed, "{}", s.label());
    assert_eq!(st.day_state(d).unwrap().records, second);
    let run = run_of(s, &out.run_id);
    assert_eq!(run.status, RunStatus::Forced);
    assert!(run.committed());
    assert_eq!(
        run.detail.as_deref(),
        Some("verification failed; committed with --force")
    );
    assert_eq!((run.records_before, run.records_after), (96, 48));
}

/// Hooks whose derive fails.
struct FailingHooks;

impl SwapHooks for FailingHooks {
    fn derive(&mut self, _ctx: &DeriveContext) -> Result<DerivedRows, HookError> {
        Err("no difficulty for the day".into())
    }

    fn verify(&mut self, _state: &DayState) -> bool {
        true
    }
}

fn a_hook_error_fails_the_run_and_changes_nothing(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    swap(st, d, full(d), gen_records(d, full(d), 2, "A", 1));
    let before = s.data();
    let p = plan(d, full(d), gen_records(d, full(d), 1, "B", 2));
    let run_id = p.audit.run_id.clone();
    let err = st.swap(p, &mut FailingHooks).unwrap_err();
    assert!(
        matches!(err, StoreError::Derive { .. }),
        "{}: {err:?}",
        s.label()
    );
    assert_eq!(s.data(), before, "{}", s.label());
    let run = run_of(s, &run_id);
    assert_eq!(run.status, RunStatus::Failed);
    assert_eq!(run.detail.as_deref(), Some(err.to_string().as_str()));
    assert!(
        run.detail.unwrap().contains("no difficulty for the day"),
        "{}",
        s.label()
    );
}

/// Moves one derived row out of the swap's date, month or year.
type Stray = fn(&mut DerivedRows);

/// Summing hooks that then move one derived row out of the swap's date, month or year.
struct StrayHooks {
    inner: SumHooks,
    stray: Stray,
}

impl SwapHooks for StrayHooks {
    fn derive(&mut self, ctx: &DeriveContext) -> Result<DerivedRows, HookError> {
        let mut rows = self.inner.derive(ctx)?;
        (self.stray)(&mut rows);
        Ok(rows)
    }

    fn verify(&mut self, state: &DayState) -> bool {
        self.inner.verify(state)
    }
}

fn derived_rows_outside_the_date_month_and_year_are_refused(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    swap(st, d, full(d), gen_records(d, full(d), 1, "A", 1));
    let before = s.data();
    let strays: [(&str, Stray); 5] = [
        ("a daily summary of 2024-03-22", |r| {
            r.daily.date = date("2024-03-22");
        }),
        ("a monthly summary of 2024-04", |r| {
            r.monthly.year_month = date("2024-04-01").year_month();
        }),
        ("a yearly summary of 2025", |r| r.yearly.year = 2025),
        ("a bitcoin row of 2024-03-20", |r| {
            r.bitcoin_rows.push(BitcoinRow {
                settlement_date: date("2024-03-20"),
                ..r.bitcoin_rows[0].clone()
            });
        }),
        ("a bitcoin summary of 2024-03-20", |r| {
            r.bitcoin_summaries[0].period = SummaryPeriod::Day(date("2024-03-20"));
        }),
    ];
    for (what, stray) in strays {
        let mut hooks = StrayHooks {
            inner: SumHooks::new(d),
            stray,
        };
        let p = plan(d, full(d), gen_records(d, full(d), 1, "B", 2));
        let run_id = p.audit.run_id.clone();
        let err = st.swap(p, &mut hooks).unwrap_err();
        assert!(
            matches!(&err, StoreError::Hook { detail } if detail.contains(what)),
            "{} {what}: {err:?}",
            s.label()
        );
        assert_eq!(s.data(), before, "{} {what}", s.label());
        assert_eq!(run_of(s, &run_id).status, RunStatus::Failed);
    }
}

/// Hooks whose derive panics: the swap's process "dies" inside its transaction.
struct PanickingHooks;

impl SwapHooks for PanickingHooks {
    fn derive(&mut self, _ctx: &DeriveContext) -> Result<DerivedRows, HookError> {
        panic!("the process dies inside the swap (expected by the test)");
    }

    fn verify(&mut self, _state: &DayState) -> bool {
        true
    }
}

fn an_older_running_run_becomes_interrupted(s: &Subject) {
    let st = s.store();
    let (d, other) = (date("2024-03-21"), date("2024-03-22"));
    swap(st, d, full(d), gen_records(d, full(d), 1, "A", 1));
    let before = s.data();
    let dead = plan(d, full(d), gen_records(d, full(d), 2, "B", 2));
    let dead_id = dead.audit.run_id.clone();
    let died = catch_unwind(AssertUnwindSafe(|| st.swap(dead, &mut PanickingHooks)));
    assert!(died.is_err(), "{}: the hook panicked", s.label());
    assert_eq!(s.data(), before, "{}: nothing of it stayed", s.label());
    assert_eq!(run_of(s, &dead_id).status, RunStatus::Running);

    // A swap of another date leaves it alone; the next swap of its date marks it.
    swap(
        st,
        other,
        full(other),
        gen_records(other, full(other), 1, "C", 3),
    );
    assert_eq!(run_of(s, &dead_id).status, RunStatus::Running);
    let next = swap(st, d, full(d), gen_records(d, full(d), 1, "D", 4));
    let dead_run = run_of(s, &dead_id);
    assert_eq!(dead_run.status, RunStatus::Interrupted, "{}", s.label());
    assert_eq!(
        dead_run.detail,
        Some(format!(
            "the process ended before the run finished (found by run {})",
            next.run_id
        ))
    );
    assert_eq!(run_of(s, &next.run_id).status, RunStatus::Committed);
}

fn the_day_reads_agree_after_swaps(s: &Subject) {
    let st = s.store();
    // Across a month boundary, with a partial day and a day left empty.
    let (d1, d2) = (date("2024-03-31"), date("2024-04-01"));
    let r1 = gen_records(d1, full(d1), 2, "A", 1);
    swap(st, d1, full(d1), r1.clone());
    let part = PeriodRange::parse("3-5", d2).unwrap();
    let r2 = gen_records(d2, part, 1, "B", 2);
    swap(st, d2, part, r2.clone());

    // 2024-03-31 is the day the clocks go forward: 46 periods.
    for (d, records, periods) in [(d1, &r1, 46), (d2, &r2, 3)] {
        let state = st.day_state(d).unwrap();
        assert_eq!(&state.records, records, "{} {d}", s.label());
        assert_eq!(&st.day_records(d).unwrap(), records, "{} {d}", s.label());
        assert_eq!(state.summary_row_counts, [1, 1, 1], "{} {d}", s.label());
        assert_eq!(state.fetch_log.len(), periods * 2, "{} {d}", s.label());
        assert_eq!(state.bitcoin_rows.len(), records.len() * 2);
        // Two models, for the day, the month and the year.
        assert_eq!(state.bitcoin_summaries.len(), 6, "{} {d}", s.label());
        assert_eq!(state.month_dailies.len(), 1, "{} {d}", s.label());
        assert_eq!(state.month_bitcoin_dailies.len(), 2, "{} {d}", s.label());
    }
    // The year holds both months, each year's rollup both days.
    let state = st.day_state(d2).unwrap();
    assert_eq!(state.year_monthlies.len(), 2);
    assert_eq!(state.year_bitcoin_monthlies.len(), 4);
    let (e1, _) = sum_records(&r1);
    let (e2, _) = sum_records(&r2);
    assert_eq!(
        state.yearly.as_ref().unwrap().total_curtailed_energy,
        e1 + e2
    );

    let (from, to) = (date("2024-03-30"), date("2024-04-02"));
    let range = st.day_states(from, to).unwrap();
    let days: Vec<SettlementDate> = range.iter().map(|(d, _)| *d).collect();
    assert_eq!(days, from.through(to).collect::<Vec<_>>());
    for (d, state) in &range {
        assert_eq!(
            serde_json::to_value(state).unwrap(),
            serde_json::to_value(st.day_state(*d).unwrap()).unwrap(),
            "{} {d}",
            s.label()
        );
    }
    let empty = st.day_state(date("2024-04-02")).unwrap();
    assert!(empty.records.is_empty() && empty.daily.is_none());
    assert_eq!(empty.summary_row_counts, [0, 1, 1]);
}

fn the_audit_reads_agree(s: &Subject) {
    let st = s.store();
    let (d1, d2) = (date("2024-03-21"), date("2024-03-23"));
    let a = swap(st, d1, full(d1), gen_records(d1, full(d1), 1, "A", 1));
    let b = swap(st, d2, full(d2), gen_records(d2, full(d2), 1, "B", 2));
    let failed = audit("run");
    st.record_failed_run(&failed, d1, full(d1), "the source answered 500")
        .unwrap();
    let c = swap(st, d1, full(d1), gen_records(d1, full(d1), 1, "C", 3));
    let ids =
        |rows: &[AuditRow]| -> Vec<String> { rows.iter().map(|r| r.run_id.clone()).collect() };

    let all = st.runs(None).unwrap();
    let newest_first = [&c.run_id, &failed.run_id, &b.run_id, &a.run_id].map(String::clone);
    assert_eq!(ids(&all), newest_first, "{}", s.label());
    assert_eq!(
        ids(&st.runs(Some(d1)).unwrap()),
        [&c.run_id, &failed.run_id, &a.run_id].map(String::clone)
    );
    let f = run_of(s, &failed.run_id);
    assert_eq!(f.status, RunStatus::Failed);
    assert_eq!(f.detail.as_deref(), Some("the source answered 500"));
    for r in &all {
        assert_eq!(&run_of(s, &r.run_id), r, "{}", s.label());
    }

    let page = |q: RunsQuery| ids(&st.runs_page(&q).unwrap());
    assert_eq!(
        page(RunsQuery {
            limit: 2,
            ..RunsQuery::default()
        }),
        newest_first[..2]
    );
    assert_eq!(
        page(RunsQuery {
            date: Some(d2),
            ..RunsQuery::default()
        }),
        std::slice::from_ref(&b.run_id)
    );
    let today = chrono::Utc::now().date_naive();
    assert_eq!(
        page(RunsQuery {
            since: Some(today.pred_opt().unwrap()),
            ..RunsQuery::default()
        }),
        newest_first
    );
    assert!(page(RunsQuery {
        since: Some(today.succ_opt().unwrap()),
        ..RunsQuery::default()
    })
    .is_empty());

    let between = st
        .runs_between(date("2024-03-20"), date("2024-03-22"))
        .unwrap();
    assert_eq!(
        ids(&between),
        [&c.run_id, &failed.run_id, &a.run_id].map(String::clone),
        "{}",
        s.label()
    );
    let all_between = st.runs_between(d1, d2).unwrap();
    assert_eq!(all_between, all, "{}", s.label());
}

fn delete_backups_deletes_the_backup_and_marks_the_run(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    let a = swap(st, d, full(d), gen_records(d, full(d), 2, "A", 1));
    let b = swap(st, d, full(d), gen_records(d, full(d), 1, "B", 2));
    assert_eq!(st.backup_records(&b.run_id).unwrap().len(), 96);
    // 96 records, 192 bitcoin rows, 3 summaries, 6 bitcoin summaries (two models).
    let deleted = st.delete_backups(std::slice::from_ref(&b.run_id)).unwrap();
    assert_eq!(deleted, 96 + 192 + 3 + 6, "{}", s.label());
    assert!(st.backup_records(&b.run_id).unwrap().is_empty());
    assert!(run_of(s, &b.run_id).backup_pruned_at.is_some());
    assert!(run_of(s, &a.run_id).backup_pruned_at.is_none());
    assert_eq!(
        st.delete_backups(std::slice::from_ref(&b.run_id)).unwrap(),
        0
    );
    assert_eq!(st.delete_backups(&[]).unwrap(), 0);
    // The first run's backup (of an empty day) is 3 absent summaries.
    assert_eq!(
        st.delete_backups(std::slice::from_ref(&a.run_id)).unwrap(),
        3
    );
}

fn a_run_id_is_used_once(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    let first = plan(d, full(d), gen_records(d, full(d), 1, "A", 1));
    let again = SwapPlan {
        records: gen_records(d, full(d), 2, "B", 2),
        ..first.clone()
    };
    let out = st.swap(first, &mut SumHooks::new(d)).unwrap();
    assert!(out.committed);
    let before = s.data();
    let err = st.swap(again, &mut SumHooks::new(d)).unwrap_err();
    assert!(
        matches!(err, StoreError::Constraint { .. }),
        "{}: {err:?}",
        s.label()
    );
    assert_eq!(s.data(), before, "{}", s.label());
    assert_eq!(run_of(s, &out.run_id).status, RunStatus::Committed);
    assert_eq!(st.runs(None).unwrap().len(), 1);
}

fn a_bad_plan_is_refused_before_any_write(s: &Subject) {
    let st = s.store();
    let d = date("2024-03-21");
    let part = PeriodRange::parse("1-4", d).unwrap();
    let before = s.data();
    // A record of period 9 in a swap of periods 1-4.
    let mut records = gen_records(d, part, 1, "A", 1);
    records[0].settlement_period = 9;
    let err = st
        .swap(plan(d, part, records), &mut SumHooks::new(d))
        .unwrap_err();
    assert!(
        matches!(err, StoreError::InvalidInput { .. }),
        "{}: {err:?}",
        s.label()
    );
    // A NUL byte PostgreSQL cannot store, refused on every store alike.
    let mut records = gen_records(d, part, 1, "A", 1);
    records[0].farm_id = "T_\0".into();
    let err = st
        .swap(plan(d, part, records), &mut SumHooks::new(d))
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidInput { .. }), "{err:?}");
    assert!(
        st.runs(None).unwrap().is_empty(),
        "{}: not audited",
        s.label()
    );
    assert_eq!(s.data(), before, "{}", s.label());
}
