//! The tests' HTTP/1.1 client, so they need no HTTP client crate: requests
//! to a [`TestApp`] (signed in or not, from another loopback address, with
//! extra headers), each answer kept in the app's `seen` log for the leak
//! scan, and answers parsed into a [`Response`] (chunked bodies joined).

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};

use serde_json::Value;

use crate::app::TestApp;

/// A response: status and JSON body (`Value::Null` when the body is not JSON).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Value,
    pub raw: String,
    pub head: String,
}

impl Response {
    /// The value of header `name` (case-insensitive), if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.head, name)
    }
}

/// The value of header `name` (case-insensitive) in an answer's `head`.
pub fn header_in<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().skip(1).find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim()
            .eq_ignore_ascii_case(name)
            .then_some(value.trim())
    })
}

impl TestApp {
    pub fn get(&self, path: &str) -> Response {
        self.request("GET", path, None)
    }

    pub fn request(&self, method: &str, path: &str, body: Option<&str>) -> Response {
        self.send(method, path, body, None, &[])
    }

    /// A request signed in with `token`.
    pub fn authed(&self, method: &str, path: &str, token: &str, body: Option<&str>) -> Response {
        self.send(method, path, body, Some(token), &[])
    }

    /// A request with optional token and extra headers; every answer is kept in `seen`.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        self.send_from(None, method, path, body, token, headers)
    }

    /// [`TestApp::send`] from the loopback address `from` (e.g. 127.0.0.2,
    /// standing for another client) when given.
    pub fn send_from(
        &self,
        from: Option<IpAddr>,
        method: &str,
        path: &str,
        body: Option<&str>,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> Response {
        let mut extra = String::new();
        if let Some(token) = token {
            extra.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        if !headers
            .iter()
            .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        {
            extra.push_str("Content-Type: application/json\r\n");
        }
        for (name, value) in headers {
            extra.push_str(&format!("{name}: {value}\r\n"));
        }
        let response = self.exchange(from, method, path, body.unwrap_or(""), &extra);
        self.seen.lock().expect("log").push((
            token.map(str::to_owned),
            path.to_owned(),
            response.raw.clone(),
        ));
        response
    }

    /// A new connection to the app, from `from` when given.
    pub fn connect(&self, from: Option<IpAddr>) -> TcpStream {
        let Some(from) = from else {
            return TcpStream::connect(self.addr).expect("connect");
        };
        let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)
            .expect("socket");
        socket
            .bind(&SocketAddr::new(from, 0).into())
            .expect("bind the client address");
        socket.connect(&self.addr.into()).expect("connect");
        socket.into()
    }

    fn exchange(
        &self,
        from: Option<IpAddr>,
        method: &str,
        path: &str,
        body: &str,
        extra: &str,
    ) -> Response {
        let mut stream = self.connect(from);
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n{extra}Content-Length: {}\r\n\r\n{body}",
            self.addr,
            body.len()
        );
        // The server may answer (e.g. 413) before reading a large body.
        let _ = stream.write_all(request.as_bytes());
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).expect("read");
        // A file's bytes need not be UTF-8; `fetch` reads those exactly.
        parse_response(&String::from_utf8_lossy(&raw))
    }
}

/// Parses a whole HTTP/1.1 answer.
pub fn parse_response(raw: &str) -> Response {
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
        head: head.to_owned(),
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
