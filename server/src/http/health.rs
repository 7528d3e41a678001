//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{AppState, blocking};
use crate::http::ApiError;

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

/// `GET /ready`: the store is open and readable.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    summary = "Readiness probe",
    responses((status = 200, description = "The store is open and readable: `{\"status\": \"ready\", \"users\": N}`", body = Object))
)]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let experts = blocking(move || Ok(store.users().count())).await?;
    Ok(Json(json!({"status": "ready", "users": experts})))
}
