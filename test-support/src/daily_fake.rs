//! [`DailyFake`]: an in-process fake of the parts of Daily.co's REST API
//! the service calls, served by axum on `127.0.0.1:<random port>` from its
//! own tokio runtime, so plain synchronous tests can use it: rooms (create,
//! with the name unique and "already exists" answered as Daily does, and
//! fetch by name), meeting tokens (each token remembered with the claims it
//! was made with, so tests can read `is_owner` or `room_name`), and
//! recording download links. It checks the API key, counts every call, and
//! can fail the next room creations with a 500 (nothing made), make them
//! and lose the answer (a 504), or make them and hold the answer until
//! released (for tests of what changes while a room is being made).
//! [`DailyFake::send_webhook`]
//! signs and posts a webhook event to a server as Daily does
//! (`X-Webhook-Signature`: base64 HMAC-SHA256 of `timestamp.body` keyed by
//! the base64-decoded secret; `X-Webhook-Timestamp`: unix seconds).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use rand::Rng;
use rand::distr::Alphanumeric;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::loopback::Loopback;
use crate::stripe::http;

/// The API key the fake accepts (`Authorization: Bearer ...`).
pub const DAILY_API_KEY: &str = "daily_test_api_key";

/// A webhook secret as Daily shows one: base64 of the key bytes.
pub const DAILY_WEBHOOK_SECRET: &str = "ZHJvcGx5LWRhaWx5LXdlYmhvb2stc2VjcmV0";

/// What the fake holds.
#[derive(Debug, Default)]
struct State {
    rooms: HashMap<String, Value>,
    room_creates: usize,
    fail_creates: usize,
    lose_creates: usize,
    /// Whether room creations wait for a release before answering.
    holding: bool,
    /// Room creations held since the last `hold_room_creates`.
    held_creates: usize,
    tokens: HashMap<String, Value>,
    link_requests: Vec<String>,
    unauthorized: usize,
}

type Shared = Arc<Mutex<State>>;

/// The fake; dropping it stops the server.
pub struct DailyFake {
    state: Shared,
    base_url: String,
    _server: Loopback,
}

fn random(n: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(n)
        .map(char::from)
        .collect()
}

fn lock(state: &Shared) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

fn reply(status: StatusCode, body: Value) -> Response {
    (status, axum::Json(body)).into_response()
}

/// The 401 Daily answers without the right key, or `None`.
fn refuse_unless_authorized(state: &Shared, headers: &HeaderMap) -> Option<Response> {
    let expected = format!("Bearer {DAILY_API_KEY}");
    let sent = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok());
    if sent == Some(expected.as_str()) {
        return None;
    }
    lock(state).unauthorized += 1;
    Some(reply(
        StatusCode::UNAUTHORIZED,
        json!({"error": "authorization-header-error", "info": "bad API key"}),
    ))
}

/// Whether room creations are still held.
fn still_holding(state: &Shared) -> bool {
    lock(state).holding
}

async fn create_room(
    AxumState(shared): AxumState<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&shared, &headers) {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let (answer, held) = make_room(&shared, &body);
    if held {
        while still_holding(&shared) {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    answer
}

/// Makes the room `body` asks for (under the lock): the answer, and whether
/// it is to be held until released.
fn make_room(state: &Shared, body: &Value) -> (Response, bool) {
    let mut state = lock(state);
    state.room_creates += 1;
    if state.fail_creates > 0 {
        state.fail_creates -= 1;
        let failed = reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"error": "server-error", "info": "injected failure"}),
        );
        return (failed, false);
    }
    let name = body["name"]
        .as_str()
        .map_or_else(|| random(20), str::to_owned);
    if state.rooms.contains_key(&name) {
        let taken = reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid-request-error", "info": format!("a room named {name} already exists")}),
        );
        return (taken, false);
    }
    let room = json!({
        "id": format!("room-{}", random(12)),
        "name": name,
        "api_created": true,
        "privacy": body["privacy"].as_str().unwrap_or("public"),
        "url": format!("https://droply-test.daily.co/{name}"),
        "created_at": "2026-01-01T00:00:00.000Z",
        "config": body["properties"].clone(),
    });
    state.rooms.insert(name, room.clone());
    let held = state.holding;
    if held {
        state.held_creates += 1;
    }
    if state.lose_creates > 0 {
        state.lose_creates -= 1;
        let lost = reply(
            StatusCode::GATEWAY_TIMEOUT,
            json!({"error": "server-error", "info": "injected: made, answer lost"}),
        );
        return (lost, held);
    }
    (reply(StatusCode::OK, room), held)
}

async fn get_room(
    AxumState(state): AxumState<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&state, &headers) {
        return refused;
    }
    match lock(&state).rooms.get(&name) {
        Some(room) => reply(StatusCode::OK, room.clone()),
        None => no_room(&name),
    }
}

/// Daily's 404 for a room named `name` that does not exist.
fn no_room(name: &str) -> Response {
    reply(
        StatusCode::NOT_FOUND,
        json!({"error": "not-found", "info": format!("room {name} was not found")}),
    )
}

/// `DELETE /v1/rooms/{name}`: the room goes (404 when there is none).
async fn delete_room(
    AxumState(state): AxumState<Shared>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&state, &headers) {
        return refused;
    }
    match lock(&state).rooms.remove(&name) {
        Some(_) => reply(StatusCode::OK, json!({"deleted": true, "name": name})),
        None => no_room(&name),
    }
}

