//! The HTTP API: the router, its shared state, the one error format, and one
//! module per resource. Handlers stay thin: they parse input, call the engine
//! off the async threads, and shape the answer.

mod error;
mod experts;
mod health;
mod public_profile;

use axum::Router;
use axum::routing::get;
use droply_engine::Store;

pub use error::{ApiError, ErrorCode};
pub use public_profile::PublicProfile;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The store.
    pub store: Store,
}

/// The whole API.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health::health))
        .route("/ready", get(health::ready))
        .route("/v1/experts", get(experts::list_experts))
        .route("/v1/experts/{id}", get(experts::get_expert))
        .fallback(error::not_found)
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
