//! The whole API: every resource's routes merged over [`ApiDoc`], then the
//! fallbacks, the body limit, the request budget (in-flight limit and
//! timeout), the rate limits and the access-log layer. [`api`] is the one
//! list of routers; it gives both the axum router ([`router`]) and the
//! OpenAPI document ([`document`](super::docs::document)), so what is served
//! and what is documented come from the same registrations. An unknown path,
//! or a method a path does not take, is answered by [`is_api_path`]: the
//! API's JSON error under the API's roots, the site's HTML page elsewhere.

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::http::StatusCode;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
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

/// The first path segments the API answers under: `/v1/...`, the probes,
/// the metrics, the OpenAPI document and its docs page. Every documented
/// path starts with one of them (a unit test checks it).
const API_ROOTS: [&str; 6] = ["v1", "health", "ready", "metrics", "openapi.json", "docs"];

/// Whether `path` belongs to the API (its errors are JSON) rather than to
/// the web pages (their errors are HTML pages): the one rule both
/// fallbacks follow, by the path's first segment.
pub(crate) fn is_api_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    API_ROOTS.contains(&first)
}

/// A path no route serves: the API's `route_not_found` under an API path,
/// the site's 404 page elsewhere.
async fn unknown_path(State(state): State<AppState>, request: Request) -> Response {
    if is_api_path(request.uri().path()) {
        return error::not_found().await.into_response();
    }
    crate::pages::missing(&state, StatusCode::NOT_FOUND, request).await
}

/// A method the path does not take: the API's `method_not_allowed` under an
/// API path, the site's 405 page elsewhere (a browser's GET of a form's
/// POST-only address).
async fn unserved_method(State(state): State<AppState>, request: Request) -> Response {
    if is_api_path(request.uri().path()) {
        return error::method_not_allowed().await.into_response();
    }
    crate::pages::missing(&state, StatusCode::METHOD_NOT_ALLOWED, request).await
}

/// The whole API over `state`: the routes of [`api`] and the pages,
/// answering unknown paths and unserved methods as [`is_api_path`] says
/// (`route_not_found` and `method_not_allowed` for the API), with
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
        .fallback(unknown_path)
        .method_not_allowed_fallback(unserved_method)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_documented_path_is_an_api_path_and_pages_are_not() {
        let (_, openapi) = api().split_for_parts();
        for path in openapi.paths.paths.keys() {
            assert!(is_api_path(path), "{path} is not under an API root");
        }
        for page in [
            "/",
            "/nowhere",
            "/account/nothing",
            "/account/payouts",
            "/@ann",
            "/v1nothing",
            "/healthy",
        ] {
            assert!(!is_api_path(page), "{page}");
        }
        for api in [
            "/v1",
            "/v1/",
            "/v1/nowhere",
            "/health",
            "/docs",
            "/openapi.json",
        ] {
            assert!(is_api_path(api), "{api}");
        }
    }
}
