//! [`StripeFake`]: an in-process fake of the Stripe Connect API that
//! localstripe lacks (connected accounts, account links, transfers), served
//! by axum on `127.0.0.1:<random port>` from its own tokio runtime, with
//! Stripe's authentication check, error shape and idempotency keys, test
//! controls (activate or restrict an account, inject transfer failures,
//! hold transfers for crash tests) and a log of the requests it saw. Every
//! request it does not serve itself is forwarded verbatim to an upstream
//! (a [`LocalStripe`](super::LocalStripe)), so one base URL serves both.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;
use tokio::sync::watch;

use super::connect_api::{self, Route, Store, random_id};
use super::connect_params::{Params, Reply, error};
use super::{form, http, upstream_fixups};

/// One request the fake received (served or forwarded), as the tests may
/// inspect it. The API key is never kept: only whether one was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenRequest {
    /// The HTTP method, like `"POST"`.
    pub method: String,
    /// The path, like `"/v1/transfers"`, without the query.
    pub path: String,
    /// The query string, without the `?`, if any.
    pub query: Option<String>,
    /// The `Idempotency-Key` header, if any.
    pub idempotency_key: Option<String>,
    /// The `Stripe-Account` header, if any.
    pub stripe_account: Option<String>,
    /// Whether an `Authorization` header was sent.
    pub has_authorization: bool,
    /// The raw body (form-encoded for Stripe calls), lossily decoded.
    pub body: String,
    /// Whether it was forwarded to the upstream (or, without one, answered
    /// 404) rather than served by the fake.
    pub forwarded: bool,
}

impl SeenRequest {
    /// The request's parameters (its form body, or its query for a body-less
    /// request) decoded into a JSON tree whose leaves are strings, like
    /// `{"amount": "500", "metadata": {"droply_payout": "12"}}`.
    ///
    /// # Panics
    /// When they are not well-formed form encoding.
    pub fn params(&self) -> Value {
        let raw = if self.body.is_empty() {
            self.query.as_deref().unwrap_or_default()
        } else {
            self.body.as_str()
        };
        let map = form::parse(raw.as_bytes())
            .unwrap_or_else(|e| panic!("parameters of {} {}: {e}", self.method, self.path));
        Value::Object(map)
    }
}

/// The first response to an idempotency key, replayed to later requests
/// with the same key.
#[derive(Debug)]
struct Saved {
    method: String,
    target: String,
    /// The decoded form: Stripe compares parameters, not their order.
    params: Params,
    reply: Reply,
}

/// What the fake holds, behind one lock.
#[derive(Debug, Default)]
struct State {
    store: Store,
    requests: Vec<SeenRequest>,
    idempotency: HashMap<String, Saved>,
    /// The status and the number of transfer creations still to fail.
    fail_transfers: Option<(u16, usize)>,
    /// Whether transfer creations are held (see [`StripeFake::hold_transfers`]).
    holding: bool,
    /// How many transfers were recorded since the last `hold_transfers`.
    held: usize,
}

/// State shared by the server's tasks, the fake and its gates.
#[derive(Debug)]
struct Shared {
    upstream: Option<String>,
    /// Whether forwarded JSON is repaired (see `set_upstream_fixups`).
    fixups: AtomicBool,
    state: Mutex<State>,
    /// Notified whenever `held` grows.
    held_changed: Condvar,
    /// Bumped by each `release_transfers`; held requests wait for a bump.
    release: watch::Sender<u64>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// An in-process fake of Stripe Connect, forwarding everything else to an
/// optional upstream; stopped on drop. See the [module docs](self).
///
/// Serves, with `Authorization: Bearer sk_...` required (401 otherwise):
/// `POST /v1/accounts`, `GET /v1/accounts`, `GET /v1/accounts/{id}`,
/// `POST /v1/account_links`, `POST /v1/transfers`, `GET /v1/transfers`
/// (filters `transfer_group`, `destination`; `limit`, `starting_after`;
/// newest first) and `GET /v1/transfers/{id}`.
///
/// Idempotency (the POSTs above): a request whose `Idempotency-Key` was
/// already answered with success gets that first answer again (same
/// status and body, header `Idempotent-Replayed: true`, no new object)
/// when its method, path and parameters are the same (in any order, as
/// at Stripe: metadata from a hash map comes in any order), and 400
/// `idempotency_error` otherwise. Keys live as long as the fake. As at
/// Stripe, requests that fail validation (400/404) are not saved, nor are
/// failures injected by [`fail_transfers`](Self::fail_transfers) (they
/// stand for requests that never reached Stripe), so a retry with the same
/// key runs anew.
pub struct StripeFake {
    shared: Arc<Shared>,
    base_url: String,
    runtime: Option<tokio::runtime::Runtime>,
}

impl std::fmt::Debug for StripeFake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StripeFake")
            .field("base_url", &self.base_url)
            .field("upstream", &self.shared.upstream)
            .finish_non_exhaustive()
    }
}

