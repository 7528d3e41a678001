//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::{AppState, blocking};
use crate::http::ApiError;

/// `GET /health`: the process answers.
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: the store is open and readable.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = state.store.clone();
    let experts = blocking(move || Ok(store.users().count())).await?;
    Ok(Json(json!({"status": "ready", "users": experts})))
}
