//! [`HttpSource`]: the [`SettlementSource`] over HTTP, with a shared rate limit, bounded
//! concurrency, timeouts, retries and a body-size limit.

use std::fmt;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use bytes::{Bytes, BytesMut};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::header::RETRY_AFTER;
use settlement_model::{redact_url, BmUnitList, SettlementDate, Side};
use tokio::sync::Semaphore;
use tracing::{debug, warn};
use url::{Host, Url};

use crate::fields::shorten;
use crate::{
    parse_bm_units_json, ClientConfig, FetchError, Format, SettlementSource, StackResponse, Target,
};

/// Redirects followed per request.
const MAX_REDIRECTS: usize = 5;
/// Bytes of an error response kept for the error message.
const ERROR_DETAIL_BYTES: usize = 300;

/// The Elexon API over HTTP (reqwest with rustls).
///
/// Cheap to clone: clones share one rate limiter, one concurrency semaphore and one
/// connection pool, so the configured requests-per-minute holds across every clone and every
/// concurrent caller. Each attempt waits for a concurrency permit, then for the rate limiter,
/// then runs under the per-request timeout (connect, send and the whole body). Retryable
/// failures (see [`FetchError::is_retryable`]) are retried up to `max_attempts` in all with
/// exponential backoff and jitter, stretched to the server's `Retry-After` (capped at six
/// times `max_backoff`); each retry is one `tracing::warn!` line (the target, attempt n/m,
/// the reason), the URL being logged at debug level. Every URL in a log line or an error
/// has its credentials redacted ([`settlement_model::redact_url`]).
///
/// ```no_run
/// # async fn demo() -> Result<(), elexon_client::FetchError> {
/// use elexon_client::{ClientConfig, HttpSource, SettlementSource};
/// use settlement_model::Side;
/// let source = HttpSource::new(ClientConfig::default())?;
/// let stack = source.stack("2024-03-21".parse().unwrap(), 35, Side::Bid).await?;
/// println!("{} items", stack.items.len());
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct HttpSource {
    inner: Arc<Inner>,
}

struct Inner {
    config: ClientConfig,
    /// The base URL's path without a trailing slash (and without its query).
    base: String,
    /// The base URL's query (e.g. `APIKey=…`), added to every request's query.
    base_query: Option<String>,
    client: reqwest::Client,
    limiter: DefaultDirectRateLimiter,
    permits: Semaphore,
    /// Requests sent (every attempt), for metrics.
    requests: AtomicU64,
    /// Attempts that were retries of a failed one, for metrics.
    retries: AtomicU64,
}

impl fmt::Debug for HttpSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("HttpSource")
            .field("base_url", &redact_url(&config.base_url))
            .field("format", &config.format)
            .field("requests_per_minute", &config.requests_per_minute)
            .finish_non_exhaustive()
    }
}

impl HttpSource {
    /// Builds the client. Fails on a base URL that does not parse, is neither `http` nor
    /// `https`, or is plain HTTP to a host that is not loopback (127.0.0.0/8, `::1`,
    /// `localhost`) without `allow_insecure_http`; and on zero rates, attempts, concurrency
    /// or body limit.
    pub fn new(config: ClientConfig) -> Result<Self, FetchError> {
        for (value, name) in [
            (config.requests_per_minute as usize, "requests_per_minute"),
            (config.max_concurrency, "max_concurrency"),
            (config.max_attempts as usize, "max_attempts"),
            (config.max_body_bytes, "max_body_bytes"),
        ] {
            if value == 0 {
                return Err(FetchError::InvalidConfig(format!(
                    "{name} must be at least 1"
                )));
            }
        }
        if config.timeout.is_zero() {
            return Err(FetchError::InvalidConfig(
                "timeout must be positive".to_owned(),
            ));
        }
        check_url(&config.base_url, config.allow_insecure_http)?;
        let (path, query) = config
            .base_url
            .split_once('?')
            .unwrap_or((config.base_url.as_str(), ""));
        let base = path.trim_end_matches('/').to_owned();
        let base_query = Some(query.to_owned()).filter(|q| !q.is_empty());
        let quota = quota(config.requests_per_minute).ok_or_else(|| {
            FetchError::InvalidConfig("requests_per_minute must be at least 1".to_owned())
        })?;

        let allow_insecure = config.allow_insecure_http;
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if !allow_insecure && is_insecure(attempt.url()) {
                attempt.error("refusing a redirect to a plain-HTTP URL that is not loopback")
            } else {
                attempt.follow()
            }
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!(
                "reingest-elexon-client/",
                env!("CARGO_PKG_VERSION")
            ))
            .connect_timeout(config.timeout)
            .redirect(redirects)
            .build()
            .map_err(|e| FetchError::Client(error_chain(&e)))?;

