//! What every live connection shares: finding who the caller says they are
//! (the `Authorization: Bearer` header; a socket ticket as `?ticket=`, for
//! browsers, which cannot set headers on a WebSocket; a drop-in participant
//! token as `?token=`; or for the web pages an HttpOnly cookie, accepted
//! only when the `Origin` is this site, by the same rule as the pages'
//! forms (the `Host`, or the configured public origin behind a proxy that
//! rewrites `Host`), so another site cannot open the socket in the
//! viewer's name), refusing a request
//! that is not a WebSocket upgrade with the API's error format, capping
//! message size, and the connection's pulse: a ping when it is quiet, a
//! close when it has been silent past the idle timeout, and a timeout on
//! every send so a client that stops reading is dropped. A URL ends up in
//! proxy and CDN logs and in browser history, so `?token=` is never taken
//! as a 30-day sign-in token ([`LiveCredential::QueryPass`]): only what is
//! scoped and short-lived goes in a URL.

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
use crate::pages::PageSettings;
use crate::pages::cookies::CookieName;

/// Close codes the server uses.
pub mod close {
    /// The room ended.
    pub const NORMAL: u16 = 1000;
    /// The client was silent past the idle timeout, or the server is
    /// shutting down (reason [`SHUTTING_DOWN`]): reconnect.
    pub const GOING_AWAY: u16 = 1001;
    /// The reason sent with [`GOING_AWAY`] when the server shuts down.
    pub const SHUTTING_DOWN: &str = "server shutting down";
    /// Too many frames in a row refused, over the message rate or invalid.
    pub const POLICY_VIOLATION: u16 = 1008;
    /// The client fell behind the room; reconnect with the last id seen.
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Another connection of the same party took this one's place.
    pub const REPLACED: u16 = 4000;
    /// The member's seat lapsed and went to someone else; join again.
    pub const SEAT_LOST: u16 = 4001;
    /// The credential that opened the connection no longer names its user
    /// (signed out, the session revoked, the account closed); sign in again.
    pub const SIGNED_OUT: u16 = 4002;
}

/// The longest token, pass or ticket read from a request.
const MAX_CREDENTIAL_LEN: usize = 256;

/// How the caller of a live route says who they are.
#[derive(Clone, PartialEq, Eq)]
pub enum LiveCredential {
    /// The `Authorization: Bearer` header, or a cookie of this site's own
    /// pages: a sign-in token, or a drop-in participant token.
    Token(String),
    /// `?token=`: taken only as a drop-in participant token (it opens one
    /// room); a sign-in token there is refused ([`query_token_refused`]).
    QueryPass(String),
    /// `?ticket=`: a socket ticket from `POST /v1/live/tickets`.
    Ticket(String),
}

impl LiveCredential {
    /// The token the credential carries; `None` for a ticket.
    pub fn token(&self) -> Option<&str> {
        match self {
            LiveCredential::Token(token) | LiveCredential::QueryPass(token) => Some(token.as_str()),
            LiveCredential::Ticket(_) => None,
        }
    }
}

impl std::fmt::Debug for LiveCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            LiveCredential::Token(_) => "Token(..)",
            LiveCredential::QueryPass(_) => "QueryPass(..)",
            LiveCredential::Ticket(_) => "Ticket(..)",
        })
    }
}

/// The credential of a live request, the first there is of: the bearer
/// header, `?ticket=` (`query_ticket`), `?token=` (`query_token`), and the
/// first of the `cookies` the request carries (under their names for
/// `pages`: `__Host-`/`__Secure-` behind an HTTPS public URL). A cookie counts
/// only when the request's `Origin` is this site (its `Host`, or `pages`'
/// public origin, as for the pages' forms: `csrf`): a browser always sends
/// `Origin` on a WebSocket, and a page on another site must not ride on
/// this site's cookies (`403 forbidden`). `401 unauthorized` with none.
pub fn live_credential(
    headers: &HeaderMap,
    query_token: Option<String>,
    query_ticket: Option<String>,
    cookies: &[CookieName],
    pages: &PageSettings,
) -> Result<LiveCredential, ApiError> {
    let secure = pages.secure_cookies;
    let usable = |value: &String| !value.is_empty() && value.len() <= MAX_CREDENTIAL_LEN;
    let from_header = headers
        .get(AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim().to_owned())
        .filter(usable);
    if let Some(token) = from_header {
        return Ok(LiveCredential::Token(token));
    }
    if let Some(ticket) = query_ticket.filter(usable) {
        return Ok(LiveCredential::Ticket(ticket));
    }
    if let Some(pass) = query_token.filter(usable) {
        return Ok(LiveCredential::QueryPass(pass));
    }
    let Some(token) = cookies
        .iter()
        .find_map(|cookie| crate::pages::cookies::read(headers, *cookie, secure))
        .filter(|token| !token.is_empty() && token.len() <= MAX_CREDENTIAL_LEN)
    else {
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "sign in first: send `Authorization: Bearer <token>`, or `?ticket=` from \
             `POST /v1/live/tickets` (a drop-in participant may send its token as `?token=`)",
        ));
    };
    let public_origin = pages.public_origin.as_deref();
    if crate::pages::csrf::origin_is_this_site(headers, public_origin) != Some(true) {
        return Err(ApiError::new(
            ErrorCode::Forbidden,
            "a cookie opens this socket only from this site's own pages",
        ));
    }
    Ok(LiveCredential::Token(token.to_owned()))
}

