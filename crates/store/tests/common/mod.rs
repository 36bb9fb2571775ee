//! Test support: fresh stores on both backends, raw SQL, table dumps, data generators and
//! summing hooks.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use chrono::Utc;
use diesel::connection::SimpleConnection;
use diesel::sql_types::{Nullable, Text};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use settlement_model::{
    BitcoinRow, BitcoinSummary, CurtailmentRecord, DailySummary, MonthlySummary, PeriodRange,
    SettlementDate, Side, SummaryPeriod, YearlySummary,
};
use store::prelude::*;
use store::{
    AuditInfo, DayState, DeriveContext, DerivedRows, DieselStore, FetchLogEntry, FetchStatus,
    StoreConfig, SwapHooks, SwapPlan,
};

/// The PostgreSQL server of the tests, when set.
pub fn pg_base_url() -> Option<String> {
    match std::env::var("REINGEST_TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped (PostgreSQL part): REINGEST_TEST_DATABASE_URL unset");
            None
        }
    }
}

/// A database made for one test, dropped at the end.
pub enum Guard {
    Dir(tempfile::TempDir),
    Pg { base: String, name: String },
}

impl Drop for Guard {
    fn drop(&mut self) {
        if let Guard::Pg { base, name } = self {
            if let Ok(mut c) = PgConnection::establish(base) {
                let _ = c.batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
            }
        }
    }
}

/// One backend under test.
pub struct TestDb {
    pub label: &'static str,
    pub url: String,
    pub store: DieselStore,
    pub guard: Guard,
}

/// A fresh, empty PostgreSQL database on the test server: (url, guard). Panics when the
/// server is unreachable.
pub fn fresh_pg(base: &str) -> (String, Guard) {
    let mut admin = PgConnection::establish(base)
        .unwrap_or_else(|e| panic!("REINGEST_TEST_DATABASE_URL is set but unreachable: {e}"));
    let name = format!("reingest_t_{}", uuid::Uuid::new_v4().simple());
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let mut url = url::Url::parse(base).unwrap();
    url.set_path(&format!("/{name}"));
    (
        url.to_string(),
        Guard::Pg {
            base: base.to_owned(),
            name,
        },
    )
}

/// A fresh SQLite file: (url, guard).
pub fn fresh_sqlite() -> (String, Guard) {
    let dir = tempfile::tempdir().unwrap();
    let path: PathBuf = dir.path().join("store.db");
    (format!("sqlite://{}", path.display()), Guard::Dir(dir))
}

/// Fresh migrated stores: SQLite always, PostgreSQL when the URL is set.
pub fn backends() -> Vec<TestDb> {
    backends_with(StoreConfig::default())
}

/// [`backends`] with a configuration.
pub fn backends_with(config: StoreConfig) -> Vec<TestDb> {
    let mut out = Vec::new();
    let (url, guard) = fresh_sqlite();
    out.push(open("sqlite", url, guard, config.clone()));
    if let Some(base) = pg_base_url() {
        let (url, guard) = fresh_pg(&base);
        out.push(open("postgres", url, guard, config));
    }
    out
}

pub fn open(label: &'static str, url: String, guard: Guard, config: StoreConfig) -> TestDb {
    let store = DieselStore::connect(&url, config).unwrap();
    store.migrate().unwrap();
    TestDb {
        label,
        url,
        store,
        guard,
    }
}

#[derive(diesel::QueryableByName)]
struct V {
    #[diesel(sql_type = Nullable<Text>)]
    v: Option<String>,
}

/// A raw connection to a test database, for plain SQL.
pub enum Raw {
    Pg(PgConnection),
    Lite(SqliteConnection),
}

impl Raw {
    pub fn open(url: &str) -> Raw {
        if url.starts_with("postgres") {
            Raw::Pg(PgConnection::establish(url).unwrap())
        } else {
            Raw::Lite(SqliteConnection::establish(url.trim_start_matches("sqlite://")).unwrap())
        }
    }

    pub fn exec(&mut self, sql: &str) {
        match self {
            Raw::Pg(c) => c.batch_execute(sql).unwrap(),
            Raw::Lite(c) => c.batch_execute(sql).unwrap(),
        }
    }

    /// One text column (`AS v`) of every row.
    pub fn strings(&mut self, sql: &str) -> Vec<Option<String>> {
        let rows: Vec<V> = match self {
            Raw::Pg(c) => diesel::sql_query(sql).load(c).unwrap(),
            Raw::Lite(c) => diesel::sql_query(sql).load(c).unwrap(),
        };
        rows.into_iter().map(|r| r.v).collect()
    }

