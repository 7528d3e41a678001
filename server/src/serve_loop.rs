//! The accept loop: serves a router over HTTP/1.1 on a TCP listener with
//! hyper, under the connection limits. Each accepted connection takes a slot
//! of the [`ConnectionSlots`] cap (or is closed at once), gets hyper's header
//! read timeout (a connection that does not finish its request headers in
//! time, also between requests on a kept-alive connection, is closed), and
//! hands every request its peer address as axum's `ConnectInfo<SocketAddr>`
//! (what the rate limits key on; forwarded headers are not trusted). A
//! request counts as busy on its connection's slot until its response body
//! is sent in full or dropped, so the cap never closes a connection that is
//! still sending a download, unless its client stopped reading (no frame
//! taken for [`crate::connection_slots::STALLED_SEND_LIMIT`]).
//! [`bind`] makes a listener with a deep accept queue. A request may upgrade
//! its connection (the live WebSocket routes): the upgraded connection then
//! leaves the slot cap and counts against the live limits instead, and runs
//! in a task of its own, which holds a place in [`UpgradedConnections`].
//! When the shutdown future completes the loop stops accepting, tells the
//! upgraded connections to close (each sends its close frame, 1001, and
//! cleans up), lets requests in flight finish, waits for both, and closes
//! what is still open after the grace period.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::Request;
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1::{Builder as Http1Builder, UpgradeableConnection};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_util::sync::{CancellationToken, WaitForCancellationFuture};
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;
use tower::ServiceExt;

use crate::busy_body::BusyBody;
use crate::connection_slots::{ConnectionSlots, SlotHandle};

/// The largest buffer a connection reads a request into; request headers
/// larger than this are refused by hyper (431).
pub const MAX_READ_BUFFER_BYTES: usize = 64 * 1024;

/// Connections the kernel may hold completed but not yet accepted (capped by
/// `net.core.somaxconn`). Larger than tokio's 1,024, so that a burst of
/// connections, e.g. a flood the cap then sorts out, does not overflow the
/// queue and leave other clients' connection attempts to be retried a
/// second later.
pub const LISTEN_BACKLOG: u32 = 4096;

/// A listener on `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, so a
/// restart need not wait for old connections to time out).
pub fn bind(addr: SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// How a connection is served.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionSettings {
    /// See [`crate::limits::Limits::header_read_timeout`].
    pub header_read_timeout: Duration,
    /// How long shutdown waits for open connections before closing them.
    pub shutdown_grace: Duration,
}

/// The connections upgraded off the loop (the live WebSockets). Once
/// upgraded, a connection leaves hyper's and runs in a task of its own,
/// which neither the loop's tracker nor its stop flag reaches: so each
/// holds a place here ([`hold`](Self::hold), taken before the upgrade, let
/// go when it ends) and watches [`stopping`](Self::stopping). When
/// shutdown begins the loop tells them to close and waits for them within
/// the grace period, so each sends its close frame (1001, going away) and
/// runs its cleanup before the runtime stops.
#[derive(Debug, Clone, Default)]
pub struct UpgradedConnections {
    stopping: CancellationToken,
    open: TaskTracker,
}

impl UpgradedConnections {
    /// None yet, shutdown not begun.
    pub fn new() -> Self {
        UpgradedConnections::default()
    }

    /// A place for one connection: shutdown waits (within the grace
    /// period) until it is dropped.
    pub fn hold(&self) -> TaskTrackerToken {
        self.open.token()
    }

    /// Resolves once shutdown has begun (at once if it has): the
    /// connection should close with 1001 and end.
    pub fn stopping(&self) -> WaitForCancellationFuture<'_> {
        self.stopping.cancelled()
    }

    /// Begins shutdown: every connection is told to close.
    fn stop(&self) {
        self.stopping.cancel();
        self.open.close();
    }

    /// Resolves once shutdown has begun and no place is held.
    async fn closed(&self) {
        self.open.wait().await;
    }
}

/// Serves `app` on `listener` until `shutdown` completes, each connection
/// under a slot of `slots`; then tells the connections in `upgraded` to
/// close and lets the requests in flight finish, waiting for both for at
/// most the grace period.
pub async fn serve_connections(
    listener: TcpListener,
    app: Router,
    slots: Arc<ConnectionSlots>,
    settings: ConnectionSettings,
    upgraded: UpgradedConnections,
    shutdown: impl Future<Output = ()> + Send + 'static,
) {
    let mut http = Http1Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(settings.header_read_timeout)
        .max_buf_size(MAX_READ_BUFFER_BYTES);
    // hyper-util's `GracefulShutdown` cannot watch an upgradeable
    // connection, so shutdown is a flag every connection task watches.
    let (stopping, stop) = watch::channel(false);
    let connections = TaskTracker::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(err) => {
                    wait_after_accept_error(&err).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let Some(lease) = slots.admit() else {
            tracing::debug!(%peer, "connection refused: every connection is busy");
            continue;
        };
        let _ = stream.set_nodelay(true);
        let connection = serve_one(&http, stream, peer, app.clone(), lease.handle());
        let mut stop = stop.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            let served = tokio::select! {
                biased;
                () = lease.evicted() => {
                    tracing::debug!(%peer, "idle or stalled connection closed to make room");
                    Ok(())
                }
                served = &mut connection => served,
                () = stopped(&mut stop) => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(err) = served {
                tracing::debug!(%peer, error = %err, "connection ended with an error");
            }
            drop(lease);
        });
    }
    drop(listener);
    upgraded.stop();
    let _ = stopping.send(true);
    connections.close();
    let everything = async {
        tokio::join!(connections.wait(), upgraded.closed());
    };
    if tokio::time::timeout(settings.shutdown_grace, everything)
        .await
        .is_err()
    {
        tracing::warn!("connections still open after the shutdown grace period; closing them");
    }
}

