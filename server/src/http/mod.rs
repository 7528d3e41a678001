//! The HTTP API: its shared state ([`AppState`]), the one error format
//! ([`ApiError`]), and the router ([`router()`]) merged from one routes module
//! per resource. `routes/` holds the handlers, each route declared once with
//! its OpenAPI operation; `extract/` what handlers take from a request (the
//! signed-in user, JSON bodies, queries, pages); `views/` what they send back;
//! `middleware/` what runs around every request (its id, span, access-log
//! line and metrics); `docs/` the OpenAPI document and the `/docs` page.
//! Handlers stay thin: they parse input, call the engine off the async
//! threads, and shape the answer. `/openapi.json` and `/docs` are generated
//! from the routes the router serves. The search routes need the matcher
//! ([`AppState::with_matcher`]); without it they answer
//! `503 search_unavailable`.

mod docs;
mod error;
mod extract;
mod middleware;
mod router;
mod routes;
mod search_filter;
mod search_readiness;
mod views;

use std::sync::Arc;

use droply_engine::Store;
use droply_engine::accounts::LoginThrottle;
use droply_engine::availability::SlotPolicy;
use droply_engine::matching::Matcher;

use middleware::metrics;

pub use docs::ApiDoc;
pub use error::{ApiError, ErrorCode};
pub use extract::{ApiJson, ApiQuery, BearerToken, MaybeSignedIn, SignedIn};
pub use middleware::{Metrics, RequestId};
pub use router::{api, router};
pub use search_filter::{FilterError, SearchFilter};
pub use search_readiness::SearchReadiness;
pub use views::{AccountView, BookingView, PublicProfile};

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Store,
    /// Failed sign-ins per email, shared by every request.
    pub login_throttle: Arc<LoginThrottle>,
    /// Buffers, notice and step of bookable slots.
    pub slot_policy: SlotPolicy,
    /// Request counters, timings and gauges served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The matching engine over the search index; `None` serves no search.
    pub matcher: Option<Arc<Matcher>>,
    /// Whether the search index has caught up once (`/ready`).
    pub search_readiness: Option<Arc<SearchReadiness>>,
}

impl AppState {
    /// State over `store` with the default slot policy.
    pub fn new(store: Store) -> Self {
        let metrics = Arc::new(Metrics::new());
        metrics::register_state_gauges(&metrics, &store);
        AppState {
            store,
            login_throttle: Arc::new(LoginThrottle::new()),
            slot_policy: SlotPolicy::default(),
            metrics,
            matcher: None,
            search_readiness: None,
        }
    }

    /// The same state serving search with `matcher`: `/ready` waits until its index
    /// reflects the store as it is now, and `/metrics` reports the index's progress.
    pub fn with_matcher(mut self, matcher: Arc<Matcher>) -> Self {
        metrics::register_search_gauges(&self.metrics, matcher.index());
        self.search_readiness = Some(Arc::new(SearchReadiness::new(self.store.last_seq())));
        self.matcher = Some(matcher);
        self
    }

    /// The matcher, or `503 search_unavailable` when this server has none.
    pub(crate) fn require_matcher(&self) -> Result<Arc<Matcher>, ApiError> {
        let matcher = self.matcher.clone().ok_or_else(|| {
            ApiError::new(
                ErrorCode::SearchUnavailable,
                "search is not available on this server",
            )
        })?;
        if !matcher.index().is_loaded() {
            // Answering from no index would look like "nothing matches".
            return Err(ApiError::new(
                ErrorCode::SearchUnavailable,
                "the search index is still being built; try again shortly",
            ));
        }
        Ok(matcher)
    }
}

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Runs blocking engine work on the blocking pool and maps its errors.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> droply_engine::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(join) => Err(ApiError::internal(format!("worker failed: {join}"))),
    }
}