        Ok(Self {
            inner: Arc::new(Inner {
                permits: Semaphore::new(config.max_concurrency),
                limiter: RateLimiter::direct(quota),
                client,
                base,
                base_query,
                config,
                requests: AtomicU64::new(0),
                retries: AtomicU64::new(0),
            }),
        })
    }

    /// The settings this source was built with.
    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }

    /// HTTP requests sent since this source was built, by it and every clone, retries
    /// included (the CLI's `--metrics-file` reports it).
    pub fn requests_sent(&self) -> u64 {
        self.inner.requests.load(Ordering::Relaxed)
    }

    /// How many of [`HttpSource::requests_sent`] were retries of a failed request.
    pub fn retries(&self) -> u64 {
        self.inner.retries.load(Ordering::Relaxed)
    }

    /// The URL of one stack in the configured format:
    /// `{base}/balancing/settlement/stack/all/{bid|offer}/{YYYY-MM-DD}/{period}?format=…`;
    /// a query on the base URL (e.g. `?APIKey=…`) is added after `format`.
    pub fn stack_url(&self, date: SettlementDate, period: u8, side: Side) -> String {
        format!(
            "{}/balancing/settlement/stack/all/{side}/{date}/{period}?format={}{}",
            self.inner.base,
            self.inner.config.format,
            self.base_query('&')
        )
    }

    /// The URL of the BM unit list: `{base}/reference/bmunits/all`, with the base URL's
    /// query if it has one.
    pub fn bm_units_url(&self) -> String {
        format!(
            "{}/reference/bmunits/all{}",
            self.inner.base,
            self.base_query('?')
        )
    }

    /// The base URL's query after `separator`, or nothing.
    fn base_query(&self, separator: char) -> String {
        self.inner
            .base_query
            .as_deref()
            .map(|q| format!("{separator}{q}"))
            .unwrap_or_default()
    }

    /// Downloads any URL under the same rules as the API calls: the insecure-URL check, the
    /// rate limit, concurrency bound, timeout, retries and body limit. The CLI reads the
    /// difficulty feed with it.
    pub async fn get_bytes(&self, url: &str) -> Result<Bytes, FetchError> {
        check_url(url, self.inner.config.allow_insecure_http)?;
        self.fetch(Target::Download, url, Ok).await
    }

    /// Runs the request with retries; `parse` runs inside the retry loop, so a cut-off
    /// (malformed) document is fetched again.
    async fn fetch<T, P>(&self, target: Target, url: &str, parse: P) -> Result<T, FetchError>
    where
        P: Fn(Bytes) -> Result<T, FetchError> + Send + Sync + Clone + 'static,
        T: Send + 'static,
    {
        let config = &self.inner.config;
        let attempts = AtomicU32::new(0);
        let retries = usize::try_from(config.max_attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        let backoff = ExponentialBuilder::default()
            .with_min_delay(config.initial_backoff)
            .with_max_delay(config.max_backoff)
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(retries);
        let retry_after_cap = config.max_backoff.saturating_mul(6);
        let shown = redact_url(url);

        let result = (|| async {
            attempts.fetch_add(1, Ordering::Relaxed);
            let body = self.attempt(target, url, &shown).await?;
            // Parsing is CPU work: off the async threads, so a range's dates parse on every
            // core while others wait on the network.
            let parse = parse.clone();
            tokio::task::spawn_blocking(move || parse(body))
                .await
                .map_err(|e| FetchError::Internal(format!("the parser task failed: {e}")))?
        })
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(FetchError::is_retryable)
        .adjust(|error, delay| {
            delay.map(|d| match error.retry_after() {
                Some(asked) => d.max(asked.min(retry_after_cap)),
                None => d,
            })
        })
        .notify(|error, delay| {
            self.inner.retries.fetch_add(1, Ordering::Relaxed);
            warn!(
                "{target}: attempt {}/{} failed, retrying in {} ms: {}",
                attempts.load(Ordering::Relaxed),
                config.max_attempts,
                delay.as_millis(),
                error.reason()
            );
        })
        .await;

        let attempts = attempts.into_inner();
        match result {
            Err(last) if last.is_retryable() => Err(FetchError::RetriesExhausted {
                target,
                attempts,
                last: Box::new(last),
            }),
            other => other,
        }
    }

    /// One attempt: a concurrency permit, then the rate limiter, then the exchange under the
    /// timeout. `shown` is `url` redacted, for logs and errors.
    async fn attempt(&self, target: Target, url: &str, shown: &str) -> Result<Bytes, FetchError> {
        let inner = &*self.inner;
        let _permit = inner
            .permits
            .acquire()
            .await
            .map_err(|_| FetchError::Client("the request semaphore is closed".to_owned()))?;
        inner.limiter.until_ready().await;
        let timeout = inner.config.timeout;
        debug!(request = %target, url = shown, "GET");
        inner.requests.fetch_add(1, Ordering::Relaxed);
        match tokio::time::timeout(timeout, self.exchange(target, url, shown)).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Timeout {
                target,
                url: shown.to_owned(),
                timeout,
            }),
        }
    }

    async fn exchange(&self, target: Target, url: &str, shown: &str) -> Result<Bytes, FetchError> {
        let inner = &*self.inner;
        let timeout = inner.config.timeout;
        // reqwest's messages repeat the URL: it is named once, redacted, in our error.
        let transport = |e: reqwest::Error| {
            if e.is_timeout() {
                FetchError::Timeout {
                    target,
                    url: shown.to_owned(),
                    timeout,
                }
            } else {
                FetchError::Connection {
                    target,
                    url: shown.to_owned(),
                    message: redact_url(&error_chain(&e.without_url())),
                }
            }
        };
        let mut response = inner.client.get(url).send().await.map_err(transport)?;

        let status = response.status();
        if !status.is_success() {
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|v| v.to_str().ok())
                .and_then(|s| s.trim().parse::<u64>().ok())
                .map(Duration::from_secs);
            let detail = error_detail(&mut response).await;
            return Err(FetchError::Status {
                target,
                url: shown.to_owned(),
                status: status.as_u16(),
                retry_after,
                detail: redact_url(&detail),
            });
        }

        let limit = inner.config.max_body_bytes;
        let announced = response.content_length();
        let too_large = || FetchError::BodyTooLarge {
            target,
            url: shown.to_owned(),
            limit,
            announced,
        };
        if announced.is_some_and(|n| usize::try_from(n).map_or(true, |n| n > limit)) {
            return Err(too_large());
        }
        let capacity = announced
            .and_then(|n| usize::try_from(n).ok())
            .unwrap_or(16 * 1024)
            .min(limit);
        let mut body = BytesMut::with_capacity(capacity);
        loop {
            match response.chunk().await {
                Ok(Some(chunk)) => {
                    if body.len().saturating_add(chunk.len()) > limit {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => break,
                Err(e) if e.is_timeout() => return Err(transport(e)),
                Err(e) => {
                    return Err(FetchError::Truncated {
                        target,
                        url: shown.to_owned(),
                        received: body.len(),
                        expected: announced,
                        message: redact_url(&error_chain(&e.without_url())),
                    })
                }
            }
        }
        if let Some(expected) = announced {
            if u64::try_from(body.len()).unwrap_or(u64::MAX) < expected {
                return Err(FetchError::Truncated {
                    target,
                    url: shown.to_owned(),
                    received: body.len(),
                    expected: Some(expected),
                    message: "the body ended early".to_owned(),
                });
            }
        }
        Ok(body.freeze())
    }
}