async fn create_token(
    AxumState(state): AxumState<Shared>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&state, &headers) {
        return refused;
    }
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let claims = body["properties"].clone();
    let mut state = lock(&state);
    let known = claims["room_name"]
        .as_str()
        .is_some_and(|room| state.rooms.contains_key(room));
    if !known {
        return reply(
            StatusCode::BAD_REQUEST,
            json!({"error": "invalid-request-error", "info": "room_name does not name a room"}),
        );
    }
    let token = format!("eyJfake.{}", random(32));
    state.tokens.insert(token.clone(), claims);
    reply(StatusCode::OK, json!({ "token": token }))
}

async fn access_link(
    AxumState(state): AxumState<Shared>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&state, &headers) {
        return refused;
    }
    lock(&state).link_requests.push(id.clone());
    let expires = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 3600;
    reply(
        StatusCode::OK,
        json!({
            "download_link": format!("https://recordings.daily.test/{id}.mp4?sig={}", random(16)),
            "expires": expires,
        }),
    )
}

impl DailyFake {
    /// Starts the fake on a free loopback port.
    ///
    /// # Panics
    /// When the runtime or the listener cannot be made.
    pub fn start() -> DailyFake {
        let state: Shared = Arc::default();
        let app = Router::new()
            .route("/v1/rooms", post(create_room))
            .route("/v1/rooms/{name}", get(get_room).delete(delete_room))
            .route("/v1/meeting-tokens", post(create_token))
            .route("/v1/recordings/{id}/access-link", get(access_link))
            .with_state(Arc::clone(&state));
        let server = Loopback::serve("DailyFake", "daily-fake", app);
        DailyFake {
            state,
            base_url: format!("http://127.0.0.1:{}/v1", server.port()),
            _server: server,
        }
    }

    /// The API base to configure (`DROPLY_DAILY_API_BASE`).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// Answers the next `n` room creations with a 500 (nothing made).
    pub fn fail_next_room_creates(&self, n: usize) {
        lock(&self.state).fail_creates = n;
    }

    /// Makes the next `n` rooms asked for but answers a 504, as when the
    /// answer is lost on the way back (a retry must not make a second one).
    pub fn lose_next_room_answers(&self, n: usize) {
        lock(&self.state).lose_creates = n;
    }

    /// From now on, a room creation makes its room (it exists at once, as
    /// at Daily) and answers only after
    /// [`release_room_creates`](Self::release_room_creates).
    pub fn hold_room_creates(&self) {
        let mut state = lock(&self.state);
        state.holding = true;
        state.held_creates = 0;
    }

    /// Waits until `n` room creations are held (counted from the latest
    /// [`hold_room_creates`](Self::hold_room_creates)), at most `timeout`;
    /// whether they were.
    pub fn wait_for_held_room_creates(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while lock(&self.state).held_creates < n {
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        true
    }

    /// Stops holding: held creations are answered, new ones at once.
    pub fn release_room_creates(&self) {
        lock(&self.state).holding = false;
    }

    /// How many room creations were asked (failed ones included).
    pub fn room_create_calls(&self) -> usize {
        lock(&self.state).room_creates
    }

    /// The rooms made, as Daily describes them.
    pub fn rooms(&self) -> Vec<Value> {
        lock(&self.state).rooms.values().cloned().collect()
    }

    /// The claims meeting token `token` was made with (`room_name`,
    /// `user_name`, `is_owner`, `exp`), if the fake made it.
    pub fn token_claims(&self, token: &str) -> Option<Value> {
        lock(&self.state).tokens.get(token).cloned()
    }

    /// Every meeting token made.
    pub fn tokens(&self) -> Vec<String> {
        lock(&self.state).tokens.keys().cloned().collect()
    }

    /// The recording ids whose download link was asked for, in order.
    pub fn link_requests(&self) -> Vec<String> {
        lock(&self.state).link_requests.clone()
    }

    /// Requests refused for a missing or wrong API key.
    pub fn unauthorized_calls(&self) -> usize {
        lock(&self.state).unauthorized
    }

    /// Signs and posts `event` to `url` as Daily does, keyed by
    /// `secret_b64`, timestamped now; the answer's status and JSON body.
    ///
    /// # Panics
    /// When the server cannot be reached.
    pub fn send_webhook(url: &str, secret_b64: &str, event: &Value) -> (u16, Value) {
        let body = event.to_string();
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
            .to_string();
        let signature = sign_webhook(secret_b64, &timestamp, body.as_bytes());
        post_webhook(url, &signature, &timestamp, body.as_bytes())
    }
}

/// Daily's signature of `body` sent at `timestamp`: base64 HMAC-SHA256 of
/// `"{timestamp}.{body}"` keyed by the base64-decoded `secret_b64`.
///
/// # Panics
/// When `secret_b64` is not base64.
pub fn sign_webhook(secret_b64: &str, timestamp: &str, body: &[u8]) -> String {
    let key = STANDARD
        .decode(secret_b64)
        .expect("a Daily webhook secret is base64");
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("any key length works");
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

/// Posts a webhook body with the given signature headers; the answer's
/// status and JSON body.
///
/// # Panics
/// When the server cannot be reached.
pub fn post_webhook(url: &str, signature: &str, timestamp: &str, body: &[u8]) -> (u16, Value) {
    let response = http::request(
        "POST",
        url,
        &[
            ("Content-Type", "application/json"),
            ("X-Webhook-Signature", signature),
            ("X-Webhook-Timestamp", timestamp),
        ],
        body,
    )
    .unwrap_or_else(|e| panic!("posting a Daily webhook to {url}: {e}"));
    (response.status, response.json())
}

/// A Daily event of `kind` with this `payload` and event `id`.
pub fn daily_event(id: &str, kind: &str, payload: Value) -> Value {
    json!({
        "version": "1.0.0",
        "type": kind,
        "id": id,
        "payload": payload,
        "event_ts": 1_790_000_000.0,
    })
}
