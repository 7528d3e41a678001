//! The HTTP API: the router, its shared state, the one error format, and one
//! module per resource. Handlers stay thin: they parse input, call the engine
//! off the async threads, and shape the answer. Every request runs through
//! one layer that gives it an id and a span, counts it for `/metrics` and
//! logs it; `/openapi.json` and `/docs` are generated from the handlers. The
//! search routes need the matcher ([`AppState::with_matcher`]); without it they
//! answer `503 search_unavailable`.

mod access_log;
mod account_view;
mod auth;
mod availability;
mod bearer;
mod booking_view;
mod bookings;
mod docs_page;
mod error;
mod experts;
mod favorites;
mod health;
mod interactions;
mod json_body;
mod matches;
mod metrics;
mod model_schemas;
mod openapi;
mod paging;
mod profile;
mod public_profile;
mod query;
mod ranked_expert_view;
mod recommendations;
mod request_id;
mod search;
mod search_filter;
mod search_readiness;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;
use axum::routing::{get, patch, post};
use droply_engine::Store;
use droply_engine::accounts::LoginThrottle;
use droply_engine::availability::SlotPolicy;
use droply_engine::matching::Matcher;

pub use account_view::AccountView;
pub use bearer::{BearerToken, MaybeSignedIn, SignedIn};
pub use booking_view::BookingView;
pub use error::{ApiError, ErrorCode};
pub use json_body::ApiJson;
pub use metrics::Metrics;
pub use openapi::ApiDoc;
pub use public_profile::PublicProfile;
pub use query::ApiQuery;
pub use request_id::RequestId;
pub use search_filter::{FilterError, SearchFilter};
pub use search_readiness::SearchReadiness;

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

/// The whole API. Every route is also listed in [`ApiDoc`] (the API tests
/// check both ways); add routes before the layers so they are observed.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/metrics", get(metrics::get_metrics))
        .route("/openapi.json", get(openapi::get_openapi))
        .route("/docs", get(docs_page::get_docs))
        .route("/v1/experts", get(experts::list_experts))
        .route("/v1/experts/{id}", get(experts::get_expert))
        .route(
            "/v1/experts/{id}/slots",
            get(availability::list_expert_slots),
        )
        .route(
            "/v1/experts/{id}/similar",
            get(recommendations::list_similar_experts),
        )
        .route(
            "/v1/recommendations",
            get(recommendations::list_recommendations),
        )
        .route("/v1/search", post(search::search_experts))
        .route("/v1/matches", post(matches::create_matches))
        .route("/v1/matches/{id}/viewed", post(matches::mark_match_viewed))
        .route("/v1/matches/{id}/acted", post(matches::mark_match_acted))
        .route("/v1/auth/register", post(auth::register_account))
        .route("/v1/auth/login", post(auth::login))
        .route("/v1/auth/logout", post(auth::logout))
        .route(
            "/v1/users/me",
            get(profile::get_own_account).patch(profile::update_own_account),
        )
        .route("/v1/favorites", get(favorites::list_favorites))
        .route(
            "/v1/favorites/{expert_id}",
            post(favorites::add_favorite_expert).delete(favorites::remove_favorite_expert),
        )
        .route("/v1/interactions", post(interactions::create_interaction))
        .route(
            "/v1/availability/rules",
            post(availability::create_rule).get(availability::list_own_rules),
        )
        .route(
            "/v1/availability/rules/{id}",
            patch(availability::patch_rule).delete(availability::remove_rule),
        )
        .route(
            "/v1/availability/exceptions",
            post(availability::create_exception).get(availability::list_own_exceptions),
        )
        .route(
            "/v1/availability/exceptions/{id}",
            patch(availability::patch_exception).delete(availability::remove_exception),
        )
        .route(
            "/v1/bookings",
            post(bookings::create_booking).get(bookings::list_bookings),
        )
        .route("/v1/bookings/{id}", get(bookings::get_booking))
        .route("/v1/bookings/{id}/confirm", post(bookings::confirm_booking))
        .route("/v1/bookings/{id}/cancel", post(bookings::cancel_booking))
        .route(
            "/v1/bookings/{id}/complete",
            post(bookings::complete_booking),
        )
        .route(
            "/v1/bookings/{id}/no_show",
            post(bookings::mark_booking_no_show),
        )
        .route(
            "/v1/bookings/{id}/reschedule",
            post(bookings::reschedule_booking),
        )
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn_with_state(
            state.metrics.clone(),
            access_log::observe_request,
        ))
        .with_state(state)
}

/// Runs blocking engine work on the blocking pool and maps its errors.
pub(crate) async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> droply_engine::Result<T> + Send + 'static,
) -> Result<T, ApiError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(ApiError::from),
        Err(join) => Err(ApiError::internal(format!("worker failed: {join}"))),
    }
}
