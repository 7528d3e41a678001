//! `spawn_app`: the real router on a free loopback port over a fresh data
//! dir, and a minimal HTTP/1.1 client so the tests need no HTTP client crate.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use droply_engine::Store;
use droply_server::http::{AppState, router};
use serde_json::Value;

/// A running app and what it runs on.
pub struct TestApp {
    pub addr: SocketAddr,
    pub store: Store,
    pub _dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

/// Starts the API over a store in a new temporary data dir.
pub fn spawn_app() -> TestApp {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    spawn_app_on(store, dir)
}

/// Starts the API over an existing store.
pub fn spawn_app_on(store: Store, dir: tempfile::TempDir) -> TestApp {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let addr = listener.local_addr().expect("addr");
    let app = router(AppState {
        store: store.clone(),
    });
    runtime.spawn(async move {
        let listener = tokio::net::TcpListener::from_std(listener).expect("tokio listener");
        axum::serve(listener, app).await.expect("serve");
    });
    TestApp {
        addr,
        store,
        _dir: dir,
        _runtime: runtime,
    }
}

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub raw: String,
}

impl TestApp {
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None)
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Response {
        let mut stream = TcpStream::connect(self.addr).expect("connect");
        let body = body.unwrap_or("");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("read");
        let (head, rest) = raw.split_once("\r\n\r\n").expect("http response");
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let body = if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            dechunk(rest)
        } else {
            rest.to_owned()
        };
        Response {
            status,
            body: serde_json::from_str(&body).unwrap_or(Value::Null),
            raw: body,
        }
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    while let Some((size, tail)) = rest.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.push_str(&tail[..size]);
        rest = &tail[size + 2..];
    }
    out
}

/// Asserts the API's one error shape and returns its code.
pub fn error_code(response: &Response) -> String {
    let body = &response.body;
    assert!(
        body["type"].is_string() && body["message"].is_string(),
        "error shape: {}",
        response.raw
    );
    body["code"].as_str().expect("code").to_owned()
}
