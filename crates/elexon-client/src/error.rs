//! Typed errors of the fetch stage: what was asked for, and what went wrong.

use std::fmt;
use std::time::Duration;

use settlement_model::{ModelError, SettlementDate, Side};

use crate::Format;

/// What a request was for; every [`FetchError`] names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Target {
    /// One side of one settlement period's stack.
    Stack {
        /// Date.
        date: SettlementDate,
        /// Period.
        period: u8,
        /// Side.
        side: Side,
    },
    /// The BM unit reference list.
    BmUnits,
    /// Any other download ([`crate::HttpSource::get_bytes`]).
    Download,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Stack { date, period, side } => {
                write!(f, "{date} period {period} {side} stack")
            }
            Target::BmUnits => f.write_str("BM unit list"),
            Target::Download => f.write_str("download"),
        }
    }
}

/// Errors of the fetch stage.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The API says the period is not published (404); never retried.
    #[error("{date} period {period} {side}: not published by the API (404)")]
    NotPublished {
        /// Date.
        date: SettlementDate,
        /// Period.
        period: u8,
        /// Side.
        side: Side,
    },
    /// The server answered with an error status.
    #[error("{target}: HTTP {status} from {url}{}", detail_suffix(detail))]
    Status {
        /// What was asked for.
        target: Target,
        /// The URL, credentials redacted ([`settlement_model::redact_url`]).
        url: String,
        /// The status code.
        status: u16,
        /// The `Retry-After` delay the server asked for, if any.
        retry_after: Option<Duration>,
        /// The start of the response body, for the operator.
        detail: String,
    },
    /// The request (connect, send and whole body) took longer than the configured timeout.
    #[error("{target}: no complete response from {url} within {timeout:?}")]
    Timeout {
        /// What was asked for.
        target: Target,
        /// The URL, credentials redacted ([`settlement_model::redact_url`]).
        url: String,
        /// The configured per-request timeout.
        timeout: Duration,
    },
    /// The connection failed or the request could not be sent.
    #[error("{target}: cannot reach {url}: {message}")]
    Connection {
        /// What was asked for.
        target: Target,
        /// The URL, credentials redacted ([`settlement_model::redact_url`]).
        url: String,
        /// The underlying error, with its causes.
        message: String,
    },
    /// The body ended before it was complete (connection dropped, or shorter than
    /// `Content-Length`).
    #[error("{target}: truncated body from {url} after {received} bytes{}: {message}",
        expected.map(|e| format!(" of {e}")).unwrap_or_default())]
    Truncated {
        /// What was asked for.
        target: Target,
        /// The URL, credentials redacted ([`settlement_model::redact_url`]).
        url: String,
        /// Bytes received.
        received: usize,
        /// Bytes announced by `Content-Length`, if any.
        expected: Option<u64>,
        /// What the transport said.
        message: String,
    },
    /// The body is larger than `max_body_bytes`; never retried.
    #[error("{target}: body from {url} exceeds the limit of {limit} bytes{}",
        announced.map(|a| format!(" (Content-Length {a})")).unwrap_or_default())]
    BodyTooLarge {
        /// What was asked for.
        target: Target,
        /// The URL, credentials redacted ([`settlement_model::redact_url`]).
        url: String,
        /// The configured limit.
        limit: usize,
        /// The size the server announced, if it did.
        announced: Option<u64>,
    },
    /// The body arrived but does not parse (see [`ParseError`]).
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A plain-HTTP URL whose host is not loopback, without `allow_insecure_http`.
    #[error("refusing plain-HTTP URL {url}: only loopback hosts may use http:// (use https://, or allow insecure HTTP explicitly)")]
    InsecureUrl {
        /// The URL, credentials redacted ([`settlement_model::redact_url`]).
        url: String,
    },
    /// The URL does not parse or has an unsupported scheme.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given, credentials redacted.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The client settings are unusable (e.g. zero requests per minute).
    #[error("invalid client configuration: {0}")]
    InvalidConfig(String),
    /// The period asked for does not exist on the date; no request was sent.
    #[error(transparent)]
    InvalidPeriod(#[from] ModelError),
    /// The HTTP client could not be built.
    #[error("cannot build the HTTP client: {0}")]
    Client(String),
    /// A task of the client's own failed (a parser panicked or the runtime shut down).
    #[error("internal error: {0}")]
    Internal(String),
    /// Every attempt failed with a retryable error; `last` is the final one. The message
    /// names the target and the URL once, then the last error's [`FetchError::reason`].
    #[error("{target}: giving up after {attempts} attempts; last error: {}{}",
        last.reason(), last.url().map(|u| format!(" (GET {u})")).unwrap_or_default())]
    RetriesExhausted {
        /// What was asked for.
        target: Target,
        /// Attempts made.
        attempts: u32,
        /// The error of the last attempt.
        #[source]
        last: Box<FetchError>,
    },
}

fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

impl FetchError {
    /// Whether another attempt may succeed: 408, 429, 5xx, timeouts, connection errors,
    /// truncated bodies and malformed (e.g. cut-off) documents.
    pub fn is_retryable(&self) -> bool {
        match self {
            FetchError::Status { status, .. } => {
                matches!(status, 408 | 429) || (500..=599).contains(status)
            }
            FetchError::Timeout { .. }
            | FetchError::Connection { .. }
            | FetchError::Truncated { .. } => true,
            FetchError::Parse(e) => e.is_malformed(),
            _ => false,
        }
    }