/// The refusal of a `?token=` that is no drop-in participant token of the
/// socket's room (a sign-in token, above all): `401 unauthorized`, saying
/// how to sign in instead.
pub fn query_token_refused() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthorized,
        "`?token=` takes only a drop-in participant token: a sign-in token in a URL ends up \
         in logs. Send it as `Authorization: Bearer <token>`, or open the socket with \
         `?ticket=` from `POST /v1/live/tickets`",
    )
}

/// The upgrade, with the message size capped; refused as
/// [`upgrade_refused`] says.
pub fn upgrade(
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
    limits: &LiveLimits,
) -> Result<WebSocketUpgrade, ApiError> {
    let upgrade = upgrade.map_err(|rejection| upgrade_refused(&rejection))?;
    Ok(upgrade
        .max_message_size(limits.max_frame_bytes)
        .max_frame_size(limits.max_frame_bytes))
}

/// Why an upgrade was refused: `400 invalid_input` for a WebSocket
/// handshake that is malformed (its `Sec-WebSocket-Version` is not 13, its
/// `Sec-WebSocket-Key` is missing), `426 upgrade_required` for a request
/// that is no WebSocket handshake at all (no `Connection: upgrade` and
/// `Upgrade: websocket`, or a connection that cannot be upgraded).
fn upgrade_refused(rejection: &WebSocketUpgradeRejection) -> ApiError {
    match rejection {
        WebSocketUpgradeRejection::InvalidWebSocketVersionHeader(_)
        | WebSocketUpgradeRejection::WebSocketKeyHeaderMissing(_) => ApiError::new(
            ErrorCode::InvalidInput,
            format!(
                "a malformed WebSocket handshake ({}): send `Sec-WebSocket-Version: 13` and a \
                 `Sec-WebSocket-Key`",
                rejection.body_text()
            ),
        ),
        _ => ApiError::new(
            ErrorCode::UpgradeRequired,
            "this route is a WebSocket: send an upgrade request",
        ),
    }
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
    use axum::extract::FromRequestParts;
    use axum::http::HeaderValue;

    use crate::pages::cookies::{DROPIN, SESSION};

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_static(value));
        }
        map
    }

    const COOKIES: &[CookieName] = &[DROPIN, SESSION];

    /// Pages served over plain HTTP with no public URL configured.
    fn over_http() -> PageSettings {
        PageSettings::default()
    }

    /// Pages served behind an HTTPS public URL.
    fn over_https() -> PageSettings {
        PageSettings {
            secure_cookies: true,
            ..PageSettings::default()
        }
    }

    #[test]
    fn a_cookie_is_taken_from_this_sites_origin_only() {
        let same = headers(&[
            ("host", "droply.test:8080"),
            ("origin", "https://droply.test:8080"),
            ("cookie", "droply_session=host; droply_dropin=guest"),
        ]);
        assert_eq!(
            live_credential(&same, None, None, COOKIES, &over_http()).expect("valid"),
            LiveCredential::Token("guest".into())
        );
        let foreign = headers(&[
            ("host", "droply.test"),
            ("origin", "https://evil.test"),
            ("cookie", "droply_dropin=guest"),
        ]);
        let err =
            live_credential(&foreign, None, None, COOKIES, &over_http()).expect_err("refused");
        assert_eq!(err.code().describe().0, "forbidden");
        let no_origin = headers(&[("host", "droply.test"), ("cookie", "droply_dropin=guest")]);
        assert!(live_credential(&no_origin, None, None, COOKIES, &over_http()).is_err());
    }

    /// Regression: behind a proxy that rewrites `Host`, a page's socket
    /// carries `Origin: <public origin>`, which never names the `Host`, and
    /// the cookie was refused with 403 although the page forms took it.
    #[test]
    fn behind_a_proxy_rewriting_host_a_cookie_is_taken_from_the_public_origin() {
        let pages = PageSettings::for_public_url("https://droply.example", None);
        let proxied = |origin: &'static str| {
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", origin),
                ("cookie", "__Secure-droply_dropin=guest"),
            ])
        };
        assert_eq!(
            live_credential(
                &proxied("https://droply.example"),
                None,
                None,
                COOKIES,
                &pages
            )
            .expect("valid"),
            LiveCredential::Token("guest".into())
        );
        let err = live_credential(&proxied("https://evil.test"), None, None, COOKIES, &pages)
            .expect_err("refused");
        assert_eq!(err.code().describe().0, "forbidden");
        // Without a public URL the public origin is nobody's.
        let err = live_credential(
            &proxied("https://droply.example"),
            None,
            None,
            COOKIES,
            &over_https(),
        )
        .expect_err("refused");
        assert_eq!(err.code().describe().0, "forbidden");
    }

    /// Regression: behind HTTPS the cookies kept their plain names, which a
    /// sibling subdomain or a plain-HTTP answer can plant.
    #[test]
    fn behind_https_only_the_prefixed_cookies_are_taken() {
        let plain = headers(&[
            ("host", "droply.test"),
            ("origin", "https://droply.test"),
            ("cookie", "droply_session=host; droply_dropin=guest"),
        ]);
        let err = live_credential(&plain, None, None, COOKIES, &over_https()).expect_err("refused");
        assert_eq!(err.code().describe().0, "unauthorized");
        let prefixed = headers(&[
            ("host", "droply.test"),
            ("origin", "https://droply.test"),
            (
                "cookie",
                "__Host-droply_session=host; __Secure-droply_dropin=guest",
            ),
        ]);
        assert_eq!(
            live_credential(&prefixed, None, None, COOKIES, &over_https()).expect("valid"),
            LiveCredential::Token("guest".into())
        );
    }

    #[test]
    fn a_bearer_ticket_or_query_token_needs_no_origin_and_nothing_is_unauthorized() {
        let bearer = headers(&[
            ("authorization", "Bearer abc"),
            ("origin", "https://evil.test"),
            ("cookie", "droply_dropin=guest"),
        ]);
        assert_eq!(
            live_credential(
                &bearer,
                Some("q".into()),
                Some("t".into()),
                COOKIES,
                &over_http()
            )
            .expect("valid"),
            LiveCredential::Token("abc".into())
        );
        let none = headers(&[("host", "droply.test")]);
        assert_eq!(
            live_credential(
                &none,
                Some("q".into()),
                Some("t".into()),
                COOKIES,
                &over_http()
            )
            .expect("valid"),
            LiveCredential::Ticket("t".into())
        );
        let err = live_credential(&none, None, None, COOKIES, &over_http()).expect_err("refused");
        assert_eq!(err.code().describe().0, "unauthorized");
    }

    /// What [`upgrade`] answers a request to a live route with `pairs` as
    /// its headers (a test request has no connection to upgrade).
    async fn upgrade_refusal(pairs: &[(&'static str, &'static str)]) -> (&'static str, u16) {
        let mut request = axum::http::Request::get("/v1/live");
        for (name, value) in pairs {
            request = request.header(*name, *value);
        }
        let (mut parts, ()) = request.body(()).expect("request").into_parts();
        let handshake =
            <WebSocketUpgrade as FromRequestParts<()>>::from_request_parts(&mut parts, &()).await;
        match upgrade(handshake, &LiveLimits::default()) {
            Ok(_) => panic!("a test request cannot be upgraded"),
            Err(err) => {
                let (code, _, status) = err.code().describe();
                (code, status.as_u16())
            }
        }
    }

    /// Regression: every refused upgrade was `426 upgrade_required`, also a
    /// WebSocket handshake with a wrong `Sec-WebSocket-Version` or no
    /// `Sec-WebSocket-Key`, which is a malformed request (400), not one
    /// that should be sent as an upgrade.
    #[tokio::test]
    async fn a_malformed_handshake_is_invalid_input_and_a_plain_request_upgrade_required() {
        assert_eq!(upgrade_refusal(&[]).await, ("upgrade_required", 426));
        let handshake = [
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
        ];
        let old_version = [
            handshake.as_slice(),
            [("sec-websocket-version", "8")].as_slice(),
        ]
        .concat();
        assert_eq!(upgrade_refusal(&old_version).await, ("invalid_input", 400));
        let no_key = [
            ("connection", "Upgrade"),
            ("upgrade", "websocket"),
            ("sec-websocket-version", "13"),
        ];
        assert_eq!(upgrade_refusal(&no_key).await, ("invalid_input", 400));
        // Well formed, but nothing to upgrade (as over HTTP/1.0).
        let whole = [
            handshake.as_slice(),
            [("sec-websocket-version", "13")].as_slice(),
        ]
        .concat();
        assert_eq!(upgrade_refusal(&whole).await, ("upgrade_required", 426));
    }

    /// Regression: `?token=` was taken as any token, so clients put their
    /// 30-day sign-in token in the URL, where proxies and browsers log it.
    #[test]
    fn a_query_token_is_only_ever_a_pass() {
        let same_site = headers(&[
            ("host", "droply.test"),
            ("origin", "https://droply.test"),
            ("cookie", "droply_session=host"),
        ]);
        let credential = live_credential(&same_site, Some("q".into()), None, COOKIES, &over_http())
            .expect("valid");
        assert_eq!(credential, LiveCredential::QueryPass("q".into()));
        assert_eq!(credential.token(), Some("q"));
        assert_eq!(format!("{credential:?}"), "QueryPass(..)", "never logged");
        let refusal = query_token_refused();
        assert_eq!(refusal.code().describe().0, "unauthorized");
        assert!(refusal.message().contains("Authorization: Bearer"));
        assert!(refusal.message().contains("/v1/live/tickets"));
    }
}
