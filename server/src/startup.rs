//! The one place that turns an [`Engine`] into a served HTTP application:
//! `droply serve` and the API tests both come through here, so what the
//! tests exercise is what runs. The engine is opened by the caller (from the
//! command line's configuration, or a test's); this adds the state, the
//! router and the listener.

use std::future::Future;

use axum::Router;
use droply_engine::Engine;

use crate::Result;
use crate::http::{AppState, router};

/// The whole HTTP application over `engine`.
pub fn app(engine: Engine) -> Router {
    router(AppState::new(engine))
}

/// Serves `engine` on `listener` until `shutdown` completes, then lets
/// requests in flight finish.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    engine: Engine,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    serve_app(listener, app(engine), shutdown).await
}

/// Serves `app` on `listener` until `shutdown` completes (tests serve a
/// router they changed through this too).
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
