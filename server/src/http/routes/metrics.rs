//! `GET /metrics`: the [`Metrics`] registry in the Prometheus text format.

use std::sync::Arc;

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::ApiError;
use crate::http::middleware::metrics::{CONTENT_TYPE, Metrics};
use crate::http::{AppState, blocking};

/// `GET /metrics`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_metrics))
}

/// `GET /metrics`: every metric in the Prometheus text format.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "operations",
    summary = "Prometheus metrics",
    description = "Request counts by method, route template and status, request durations by route, uptime, build info and gauges (those read from the store or the limits are read at most once a second, whatever the number of scrapes, so they may be up to a second old), in the Prometheus text exposition format 0.0.4.",
    responses((status = 200, description = "The metrics", body = String, content_type = "text/plain; version=0.0.4"))
)]
pub async fn get_metrics(State(state): State<AppState>) -> Result<impl IntoResponse, ApiError> {
    let metrics: Arc<Metrics> = state.metrics.clone();
    let text = blocking(&state, move |_| Ok(metrics.render())).await?;
    Ok(([(header::CONTENT_TYPE, CONTENT_TYPE)], text))
}