impl SettlementSource for HttpSource {
    async fn stack(
        &self,
        date: SettlementDate,
        period: u8,
        side: Side,
    ) -> Result<StackResponse, FetchError> {
        date.period(u32::from(period))?;
        let format: Format = self.inner.config.format;
        let url = self.stack_url(date, period, side);
        let target = Target::Stack { date, period, side };
        let result = self
            .fetch(target, &url, move |body| {
                let items = format.parse_stack(&body, date, period, side)?;
                Ok(StackResponse {
                    items,
                    body,
                    format,
                })
            })
            .await;
        match result {
            Err(FetchError::Status { status: 404, .. }) => {
                Err(FetchError::NotPublished { date, period, side })
            }
            other => other,
        }
    }

    async fn bm_units(&self) -> Result<BmUnitList, FetchError> {
        let url = self.bm_units_url();
        self.fetch(Target::BmUnits, &url, |body| {
            Ok(parse_bm_units_json(&body)?)
        })
        .await
    }
}

/// How many requests the limiter lets through at once after a quiet spell: 1/45 of the
/// per-minute rate, at most 100 (a whole day's 96-100 stacks at the default 4,500/min).
pub fn rate_limit_burst(requests_per_minute: u32) -> u32 {
    (requests_per_minute / 45).clamp(1, 100)
}

