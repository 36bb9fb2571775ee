//! The baseline of the end-to-end benchmarks: the day loop of the old per-date scripts,
//! rebuilt over the same client, parser and processing rule so that only the *way* differs.
//!
//! Per date: one `DELETE` of the date's records; then, period after period, the bid stack,
//! then the offer stack (one request at a time), the curtailment rule
//! ([`settlement_model::process_items`]), one `INSERT` statement per record (autocommit, no
//! transaction around the day), a fixed 500 ms pause after every period and another 1 s
//! after every batch of four periods.
//!
//! It does *less* work than `reingest` (no summaries, bitcoin, backup, verification, audit
//! or source archive), so the ratio to it flatters the baseline, not us.

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use diesel::sql_types::{Bool, Integer, Nullable, Text};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use elexon_client::SettlementSource;
use reingest::app::StandardPipeline;
use settlement_model::{process_items, CurtailmentRecord, SettlementDate, Side};

/// The old scripts' fixed pauses.
#[derive(Debug, Clone, Copy)]
pub struct Pauses {
    /// After every period.
    pub per_period: Duration,
    /// Additionally after every batch of four periods.
    pub per_batch_of_four: Duration,
}

/// What the baseline did and where its time went.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Wall time of the loop (registry and schema set-up excluded).
    pub elapsed: Duration,
    /// Time asleep in the fixed pauses.
    pub paused: Duration,
    /// Time waiting for responses (and parsing them).
    pub fetching: Duration,
    /// Time in single-row inserts.
    pub inserting: Duration,
    /// Periods done.
    pub periods: u64,
    /// Records inserted.
    pub records: u64,
    /// Stack requests made.
    pub requests: u64,
    /// `INSERT` statements executed.
    pub inserts: u64,
}

/// One connection, outside any pool, as a script would open it.
enum Conn {
    Lite(SqliteConnection),
    Pg(PgConnection),
}

const LITE_INSERT: &str = "INSERT INTO curtailment_records (settlement_date, settlement_period, \
     farm_id, lead_party_name, volume, payment, original_price, final_price, so_flag, cadl_flag) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
const PG_INSERT: &str = "INSERT INTO curtailment_records (settlement_date, settlement_period, \
     farm_id, lead_party_name, volume, payment, original_price, final_price, so_flag, cadl_flag) \
     VALUES (CAST($1 AS date), $2, $3, $4, CAST($5 AS numeric), CAST($6 AS numeric), \
     CAST($7 AS numeric), CAST($8 AS numeric), $9, $10)";

/// Binds one record's columns to `sql`.
macro_rules! insert_one {
    ($sql:expr, $r:expr) => {
        diesel::sql_query($sql)
            .bind::<Text, _>($r.settlement_date.to_string())
            .bind::<Integer, _>(i32::from($r.settlement_period))
            .bind::<Text, _>($r.farm_id.as_str())
            .bind::<Nullable<Text>, _>($r.lead_party_name.as_deref())
            .bind::<Text, _>($r.volume.to_string())
            .bind::<Text, _>($r.payment.to_string())
            .bind::<Text, _>($r.original_price.to_string())
            .bind::<Text, _>($r.final_price.to_string())
            .bind::<Bool, _>($r.so_flag)
            .bind::<Nullable<Bool>, _>($r.cadl_flag)
    };
}

impl Conn {
    fn open(url: &str) -> Result<Self> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            let mut c = SqliteConnection::establish(path).context("opening SQLite")?;
            // The same settings the store uses, so the difference is the insert pattern only.
            diesel::connection::SimpleConnection::batch_execute(
                &mut c,
                "PRAGMA busy_timeout = 60000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;",
            )?;
            Ok(Conn::Lite(c))
        } else {
            Ok(Conn::Pg(
                PgConnection::establish(url).context("opening PostgreSQL")?,
            ))
        }
    }

    fn delete_date(&mut self, date: SettlementDate) -> Result<usize> {
        let day = date.to_string();
        Ok(match self {
            Conn::Lite(c) => {
                diesel::sql_query("DELETE FROM curtailment_records WHERE settlement_date = ?")
                    .bind::<Text, _>(day)
                    .execute(c)?
            }
            Conn::Pg(c) => diesel::sql_query(
                "DELETE FROM curtailment_records WHERE settlement_date = CAST($1 AS date)",
            )
            .bind::<Text, _>(day)
            .execute(c)?,
        })
    }

    fn insert(&mut self, r: &CurtailmentRecord) -> Result<()> {
        match self {
            Conn::Lite(c) => insert_one!(LITE_INSERT, r).execute(c)?,
            Conn::Pg(c) => insert_one!(PG_INSERT, r).execute(c)?,
        };
        Ok(())
    }
}

/// Runs the old scripts' loop over `dates` with `pipeline`'s HTTP source and registry, writing
/// into the database at `url` (already migrated by the pipeline).
pub async fn run(
    pipeline: &StandardPipeline,
    url: &str,
    dates: &[SettlementDate],
    pauses: Pauses,
) -> Result<Outcome> {
    let registry = pipeline.ensure_registry().await?;
    let source = pipeline.source();
    let mut conn = Conn::open(url)?;
    let mut out = Outcome::default();
    let started = Instant::now();
    for &date in dates {
        conn.delete_date(date)?;
        for period in 1..=date.periods() {
            let t = Instant::now();
            let bid = source.stack(date, period, Side::Bid).await?;
            let offer = source.stack(date, period, Side::Offer).await?;
            out.fetching += t.elapsed();
            out.requests += 2;
            let processed = process_items(
                date,
                bid.items
                    .iter()
                    .map(|i| (Side::Bid, i))
                    .chain(offer.items.iter().map(|i| (Side::Offer, i))),
                &registry,
            )?;
            let t = Instant::now();
            for r in &processed.records {
                conn.insert(r)?;
                out.inserts += 1;
            }
            out.inserting += t.elapsed();
            out.records += processed.records.len() as u64;
            out.periods += 1;
            let mut pause = pauses.per_period;
            if period % 4 == 0 {
                pause += pauses.per_batch_of_four;
            }
            tokio::time::sleep(pause).await;
            out.paused += pause;
        }
    }
    out.elapsed = started.elapsed();
    Ok(out)
}
