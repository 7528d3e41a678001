//! What every live connection shares: finding its token (the
//! `Authorization: Bearer` header, or a `token` query parameter for
//! browsers, which cannot set headers on a WebSocket, or for the web pages
//! an HttpOnly cookie, accepted only when the `Origin` is this site so
//! another site cannot open the socket in the viewer's name), refusing a request
//! that is not a WebSocket upgrade with the API's error format, capping
//! message size, and the connection's pulse: a ping when it is quiet, a
//! close when it has been silent past the idle timeout, and a timeout on
//! every send so a client that stops reading is dropped.

use std::time::Duration;

use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use futures_util::SinkExt;
use futures_util::stream::SplitSink;
use tokio::time::{Instant, Interval, MissedTickBehavior};

use crate::http::error::{ApiError, ErrorCode};
use crate::limits::LiveLimits;

/// Close codes the server uses.
pub mod close {
    /// The room ended.
    pub const NORMAL: u16 = 1000;
    /// The client was silent past the idle timeout.
    pub const GOING_AWAY: u16 = 1001;
    /// The client fell behind the room; reconnect with the last id seen.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Another connection of the same party took this one's place.
    pub const REPLACED: u16 = 4000;
    /// The member's seat lapsed and went to someone else; join again.
    pub const SEAT_LOST: u16 = 4001;
}

/// The token of a live request: the bearer header, else `?token=`.
/// `401 unauthorized` without either.
pub fn live_token(headers: &HeaderMap, query_token: Option<String>) -> Result<String, ApiError> {
    let from_header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned());
    from_header
        .or(query_token)
        .filter(|token| !token.is_empty() && token.len() <= 256)
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Unauthorized,
                "sign in first (a bearer token or ?token=)",
            )
        })
}

/// [`live_token`], else the first of the `cookies` (by name) the request
/// carries. A cookie counts only when the request's `Origin` names this
/// site's host: a browser always sends `Origin` on a WebSocket, and a page
/// on another site must not ride on this site's cookies (`403 forbidden`).
pub fn live_token_or_cookie(
    headers: &HeaderMap,
    query_token: Option<String>,
    cookies: &[&str],
) -> Result<String, ApiError> {
    let explicit = live_token(headers, query_token);
    if explicit.is_ok() {
        return explicit;
    }
    let Some(token) = cookies
        .iter()
        .find_map(|name| crate::pages::cookies::read(headers, name))
        .filter(|token| token.len() <= 256)
    else {
        return explicit;
    };
    if crate::pages::csrf::origin_matches_host(headers) != Some(true) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a cookie opens this socket only from this site's own pages",
        ));
    }
    Ok(token.to_owned())
}

/// The upgrade, with the message size capped; `426 upgrade_required` when
/// the request is not a WebSocket handshake.
pub fn upgrade(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    limits: &LiveLimits,
) -> Result<WebSocketUpgrade, ApiError> {
    let upgrade = upgrade.map_err(|_| {
        ApiError::new(
            ErrorCode::UpgradeRequired,
            "this route is a WebSocket: send an upgrade request",
        )
    })?;
    Ok(upgrade
        .max_message_size(limits.max_frame_bytes)
        .max_frame_size(limits.max_frame_bytes))
}

/// An `error` frame for one client: `{"kind":"error","code","message"}`
/// with the API's stable codes.
pub fn error_frame(err: &ApiError) -> String {
    serde_json::json!({
        "kind": "error",
        "code": err.code().describe().0,
        "message": err.message(),
    })
    .to_string()
}

/// The sending half of a live connection, every send bounded in time.
pub struct Outbox {
    sink: SplitSink<WebSocket, Message>,
    timeout: Duration,
}

impl Outbox {
    /// Sends through `sink`, each send within `timeout`.
    pub fn new(sink: SplitSink<WebSocket, Message>, timeout: Duration) -> Self {
        Outbox { sink, timeout }
    }

    /// Sends `text`; `false` when the client is gone or too slow.
    pub async fn text(&mut self, text: impl Into<Utf8Bytes>) -> bool {
        self.send(Message::Text(text.into())).await
    }

    /// Sends a ping.
    pub async fn ping(&mut self) -> bool {
        self.send(Message::Ping(Default::default())).await
    }

    /// Closes with `code` and `reason` (best effort).
    pub async fn close(&mut self, code: u16, reason: &str) {
        let frame = CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        };
        let _ = self.send(Message::Close(Some(frame))).await;
    }

    async fn send(&mut self, message: Message) -> bool {
        matches!(
            tokio::time::timeout(self.timeout, self.sink.send(message)).await,
            Ok(Ok(()))
        )
    }
}

/// When to ping a connection and when to give up on it.
pub struct Pulse {
    ticks: Interval,
    idle_timeout: Duration,
    last_heard: Instant,
}

/// What the pulse asks for at a tick.
pub enum Beat {
    /// Ping the client.
    Ping,
    /// The client has been silent too long: close.
    Silent,
}

impl Pulse {
    /// A pulse under `limits`.
    pub fn new(limits: &LiveLimits) -> Self {
        let mut ticks = tokio::time::interval_at(
            Instant::now() + limits.ping_every,
            limits.ping_every.max(Duration::from_millis(10)),
        );
        ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
        Pulse {
            ticks,
            idle_timeout: limits.idle_timeout,
            last_heard: Instant::now(),
        }
    }

    /// The client sent something (a message, a pong).
    pub fn heard(&mut self) {
        self.last_heard = Instant::now();
    }

    /// Waits for the next tick.
    pub async fn beat(&mut self) -> Beat {
        self.ticks.tick().await;
        if self.last_heard.elapsed() >= self.idle_timeout {
            Beat::Silent
        } else {
            Beat::Ping
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const COOKIES: &[&str] = &["droply_dropin", "droply_session"];

    #[test]
    fn a_cookie_is_taken_from_this_sites_origin_only() {
        let same = headers(&[
            ("host", "droply.test:8080"),
            ("origin", "https://droply.test:8080"),
            ("cookie", "droply_session=host; droply_dropin=guest"),
        ]);
        assert_eq!(
            live_token_or_cookie(&same, None, COOKIES).expect("valid"),
            "guest"
        );
        let foreign = headers(&[
            ("host", "droply.test"),
            ("origin", "https://evil.test"),
            ("cookie", "droply_dropin=guest"),
        ]);
        let err = live_token_or_cookie(&foreign, None, COOKIES).expect_err("refused");
        assert_eq!(err.code().describe().0, "forbidden");
        let no_origin = headers(&[("host", "droply.test"), ("cookie", "droply_dropin=guest")]);
        assert!(live_token_or_cookie(&no_origin, None, COOKIES).is_err());
    }

    #[test]
    fn a_bearer_or_query_token_needs_no_origin_and_nothing_is_unauthorized() {
        let bearer = headers(&[
            ("authorization", "Bearer abc"),
            ("origin", "https://evil.test"),
            ("cookie", "droply_dropin=guest"),
        ]);
        assert_eq!(
            live_token_or_cookie(&bearer, None, COOKIES).expect("valid"),
            "abc"
        );
        let none = headers(&[("host", "droply.test")]);
        assert_eq!(
            live_token_or_cookie(&none, Some("q".into()), COOKIES).expect("valid"),
            "q"
        );
        let err = live_token_or_cookie(&none, None, COOKIES).expect_err("refused");
        assert_eq!(err.code().describe().0, "unauthorized");
    }
}