/// Resolves once the loop is shutting down (or its flag is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await.map(|_| ());
}

/// The hyper connection serving `app` on `stream` from `peer`, which a
/// request may upgrade (to a WebSocket).
fn serve_one(
    http: &Http1Builder,
    stream: TcpStream,
    peer: SocketAddr,
    app: Router,
    slot: SlotHandle,
) -> UpgradeableConnection<TokioIo<TcpStream>, ConnectionService> {
    http.serve_connection(TokioIo::new(stream), ConnectionService { app, peer, slot })
        .with_upgrades()
}

/// The router as one connection's hyper service: every request gets the
/// peer address and counts as busy on the connection's slot until its
/// response body is sent (see [`answer`]).
#[derive(Debug, Clone)]
struct ConnectionService {
    app: Router,
    peer: SocketAddr,
    slot: SlotHandle,
}

impl hyper::service::Service<Request<Incoming>> for ConnectionService {
    type Response = Response<BusyBody>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<BusyBody>, Infallible>> + Send>>;

    fn call(&self, mut request: Request<Incoming>) -> Self::Future {
        request.extensions_mut().insert(ConnectInfo(self.peer));
        Box::pin(answer(self.app.clone(), &self.slot, request.map(Body::new)))
    }
}

/// `app`'s answer to `request`, counting as busy on `slot` from now until
/// the response body has been sent in full or dropped, not only until the
/// handler returns: a download still sending is not an idle connection the
/// cap may close.
fn answer(
    app: Router,
    slot: &SlotHandle,
    request: Request<Body>,
) -> impl Future<Output = Result<Response<BusyBody>, Infallible>> + Send + use<> {
    let busy = slot.busy();
    let handled = app.oneshot(request);
    async move {
        handled
            .await
            .map(|response| response.map(|body| BusyBody::new(body, busy)))
    }
}

/// Accept errors: a connection that failed before it was accepted is
/// skipped; anything else (e.g. out of file descriptors) is logged and
/// retried after a short pause, so the loop does not spin.
async fn wait_after_accept_error(err: &std::io::Error) {
    use std::io::ErrorKind;
    if matches!(
        err.kind(),
        ErrorKind::ConnectionRefused | ErrorKind::ConnectionAborted | ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(error = %err, "accept failed; retrying shortly");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use axum::body::HttpBody;
    use axum::routing::get;

    use super::*;

    /// A router whose `/download` answers with a body streamed in two chunks.
    fn download_app() -> Router {
        Router::new().route(
            "/download",
            get(|| async {
                Body::from_stream(futures_util::stream::iter([
                    Ok::<_, Infallible>("first "),
                    Ok("second"),
                ]))
            }),
        )
    }

    #[tokio::test]
    async fn a_download_still_sending_is_not_closed_as_the_idlest_connection() {
        let slots = ConnectionSlots::new(2);
        let downloading = slots.admit().expect("first connection");
        let request = Request::get("/download")
            .body(Body::empty())
            .expect("request");
        let response = answer(download_app(), &downloading.handle(), request)
            .await
            .unwrap_or_else(|never| match never {});
        // The handler has returned; the body is not sent yet.
        tokio::time::sleep(Duration::from_millis(2)).await;
        let idle = slots.admit().expect("second connection");
        let newcomer = slots.admit().expect("third connection");
        assert!(idle.told_to_close().await, "the idle connection makes room");
        assert!(!downloading.told_to_close().await, "the download goes on");

        // Once the body is sent in full the connection is idle again.
        let _newcomer_busy = newcomer.handle().busy();
        assert!(slots.admit().is_none(), "both connections are busy");
        let mut body = response.into_body();
        let mut sent = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            if let Ok(data) = frame.expect("a frame").into_data() {
                sent.extend_from_slice(&data);
            }
        }
        assert_eq!(sent, b"first second");
        assert!(slots.admit().is_some(), "the finished download makes room");
        assert!(downloading.told_to_close().await);
    }
}