    pub fn one(&mut self, sql: &str) -> Option<String> {
        self.strings(sql).into_iter().next().flatten()
    }
}

/// The data tables (everything but the audit log and migration bookkeeping).
pub const DATA_TABLES: &[&str] = &[
    "curtailment_records",
    "daily_summaries",
    "monthly_summaries",
    "yearly_summaries",
    "historical_bitcoin_calculations",
    "bitcoin_daily_summaries",
    "bitcoin_monthly_summaries",
    "bitcoin_yearly_summaries",
    "bm_units",
    "difficulty",
    "fetch_log",
    "backup_curtailment_records",
    "backup_bitcoin_calculations",
    "backup_summaries",
    "backup_bitcoin_summaries",
];

/// Every row of every data table as text (ids and timestamps included), sorted.
pub fn dump(url: &str) -> BTreeMap<String, Vec<String>> {
    let mut raw = Raw::open(url);
    let mut out = BTreeMap::new();
    for t in DATA_TABLES {
        let rows = match &mut raw {
            Raw::Pg(_) => raw.strings(&format!(
                "SELECT CAST(x AS text) AS v FROM {t} x ORDER BY 1"
            )),
            Raw::Lite(_) => {
                let cols = raw.strings(&format!("SELECT name AS v FROM pragma_table_info('{t}')"));
                let expr: Vec<String> = cols
                    .into_iter()
                    .flatten()
                    .map(|c| format!("quote({c})"))
                    .collect();
                raw.strings(&format!(
                    "SELECT {} AS v FROM {t} ORDER BY 1",
                    expr.join(" || '|' || ")
                ))
            }
        };
        out.insert((*t).to_owned(), rows.into_iter().flatten().collect());
    }
    out
}

pub fn date(s: &str) -> SettlementDate {
    s.parse().unwrap()
}

/// A small deterministic generator (SplitMix64).
pub struct Gen(pub u64);

impl Gen {
    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A decimal with exactly 16 significant digits and `scale` decimal places.
    pub fn dec16(&mut self, scale: u32) -> Decimal {
        let m = 1_000_000_000_000_000 + (self.next() % 9_000_000_000_000_000);
        Decimal::new(i64::try_from(m).unwrap(), scale)
    }
}

/// `per_period` records in each period of `periods`, farm ids prefixed with `prefix`,
/// volumes and prices of 16 significant digits; in the order the store reads them back.
pub fn gen_records(
    d: SettlementDate,
    periods: PeriodRange,
    per_period: usize,
    prefix: &str,
    seed: u64,
) -> Vec<CurtailmentRecord> {
    let mut g = Gen(seed);
    let mut out = Vec::new();
    for p in periods.numbers() {
        for i in 0..per_period {
            let volume = -g.dec16(13);
            let mut price = g.dec16(12);
            if g.next() % 2 == 0 {
                price = -price;
            }
            out.push(CurtailmentRecord {
                settlement_date: d,
                settlement_period: p,
                farm_id: format!("{prefix}-{i:05}"),
                lead_party_name: Some(format!("{prefix} Party {}", i % 7)),
                volume,
                payment: volume * price,
                original_price: price,
                final_price: price,
                so_flag: true,
                cadl_flag: if i % 3 == 0 { None } else { Some(i % 2 == 0) },
                acceptance_id: Some(i64::try_from(g.next() % 1_000_000).unwrap()),
                bid_offer_pair_id: Some(-1),
                side: Side::Bid,
                sequence_number: Some(i64::try_from(i).unwrap()),
            });
        }
    }
    out
}

pub fn audit(kind: &str) -> AuditInfo {
    AuditInfo {
        run_id: uuid::Uuid::new_v4().to_string(),
        kind: kind.parse().expect("a run kind"),
        reason: Some("test".into()),
        user: "tester".into(),
        host: "testhost".into(),
        tool_version: "0.0.0-test".into(),
        started_at: Utc::now(),
        inputs: None,
        range_tag: None,
    }
}

pub fn plan(d: SettlementDate, periods: PeriodRange, records: Vec<CurtailmentRecord>) -> SwapPlan {
    let fetch_log = periods
        .numbers()
        .flat_map(|p| {
            Side::BOTH.map(|side| FetchLogEntry {
                settlement_date: d,
                settlement_period: p,
                side,
                status: FetchStatus::Fetched,
                items_received: 10,
                records_kept: u64::try_from(
                    records
                        .iter()
                        .filter(|r| r.settlement_period == p && r.side == side)
                        .count(),
                )
                .unwrap(),
                fetched_at: "2024-03-22T10:00:00.123456Z".parse().unwrap(),
                source_hash: Some("ab".repeat(32)),
            })
        })
        .collect();
    SwapPlan {
        date: d,
        periods,
        records,
        fetch_log,
        audit: audit("run"),
        force: false,
    }
}

