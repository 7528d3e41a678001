//! The HTTP API: its shared state ([`AppState`]), the one error format
//! ([`ApiError`]), and the router ([`router()`]) merged from one routes module
//! per resource. `routes/` holds the handlers, each route declared once with
//! its OpenAPI operation; `extract/` what handlers take from a request (the
//! signed-in user, JSON and raw bodies, queries, paths, pages); `views/`
//! what they send back (`large_json` writes the largest answers: search,
//! matches, recommendations);
//! `middleware/` what runs around every request (its id, span, access-log
//! line and metrics, the rate limits, the in-flight limit and the request
//! timeout); `docs/` the OpenAPI document and the `/docs` page.
//! Handlers stay thin: they parse input, call the engine off the async
//! threads, and shape the answer. `/openapi.json` and `/docs` are generated
//! from the routes the router serves. Search routes answer
//! `503 search_unavailable` while the engine has no search index to ask.

mod docs;
mod error;
mod extract;
pub(crate) mod file_response;
mod large_json;
mod live;
mod middleware;
mod router;
mod routes;
mod snapshot;
mod views;

use std::sync::Arc;

use droply_engine::Engine;
use tracing::Instrument;

use middleware::metrics;

pub(crate) use middleware::metrics::register_connection_gauges;

use crate::limits::Limits;
use crate::pages::PageSettings;

pub use docs::ApiDoc;
pub use error::{ApiError, ErrorCode, FieldError};
pub use extract::{
    ApiBytes, ApiJson, ApiPath, ApiQuery, BearerToken, ClientAddr, MaybeSignedIn, SignedIn,
};
pub use middleware::{Metrics, RateLimiters, RequestBudget, RequestId, RouteClass, TrustedProxies};
pub use router::{api, router};
pub use views::{AccountView, BookingView, PublicProfile};

/// What every handler can reach: the engine, the request metrics, and the
/// request limits.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The engine every use case goes through.
    pub engine: Engine,
    /// Request counters, timings and gauges served at `/metrics`.
    pub metrics: Arc<Metrics>,
    /// The rate limits per client address and per account.
    pub rate_limits: Arc<RateLimiters>,
    /// The in-flight limit and the request timeout.
    pub budget: Arc<RequestBudget>,
    /// The proxies whose forwarded client address is believed.
    pub trusted_proxies: TrustedProxies,
    /// The live rooms and relays, under the live limits.
    pub live: Arc<live::LiveHub>,
    /// How the web pages are served.
    pub pages: Arc<PageSettings>,
    /// `/ready`'s last answer, read from the engine at most once a second.
    pub(crate) ready: Arc<routes::health::ReadySnapshot>,
}

impl AppState {
    /// State over `engine` with the default [`Limits`].
    pub fn new(engine: Engine) -> Self {
        AppState::with_limits(engine, &Limits::default())
    }

    /// State over `engine` under `limits`; `/metrics` reports the store,
    /// the requests in flight and, when the engine serves search, the
    /// index's progress.
    pub fn with_limits(engine: Engine, limits: &Limits) -> Self {
        let metrics = Arc::new(Metrics::new());
        let rate_limits = Arc::new(RateLimiters::new(limits));
        let budget = Arc::new(RequestBudget::new(
            limits.max_in_flight,
            limits.request_timeout,
            limits.upload_timeout,
        ));
        metrics::register_state_gauges(&metrics, engine.store());
        metrics::register_limit_gauges(&metrics, &budget, &rate_limits);
        metrics::register_engine_gauges(&metrics, &engine);
        if let Some(index) = engine.search_index() {
            metrics::register_search_gauges(&metrics, index);
        }
        let live = live::LiveHub::new(&limits.live, engine.store());
        AppState {
            engine,
            metrics,
            rate_limits,
            budget,
            trusted_proxies: TrustedProxies(limits.trusted_proxies.clone().into()),
            live,
            pages: Arc::new(PageSettings::default()),
            ready: Arc::new(snapshot::Snapshot::new(snapshot::SNAPSHOT_EVERY)),
        }
    }

    /// The same state, serving the pages under `pages`.
    pub fn with_pages(self, pages: PageSettings) -> Self {
        AppState {
            pages: Arc::new(pages),
            ..self
        }
    }
}

/// The largest request body accepted.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Runs blocking engine work with the engine on the blocking pool, inside
/// the request's span, and maps its errors. The work holds a share of the
/// request's in-flight permit until it ends: a request timeout drops this
/// future but cannot stop the work, which runs on (and may commit), and
/// still counts against `max_in_flight` until it is done.
pub(crate) async fn blocking<T: Send + 'static>(
    state: &AppState,
    work: impl FnOnce(&Engine) -> droply_engine::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    let engine = state.engine.clone();
    let span = tracing::Span::current();
    let in_flight = middleware::request_budget::in_flight_share();
    let task = tokio::task::spawn_blocking(move || {
        let _in_flight = in_flight;
        span.in_scope(|| work(&engine))
    });
    match task.in_current_span().await {
        Ok(result) => result.map_err(ApiError::from),
        Err(join) => Err(ApiError::internal(format!("worker failed: {join}"))),
    }
}
