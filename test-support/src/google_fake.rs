//! An in-process fake of Google's OAuth and Calendar endpoints, served by
//! axum on `127.0.0.1:<random port>` from its own tokio runtime, for the
//! real client to talk to through its configured URLs: the consent step is
//! simulated by [`GoogleFake::authorize`] (which records the PKCE challenge
//! and hands out a code), the token endpoint checks the client, the code
//! and the PKCE verifier against the challenge (S256) and answers refresh
//! grants, the revocation endpoint forgets tokens, FreeBusy answers the
//! busy intervals set by the test, and events can be created, patched and
//! deleted. Access tokens are checked on every API call (401 otherwise),
//! expire after a configurable time, and a switch makes the next refresh
//! answer `invalid_grant`, another makes refreshes rotate the refresh
//! token, another makes the next API calls answer 503 (or 401),
//! and another the next revocations (as when Google is down at a
//! disconnect); the next refresh, or the next FreeBusy answer, can be held
//! until released. Every request is logged by kind. The OAuth endpoints
//! live here; the Calendar API's, in `calendar_api`.

mod calendar_api;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, post};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use self::calendar_api::{create_event, delete_event, free_busy, get_event, patch_event};
use crate::loopback::Loopback;

/// The client id the fake accepts.
pub const CLIENT_ID: &str = "droply-test.apps.googleusercontent.com";
/// The client secret the fake accepts.
pub const CLIENT_SECRET: &str = "GOCSPX-droply-test-secret";

/// One event in the fake calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FakeEvent {
    /// Its id.
    pub id: String,
    /// Its title.
    pub summary: String,
    /// `start.dateTime`.
    pub start: String,
    /// `end.dateTime`.
    pub end: String,
    /// `transparency: transparent`: shown free, so not in free/busy
    /// answers (Google's default, `opaque`, is busy).
    pub transparent: bool,
    /// Its private extended property `droply`, if set.
    pub owner: Option<String>,
}

/// What the fake remembers.
#[derive(Debug, Default)]
struct Inner {
    /// code -> (S256 challenge, used).
    codes: HashMap<String, (String, bool)>,
    /// Valid access tokens.
    access: Vec<String>,
    /// Valid refresh tokens.
    refresh: Vec<String>,
    /// Seconds new access tokens are valid for.
    expires_in: i64,
    /// The next refresh answers `invalid_grant`.
    fail_next_refresh: bool,
    /// Refreshes answer a new refresh token and forget the one used.
    rotate_refresh_tokens: bool,
    /// The busy intervals FreeBusy answers (RFC 3339 start, end).
    busy: Vec<(String, String)>,
    /// Events by id.
    events: HashMap<String, FakeEvent>,
    /// Every request: (kind, detail).
    log: Vec<(String, String)>,
    /// Counter for new tokens, codes and event ids.
    counter: u64,
    /// Tokens revoked.
    revoked: Vec<String>,
    /// How many Calendar API calls still answer 503.
    failing_api_calls: u32,
    /// How many Calendar API calls still answer 401, whatever their token.
    refused_api_calls: u32,
    /// How many revocations still answer 503 (revoking nothing).
    failing_revokes: u32,
    /// How many event creations are still made and then answered 503 (as
    /// when Google's answer is lost on the way).
    lost_creates: u32,
    /// The next refresh waits for this before it is answered.
    refresh_hold: Option<tokio::sync::oneshot::Receiver<()>>,
    /// The next FreeBusy answer waits for this before it is sent.
    free_busy_hold: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl Inner {
    fn next(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!("{prefix}{}", self.counter)
    }
}

/// The running fake; dropped, it stops.
pub struct GoogleFake {
    base_url: String,
    inner: Arc<Mutex<Inner>>,
    _server: Loopback,
}

impl std::fmt::Debug for GoogleFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GoogleFake")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn lock(inner: &Mutex<Inner>) -> MutexGuard<'_, Inner> {
    inner.lock().unwrap_or_else(PoisonError::into_inner)
}

