//! Where difficulty adjustments come from when the store's table is not current: the
//! [`DifficultyFeed`] trait and its HTTP implementation in mempool.space's shape.

use futures::future::BoxFuture;
use settlement_model::DifficultyEntry;

use crate::error::{FeedError, HttpFeedError};

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