/// A burst of `b` ([`rate_limit_burst`]), then one request every `60 s / (n - b - 1)`: any
/// 60-second window then holds at most `b + (n - b - 1) = n - 1` requests, `n` if it is
/// closed at both ends. With `b = 1` this is the even spacing `60 s / (n - 2)`.
fn quota(requests_per_minute: u32) -> Option<Quota> {
    let minute = Duration::from_secs(60);
    let n = requests_per_minute;
    if n == 0 {
        return None;
    }
    let burst = rate_limit_burst(n);
    let steady = n.saturating_sub(burst + 1);
    let period = if steady == 0 { minute } else { minute / steady };
    let quota = Quota::with_period(period)?;
    Some(quota.allow_burst(NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN)))
}

/// Checks a URL: it parses, is `http` or `https`, has a host, and is `https` unless the host
/// is loopback or insecure HTTP is allowed.
fn check_url(url: &str, allow_insecure_http: bool) -> Result<Url, FetchError> {
    let invalid = |reason: &str| FetchError::InvalidUrl {
        url: redact_url(url),
        reason: reason.to_owned(),
    };
    let parsed = Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid("only http:// and https:// URLs are supported"));
    }
    if parsed.host().is_none() {
        return Err(invalid("the URL has no host"));
    }
    if !allow_insecure_http && is_insecure(&parsed) {
        return Err(FetchError::InsecureUrl {
            url: redact_url(url),
        });
    }
    Ok(parsed)
}

