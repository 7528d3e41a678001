//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::{AppState, blocking};

/// `GET /health` and `GET /ready`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// `GET /health`: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    summary = "Liveness probe",
    responses((status = 200, description = "The process answers: `{\"status\": \"ok\"}`", body = Object))
)]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: the store is open, readable and taking writes, and the search index (when
/// this server serves search) has caught up with the store once.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    summary = "Readiness probe",
    responses(
        (status = 200, description = "The store is open and readable and search has caught up: `{\"status\": \"ready\", \"users\": N}`, with `\"search\": {\"applied_seq\": N, \"indexed_experts\": N}` when the server serves search, and `\"background_jobs\": \"running\"` or `\"standby\"` when it has store-wide jobs (of the nodes sharing one PostgreSQL database, one runs them)", body = Object),
        (status = 503, description = "`search_unavailable`: the search index is still loading or catching up with the store; `store_unavailable`: a disk sync failed and the store takes no writes until the server is restarted", body = ErrorBody),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let readiness = blocking(&state, |engine| engine.readiness()).await?;
    let mut body = json!({"status": "ready", "users": readiness.users});
    if let Some(leads) = readiness.leads_store_jobs {
        body["background_jobs"] = json!(if leads { "running" } else { "standby" });
    }
    if let Some(search) = readiness.search {
        body["search"] = json!({
            "applied_seq": search.applied_seq,
            "indexed_experts": search.indexed_experts,
        });
    }
    Ok(Json(body))
}
