//! A deterministic simulator of the Elexon Insights API, for tests and the demo only.
//!
//! No network is reachable from where `reingest` is developed and tested, so this crate
//! serves, on a local port, what the real services would:
//!
//! - `GET /bmrs/api/v1/balancing/settlement/stack/all/{bid|offer}/{date}/{period}?format=xml|json`:
//!   the settlement stacks, JSON by default (as the real API) or XML (the ASP.NET
//!   XmlSerializer shape);
//!   400 for a bad side, a malformed date, a period the date does not have (46/48/50 per
//!   day, validated by `settlement-model`) or an unsupported format (`csv`);
//! - `GET /bmrs/api/v1/reference/bmunits/all`: about 60 BM units, 40 of them wind;
//! - `GET /api/v1/mining/difficulty-adjustments`: the mempool.space difficulty history.
//!
//! Data comes from [`data`]: pure functions of a seed (calm and stormy days, every period
//! of the day, soFlag/cadlFlag mixes, negative and positive prices, negative-volume offers,
//! non-wind units, null ids, long decimals), and [`SimHandle::set_revision`] switches a
//! date to a later "calculation run" whose data differs in some periods. [`wire`] writes
//! the documents. Each request can be made to fail in a scripted way ([`FaultRule`]:
//! 429 with `Retry-After`, 500, delay, truncated or aborted body, malformed document, 404,
//! wrong period or date), a rate limit can be switched on, and [`SimStats`] counts
//! requests, including the peak per sliding second and minute, so tests can check that a
//! client stays under its rate limit.
//!
//! ```no_run
//! # async fn demo() -> Result<(), elexon_sim::SimError> {
//! use elexon_sim::{Fault, FaultRule, SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! sim.add_fault(FaultRule::new(Fault::ServerError).period(7).times(2));
//! println!("{}", sim.base_url()); // http://127.0.0.1:PORT/bmrs/api/v1
//! sim.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Architecture invariant: the simulator knows nothing of the client, the store or the
//! pipeline; it depends only on `settlement-model` (for dates, periods and item types) and
//! is never a dependency of production code.
//!
//! External crates: `axum` (on hyper and tokio) because it is the smallest well-maintained
//! way to run an async HTTP server in-process on an ephemeral port with graceful shutdown,
//! and shares tokio with the client under test; `rand_chacha` for a seedable generator
//! whose streams are stable across platforms and releases; `rust_decimal` for exact
//! values; `futures` for the aborted-body stream; `clap` for the binary.

pub mod data;
mod faults;
mod server;
mod stats;
pub mod wire;

pub use faults::{Fault, FaultController, FaultMatcher, FaultRule, PathKind, RequestInfo};
pub use server::{SimConfig, SimError, SimHandle, Simulator, BMRS_PREFIX, DIFFICULTY_PATH};
pub use stats::SimStats;
