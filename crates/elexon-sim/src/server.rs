//! The HTTP server: routing, validation, faults, latency, caching and the control handle.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::header::{CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use bytes::Bytes;
use futures::StreamExt as _;
use settlement_model::{SettlementDate, Side, StackItem};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::faults::{lock, Fault, FaultController, FaultRule, PathKind, RequestInfo};
use crate::stats::{SimStats, StatsRecorder};
use crate::{data, wire};

/// The path prefix of the Elexon API.
pub const BMRS_PREFIX: &str = "/bmrs/api/v1";
/// The path of the difficulty endpoint (mempool.space shape).
pub const DIFFICULTY_PATH: &str = "/api/v1/mining/difficulty-adjustments";

/// How long [`SimHandle::shutdown`] waits for in-flight requests before dropping them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Bodies kept in memory; the cache is emptied when it grows past this.
const CACHE_LIMIT: usize = 1024;

/// How to start a simulator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimConfig {
    /// The seed of all generated data.
    pub seed: u64,
    /// Added to every request before it is answered.
    pub latency: Duration,
    /// Where to listen; port 0 picks a free port.
    pub bind: SocketAddr,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            seed: 42,
            latency: Duration::ZERO,
            bind: SocketAddr::from(([127, 0, 0, 1], 0)),
        }
    }
}

/// Why the simulator could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The listening socket could not be bound.
    #[error("cannot listen on {addr}: {error}")]
    Bind {
        /// The address asked for.
        addr: SocketAddr,
        /// The operating system's error (shown in the message, so not also the source).
        error: std::io::Error,
    },
}

/// Starts simulators.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Binds `config.bind`, spawns the server on the current tokio runtime and returns its
    /// handle; the socket accepts connections from then on.
    ///
    /// The server runs until [`SimHandle::shutdown`] or the end of the runtime (dropping
    /// the handles does not stop it).
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        let listener = tokio::net::TcpListener::bind(config.bind)
            .await
            .map_err(|error| SimError::Bind {
                addr: config.bind,
                error,
            })?;
        let addr = listener.local_addr().map_err(|error| SimError::Bind {
            addr: config.bind,
            error,
        })?;
        let (stop_tx, stop_rx) = watch::channel(false);
        let mut difficulty = data::difficulty_adjustments(config.seed);
        difficulty.reverse();
        let shared = Arc::new(Shared {
            seed: config.seed,
            latency_nanos: AtomicU64::new(nanos(config.latency)),
            faults: FaultController::default(),
            stats: StatsRecorder::default(),
            revisions: RwLock::new(HashMap::new()),
            cache: Mutex::new(HashMap::new()),
            bmunits: RwLock::new(Bytes::from(wire::bmunits_json(&data::bm_units(
                config.seed,
            )))),
            difficulty: Bytes::from(wire::difficulty_json(&difficulty)),
            stop_tx,
            stop_rx: stop_rx.clone(),
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        let mut signal = stop_rx;
        let server = axum::serve(listener, app).with_graceful_shutdown(async move {
            stopped(&mut signal).await;
        });
        let task = tokio::spawn(async move {
            if let Err(error) = server.await {
                tracing::warn!(message = "simulator server stopped", %error);
            }
        });
        tracing::debug!(message = "simulator listening", %addr, seed = config.seed);
        Ok(SimHandle {
            shared,
            addr,
            task: Arc::new(Mutex::new(Some(task))),
        })
    }
}

/// A running simulator. Clones share one server; any clone can stop it.
#[derive(Debug, Clone)]
pub struct SimHandle {
    shared: Arc<Shared>,
    addr: SocketAddr,
    task: Arc<Mutex<Option<JoinHandle<()>>>>,
}