/// Plain HTTP to a host that is not loopback.
fn is_insecure(url: &Url) -> bool {
    url.scheme() == "http" && !is_loopback(url)
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            name.eq_ignore_ascii_case("localhost")
        }
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The start of an error response's body, on one line.
async fn error_detail(response: &mut reqwest::Response) -> String {
    let mut kept = Vec::new();
    while kept.len() < ERROR_DETAIL_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => kept.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    kept.truncate(ERROR_DETAIL_BYTES);
    let text = String::from_utf8_lossy(&kept);
    shorten(&text.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// An error and its causes, joined with `: `.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts_may_use_plain_http() {
        for ok in [
            "http://127.0.0.1:8080/bmrs/api/v1",
            "http://127.1.2.3/x",
            "http://[::1]:9000/",
            "http://localhost:1/",
            "http://LOCALHOST/",
            "https://data.elexon.co.uk/bmrs/api/v1",
        ] {
            assert!(check_url(ok, false).is_ok(), "{ok}");
        }
        for refused in [
            "http://data.elexon.co.uk/bmrs/api/v1",
            "http://10.0.0.1/",
            "http://localhost.example.com/",
            "http://[::2]/",
        ] {
            assert!(
                matches!(
                    check_url(refused, false),
                    Err(FetchError::InsecureUrl { .. })
                ),
                "{refused}"
            );
            assert!(check_url(refused, true).is_ok(), "{refused}");
        }
        for invalid in ["ftp://example.com/", "not a url", "data:text/plain,hi"] {
            assert!(
                matches!(check_url(invalid, true), Err(FetchError::InvalidUrl { .. })),
                "{invalid}"
            );
        }
    }

    #[test]
    fn new_refuses_an_insecure_base_and_zero_limits() {
        let insecure = ClientConfig::with_base_url("http://example.com/bmrs/api/v1");
        let err = HttpSource::new(insecure).unwrap_err();
        assert!(matches!(err, FetchError::InsecureUrl { .. }), "{err}");
        let zero = ClientConfig {
            requests_per_minute: 0,
            ..ClientConfig::default()
        };
        assert!(matches!(
            HttpSource::new(zero),
            Err(FetchError::InvalidConfig(_))
        ));
        assert!(HttpSource::new(ClientConfig::default()).is_ok());
    }

    #[test]
    fn urls_follow_the_api() {
        let source = HttpSource::new(ClientConfig {
            format: Format::Json,
            ..ClientConfig::with_base_url("http://127.0.0.1:9/bmrs/api/v1/")
        })
        .unwrap();
        let date = "2024-03-21".parse().unwrap();
        assert_eq!(
            source.stack_url(date, 35, Side::Offer),
            "http://127.0.0.1:9/bmrs/api/v1/balancing/settlement/stack/all/offer/2024-03-21/35?format=json"
        );
        assert_eq!(
            source.bm_units_url(),
            "http://127.0.0.1:9/bmrs/api/v1/reference/bmunits/all"
        );
        let keyed = HttpSource::new(ClientConfig::with_base_url(
            "http://127.0.0.1:9/bmrs/api/v1/?APIKey=k1",
        ))
        .unwrap();
        assert_eq!(
            keyed.stack_url(date, 35, Side::Bid),
            "http://127.0.0.1:9/bmrs/api/v1/balancing/settlement/stack/all/bid/2024-03-21/35?format=json&APIKey=k1"
        );
        assert_eq!(
            keyed.bm_units_url(),
            "http://127.0.0.1:9/bmrs/api/v1/reference/bmunits/all?APIKey=k1"
        );
        assert!(!format!("{keyed:?}").contains("k1"));
    }

    #[test]
    fn quota_never_allows_more_than_the_rate_in_a_minute() {
        for n in [1u32, 2, 45, 60, 90, 600, 4_500, 60_000] {
            let q = quota(n).unwrap();
            let burst = u128::from(q.burst_size().get());
            assert_eq!(burst, u128::from(rate_limit_burst(n)));
            let per = q.replenish_interval();
            // The burst at t=0, then one per interval, in a window closed at both ends.
            let in_a_minute = burst + (Duration::from_secs(60).as_nanos() / per.as_nanos());
            assert!(in_a_minute <= u128::from(n.max(2)), "{n}: {in_a_minute}");
        }
        assert_eq!(rate_limit_burst(4_500), 100);
        assert!(quota(0).is_none());
    }

    #[tokio::test]
    async fn an_invalid_period_sends_nothing() {
        let source = HttpSource::new(ClientConfig::with_base_url(
            "http://127.0.0.1:9/bmrs/api/v1",
        ))
        .unwrap();
        let date = "2024-03-21".parse().unwrap();
        let err = source.stack(date, 49, Side::Bid).await.unwrap_err();
        assert!(matches!(err, FetchError::InvalidPeriod(_)), "{err}");
    }
}
