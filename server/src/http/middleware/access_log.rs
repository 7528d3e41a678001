//! The middleware every request runs through: it gives the request an id
//! ([`RequestId`], echoed as `x-request-id`), handles it inside a `request`
//! span (method, route template, request id), counts and times it in the
//! [`Metrics`], and writes one access-log line when it is answered. The log
//! names the route template, never the raw path, query string, body or any
//! header such as `Authorization`.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;

use super::metrics::{Metrics, UNMATCHED_ROUTE};
use super::request_id::{REQUEST_ID_HEADER, RequestId};

/// Runs one request inside its span, then logs, counts and tags the answer.
/// Added with `Router::layer`, so it runs after routing and sees the matched
/// route (or none, for the fallback).
pub async fn observe_request(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let id = RequestId::from_headers(request.headers());
    request
        .headers_mut()
        .insert(REQUEST_ID_HEADER.clone(), id.header_value());
    request.extensions_mut().insert(id.clone());
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or(UNMATCHED_ROUTE, MatchedPath::as_str)
        .to_owned();
    let span = tracing::info_span!(
        "request",
        method = %method,
        route = %route,
        request_id = %id,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    let elapsed = started.elapsed();
    let status = response.status().as_u16();
    metrics.observe_request(&method, &route, status, elapsed);
    span.in_scope(|| {
        tracing::info!(
            method = %method,
            route = %route,
            status,
            latency_ms = elapsed.as_secs_f64() * 1000.0,
            request_id = %id,
            "request answered"
        );
    });
    response
        .headers_mut()
        .insert(REQUEST_ID_HEADER.clone(), id.header_value());
    response
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::sync::{Arc, Mutex};

    use droply_engine::{Engine, EngineConfig, Store};

    use crate::http::{AppState, router};

    /// Log output collected in memory.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().expect("log").extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn exchange(addr: std::net::SocketAddr, request: &str) -> String {
        let mut stream = std::net::TcpStream::connect(addr).expect("connect");
        stream.write_all(request.as_bytes()).expect("send");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read");
        answer
    }

    #[test]
    fn the_access_log_names_the_route_never_the_query_body_or_token() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .with_max_level(tracing::Level::INFO)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let store = Store::open_temporary().expect("store");
                let engine = Engine::over(store, EngineConfig::new("unused")).expect("engine");
                let app = router(AppState::new(engine));
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                let addr = listener.local_addr().expect("addr");
                tokio::spawn(async move { axum::serve(listener, app).await });
                let answers = tokio::task::spawn_blocking(move || {
                    let login = r#"{"email":"body-sekrit@example.com","password":"pw-sekrit"}"#;
                    [
                        exchange(
                            addr,
                            "GET /v1/experts/987654321?q=query-sekrit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: Bearer token-sekrit\r\n\r\n",
                        ),
                        exchange(
                            addr,
                            &format!(
                                "POST /v1/auth/login?next=query-sekrit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{login}",
                                login.len()
                            ),
                        ),
                        exchange(
                            addr,
                            "GET /path-sekrit HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Request-Id: trace-42\r\n\r\n",
                        ),
                    ]
                })
                .await
                .expect("client");
                assert!(answers[0].starts_with("HTTP/1.1 404"), "{}", answers[0]);
                assert!(answers[1].starts_with("HTTP/1.1 401"), "{}", answers[1]);
                assert!(answers[2].starts_with("HTTP/1.1 404"), "{}", answers[2]);
            });
        });
        let logs = String::from_utf8(captured.0.lock().expect("log").clone()).expect("utf-8");
        assert_eq!(logs.matches("request answered").count(), 3, "{logs}");
        assert!(logs.contains("route=/v1/experts/{id}"), "{logs}");
        assert!(logs.contains("route=/v1/auth/login"), "{logs}");
        assert!(logs.contains("route=unmatched"), "{logs}");
        assert!(logs.contains("status=401"), "{logs}");
        assert!(logs.contains("latency_ms="), "{logs}");
        assert!(logs.contains("request_id=trace-42"), "{logs}");
        assert!(!logs.contains("sekrit"), "{logs}");
        assert!(!logs.contains("987654321"), "{logs}");
    }
}