/// URL-safe base64 without padding, written here on its own so that the
/// fake checks the engine's PKCE independently.
fn b64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut bits = 0u32;
    let mut n = 0u32;
    let mut out = String::new();
    for &b in bytes {
        n = (n << 8) | u32::from(b);
        bits += 8;
        while bits >= 6 {
            bits -= 6;
            out.push(char::from(A[((n >> bits) & 63) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(A[((n << (6 - bits)) & 63) as usize]));
    }
    out
}

impl GoogleFake {
    /// Starts the fake on a free loopback port.
    ///
    /// # Panics
    /// When the runtime or the listener cannot be set up.
    pub fn start() -> GoogleFake {
        let inner = Arc::new(Mutex::new(Inner {
            expires_in: 3600,
            ..Inner::default()
        }));
        let app = Router::new()
            .route("/token", post(token))
            .route("/revoke", post(revoke))
            .route("/calendar/v3/freeBusy", post(free_busy))
            .route("/calendar/v3/calendars/primary/events", post(create_event))
            .route(
                "/calendar/v3/calendars/primary/events/{id}",
                delete(delete_event)
                    .get(get_event)
                    .patch(patch_event)
                    .put(patch_event),
            )
            .with_state(Arc::clone(&inner));
        let server = Loopback::serve("GoogleFake", "google-fake", app);
        GoogleFake {
            base_url: format!("http://127.0.0.1:{}", server.port()),
            inner,
            _server: server,
        }
    }

    /// The API base (`--google-api-base`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The consent page (`--google-auth-url`); never fetched, read by
    /// [`GoogleFake::authorize`].
    pub fn auth_url(&self) -> String {
        format!("{}/auth", self.base_url)
    }

    /// The token endpoint (`--google-token-url`).
    pub fn token_url(&self) -> String {
        format!("{}/token", self.base_url)
    }

    /// The revocation endpoint (`--google-revoke-url`).
    pub fn revoke_url(&self) -> String {
        format!("{}/revoke", self.base_url)
    }

    /// What the user's consent does: reads the consent URL's
    /// `code_challenge` (S256 only) and answers the code Google would
    /// redirect back with, and the URL's `state`.
    ///
    /// # Panics
    /// When the URL lacks the PKCE parameters or the state.
    pub fn authorize(&self, consent_url: &str) -> (String, String) {
        let query = consent_url.split_once('?').map_or("", |(_, q)| q);
        let params: HashMap<String, String> = form_urlencoded::parse(query.as_bytes())
            .into_owned()
            .collect();
        assert_eq!(
            params.get("code_challenge_method").map(String::as_str),
            Some("S256")
        );
        assert_eq!(params.get("client_id").map(String::as_str), Some(CLIENT_ID));
        let challenge = params
            .get("code_challenge")
            .expect("code_challenge")
            .clone();
        let state = params.get("state").expect("state").clone();
        let mut inner = lock(&self.inner);
        let code = inner.next("4/fake-code-");
        inner.codes.insert(code.clone(), (challenge, false));
        (code, state)
    }

    /// New access tokens are valid for `secs` seconds.
    pub fn set_expires_in(&self, secs: i64) {
        lock(&self.inner).expires_in = secs;
    }

    /// The next refresh grant answers `invalid_grant`.
    pub fn fail_next_refresh(&self) {
        lock(&self.inner).fail_next_refresh = true;
    }

    /// Refresh grants answer a new refresh token beside the access token,
    /// and the one they were asked with stops working (Google's refresh
    /// token rotation).
    pub fn rotate_refresh_tokens(&self) {
        lock(&self.inner).rotate_refresh_tokens = true;
    }

    /// The next `n` Calendar API calls answer 401 (as when Google no longer
    /// takes an access token before it was due to expire), each logged as
    /// `refused`.
    pub fn refuse_next_api_calls(&self, n: u32) {
        lock(&self.inner).refused_api_calls = n;
    }

    /// The next refresh grant waits, logged as `refresh-held`, until the returned sender
    /// sends or is dropped (for tests of what changes while a refresh is under way).
    pub fn hold_next_refresh(&self) -> tokio::sync::oneshot::Sender<()> {
        let (release, hold) = tokio::sync::oneshot::channel();
        lock(&self.inner).refresh_hold = Some(hold);
        release
    }

    /// The next FreeBusy call is answered as things stand when it arrives
    /// (its token checked, the busy times read then), logged as
    /// `freebusy-held`, but the answer is sent only once the returned
    /// sender sends or is dropped: as when Google's answer is slow to come
    /// back while the connection changes.
    pub fn hold_next_free_busy(&self) -> tokio::sync::oneshot::Sender<()> {
        let (release, hold) = tokio::sync::oneshot::channel();
        lock(&self.inner).free_busy_hold = Some(hold);
        release
    }

    /// The next `n` Calendar API calls (FreeBusy, events) answer 503.
    pub fn fail_next_api_calls(&self, n: u32) {
        lock(&self.inner).failing_api_calls = n;
    }

    /// The next `n` revocations answer 503 and revoke nothing, each logged
    /// as `revoke-failed` (`u32::MAX`: Google never takes one).
    pub fn fail_next_revokes(&self, n: u32) {
        lock(&self.inner).failing_revokes = n;
    }

    /// The next `n` event creations are made, then answered 503: the
    /// caller cannot know they were.
    pub fn lose_next_creates(&self, n: u32) {
        lock(&self.inner).lost_creates = n;
    }

    /// Puts `event` in the calendar (in place of any under its id), as
    /// made there by someone else: another program, or the owner by hand.
    pub fn put_event(&self, event: FakeEvent) {
        lock(&self.inner).events.insert(event.id.clone(), event);
    }

    /// Removes event `id`, as its owner deleting it in Google Calendar.
    pub fn remove_event(&self, id: &str) {
        lock(&self.inner).events.remove(id);
    }

    /// FreeBusy answers these busy intervals (RFC 3339).
    pub fn set_busy(&self, busy: &[(&str, &str)]) {
        lock(&self.inner).busy = busy
            .iter()
            .map(|(s, e)| ((*s).to_owned(), (*e).to_owned()))
            .collect();
    }

    /// The events in the calendar.
    pub fn events(&self) -> Vec<FakeEvent> {
        let mut events: Vec<FakeEvent> = lock(&self.inner).events.values().cloned().collect();
        events.sort_by(|a, b| a.id.cmp(&b.id));
        events
    }

    /// Every request so far: (kind, detail), e.g. `("refresh", "")`,
    /// `("freebusy", "<access token used>")`.
    pub fn log(&self) -> Vec<(String, String)> {
        lock(&self.inner).log.clone()
    }

    /// How many requests of `kind` were made.
    pub fn count(&self, kind: &str) -> usize {
        lock(&self.inner)
            .log
            .iter()
            .filter(|(k, _)| k == kind)
            .count()
    }

    /// Every token the fake ever issued (access and refresh), so tests can
    /// check that none leaks.
    pub fn issued_tokens(&self) -> Vec<String> {
        let inner = lock(&self.inner);
        inner
            .log
            .iter()
            .filter(|(k, _)| k == "issued")
            .map(|(_, t)| t.clone())
            .collect()
    }

    /// Tokens revoked so far, once per revocation Google took (a token
    /// revoked twice is listed once: the second call no longer knows it).
    pub fn revoked(&self) -> Vec<String> {
        lock(&self.inner).revoked.clone()
    }
}

fn oauth_error(error: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": error, "error_description": format!("fake: {error}")})),
    )
        .into_response()
}

fn api_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": status.as_u16(), "message": message}})),
    )
        .into_response()
}

