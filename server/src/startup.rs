//! The one place that turns an [`Engine`] into a served HTTP application:
//! `droply serve` and the API tests both come through here, so what the
//! tests exercise is what runs. The engine is opened by the caller (from the
//! command line's configuration, or a test's); this adds the state, the
//! router and the accept loop, all under one set of [`Limits`].

use std::future::Future;
use std::time::Duration;

use axum::Router;
use droply_engine::Engine;

use crate::Result;
use crate::connection_slots::ConnectionSlots;
use crate::http::{AppState, router};
use crate::limits::Limits;
use crate::pages::PageSettings;
use crate::serve_loop::{ConnectionSettings, UpgradedConnections, serve_connections};

/// The whole HTTP application over `engine`, under `limits`' request and
/// rate limits.
pub fn app(engine: Engine, limits: &Limits) -> Router {
    router(AppState::with_limits(engine, limits))
}

/// Serves `engine` (and its pages, under `pages`) on `listener` under `limits` until `shutdown` completes,
/// then closes the live connections (1001) and lets requests in flight
/// finish. `/metrics` also reports the connections.
pub async fn serve_until(
    listener: tokio::net::TcpListener,
    engine: Engine,
    limits: &Limits,
    pages: PageSettings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let state = AppState::with_limits(engine, limits).with_pages(pages);
    let slots = ConnectionSlots::new(limits.max_connections);
    crate::http::register_connection_gauges(&state.metrics, &slots);
    let upgraded = state.live.upgraded().clone();
    serve_connections(
        listener,
        router(state),
        slots,
        connection_settings(limits),
        upgraded,
        shutdown,
    )
    .await;
    Ok(())
}

/// Serves `app` on `listener` under `limits`' connection limits until
/// `shutdown` completes (tests serve a router they changed through this too).
/// The loop does not know `app`'s state: its live connections are not told
/// to close at shutdown (use [`serve_until`] for that).
pub async fn serve_app(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let slots = ConnectionSlots::new(limits.max_connections);
    serve_connections(
        listener,
        app,
        slots,
        connection_settings(limits),
        UpgradedConnections::new(),
        shutdown,
    )
    .await;
    Ok(())
}

/// The header read timeout, and a shutdown grace long enough for any
/// request still within its time limit.
fn connection_settings(limits: &Limits) -> ConnectionSettings {
    ConnectionSettings {
        header_read_timeout: limits.header_read_timeout,
        shutdown_grace: limits.request_timeout.max(limits.header_read_timeout)
            + Duration::from_secs(1),
    }
}
