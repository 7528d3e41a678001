//! A WebSocket client for the live routes (tokio-tungstenite): connect with
//! a bearer header or a `?token=`, send JSON, read JSON frames with a
//! timeout (answering pings as any client does), and see how the server
//! closed. A refused upgrade comes back as its status and error code.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async};

/// How long a test waits for one frame.
pub const FRAME_WAIT: Duration = Duration::from_secs(20);

/// One live connection.
pub struct LiveClient {
    ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// How a frame read ended when it was not a JSON frame.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// The server closed with this code.
    Closed(Option<u16>),
    /// The connection dropped without a close frame.
    Dropped,
    /// Nothing came in time.
    TimedOut,
}

/// Connects to `path` (with its query) on `addr`, sending `bearer` as
/// `Authorization` when given. `Err((status, code))` when the upgrade is refused.
pub async fn connect(
    addr: SocketAddr,
    path: &str,
    bearer: Option<&str>,
) -> Result<LiveClient, (u16, String)> {
    let mut request = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    if let Some(token) = bearer {
        request.headers_mut().insert(
            "Authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    match connect_async(request).await {
        Ok((ws, _)) => Ok(LiveClient { ws }),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let status = response.status().as_u16();
            let body: Value = response
                .body()
                .as_deref()
                .and_then(|b| serde_json::from_slice(b).ok())
                .unwrap_or(Value::Null);
            Err((status, body["code"].as_str().unwrap_or("").to_owned()))
        }
        Err(err) => panic!("connect {path}: {err}"),
    }
}

/// Connects like [`connect`], over a socket whose receive buffer is a few
/// kilobytes: a client that stops reading is soon behind.
pub async fn connect_small_buffer(addr: SocketAddr, path: &str, bearer: &str) -> LiveClient {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    socket.set_recv_buffer_size(4096).expect("SO_RCVBUF");
    socket.connect(&addr.into()).expect("connect");
    socket.set_nonblocking(true).expect("nonblocking");
    let stream = TcpStream::from_std(socket.into()).expect("tokio stream");
    let mut request = format!("ws://{addr}{path}")
        .into_client_request()
        .expect("request");
    request.headers_mut().insert(
        "Authorization",
        format!("Bearer {bearer}").parse().expect("header"),
    );
    let (ws, _) = tokio_tungstenite::client_async(request, MaybeTlsStream::Plain(stream))
        .await
        .expect("upgrade");
    LiveClient { ws }
}

impl LiveClient {
    /// Sends `value` as a text frame.
    pub async fn send(&mut self, value: &Value) {
        self.ws
            .send(Message::Text(value.to_string().into()))
            .await
            .expect("send");
    }

    /// Sends raw text.
    pub async fn send_text(&mut self, text: String) -> bool {
        self.ws.send(Message::Text(text.into())).await.is_ok()
    }

    /// Sends a binary frame; `false` when the connection is gone.
    pub async fn send_binary(&mut self, bytes: Vec<u8>) -> bool {
        self.ws.send(Message::Binary(bytes.into())).await.is_ok()
    }

    /// The next JSON frame, or how the connection ended.
    pub async fn next(&mut self) -> Result<Value, Ended> {
        self.next_within(FRAME_WAIT).await
    }

    /// The next JSON frame within `wait`.
    pub async fn next_within(&mut self, wait: Duration) -> Result<Value, Ended> {
        loop {
            let frame = match tokio::time::timeout(wait, self.ws.next()).await {
                Err(_) => return Err(Ended::TimedOut),
                Ok(None) | Ok(Some(Err(_))) => return Err(Ended::Dropped),
                Ok(Some(Ok(frame))) => frame,
            };
            match frame {
                Message::Text(text) => {
                    return Ok(serde_json::from_str(text.as_str()).expect("json frame"));
                }
                Message::Close(close) => {
                    return Err(Ended::Closed(close.map(|c| u16::from(c.code))));
                }
                _ => {}
            }
        }
    }

    /// The next frame of `kind` (`message`, `error`, `welcome`), skipping others.
    pub async fn next_kind(&mut self, kind: &str) -> Value {
        loop {
            let frame = self.next().await.expect("a frame");
            if frame["kind"] == kind {
                return frame;
            }
        }
    }

    /// Closes the connection.
    pub async fn close(mut self) {
        let _ = self
            .ws
            .close(Some(tokio_tungstenite::tungstenite::protocol::CloseFrame {
                code: CloseCode::Normal,
                reason: "bye".into(),
            }))
            .await;
    }
}

/// A runtime for a test's live clients.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}
