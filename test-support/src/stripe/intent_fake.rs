//! [`IntentFake`]: an in-process fake of Stripe's PaymentIntents alone
//! (create, retrieve, cancel), served by axum on `127.0.0.1:<random port>`
//! from its own tokio runtime, for tests of what happens while Stripe is
//! still making an intent. It honours idempotency keys as Stripe does: a
//! key whose request was answered gets that answer again, and a key whose
//! request is still running gets 409 `idempotency_error` /
//! `idempotency_key_in_use` (which localstripe, ignoring keys, cannot
//! show), and a key sent again with other parameters gets Stripe's 400
//! `idempotency_error` ("Keys for idempotent requests can only be used
//! with the same parameters they were first used with"). A cancel is
//! refused (400) when the intent is `succeeded`, `processing` or
//! `canceled`, and a cancel key answers its first answer again, refusal
//! included, as at Stripe. [`IntentFake::set_status`] plays the client
//! paying (or a payment attempt failing). [`IntentFake::hold_creates`]
//! makes new intents (they exist at once, as at Stripe) but answers their
//! requests only at [`IntentFake::release_creates`].

use std::collections::HashMap;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::connect_api::random_id;
use super::connect_params::{Reply, error};
use super::form;
use super::holding::{Release, wait_for_count};
use crate::loopback::Loopback;

/// Where one idempotency key is.
#[derive(Debug, Clone)]
enum KeyUse {
    /// Its request is still running (held).
    Running,
    /// Its request was answered with this.
    Answered(Value),
}

/// What the fake holds, behind one lock.
#[derive(Debug, Default)]
struct State {
    /// Every intent made, by id.
    intents: HashMap<String, Value>,
    /// Idempotency keys seen on creations.
    keys: HashMap<String, KeyUse>,
    /// The form parameters each creation key was first sent with.
    key_params: HashMap<String, serde_json::Map<String, Value>>,
    /// Each cancel key's answer (status and body), given again for it.
    cancel_keys: HashMap<String, (u16, Value)>,
    /// Creation requests received (replays and refusals included).
    create_calls: usize,
    /// Creations refused because their key was in use.
    keys_in_use: usize,
    /// Whether new creations are held.
    holding: bool,
    /// Creations held since the last `hold_creates`.
    held: usize,
}

/// What the server's tasks and the handle share.
#[derive(Debug)]
struct Shared {
    state: Mutex<State>,
    /// Notified whenever `held` grows.
    held_changed: Condvar,
    /// Released by each `release_creates`; held requests wait for it.
    release: Release,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The fake; dropping it stops the server (held requests are dropped).
pub struct IntentFake {
    shared: Arc<Shared>,
    base_url: String,
    _server: Loopback,
}

impl std::fmt::Debug for IntentFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntentFake")
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

fn respond((status, body): Reply) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, axum::Json(body)).into_response()
}

/// Stripe's 401 unless `headers` carry `Authorization: Bearer sk_...`.
fn refuse_unless_authorized(headers: &HeaderMap) -> Option<Response> {
    let key = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .unwrap_or_default();
    if key.starts_with("sk_") && key.len() > 5 {
        return None;
    }
    Some(respond(error(
        401,
        "invalid_request_error",
        None,
        "Invalid API Key provided.",
        None,
    )))
}

/// A new intent for the form parameters `params`.
fn new_intent(params: &serde_json::Map<String, Value>) -> Value {
    let id = random_id("pi_", 24);
    let amount = params
        .get("amount")
        .and_then(Value::as_str)
        .and_then(|a| a.parse::<i64>().ok())
        .unwrap_or_default();
    json!({
        "id": id,
        "object": "payment_intent",
        "amount": amount,
        "currency": params.get("currency").cloned().unwrap_or_else(|| json!("usd")),
        "metadata": params.get("metadata").cloned().unwrap_or_else(|| json!({})),
        "status": "requires_payment_method",
        "client_secret": format!("{id}_secret_{}", random_id("", 24)),
        "livemode": false,
    })
}

/// `POST /v1/payment_intents`, with Stripe's idempotency and the hold.
async fn create_intent(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&headers) {
        return refused;
    }
    let params = match form::parse(&body) {
        Ok(params) => params,
        Err(message) => return respond(error(400, "invalid_request_error", None, message, None)),
    };
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (intent, held) = {
        let mut state = shared.lock();
        state.create_calls += 1;
        let seen = key.as_ref().and_then(|key| state.keys.get(key).cloned());
        let first_params = key.as_ref().and_then(|key| state.key_params.get(key));
        if let (Some(key), Some(first)) = (&key, first_params)
            && *first != params
        {
            return respond(error(
                400,
                "idempotency_error",
                None,
                format!(
                    "Keys for idempotent requests can only be used with the same parameters \
                     they were first used with. Try using a key other than '{key}' if you meant \
                     to execute a different request."
                ),
                None,
            ));
        }
        match seen {
            Some(KeyUse::Answered(intent)) => return respond((200, intent)),
            Some(KeyUse::Running) => {
                state.keys_in_use += 1;
                let key = key.unwrap_or_default();
                return respond(error(
                    409,
                    "idempotency_error",
                    Some("idempotency_key_in_use"),
                    format!(
                        "There is currently another in-progress request using this Idempotent Key \
                         (that probably means you submitted twice, and the other request is still \
                         going through): {key}. Please try again later."
                    ),
                    None,
                ));
            }
            None => {}
        }
        let intent = new_intent(&params);
        let id = intent["id"].as_str().unwrap_or_default().to_owned();
        state.intents.insert(id, intent.clone());
        let held = state.holding.then(|| shared.release.hold());
        if let Some(key) = &key {
            state.key_params.insert(key.clone(), params.clone());
            let use_now = match held {
                Some(_) => KeyUse::Running,
                None => KeyUse::Answered(intent.clone()),
            };
            state.keys.insert(key.clone(), use_now);
        }
        if held.is_some() {
            state.held += 1;
            shared.held_changed.notify_all();
        }
        (intent, held)
    };
    if let Some(hold) = held {
        hold.released().await;
        if let Some(key) = key {
            shared
                .lock()
                .keys
                .insert(key, KeyUse::Answered(intent.clone()));
        }
    }
    respond((200, intent))
}