impl SimHandle {
    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The Elexon base URL, e.g. `http://127.0.0.1:PORT/bmrs/api/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}{BMRS_PREFIX}", self.addr)
    }

    /// The difficulty-adjustments URL (mempool.space shape).
    pub fn difficulty_url(&self) -> String {
        format!("http://{}{DIFFICULTY_PATH}", self.addr)
    }

    /// The seed of the served data.
    pub fn seed(&self) -> u64 {
        self.shared.seed
    }

    /// The statistics so far.
    pub fn stats(&self) -> SimStats {
        self.shared.stats.snapshot()
    }

    /// Forgets every statistic (counts and peaks).
    pub fn reset_stats(&self) {
        self.shared.stats.reset();
    }

    /// The fault rules and the rate-limit knob.
    pub fn faults(&self) -> &FaultController {
        &self.shared.faults
    }

    /// Shorthand for `faults().add_fault(rule)`.
    pub fn add_fault(&self, rule: FaultRule) {
        self.shared.faults.add_fault(rule);
    }

    /// Shorthand for `faults().clear_faults()`.
    pub fn clear_faults(&self) {
        self.shared.faults.clear_faults();
    }

    /// Shorthand for `faults().set_rate_limit(per_second)`.
    pub fn set_rate_limit(&self, per_second: Option<u32>) {
        self.shared.faults.set_rate_limit(per_second);
    }

    /// Changes the latency added to every request from now on.
    pub fn set_latency(&self, latency: Duration) {
        self.shared
            .latency_nanos
            .store(nanos(latency), Ordering::Relaxed);
    }

    /// Publishes calculation run `revision` of `date` (0 is the first run, the default):
    /// from now on the date's stacks are [`data::stack_items`] of that revision, in which
    /// some periods' volumes and prices differ and `createdDateTime` is later.
    pub fn set_revision(&self, date: SettlementDate, revision: u32) {
        let mut map = self
            .shared
            .revisions
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if revision == 0 {
            map.remove(&date);
        } else {
            map.insert(date, revision);
        }
    }

    /// Serves `body` as `/reference/bmunits/all` from now on, as it is (any bytes: a list
    /// with the real API's quirks, a conflicting list, a malformed document), instead of the
    /// seed's generated units ([`data::bm_units`]). Faults still apply on top.
    pub fn serve_bm_units(&self, body: impl Into<Bytes>) {
        *self
            .shared
            .bmunits
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = body.into();
    }

    /// Serves the seed's generated units as `/reference/bmunits/all` again.
    pub fn serve_generated_bm_units(&self) {
        self.serve_bm_units(wire::bmunits_json(&data::bm_units(self.shared.seed)));
    }

    /// The revision currently published for `date`.
    pub fn revision(&self, date: SettlementDate) -> u32 {
        self.shared.revision(date)
    }

    /// The items the simulator serves now for this stack (its current revision).
    pub fn expected_items(&self, date: SettlementDate, period: u8, side: Side) -> Vec<StackItem> {
        data::stack_items(self.shared.seed, date, period, side, self.revision(date))
    }

    /// Stops serving: no new connections are accepted (connecting is refused once this
    /// returns), in-flight delays end early, and requests still running after a grace
    /// period are dropped. Calling it again, from any clone, does nothing.
    pub async fn shutdown(self) {
        let _ = self.shared.stop_tx.send(true);
        let task = lock(&self.task).take();
        if let Some(mut task) = task {
            if tokio::time::timeout(SHUTDOWN_GRACE, &mut task)
                .await
                .is_err()
            {
                task.abort();
                let _ = task.await;
            }
        }
    }
}

#[derive(Debug)]
struct Shared {
    seed: u64,
    latency_nanos: AtomicU64,
    faults: FaultController,
    stats: StatsRecorder,
    revisions: RwLock<HashMap<SettlementDate, u32>>,
    cache: Mutex<HashMap<CacheKey, Bytes>>,
    bmunits: RwLock<Bytes>,
    difficulty: Bytes,
    stop_tx: watch::Sender<bool>,
    stop_rx: watch::Receiver<bool>,
}

type CacheKey = (SettlementDate, u8, Side, u32, Format);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Format {
    Xml,
    Json,
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Xml => "application/xml; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

impl Shared {
    fn revision(&self, date: SettlementDate) -> u32 {
        self.revisions
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(&date)
            .copied()
            .unwrap_or(0)
    }

    fn latency(&self) -> Duration {
        Duration::from_nanos(self.latency_nanos.load(Ordering::Relaxed))
    }

    /// Sleeps, unless the server stops first; false when it stopped.
    async fn pause(&self, d: Duration) -> bool {
        let mut rx = self.stop_rx.clone();
        tokio::select! {
            () = tokio::time::sleep(d) => true,
            () = stopped(&mut rx) => false,
        }
    }

    /// The stack body for `date`/`period`/`side` at the date's current revision.
    fn stack_body(&self, date: SettlementDate, period: u8, side: Side, format: Format) -> Bytes {
        let revision = self.revision(date);
        let key = (date, period, side, revision, format);
        if let Some(b) = lock(&self.cache).get(&key) {
            return b.clone();
        }
        let items = data::stack_items(self.seed, date, period, side, revision);
        let body = Bytes::from(match format {
            Format::Xml => wire::stack_xml(&items, date, period),
            Format::Json => wire::stack_json(&items),
        });
        let mut cache = lock(&self.cache);
        if cache.len() >= CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key, body.clone());
        body
    }
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow_and_update() {
        if rx.changed().await.is_err() {
            // The sender lives as long as the server's state; this is unreachable in
            // practice, but never stop on it: wait forever instead.
            std::future::pending::<()>().await;
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// A request, routed and (for stacks) validated.
enum Route {
    Stack {
        date: SettlementDate,
        period: u8,
        side: Side,
        format: Format,
    },
    BadRequest(String),
    BmUnits,
    Difficulty,
    NotFound,
}

impl Route {
    fn parse(uri: &Uri) -> (PathKind, Route) {
        let path = uri.path().trim_end_matches('/');
        if path == DIFFICULTY_PATH {
            return (PathKind::Difficulty, Route::Difficulty);
        }
        let Some(rest) = path.strip_prefix(BMRS_PREFIX) else {
            return (PathKind::Other, Route::NotFound);
        };
        if rest == "/reference/bmunits/all" {
            return (PathKind::BmUnits, Route::BmUnits);
        }
        let Some(stack) = rest.strip_prefix("/balancing/settlement/stack/all/") else {
            return (PathKind::Other, Route::NotFound);
        };
        let parts: Vec<&str> = stack.split('/').collect();
        let [side, date, period] = parts.as_slice() else {
            return (PathKind::Other, Route::NotFound);
        };
        (
            PathKind::Stack,
            Self::stack(side, date, period, uri.query()),
        )
    }

    fn stack(side: &str, date: &str, period: &str, query: Option<&str>) -> Route {
        let side = match side.parse::<Side>() {
            Ok(s) => s,
            Err(e) => return Route::BadRequest(e),
        };
        let date = match SettlementDate::parse(date) {
            Ok(d) => d,
            Err(e) => return Route::BadRequest(e.to_string()),
        };
        let number = match period.parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                return Route::BadRequest(format!("settlement period {period:?} is not a number"))
            }
        };
        let period = match date.period(number) {
            Ok(p) => p.number(),
            Err(e) => return Route::BadRequest(e.to_string()),
        };
        // The real API answers JSON when `format` is left out.
        let mut format = Format::Json;
        for pair in query.unwrap_or("").split('&') {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            if k.eq_ignore_ascii_case("format") {
                format = match v.to_ascii_lowercase().as_str() {
                    "xml" => Format::Xml,
                    "json" => Format::Json,
                    other => {
                        return Route::BadRequest(format!(
                            "format {other:?} is not supported by this simulator (xml or json)"
                        ))
                    }
                };
            }
        }
        Route::Stack {
            date,
            period,
            side,
            format,
        }
    }
}

async fn handle(State(sim): State<Arc<Shared>>, uri: Uri) -> Response {
    let (kind, route) = Route::parse(&uri);
    sim.stats.arrival(Instant::now(), kind);
    let latency = sim.latency();
    if !latency.is_zero() && !sim.pause(latency).await {
        return stopping(&sim);
    }
    let (response, fault, limited) = answer(&sim, kind, route).await;
    sim.stats
        .answered(response.status().as_u16(), fault, limited);
    response
}

fn stopping(sim: &Shared) -> Response {
    sim.stats.answered(503, false, false);
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "the simulator is stopping",
    )
}

/// The answer, whether a fault was injected, and whether the rate limit refused it.
async fn answer(sim: &Shared, kind: PathKind, route: Route) -> (Response, bool, bool) {
    if sim.faults.rate_limited(Instant::now()) {
        let mut r = error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "rate limit exceeded",
        );
        r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(1u32));
        return (r, false, true);
    }
    let info = match &route {
        Route::Stack {
            date, period, side, ..
        } => RequestInfo {
            kind,
            date: Some(*date),
            period: Some(*period),
            side: Some(*side),
        },
        Route::BadRequest(msg) => {
            return (
                error(StatusCode::BAD_REQUEST, "Bad Request", msg),
                false,
                false,
            )
        }
        Route::NotFound => {
            return (
                error(StatusCode::NOT_FOUND, "Not Found", "no such endpoint"),
                false,
                false,
            )
        }
        Route::BmUnits | Route::Difficulty => RequestInfo {
            kind,
            date: None,
            period: None,
            side: None,
        },
    };
    if kind == PathKind::Stack {
        sim.stats.stack(&info);
    }
    let fault = sim.faults.take(&info);
    if let Some(f) = &fault {
        tracing::debug!(message = "injecting fault", fault = ?f, ?kind);
    }
    let injected = fault.is_some();
    let response = match fault {
        None => normal(sim, &route, None),
        Some(Fault::TooManyRequests { retry_after_secs }) => {
            let mut r = error(
                StatusCode::TOO_MANY_REQUESTS,
                "Too Many Requests",
                "rate limit exceeded (scripted)",
            );
            if let Some(s) = retry_after_secs {
                r.headers_mut().insert(RETRY_AFTER, HeaderValue::from(s));
            }
            r
        }
        Some(Fault::ServerError) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "scripted server error",
        ),
        Some(Fault::NotFound) => error(
            StatusCode::NOT_FOUND,
            "Not Found",
            "no data published for this settlement period",
        ),
        Some(Fault::Delay(d)) => {
            if !sim.pause(d).await {
                return (stopping_response(), injected, false);
            }
            normal(sim, &route, None)
        }
        Some(Fault::EmptyStack) => match route {
            Route::Stack {
                date,
                period,
                format,
                ..
            } => ok(
                format.content_type(),
                Bytes::from(match format {
                    Format::Xml => wire::stack_xml(&[], date, period),
                    Format::Json => wire::stack_json(&[]),
                }),
            ),
            _ => normal(sim, &route, None),
        },
        Some(Fault::WrongPeriod) => normal(sim, &route, Some(Shift::Period)),
        Some(Fault::WrongDate) => normal(sim, &route, Some(Shift::Date)),
        Some(Fault::TruncatedBody) => {
            let (ct, body) = body_of(sim, &route, None);
            let text = String::from_utf8_lossy(&body);
            let mut cut = text.len() / 2;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            ok(ct, Bytes::from(text[..cut].to_owned()))
        }
        Some(Fault::AbortedBody) => {
            let (ct, body) = body_of(sim, &route, None);
            let full = body.len();
            let half = body.slice(..full / 2);
            // The headers and first half go out; a moment later the connection drops.
            let first = futures::stream::once(async move { Ok::<_, std::io::Error>(half) });
            let abort = futures::stream::once(async {
                tokio::time::sleep(Duration::from_millis(20)).await;
                Err(std::io::Error::other("simulated connection abort"))
            });
            let mut r = Response::new(Body::from_stream(first.chain(abort)));
            r.headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(ct));
            r.headers_mut()
                .insert(CONTENT_LENGTH, HeaderValue::from(full));
            r
        }
        Some(Fault::MalformedXml) => {
            let (ct, body) = body_of(sim, &route, None);
            ok(ct, Bytes::from(malform(&String::from_utf8_lossy(&body))))
        }
    };
    (response, injected, false)
}

fn stopping_response() -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "Service Unavailable",
        "the simulator is stopping",
    )
}

/// Which wrong document to send.
#[derive(Clone, Copy)]
enum Shift {
    Period,
    Date,
}

fn normal(sim: &Shared, route: &Route, shift: Option<Shift>) -> Response {
    let (ct, body) = body_of(sim, route, shift);
    ok(ct, body)
}

fn body_of(sim: &Shared, route: &Route, shift: Option<Shift>) -> (&'static str, Bytes) {
    match *route {
        Route::Stack {
            date,
            period,
            side,
            format,
        } => {
            let (date, period) = match shift {
                None => (date, period),
                Some(Shift::Period) => {
                    let other = if period < date.periods() {
                        period + 1
                    } else {
                        period - 1
                    };
                    (date, other)
                }
                Some(Shift::Date) => {
                    let other = date.succ().unwrap_or(date);
                    (other, period.min(other.periods()))
                }
            };
            (
                format.content_type(),
                sim.stack_body(date, period, side, format),
            )
        }
        Route::BmUnits => (
            Format::Json.content_type(),
            sim.bmunits
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .clone(),
        ),
        Route::Difficulty => (Format::Json.content_type(), sim.difficulty.clone()),
        Route::BadRequest(_) | Route::NotFound => (Format::Json.content_type(), Bytes::new()),
    }
}

/// A well-framed but not well-formed version of a document.
fn malform(text: &str) -> String {
    const ROOT_END: &str = "</ResponseWithMetadataOfSettlementStackResponse>";
    if let Some(i) = text.rfind(ROOT_END) {
        // Mismatched closing tag.
        let mut s = text[..i].to_owned();
        s.push_str("</ResponseWithMetadata>\n");
        s
    } else if let Some(i) = text.rfind(']') {
        // JSON with a trailing comma and an unquoted word.
        let mut s = text[..i].to_owned();
        s.push_str(",oops]");
        s.push_str(&text[i + 1..]);
        s
    } else {
        format!("{text}<<not a document")
    }
}

fn ok(content_type: &'static str, body: Bytes) -> Response {
    (
        StatusCode::OK,
        [(CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body,
    )
        .into_response()
}

fn error(status: StatusCode, title: &str, detail: &str) -> Response {
    (
        status,
        [(
            CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        )],
        wire::error_json(status.as_u16(), title, detail),
    )
        .into_response()
}