/// Returned by [`StripeFake::hold_transfers`]: lets a test wait until the
/// code under test has created transfers that are being held.
#[derive(Debug, Clone)]
pub struct TransferGate {
    shared: Arc<Shared>,
}

impl TransferGate {
    /// Waits until `n` transfers were recorded while held (counted from the
    /// latest `hold_transfers` call), at most `timeout`; whether they were.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.held < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            state = self
                .shared
                .held_changed
                .wait_timeout(state, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
        true
    }

    /// How many transfers were recorded while held so far.
    pub fn held(&self) -> usize {
        self.shared.lock().held
    }
}

impl StripeFake {
    /// Starts the fake on `127.0.0.1:<random port>` with its own tokio
    /// runtime (one worker thread). `upstream` is a base URL like
    /// [`LocalStripe::base_url`](super::LocalStripe::base_url); without one,
    /// requests the fake does not serve get Stripe's 404 "Unrecognized
    /// request URL".
    ///
    /// # Panics
    /// When the runtime or the listener cannot be set up.
    pub fn start(upstream: Option<String>) -> StripeFake {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("stripe-fake")
            .enable_all()
            .build()
            .expect("building the StripeFake's tokio runtime");
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0")
            .expect("binding 127.0.0.1:0 for the StripeFake");
        std_listener
            .set_nonblocking(true)
            .expect("making the StripeFake's listener non-blocking");
        let port = std_listener
            .local_addr()
            .expect("reading the StripeFake's address")
            .port();
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)
                .expect("handing the StripeFake's listener to tokio")
        };
        let (release, _) = watch::channel(0);
        let shared = Arc::new(Shared {
            upstream,
            fixups: AtomicBool::new(false),
            state: Mutex::new(State::default()),
            held_changed: Condvar::new(),
            release,
        });
        let app = Router::new()
            .fallback(handle)
            .with_state(Arc::clone(&shared));
        runtime.spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("StripeFake: server stopped: {e}");
            }
        });
        StripeFake {
            shared,
            base_url: format!("http://127.0.0.1:{port}/"),
            runtime: Some(runtime),
        }
    }

    /// `"http://127.0.0.1:P/"`, with the trailing slash.
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    /// The upstream requests are forwarded to, if any.
    pub fn upstream(&self) -> Option<&str> {
        self.shared.upstream.as_deref()
    }

    /// Off by default (forwarded answers come back verbatim). When on,
    /// JSON from the upstream is repaired so that a client decoding
    /// Stripe's real schema (async-stripe) can read localstripe's objects,
    /// at any depth (lists, events' `data.object`, expansions): a
    /// PaymentIntent gains `amount_received` (its amount once `succeeded`,
    /// else 0), `amount_capturable` (its amount in `requires_capture`, else
    /// 0), `confirmation_method: "automatic"` and `payment_method_types:
    /// ["card"]`, its `latest_charge` becomes the charge's id (unless the
    /// request mentions `latest_charge`, e.g. `expand[]=latest_charge`) and
    /// its `last_payment_error` gets a `type`; a Charge gains
    /// `amount_captured`, `disputed: false` and empty `billing_details`; an
    /// Event gains `pending_webhooks: 0` and `request`; an error with code
    /// `card_declined` gets type `card_error`, as at Stripe. (Webhooks go
    /// from localstripe straight to their receiver and are not repaired.)
    pub fn set_upstream_fixups(&self, enabled: bool) {
        self.shared.fixups.store(enabled, Ordering::Relaxed);
    }

    fn with_account<T>(&self, id: &str, what: &str, f: impl FnOnce(&mut Value) -> T) -> T {
        let mut state = self.shared.lock();
        let account = state
            .store
            .account_mut(id)
            .unwrap_or_else(|| panic!("StripeFake::{what}: no account {id}"));
        f(account)
    }

    /// Completes onboarding of account `id`: `charges_enabled`,
    /// `payouts_enabled` and `details_submitted` true, nothing due, every
    /// capability (and `transfers`) active. (No `account.updated` event is
    /// sent: post one with [`post_event`](super::post_event) if the code
    /// under test needs it.)
    ///
    /// # Panics
    /// When there is no such account.
    pub fn activate(&self, account_id: &str) {
        self.with_account(account_id, "activate", connect_api::activate);
    }

    /// Restricts account `id`: `payouts_enabled` false,
    /// `requirements.disabled_reason = "requirements.past_due"`,
    /// `external_account` currently and past due, the `transfers` capability
    /// inactive (so transfers to it fail).
    ///
    /// # Panics
    /// When there is no such account.
    pub fn restrict(&self, account_id: &str) {
        self.with_account(account_id, "restrict", connect_api::restrict);
    }

    /// Creates an account as `POST /v1/accounts type=express email=...`
    /// would, activated if `activated`, without going through HTTP; the
    /// account.
    pub fn add_account(&self, email: &str, activated: bool) -> Value {
        let mut params = Params::new();
        params.insert("type".into(), "express".into());
        params.insert("email".into(), email.into());
        let mut state = self.shared.lock();
        let (status, mut account) = state.store.serve(&Route::CreateAccount, &params);
        assert_eq!(status, 200, "StripeFake::add_account: {account}");
        if activated {
            let id = account["id"].as_str().unwrap_or_default().to_owned();
            if let Some(stored) = state.store.account_mut(&id) {
                connect_api::activate(stored);
                account = stored.clone();
            }
        }
        account
    }

    /// The account `id` as `GET /v1/accounts/{id}` would answer, if any.
    pub fn account(&self, id: &str) -> Option<Value> {
        let state = self.shared.lock();
        state.store.accounts.iter().find(|a| a["id"] == id).cloned()
    }

    /// Every account, in creation order.
    pub fn accounts(&self) -> Vec<Value> {
        self.shared.lock().store.accounts.clone()
    }

    /// Every transfer, in creation order (held ones included).
    pub fn transfers(&self) -> Vec<Value> {
        self.shared.lock().store.transfers.clone()
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<SeenRequest> {
        self.shared.lock().requests.clone()
    }

    /// Makes the next `count` transfer creations (`POST /v1/transfers` not
    /// answered from an idempotency key) answer `status` with an
    /// `api_error`, creating nothing. Replaces any failures still pending.
    pub fn fail_transfers(&self, status: u16, count: usize) {
        self.shared.lock().fail_transfers = (count > 0).then_some((status, count));
    }

    /// From now on, a transfer creation records the transfer (it exists, as
    /// at Stripe when the response is lost), signals the returned gate, and
    /// does not answer until [`release_transfers`](Self::release_transfers).
    /// A client that gives up or dies meanwhile is no trouble. A replay of
    /// a held transfer's idempotency key (a restarted client) answers at
    /// once with the recorded transfer, held or not.
    pub fn hold_transfers(&self) -> TransferGate {
        let mut state = self.shared.lock();
        state.holding = true;
        state.held = 0;
        TransferGate {
            shared: Arc::clone(&self.shared),
        }
    }

    /// Stops holding: held requests (those still connected) get their
    /// transfer, and new ones are answered at once.
    pub fn release_transfers(&self) {
        self.shared.lock().holding = false;
        self.shared
            .release
            .send_modify(|generation| *generation += 1);
    }
}

