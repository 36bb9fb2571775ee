//! The fetch stage of `reingest`: the [`SettlementSource`] trait and its HTTP implementation
//! for the Elexon Insights API (settlement stacks and BM unit reference data).
//!
//! - [`SettlementSource`] is the narrow interface the pipeline codes against: the stack of one
//!   side of one settlement period, and the BM Unit reference list. A store-backed archive or a
//!   test fixture can stand in for HTTP.
//! - [`HttpSource`] implements it over HTTP with a shared rate limiter, bounded concurrency,
//!   per-request timeouts, retries with exponential backoff and jitter (honouring
//!   `Retry-After`), a streaming body-size limit, and a refusal of plain-HTTP URLs that are not
//!   loopback.
//! - [`parse_stack_xml`], [`parse_stack_json`] and [`parse_bm_units_json`] are pure parsers,
//!   usable without a network (the archive re-parses stored bodies with them). Every value goes
//!   from text straight into its type: decimals into [`rust_decimal::Decimal`], never through
//!   `f64`. A bad item is an error naming date, period, side, item index and field; nothing is
//!   skipped silently.
//!
//! Architecture invariant: this is the only crate that knows HTTP, XML and the API's JSON.
//! It knows nothing of curtailment rules, summaries, bitcoin or the database: it hands back
//! [`settlement_model::StackItem`]s and [`settlement_model::BmUnit`]s exactly as published.
//!
//! External crates and why:
//! - `reqwest` (rustls, no OpenSSL): the mainstream async HTTP client; its streaming body API
//!   lets the size limit be enforced chunk by chunk.
//! - `governor`: a GCRA rate limiter that is lock-free and shared through an `Arc`, so every
//!   clone of an [`HttpSource`] and every concurrent caller draws from one budget.
//! - `backon`: retry loops with exponential backoff and jitter, with hooks to decide what is
//!   retryable, to stretch a delay to the server's `Retry-After`, and to log each retry.
//! - `roxmltree`: a fast, read-only XML tree that refuses DTDs by default (no entity bombs),
//!   which is all a tolerant "find the items wherever they sit" parser needs.
//! - `serde_json` (each value first read as its raw text, `raw_value`, so JSON numbers keep
//!   their exact text without `arbitrary_precision`, which would change an embedding
//!   service's own JSON),
//!   `rust_decimal`, `chrono`, `thiserror`, `tracing`, `tokio` (semaphore, timeouts, sleeps).

mod error;
mod fields;
mod http;
mod json;
mod json_value;
mod xml;

use std::fmt;
use std::future::Future;
use std::str::FromStr;
use std::time::Duration;

use bytes::Bytes;
use settlement_model::{BmUnit, SettlementDate, Side, StackItem};

pub use error::{FetchError, ParseError, Target};
pub use http::{rate_limit_burst, HttpSource};
pub use json::{parse_bm_units_json, parse_stack_json};
pub use xml::parse_stack_xml;

/// The production base URL of the Elexon Insights API.
pub const PRODUCTION_BASE_URL: &str = "https://data.elexon.co.uk/bmrs/api/v1";

/// The wire format asked of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// `format=json` (the default): the published OpenAPI document describes this shape
    /// exactly, field by field, and the platform's own fetcher reads it.
    #[default]
    Json,
    /// `format=xml`, parsed with roxmltree. The API documents no XML element names; the
    /// parser matches names case-insensitively and tolerates the shape's details.
    Xml,
}

impl Format {
    /// The query value and stored name: `xml` or `json`.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Xml => "xml",
            Format::Json => "json",
        }
    }

    /// Parses a stack body of this format (see [`parse_stack_xml`], [`parse_stack_json`]).
    pub fn parse_stack(
        self,
        body: &[u8],
        date: SettlementDate,
        period: u8,
        side: Side,
    ) -> Result<Vec<StackItem>, ParseError> {
        match self {
            Format::Xml => parse_stack_xml(body, date, period, side),
            Format::Json => parse_stack_json(body, date, period, side),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Format {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "xml" => Ok(Format::Xml),
            "json" => Ok(Format::Json),
            _ => Err(format!("unknown format {s:?} (expected xml or json)")),
        }
    }
}

/// One fetched stack: the parsed items and the raw body they came from.
#[derive(Debug, Clone)]
pub struct StackResponse {
    /// The parsed items.
    pub items: Vec<StackItem>,
    /// The raw response body (for the source archive).
    pub body: Bytes,
    /// The format of `body`.
    pub format: Format,
}