fn issue(inner: &mut Inner, with_refresh: bool) -> Value {
    let access = inner.next("ya29.fake-access-");
    inner.access.push(access.clone());
    inner.log.push(("issued".to_owned(), access.clone()));
    let mut answer = json!({
        "access_token": access,
        "expires_in": inner.expires_in,
        "token_type": "Bearer",
        "scope": "https://www.googleapis.com/auth/calendar.events",
    });
    if with_refresh {
        let refresh = inner.next("1//fake-refresh-");
        inner.refresh.push(refresh.clone());
        inner.log.push(("issued".to_owned(), refresh.clone()));
        answer["refresh_token"] = Value::String(refresh);
    }
    answer
}

async fn token(State(inner): State<Arc<Mutex<Inner>>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str).unwrap_or_default();
    if field("grant_type") == "refresh_token" {
        let hold = lock(&inner).refresh_hold.take();
        if let Some(hold) = hold {
            lock(&inner)
                .log
                .push(("refresh-held".to_owned(), String::new()));
            // Released by a send or by the sender's drop: either way, answer now.
            let _ = hold.await;
        }
    }
    let mut inner = lock(&inner);
    if field("client_id") != CLIENT_ID || field("client_secret") != CLIENT_SECRET {
        inner
            .log
            .push(("token-bad-client".to_owned(), String::new()));
        return oauth_error("invalid_client");
    }
    match field("grant_type") {
        "authorization_code" => {
            inner.log.push(("exchange".to_owned(), String::new()));
            let code = field("code").to_owned();
            let verifier = field("code_verifier");
            let Some((challenge, used)) = inner.codes.get(&code).cloned() else {
                return oauth_error("invalid_grant");
            };
            if used || b64url(&Sha256::digest(verifier.as_bytes())) != challenge {
                return oauth_error("invalid_grant");
            }
            inner.codes.insert(code, (challenge, true));
            axum::Json(issue(&mut inner, true)).into_response()
        }
        "refresh_token" => {
            let refresh = field("refresh_token").to_owned();
            inner.log.push(("refresh".to_owned(), String::new()));
            if inner.fail_next_refresh {
                inner.fail_next_refresh = false;
                inner.refresh.retain(|t| *t != refresh);
                return oauth_error("invalid_grant");
            }
            if !inner.refresh.contains(&refresh) {
                return oauth_error("invalid_grant");
            }
            let rotate = inner.rotate_refresh_tokens;
            if rotate {
                inner.refresh.retain(|t| *t != refresh);
            }
            axum::Json(issue(&mut inner, rotate)).into_response()
        }
        _ => oauth_error("unsupported_grant_type"),
    }
}

async fn revoke(State(inner): State<Arc<Mutex<Inner>>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let token = form.get("token").cloned().unwrap_or_default();
    let mut inner = lock(&inner);
    if inner.failing_revokes > 0 {
        inner.failing_revokes -= 1;
        inner.log.push(("revoke-failed".to_owned(), String::new()));
        return api_error(StatusCode::SERVICE_UNAVAILABLE, "Backend Error");
    }
    inner.log.push(("revoke".to_owned(), String::new()));
    let known = inner.refresh.contains(&token) || inner.access.contains(&token);
    if !known {
        return oauth_error("invalid_token");
    }
    // Revoking either token ends the whole grant.
    inner.refresh.clear();
    inner.access.clear();
    inner.revoked.push(token);
    StatusCode::OK.into_response()
}
