//! What the Stripe fake tests share: a raw HTTP client, a webhook receiver, and an
//! onboarded Connect account.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use droply_test_support::stripe::{SECRET_KEY, StripeFake};
use serde_json::Value;

/// A response read by [`call`].
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Value,
}

impl Answer {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A blocking HTTP/1.1 call with `Connection: close` (enough for the fake,
/// which answers with a Content-Length).
pub(crate) fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let rest = base.strip_prefix("http://").expect("http base URL");
    let authority = rest.trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut request = format!(
        "{method} /{} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\nContent-Length: {}\r\n",
        path.trim_start_matches('/'),
        body.len()
    );
    if !body.is_empty() {
        request.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).expect("write");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8(raw).expect("utf-8 response");
    let (head, body) = text.split_once("\r\n\r\n").expect("response head");
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("status line");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    assert!(
        !headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")),
        "the test client does not de-chunk"
    );
    let body = serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned()));
    Answer {
        status,
        headers,
        body,
    }
}

pub(crate) const AUTH: (&str, &str) = ("Authorization", "Bearer sk_test_droply_localstripe");

/// An authenticated form POST, with an idempotency key if given.
pub(crate) fn post_form(base: &str, path: &str, body: &str, key: Option<&str>) -> Answer {
    let mut headers = vec![AUTH];
    if let Some(key) = key {
        headers.push(("Idempotency-Key", key));
    }
    call(base, "POST", path, &headers, body)
}

pub(crate) fn get(base: &str, path: &str) -> Answer {
    call(base, "GET", path, &[AUTH], "")
}

/// Sends a transfer creation on a raw connection without reading the
/// answer (a client that may die while it is held); the connection.
pub(crate) fn open_transfer(base: &str, body: &str, key: &str) -> TcpStream {
    let authority = base.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = TcpStream::connect(authority).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    write!(
        stream,
        "POST /v1/transfers HTTP/1.1\r\nHost: {authority}\r\nAuthorization: Bearer {SECRET_KEY}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nIdempotency-Key: {key}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .expect("write");
    stream
}

/// A webhook receiver: an axum server on its own runtime that records each
/// POST to `/hook` (headers and raw body) and answers `status`.
pub(crate) struct Receiver {
    pub(crate) url: String,
    pub(crate) received: mpsc::Receiver<(HeaderMap, Bytes)>,
    pub(crate) _runtime: tokio::runtime::Runtime,
}

impl Receiver {
    pub(crate) fn start(status: StatusCode) -> Receiver {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let (sender, received) = mpsc::channel();
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(listener).expect("tokio listener")
        };
        let app = Router::new()
            .route(
                "/hook",
                post(
                    move |State(sender): State<mpsc::Sender<(HeaderMap, Bytes)>>,
                          headers: HeaderMap,
                          body: Bytes| async move {
                        let _ = sender.send((headers, body));
                        (status, "received")
                    },
                ),
            )
            .with_state(sender);
        runtime.spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            received,
            _runtime: runtime,
        }
    }

    /// The next delivery, waiting at most `timeout`.
    pub(crate) fn next(&self, timeout: Duration) -> Option<(HeaderMap, Bytes)> {
        self.received.recv_timeout(timeout).ok()
    }
}

/// Creates an account through the fake and activates it; its id.
pub(crate) fn active_account(fake: &StripeFake) -> String {
    let created = post_form(&fake.base_url(), "v1/accounts", "type=express", None);
    assert_eq!(created.status, 200, "{:?}", created.body);
    let id = created.body["id"].as_str().expect("account id").to_owned();
    fake.activate(&id);
    id
}

// ------------------------------------------------------------ localstripe