impl Drop for StripeFake {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            // Does not wait for held requests (they are dropped), and may
            // run inside another runtime.
            runtime.shutdown_background();
        }
    }
}

fn header_str(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// Whether `headers` carry a usable secret key (`Bearer sk_...` or
/// `Bearer rk_...`); the 401 to answer otherwise.
fn check_auth(headers: &HeaderMap) -> Result<(), Reply> {
    let Some(value) = header_str(headers, "authorization") else {
        return Err(error(
            401,
            "invalid_request_error",
            None,
            "You did not provide an API key. You need to provide your API key in the Authorization header, \
             using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY').",
            None,
        ));
    };
    let key = value.strip_prefix("Bearer ").unwrap_or_default().trim();
    if (key.starts_with("sk_") || key.starts_with("rk_")) && key.len() > 5 {
        Ok(())
    } else {
        Err(error(
            401,
            "invalid_request_error",
            None,
            "Invalid API Key provided. Use 'Authorization: Bearer sk_...'.",
            None,
        ))
    }
}

/// A JSON response with Stripe's headers.
fn respond(reply: &Reply, idempotency_key: Option<&str>, replayed: bool) -> Response {
    let (status, body) = reply;
    let bytes = serde_json::to_vec_pretty(body).unwrap_or_else(|_| b"{}".to_vec());
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() =
        StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(&random_id("req_", 14)) {
        headers.insert("request-id", id);
    }
    if let Some(key) = idempotency_key.and_then(|k| HeaderValue::from_str(k).ok()) {
        headers.insert("idempotency-key", key);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// What serving a request under the lock came to.
enum Outcome {
    /// Answer now.
    Now(Reply, bool),
    /// A held transfer: answer `Reply` once the release generation moves
    /// past the one given.
    Held(Reply, u64),
}

/// The one handler: serves the fake's routes, forwards everything else.
async fn handle(
    AxumState(shared): AxumState<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = Route::of(method.as_str(), uri.path());
    let idempotency_key = header_str(&headers, "idempotency-key");
    shared.lock().requests.push(SeenRequest {
        method: method.to_string(),
        path: uri.path().to_owned(),
        query: uri.query().map(str::to_owned),
        idempotency_key: idempotency_key.clone(),
        stripe_account: header_str(&headers, "stripe-account"),
        has_authorization: headers.contains_key(header::AUTHORIZATION),
        body: String::from_utf8_lossy(&body).into_owned(),
        forwarded: route.is_none(),
    });
    let Some(route) = route else {
        return forward(&shared, &method, &uri, &headers, body).await;
    };
    if let Err(reply) = check_auth(&headers) {
        return respond(&reply, None, false);
    }
    let raw_params: &[u8] = if method == Method::POST {
        &body
    } else {
        uri.query().unwrap_or_default().as_bytes()
    };
    let params = match form::parse(raw_params) {
        Ok(params) => params,
        Err(message) => {
            let reply = error(400, "invalid_request_error", None, message, None);
            return respond(&reply, idempotency_key.as_deref(), false);
        }
    };
    let key = idempotency_key.filter(|_| method == Method::POST);
    let target = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_owned(), |pq| pq.as_str().to_owned());
    let outcome = serve_locked(
        &shared,
        &route,
        &params,
        key.as_deref(),
        method.as_str(),
        &target,
    );
    match outcome {
        Outcome::Now(reply, replayed) => respond(&reply, key.as_deref(), replayed),
        Outcome::Held(reply, generation) => {
            let mut released = shared.release.subscribe();
            // Err only if the sender is gone, i.e. the fake is being dropped.
            let _ = released.wait_for(|g| *g != generation).await;
            respond(&reply, key.as_deref(), false)
        }
    }
}

/// Idempotency, injected failures, the route itself and holding, all under
/// one lock so that concurrent requests with one key cannot both run.
fn serve_locked(
    shared: &Shared,
    route: &Route,
    params: &Params,
    key: Option<&str>,
    method: &str,
    target: &str,
) -> Outcome {
    let mut state = shared.lock();
    if let Some(saved) = key.and_then(|k| state.idempotency.get(k)) {
        if saved.method == method && saved.target == target && saved.params == *params {
            return Outcome::Now(saved.reply.clone(), true);
        }
        let key = key.unwrap_or_default();
        let reply = error(
            400,
            "idempotency_error",
            None,
            format!(
                "Keys for idempotent requests can only be used with the same parameters they were first used with. \
                 Try using a key other than '{key}' if you meant to execute a different request."
            ),
            None,
        );
        return Outcome::Now(reply, false);
    }
    let creates_transfer = *route == Route::CreateTransfer;
    if creates_transfer && let Some((status, left)) = state.fail_transfers {
        state.fail_transfers = (left > 1).then_some((status, left - 1));
        let reply = error(
            status,
            "api_error",
            None,
            format!(
                "An error occurred with our connection to Stripe (injected by StripeFake::fail_transfers, {status})."
            ),
            None,
        );
        return Outcome::Now(reply, false);
    }
    let reply = state.store.serve(route, params);
    let succeeded = (200..300).contains(&reply.0);
    if succeeded && let Some(key) = key {
        state.idempotency.insert(
            key.to_owned(),
            Saved {
                method: method.to_owned(),
                target: target.to_owned(),
                params: params.clone(),
                reply: reply.clone(),
            },
        );
    }
    if creates_transfer && succeeded && state.holding {
        state.held += 1;
        shared.held_changed.notify_all();
        let generation = *shared.release.borrow();
        return Outcome::Held(reply, generation);
    }
    Outcome::Now(reply, false)
}

/// The headers passed on to the upstream.
const FORWARDED_HEADERS: [&str; 5] = [
    "authorization",
    "content-type",
    "idempotency-key",
    "stripe-version",
    "stripe-account",
];

/// Sends the request on to the upstream as is and answers with its status
/// and body; without an upstream, Stripe's 404 for an unknown URL.
async fn forward(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Bytes,
) -> Response {
    let target = uri.path_and_query().map_or("/", |pq| pq.as_str());
    let Some(upstream) = shared.upstream.as_deref() else {
        let reply = error(
            404,
            "invalid_request_error",
            None,
            format!(
                "Unrecognized request URL ({method}: {}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.",
                uri.path()
            ),
            None,
        );
        return respond(&reply, None, false);
    };
    let url = http::join(upstream, target);
    let method = method.as_str().to_owned();
    let passed: Vec<(&str, String)> = FORWARDED_HEADERS
        .iter()
        .filter_map(|name| header_str(headers, name).map(|v| (*name, v)))
        .collect();
    let url_for_error = url.clone();
    let fixups = shared.fixups.load(Ordering::Relaxed);
    let keep_latest_charge = target.contains("latest_charge")
        || body
            .windows(b"latest_charge".len())
            .any(|w| w == b"latest_charge");
    let result = tokio::task::spawn_blocking(move || {
        let refs: Vec<(&str, &str)> = passed.iter().map(|(k, v)| (*k, v.as_str())).collect();
        http::request(&method, &url, &refs, &body)
    })
    .await;
    match result {
        Ok(Ok(upstream_response)) => {
            let content_type = upstream_response
                .header("content-type")
                .and_then(|v| HeaderValue::from_str(v).ok());
            let status =
                StatusCode::from_u16(upstream_response.status).unwrap_or(StatusCode::BAD_GATEWAY);
            let is_json = upstream_response
                .header("content-type")
                .is_some_and(|c| c.contains("json"));
            let mut bytes = upstream_response.body;
            if fixups
                && is_json
                && let Ok(mut value) = serde_json::from_slice::<Value>(&bytes)
            {
                if status.is_success() {
                    upstream_fixups::fix(&mut value, keep_latest_charge);
                } else {
                    upstream_fixups::fix_error(&mut value);
                }
                bytes = serde_json::to_vec_pretty(&value).unwrap_or(bytes);
            }
            let mut response = Response::new(Body::from(bytes));
            *response.status_mut() = status;
            if let Some(content_type) = content_type {
                response
                    .headers_mut()
                    .insert(header::CONTENT_TYPE, content_type);
            }
            response
        }
        Ok(Err(e)) => {
            let reply = error(
                502,
                "api_error",
                None,
                format!("StripeFake could not reach its upstream {url_for_error}: {e}"),
                None,
            );
            respond(&reply, None, false)
        }
        Err(e) => {
            let reply = error(
                502,
                "api_error",
                None,
                format!("StripeFake's forwarding task failed: {e}"),
                None,
            );
            respond(&reply, None, false)
        }
    }
}