pub const MODELS: [(&str, Decimal); 2] = [("S19J_PRO", dec!(0.00003)), ("S9", dec!(0.00001))];
pub const DIFFICULTY: Decimal = dec!(83148355189239.77);

/// Hooks that sum records into summaries exactly, the way the summaries crate does.
pub struct SumHooks {
    pub date: SettlementDate,
    pub verify: bool,
    pub on_derive: Option<Box<dyn FnMut() + Send>>,
    pub last_state: Option<DayState>,
}

impl SumHooks {
    pub fn new(date: SettlementDate) -> Self {
        Self {
            date,
            verify: true,
            on_derive: None,
            last_state: None,
        }
    }
}

pub fn sum_records(records: &[CurtailmentRecord]) -> (Decimal, Decimal) {
    records
        .iter()
        .fold((Decimal::ZERO, Decimal::ZERO), |(e, p), r| {
            (e + r.volume.abs(), p + r.payment)
        })
}

pub fn derive(date: SettlementDate, ctx: &DeriveContext) -> DerivedRows {
    let (e, p) = sum_records(&ctx.day_records);
    let daily = DailySummary {
        date,
        total_curtailed_energy: e,
        total_payment: p,
    };
    let monthly = ctx.month_other_dailies.iter().fold(
        MonthlySummary {
            year_month: date.year_month(),
            total_curtailed_energy: e,
            total_payment: p,
        },
        |mut m, d| {
            m.total_curtailed_energy += d.total_curtailed_energy;
            m.total_payment += d.total_payment;
            m
        },
    );
    let yearly = ctx.year_other_monthlies.iter().fold(
        YearlySummary {
            year: date.year(),
            total_curtailed_energy: monthly.total_curtailed_energy,
            total_payment: monthly.total_payment,
        },
        |mut y, m| {
            y.total_curtailed_energy += m.total_curtailed_energy;
            y.total_payment += m.total_payment;
            y
        },
    );
    let mut bitcoin_rows = Vec::new();
    let mut bitcoin_summaries = Vec::new();
    for (model, factor) in MODELS {
        let mut day = Decimal::ZERO;
        for r in &ctx.day_records {
            let mined = r.volume.abs() * factor;
            day += mined;
            bitcoin_rows.push(BitcoinRow {
                settlement_date: date,
                settlement_period: r.settlement_period,
                farm_id: r.farm_id.clone(),
                miner_model: model.into(),
                bitcoin_mined: mined,
                difficulty: DIFFICULTY,
            });
        }
        let month = day
            + ctx
                .month_other_bitcoin_dailies
                .iter()
                .filter(|s| s.miner_model == model)
                .map(|s| s.bitcoin_mined)
                .sum::<Decimal>();
        let year = month
            + ctx
                .year_other_bitcoin_monthlies
                .iter()
                .filter(|s| s.miner_model == model)
                .map(|s| s.bitcoin_mined)
                .sum::<Decimal>();
        for (period, v) in [
            (SummaryPeriod::Day(date), day),
            (SummaryPeriod::Month(date.year_month()), month),
            (SummaryPeriod::Year(date.year()), year),
        ] {
            bitcoin_summaries.push(BitcoinSummary {
                period,
                miner_model: model.into(),
                bitcoin_mined: v,
            });
        }
    }
    DerivedRows {
        daily,
        monthly,
        yearly,
        bitcoin_rows,
        bitcoin_summaries,
    }
}

impl SwapHooks for SumHooks {
    fn derive(&mut self, ctx: &DeriveContext) -> Result<DerivedRows, store::HookError> {
        if let Some(f) = self.on_derive.as_mut() {
            f();
        }
        Ok(derive(self.date, ctx))
    }

    fn verify(&mut self, state: &DayState) -> bool {
        let (e, p) = sum_records(&state.records);
        let consistent = state
            .daily
            .as_ref()
            .is_some_and(|d| d.total_curtailed_energy == e && d.total_payment == p);
        self.last_state = Some(state.clone());
        consistent && self.verify
    }
}

/// Swaps `records` into `d` for `periods` with summing hooks; panics on error.
pub fn swap<S: DaySwap + ?Sized>(
    store: &S,
    d: SettlementDate,
    periods: PeriodRange,
    records: Vec<CurtailmentRecord>,
) -> store::SwapOutcome {
    let mut hooks = SumHooks::new(d);
    let out = store.swap(plan(d, periods, records), &mut hooks).unwrap();
    assert!(out.committed, "swap of {d} did not commit");
    out
}