    /// The HTTP status, if the error is one (looking through [`FetchError::RetriesExhausted`]).
    pub fn status(&self) -> Option<u16> {
        match self {
            FetchError::Status { status, .. } => Some(*status),
            FetchError::NotPublished { .. } => Some(404),
            FetchError::RetriesExhausted { last, .. } => last.status(),
            _ => None,
        }
    }

    /// What went wrong, without the target or the URL: the retry warnings and
    /// [`FetchError::RetriesExhausted`] name those once themselves.
    pub fn reason(&self) -> String {
        match self {
            FetchError::Status { status, detail, .. } => {
                format!("HTTP {status}{}", detail_suffix(detail))
            }
            FetchError::Timeout { timeout, .. } => {
                format!("no complete response within {timeout:?}")
            }
            FetchError::Connection { message, .. } => format!("cannot connect: {message}"),
            FetchError::Truncated {
                received,
                expected,
                message,
                ..
            } => format!(
                "truncated body after {received} bytes{}: {message}",
                expected.map(|e| format!(" of {e}")).unwrap_or_default()
            ),
            FetchError::BodyTooLarge {
                limit, announced, ..
            } => format!(
                "body exceeds the limit of {limit} bytes{}",
                announced
                    .map(|a| format!(" (Content-Length {a})"))
                    .unwrap_or_default()
            ),
            FetchError::Parse(ParseError::Malformed {
                format, message, ..
            }) => format!("malformed {format} document: {message}"),
            FetchError::RetriesExhausted { last, .. } => last.reason(),
            other => other.to_string(),
        }
    }

    /// The URL the error is about (credentials redacted), if it names one.
    pub fn url(&self) -> Option<&str> {
        match self {
            FetchError::Status { url, .. }
            | FetchError::Timeout { url, .. }
            | FetchError::Connection { url, .. }
            | FetchError::Truncated { url, .. }
            | FetchError::BodyTooLarge { url, .. }
            | FetchError::InsecureUrl { url }
            | FetchError::InvalidUrl { url, .. } => Some(url),
            FetchError::RetriesExhausted { last, .. } => last.url(),
            _ => None,
        }
    }

    /// The server's `Retry-After`, if the error carries one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            FetchError::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A response body that does not hold what was asked for. Every variant about a stack names
/// the date, period and side; item errors name the item's 0-based index in the document and
/// the field (by its API name, e.g. `volume`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The body is not a well-formed document of the format (including a truncated one, one
    /// with a DTD, or JSON without a `data` array).
    #[error("{date} period {period} {side}: malformed {format} document: {message}")]
    Malformed {
        /// Date asked for.
        date: SettlementDate,
        /// Period asked for.
        period: u8,
        /// Side asked for.
        side: Side,
        /// The format.
        format: Format,
        /// What the parser said.
        message: String,
    },
    /// An item lacks a required field, or has it null.
    #[error(
        "{date} period {period} {side}: item {index}: required field {field} is missing or null"
    )]
    MissingField {
        /// Date asked for.
        date: SettlementDate,
        /// Period asked for.
        period: u8,
        /// Side asked for.
        side: Side,
        /// 0-based index of the item in the document.
        index: usize,
        /// The field's API name.
        field: &'static str,
    },
    /// An item's value does not parse as its type.
    #[error("{date} period {period} {side}: item {index}: field {field}: cannot read {value:?} as {expected}")]
    InvalidValue {
        /// Date asked for.
        date: SettlementDate,
        /// Period asked for.
        period: u8,
        /// Side asked for.
        side: Side,
        /// 0-based index of the item in the document.
        index: usize,
        /// The field's API name.
        field: &'static str,
        /// The value as published (shortened when long).
        value: String,
        /// What it should have been.
        expected: &'static str,
    },
    /// The document is for another date or period than the one asked for.
    #[error("{date} period {period} {side}: item {index}: field {field} is {found}, but the document was asked for {date} period {period}")]
    WrongDocument {
        /// Date asked for.
        date: SettlementDate,
        /// Period asked for.
        period: u8,
        /// Side asked for.
        side: Side,
        /// 0-based index of the item in the document.
        index: usize,
        /// `settlementDate` or `settlementPeriod`.
        field: &'static str,
        /// The value the document holds.
        found: String,
    },
    /// The BM unit list does not parse.
    #[error("BM unit list: {}{message}", index.map(|i| format!("unit {i}: ")).unwrap_or_default())]
    BmUnits {
        /// 0-based index of the offending unit, if one is to blame.
        index: Option<usize>,
        /// What is wrong.
        message: String,
    },
}

impl ParseError {
    /// Whether the document as a whole is broken (not well-formed), as opposed to a
    /// well-formed document with wrong content.
    pub fn is_malformed(&self) -> bool {
        matches!(self, ParseError::Malformed { .. })
            || matches!(self, ParseError::BmUnits { index: None, .. })
    }

    /// The 0-based index of the offending item, for item errors.
    pub fn item_index(&self) -> Option<usize> {
        match self {
            ParseError::MissingField { index, .. }
            | ParseError::InvalidValue { index, .. }
            | ParseError::WrongDocument { index, .. } => Some(*index),
            ParseError::BmUnits { index, .. } => *index,
            _ => None,
        }
    }

    /// The offending field's API name, for item errors.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            ParseError::MissingField { field, .. }
            | ParseError::InvalidValue { field, .. }
            | ParseError::WrongDocument { field, .. } => Some(field),
            _ => None,
        }
    }
}