/// Stripe's 404 for intent `id`.
fn no_intent(id: &str) -> Response {
    respond(error(
        404,
        "invalid_request_error",
        Some("resource_missing"),
        format!("No such payment_intent: '{id}'"),
        Some("intent"),
    ))
}

/// An authorized request for intent `id`: the intent once `change` has
/// changed it, or Stripe's 404.
fn serve_intent(
    shared: &Shared,
    headers: &HeaderMap,
    id: &str,
    change: impl FnOnce(&mut Value),
) -> Response {
    if let Some(refused) = refuse_unless_authorized(headers) {
        return refused;
    }
    match shared.lock().intents.get_mut(id) {
        Some(intent) => {
            change(intent);
            respond((200, intent.clone()))
        }
        None => no_intent(id),
    }
}

/// `GET /v1/payment_intents/{id}`.
async fn get_intent(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    serve_intent(&shared, &headers, &id, |_| {})
}

/// `POST /v1/payment_intents/{id}/cancel`: the intent can no longer be
/// paid; Stripe's 400 for one `succeeded`, `processing` or `canceled`. A
/// key seen before gets its first answer again.
async fn cancel_intent(
    AxumState(shared): AxumState<Arc<Shared>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    if let Some(refused) = refuse_unless_authorized(&headers) {
        return refused;
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let mut state = shared.lock();
    if let Some(answer) = key.as_ref().and_then(|key| state.cancel_keys.get(key)) {
        return respond(answer.clone());
    }
    let Some(intent) = state.intents.get_mut(&id) else {
        return no_intent(&id);
    };
    let status = intent["status"].as_str().unwrap_or_default().to_owned();
    let answer = if matches!(status.as_str(), "succeeded" | "processing" | "canceled") {
        error(
            400,
            "invalid_request_error",
            Some("payment_intent_unexpected_state"),
            format!(
                "You cannot cancel this PaymentIntent because it has a status of {status}. Only a \
                 PaymentIntent with one of the following statuses may be canceled: \
                 requires_payment_method, requires_capture, requires_confirmation, requires_action."
            ),
            None,
        )
    } else {
        intent["status"] = json!("canceled");
        (200, intent.clone())
    };
    if let Some(key) = key {
        state.cancel_keys.insert(key, answer.clone());
    }
    respond(answer)
}

impl IntentFake {
    /// Starts the fake on `127.0.0.1:<random port>` with its own tokio
    /// runtime (one worker thread).
    ///
    /// # Panics
    /// When the runtime or the listener cannot be set up.
    pub fn start() -> IntentFake {
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            held_changed: Condvar::new(),
            release: Release::new(),
        });
        let app = Router::new()
            .route("/v1/payment_intents", post(create_intent))
            .route("/v1/payment_intents/{id}", get(get_intent))
            .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
            .with_state(Arc::clone(&shared));
        let server = Loopback::serve("IntentFake", "intent-fake", app);
        IntentFake {
            shared,
            base_url: format!("http://127.0.0.1:{}/", server.port()),
            _server: server,
        }
    }

    /// `"http://127.0.0.1:P/"`, with the trailing slash (the Stripe API
    /// base to configure).
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// From now on, a creation not answered from its key makes its intent
    /// (retrievable, and its key in use) and waits for
    /// [`release_creates`](Self::release_creates) before answering it.
    pub fn hold_creates(&self) {
        let mut state = self.shared.lock();
        state.holding = true;
        state.held = 0;
    }

    /// Waits until `n` creations are held (counted from the latest
    /// [`hold_creates`](Self::hold_creates)), at most `timeout`; whether
    /// they were.
    pub fn wait_for_held(&self, n: usize, timeout: Duration) -> bool {
        let held_changed = &self.shared.held_changed;
        wait_for_count(self.shared.lock(), held_changed, n, timeout, |s| s.held)
    }

    /// Stops holding: held creations are answered, new ones at once.
    pub fn release_creates(&self) {
        self.shared.lock().holding = false;
        self.shared.release.release();
    }

    /// Intent `id` as the fake has it, if it made it.
    pub fn intent(&self, id: &str) -> Option<Value> {
        self.shared.lock().intents.get(id).cloned()
    }

    /// Sets intent `id`'s status, as the client paying (`succeeded`,
    /// `processing`) or a payment attempt failing (`requires_payment_method`)
    /// would; no event is sent.
    ///
    /// # Panics
    /// When the fake made no intent `id`.
    pub fn set_status(&self, id: &str, status: &str) {
        let mut state = self.shared.lock();
        let intent = state.intents.get_mut(id).expect("an intent the fake made");
        intent["status"] = json!(status);
    }

    /// How many intents were made.
    pub fn intent_count(&self) -> usize {
        self.shared.lock().intents.len()
    }

    /// Creation requests received (replays and refusals included).
    pub fn create_calls(&self) -> usize {
        self.shared.lock().create_calls
    }

    /// Creations refused with 409 `idempotency_key_in_use`.
    pub fn keys_in_use(&self) -> usize {
        self.shared.lock().keys_in_use
    }
}
