//! Why the HTTP difficulty feed could not read its URL: kept with the errors (not with the
//! feed in `ops/`) so that the chain printer can tell its messages apart without `error`
//! importing an operation.

/// Why [`HttpDifficultyFeed`](crate::HttpDifficultyFeed) could not read its URL.
#[derive(Debug, thiserror::Error)]
pub(crate) enum HttpFeedError {
    /// The request failed (after retries).
    #[error(transparent)]
    Fetch(#[from] elexon_client::FetchError),
    /// The body is not text.
    #[error("not UTF-8")]
    NotUtf8(#[from] std::str::Utf8Error),
    /// The body is not the mempool.space shape.
    #[error(transparent)]
    Parse(#[from] bitcoin_calc::ImportError),
}

impl HttpFeedError {
    /// Whether the message leaves out the source's text (see [`crate::error::describe`]).
    pub(crate) fn leaves_out_cause(&self) -> bool {
        matches!(self, Self::NotUtf8(_))
    }
}