/// Where settlement stacks and BM units come from: HTTP, an archive, a fixture.
pub trait SettlementSource: Send + Sync {
    /// The stack of one side of one period.
    fn stack(
        &self,
        date: SettlementDate,
        period: u8,
        side: Side,
    ) -> impl Future<Output = Result<StackResponse, FetchError>> + Send;

    /// The BM unit reference list.
    fn bm_units(&self) -> impl Future<Output = Result<Vec<BmUnit>, FetchError>> + Send;
}

/// Settings of the HTTP client. Its `Debug` output redacts the base URL's credentials.
#[derive(Clone)]
pub struct ClientConfig {
    /// Base URL, e.g. `https://data.elexon.co.uk/bmrs/api/v1`.
    pub base_url: String,
    /// Wire format.
    pub format: Format,
    /// Requests per minute across the process (default 4,500).
    pub requests_per_minute: u32,
    /// Requests in flight at once (default 16).
    pub max_concurrency: usize,
    /// Per-request timeout (default 30 s).
    pub timeout: Duration,
    /// Attempts per request including the first (default 5).
    pub max_attempts: u32,
    /// First backoff delay (default 200 ms); doubles with jitter up to `max_backoff`.
    pub initial_backoff: Duration,
    /// Largest backoff delay (default 10 s).
    pub max_backoff: Duration,
    /// Largest response body accepted (default 64 MiB).
    pub max_body_bytes: usize,
    /// Allow a plain-HTTP base URL that is not loopback.
    pub allow_insecure_http: bool,
}

impl fmt::Debug for ClientConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientConfig")
            .field("base_url", &settlement_model::redact_url(&self.base_url))
            .field("format", &self.format)
            .field("requests_per_minute", &self.requests_per_minute)
            .field("max_concurrency", &self.max_concurrency)
            .field("timeout", &self.timeout)
            .field("max_attempts", &self.max_attempts)
            .field("initial_backoff", &self.initial_backoff)
            .field("max_backoff", &self.max_backoff)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .finish()
    }
}

impl Default for ClientConfig {
    /// The production API with the published limits respected: 4,500 requests/min,
    /// 16 in flight, 30 s timeout, 5 attempts, backoff 200 ms..10 s, 64 MiB bodies, JSON.
    fn default() -> Self {
        Self {
            base_url: PRODUCTION_BASE_URL.to_owned(),
            format: Format::Json,
            requests_per_minute: 4_500,
            max_concurrency: 16,
            timeout: Duration::from_secs(30),
            max_attempts: 5,
            initial_backoff: Duration::from_millis(200),
            max_backoff: Duration::from_secs(10),
            max_body_bytes: 64 * 1024 * 1024,
            allow_insecure_http: false,
        }
    }
}

impl ClientConfig {
    /// The default settings against another base URL (e.g. a simulator).
    pub fn with_base_url(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into(),
            ..Self::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_the_published_limits() {
        let c = ClientConfig::default();
        assert_eq!(c.base_url, "https://data.elexon.co.uk/bmrs/api/v1");
        assert_eq!(c.requests_per_minute, 4_500);
        assert_eq!(c.max_concurrency, 16);
        assert_eq!(c.timeout, Duration::from_secs(30));
        assert_eq!(c.max_attempts, 5);
        assert_eq!(c.initial_backoff, Duration::from_millis(200));
        assert_eq!(c.max_backoff, Duration::from_secs(10));
        assert_eq!(c.max_body_bytes, 64 << 20);
        assert!(!c.allow_insecure_http);
        assert_eq!(c.format, Format::Xml);
    }

    #[test]
    fn debug_output_redacts_the_base_url() {
        let c = ClientConfig::with_base_url("https://u:pw@api.example/v1?APIKey=k1");
        let text = format!("{c:?}");
        assert!(
            text.contains("https://***@api.example/v1?APIKey=***"),
            "{text}"
        );
        assert!(!text.contains("pw") && !text.contains("k1"), "{text}");
    }

    #[test]
    fn formats_round_trip() {
        for f in [Format::Xml, Format::Json] {
            assert_eq!(f.as_str().parse::<Format>(), Ok(f));
        }
        assert_eq!("JSON".parse::<Format>(), Ok(Format::Json));
        assert!("csv".parse::<Format>().is_err());
    }
}
