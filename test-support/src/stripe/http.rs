//! A small blocking HTTP/1.1 client over [`std::net::TcpStream`], shared by
//! the fakes: [`LocalStripe`](super::LocalStripe)'s calls, the
//! [`StripeFake`](super::StripeFake)'s forwarding (run on tokio's blocking
//! pool) and the webhook sender. It speaks only plain `http://` to loopback
//! addresses, sends `Connection: close`, and reads a response framed by
//! `Content-Length` (what aiohttp, and so localstripe, sends), by
//! `Transfer-Encoding: chunked`, or by the end of the stream.

use std::io::{self, BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// How long a call may take to connect, and then to send or receive each
/// piece, before it fails.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(30);

/// A response as read off the wire.
#[derive(Debug)]
pub(crate) struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The headers, names lowercased, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first header named `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; a body that is not JSON comes back as a JSON string
    /// holding its text, so that assertions print it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|_| serde_json::Value::String(self.text()))
    }
}

/// `base` (ending in `/`) joined with `path` (with or without a leading `/`).
pub(crate) fn join(base: &str, path: &str) -> String {
    format!(
        "{}/{}",
        base.trim_end_matches('/'),
        path.trim_start_matches('/')
    )
}

/// Splits `http://host:port/path?query` into the authority (`host:port`) and
/// the request target (`/path?query`).
fn split_url(url: &str) -> io::Result<(&str, &str)> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("only http:// URLs are supported, not {url:?}"),
        )
    })?;
    Ok(match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    })
}

fn connect(authority: &str) -> io::Result<TcpStream> {
    let with_port = if authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| p.parse::<u16>().is_ok())
    {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let addrs: Vec<SocketAddr> = with_port.to_socket_addrs()?.collect();
    let mut last = io::Error::new(
        io::ErrorKind::NotFound,
        format!("{authority} resolves to no address"),
    );
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, TIMEOUT) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(last)
}

/// Sends one request and reads the whole response.
///
/// `headers` are sent as given, after `Host`, `Connection: close` and (for a
/// body or a method that carries one) `Content-Length`.
pub(crate) fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> io::Result<HttpResponse> {
    let (authority, target) = split_url(url)?;
    let mut stream = connect(authority)?;
    stream.set_read_timeout(Some(TIMEOUT))?;
    stream.set_write_timeout(Some(TIMEOUT))?;
    stream.set_nodelay(true)?;

    let mut head =
        format!("{method} {target} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n");
    let carries_body = !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH");
    if carries_body {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    stream.write_all(&out)?;
    stream.flush()?;

    let mut reader = BufReader::new(stream);
    loop {
        let (status, headers) = read_head(&mut reader)?;
        // Interim responses (100 Continue, ...) carry no body: skip them.
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        let mut response = HttpResponse {
            status,
            headers,
            body: Vec::new(),
        };
        if method == "HEAD" || status == 204 || status == 304 {
            return Ok(response);
        }
        response.body = read_body(&mut reader, &response)?;
        return Ok(response);
    }
}

fn bad(what: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.into())
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = Vec::new();
    let n = reader.read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "connection closed before the response was complete",
        ));
    }
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
    String::from_utf8(line).map_err(|_| bad("response head is not UTF-8"))
}

fn read_head(reader: &mut impl BufRead) -> io::Result<(u16, Vec<(String, String)>)> {
    let status_line = read_line(reader)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(bad(format!("not an HTTP/1.x status line: {status_line:?}")));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(format!("bad status line: {status_line:?}")))?;
    let mut headers = Vec::new();
    loop {
        let line = read_line(reader)?;
        if line.is_empty() {
            break;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(format!("bad header line: {line:?}")))?;
        headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
    }
    Ok((status, headers))
}

fn read_body(reader: &mut impl BufRead, response: &HttpResponse) -> io::Result<Vec<u8>> {
    let chunked = response
        .header("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    if chunked {
        let mut body = Vec::new();
        loop {
            let size_line = read_line(reader)?;
            let size_hex = size_line.split(';').next().unwrap_or_default().trim();
            let size = usize::from_str_radix(size_hex, 16)
                .map_err(|_| bad(format!("bad chunk size line: {size_line:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !read_line(reader)?.is_empty() {}
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            read_line(reader)?; // the CRLF closing the chunk
        }
    }
    if let Some(length) = response.header("content-length") {
        let length: usize = length
            .parse()
            .map_err(|_| bad(format!("bad Content-Length: {length:?}")))?;
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        return Ok(body);
    }
    let mut body = Vec::new();
    reader.read_to_end(&mut body)?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpListener;
    use std::thread;

    /// Serves one connection with `reply` (raw bytes) and returns the request
    /// it read.
    fn serve_once(reply: &'static [u8]) -> (String, thread::JoinHandle<String>) {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}/x?y=1", listener.local_addr().expect("addr"));
        let handle = thread::spawn(move || {
            let (stream, _) = listener.accept().expect("accept");
            let mut reader = BufReader::new(stream);
            let mut request = String::new();
            loop {
                let line = read_line(&mut reader).expect("line");
                if line.is_empty() {
                    break;
                }
                request.push_str(&line);
                request.push('\n');
            }
            let length = request
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map(|l| l.parse::<usize>().expect("length"))
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("body");
            request.push_str(&String::from_utf8_lossy(&body));
            reader.get_mut().write_all(reply).expect("reply");
            request
        });
        (url, handle)
    }

    #[test]
    fn reads_a_content_length_body() {
        let (url, server) =
            serve_once(b"HTTP/1.1 201 Created\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello");
        let response = request("POST", &url, &[("X-Test", "1")], b"a=b").expect("request");
        assert_eq!(response.status, 201);
        assert_eq!(response.text(), "hello");
        assert_eq!(response.header("x-a"), Some("b"));
        let seen = server.join().expect("server");
        assert!(seen.starts_with("POST /x?y=1 HTTP/1.1\n"), "{seen}");
        assert!(seen.contains("Content-Length: 3\n"), "{seen}");
        assert!(seen.contains("X-Test: 1\n"), "{seen}");
        assert!(seen.ends_with("a=b"), "{seen}");
    }

    #[test]
    fn reads_a_chunked_body_after_100_continue() {
        let (url, server) = serve_once(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4;x=y\r\ndefg\r\n0\r\n\r\n",
        );
        let response = request("GET", &url, &[], b"").expect("request");
        assert_eq!(response.status, 200);
        assert_eq!(response.text(), "abcdefg");
        let seen = server.join().expect("server");
        assert!(!seen.contains("Content-Length"), "{seen}");
    }

    #[test]
    fn reads_to_the_end_without_framing() {
        let (url, server) = serve_once(b"HTTP/1.0 404 Not Found\r\n\r\n{\"a\":1}");
        let response = request("GET", &url, &[], b"").expect("request");
        assert_eq!(response.status, 404);
        assert_eq!(response.json()["a"], 1);
        server.join().expect("server");
    }

    #[test]
    fn joins_paths() {
        assert_eq!(join("http://h:1/", "v1/x"), "http://h:1/v1/x");
        assert_eq!(join("http://h:1", "/v1/x"), "http://h:1/v1/x");
    }
}
