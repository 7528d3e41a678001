//! Bytes over HTTP for the content tests: uploads of raw (binary) bodies,
//! with or without a `Content-Length` (chunked), and downloads read as
//! bytes. JSON answers are kept in the app's `seen` log like every other
//! answer, so the leak scan covers them.

use std::io::{Read, Write};

use serde_json::Value;

use crate::app::{TestApp, header_in};

/// An answer read as bytes.
#[derive(Debug)]
pub struct BinaryResponse {
    pub status: u16,
    pub head: String,
    pub body: Vec<u8>,
}

impl BinaryResponse {
    /// The value of header `name` (case-insensitive), if the answer has it.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_in(&self.head, name)
    }

    /// The body as JSON (`Null` when it is not).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    /// The error code of an error answer.
    pub fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// How an upload's body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `Content-Length` announced.
    Length,
    /// `Transfer-Encoding: chunked`, no length known up front.
    Chunked,
}

impl TestApp {
    /// `PUT path` with `body` as raw bytes, signed in with `token`.
    pub fn upload(&self, path: &str, token: &str, body: &[u8], framing: Framing) -> BinaryResponse {
        let mut stream = self.connect(None);
        let framing_header = match framing {
            Framing::Length => format!("Content-Length: {}\r\n", body.len()),
            Framing::Chunked => "Transfer-Encoding: chunked\r\n".to_owned(),
        };
        let head = format!(
            "PUT {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Type: application/pdf\r\n{framing_header}\r\n",
            self.addr
        );
        let mut request = head.into_bytes();
        match framing {
            Framing::Length => request.extend_from_slice(body),
            Framing::Chunked => {
                for chunk in body.chunks(64 * 1024) {
                    request.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
                    request.extend_from_slice(chunk);
                    request.extend_from_slice(b"\r\n");
                }
                request.extend_from_slice(b"0\r\n\r\n");
            }
        }
        // The server may answer (413, 415) before it read the whole body.
        let _ = stream.write_all(&request);
        self.read_answer(stream, Some(token), path)
    }

    /// `GET path` read as bytes, with an optional token and extra headers.
    pub fn fetch(
        &self,
        path: &str,
        token: Option<&str>,
        headers: &[(&str, &str)],
    ) -> BinaryResponse {
        let mut stream = self.connect(None);
        let mut request = format!(
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if let Some(token) = token {
            request.push_str(&format!("Authorization: Bearer {token}\r\n"));
        }
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        stream.write_all(request.as_bytes()).expect("send");
        self.read_answer(stream, token, path)
    }

    fn read_answer(
        &self,
        mut stream: std::net::TcpStream,
        token: Option<&str>,
        path: &str,
    ) -> BinaryResponse {
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw);
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("an HTTP answer");
        let head = String::from_utf8_lossy(&raw[..split]).into_owned();
        let mut body = raw[split + 4..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        let status = head
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .expect("status");
        let answer = BinaryResponse { status, head, body };
        let is_json = answer
            .header("content-type")
            .is_some_and(|t| t.starts_with("application/json"));
        if is_json {
            self.seen.lock().expect("log").push((
                token.map(str::to_owned),
                path.to_owned(),
                String::from_utf8_lossy(&answer.body).into_owned(),
            ));
        }
        answer
    }
}

fn dechunk(mut rest: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = rest.windows(2).position(|w| w == b"\r\n") {
        let size = std::str::from_utf8(&rest[..end])
            .ok()
            .and_then(|s| usize::from_str_radix(s.trim(), 16).ok())
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = end + 2;
        out.extend_from_slice(&rest[start..start + size]);
        rest = &rest[start + size + 2..];
    }
    out
}
