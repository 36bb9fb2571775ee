//! Where difficulty adjustments come from when the store's table is not current: the
//! [`DifficultyFeed`] trait and its HTTP implementation in mempool.space's shape.

use futures::future::BoxFuture;
use settlement_model::DifficultyEntry;

use crate::error::FeedError;

/// Where difficulty adjustments come from when the store's table is not current (e.g. a
/// mempool.space-compatible URL).
pub trait DifficultyFeed: Send + Sync {
    /// Every known adjustment, with its block height where the feed gives one.
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<DifficultyEntry>, FeedError>>;
    /// Where it reads from, for messages.
    fn describe(&self) -> String;
}

/// A difficulty feed in the mempool.space difficulty-adjustments shape, over HTTP.
#[derive(Debug, Clone)]
pub struct HttpDifficultyFeed {
    http: elexon_client::HttpSource,
    url: String,
}

impl HttpDifficultyFeed {
    /// The default public feed.
    pub const DEFAULT_URL: &'static str =
        "https://mempool.space/api/v1/mining/difficulty-adjustments";

    /// A feed reading `url` with `http`'s limits and retries.
    pub fn new(http: elexon_client::HttpSource, url: impl Into<String>) -> Self {
        Self {
            http,
            url: url.into(),
        }
    }
}

impl DifficultyFeed for HttpDifficultyFeed {
    fn fetch(&self) -> BoxFuture<'_, Result<Vec<DifficultyEntry>, FeedError>> {
        Box::pin(async move {
            let body = self
                .http
                .get_bytes(&self.url)
                .await
                .map_err(HttpFeedError::from)?;
            let text = std::str::from_utf8(&body).map_err(HttpFeedError::from)?;
            Ok(bitcoin_calc::parse_mempool_entries(text).map_err(HttpFeedError::from)?)
        })
    }

    fn describe(&self) -> String {
        settlement_model::redact_url(&self.url)
    }
}

/// Why [`HttpDifficultyFeed`] could not read its URL.
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
