//! The whole API: every resource's routes merged over [`ApiDoc`], then the
//! fallbacks, the body limit, the request budget (in-flight limit and
//! timeout), the rate limits and the access-log layer. [`api`] is the one
//! list of routers; it gives both the axum router ([`router`]) and the
//! OpenAPI document ([`document`](super::docs::document)), so what is served
//! and what is documented come from the same registrations.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use super::docs::ApiDoc;
use super::middleware::{access_log, cache_control, client_ip, rate_limit, request_budget};
use super::{AppState, MAX_BODY_BYTES, error, routes};

/// Every route with its OpenAPI operation, over [`ApiDoc`]'s info, tags and
/// shared schemas. [`OpenApiRouter::split_for_parts`] gives the routes and
/// the document; add a resource's router here, its routes in its module.
pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(routes::health::router())
        .merge(routes::metrics::router())
        .merge(routes::docs::router())
        .merge(routes::experts::router())
        .merge(routes::availability::router())
        .merge(routes::auth::router())
        .merge(routes::profile::router())
        .merge(routes::favorites::router())
        .merge(routes::interactions::router())
        .merge(routes::bookings::router())
        .merge(routes::calendar::router())
        .merge(routes::search::router())
        .merge(routes::matches::router())
        .merge(routes::recommendations::router())
        .merge(routes::payouts::router())
        .merge(routes::webhooks::router())
        .merge(routes::daily_webhook::router())
        .merge(routes::video::router())
        .merge(routes::reviews::router())
        .merge(routes::referrals::router())
        .merge(routes::content::router())
        .merge(routes::content_files::router())
        .merge(routes::purchases::router())
        .merge(routes::dropins::router())
        .merge(routes::meeting_signal::router())
        .merge(routes::live_tickets::router())
}

/// The whole API over `state`: the routes of [`api`], answering unknown
/// paths `route_not_found` and unserved methods `method_not_allowed`, with
/// the body limit, `no-store` on signed-in answers, the request budget, the
/// rate limits, the client-address resolution, the access log and, behind
/// an HTTPS public URL, `Strict-Transport-Security` on every answer (added
/// after the routes, so they see the matched route; a request meets them in
/// the opposite order: logged, its client resolved, rate limited, budgeted,
/// then handled).
pub fn router(state: AppState) -> Router {
    let (routes, _) = api().split_for_parts();
    routes
        .merge(crate::pages::router(&state))
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(from_fn(cache_control::no_store_when_signed_in))
        .layer(from_fn_with_state(
            state.budget.clone(),
            request_budget::within_budget,
        ))
        .layer(from_fn_with_state(
            state.rate_limits.clone(),
            rate_limit::limit_rate,
        ))
        .layer(from_fn_with_state(
            state.trusted_proxies.clone(),
            client_ip::resolve_client,
        ))
        .layer(from_fn_with_state(
            state.metrics.clone(),
            access_log::observe_request,
        ))
        .layer(from_fn_with_state(
            state.pages.clone(),
            crate::pages::strict_transport_security,
        ))
        .with_state(state)
}
