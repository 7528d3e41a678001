//! The HTTP side of the [`StripeFake`](super::StripeFake): the state its
//! server's tasks share (objects, the request log, idempotency keys, injected
//! failures and held transfers, behind one lock) and the one handler, which
//! checks the API key, serves the Connect routes under that lock with Stripe's
//! idempotency, and forwards everything else to the upstream.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use axum::body::{Body, Bytes};
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::Response;
use serde_json::Value;

use super::connect_api::{Route, Store, random_id};
use super::connect_fake::SeenRequest;
use super::connect_params::{Params, Reply, error};
use super::holding::{Hold, Release};
use super::{form, http, upstream_fixups};

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
pub(super) struct State {
    pub(super) store: Store,
    pub(super) requests: Vec<SeenRequest>,
    idempotency: HashMap<String, Saved>,
    /// The status and the number of transfer creations still to fail.
    pub(super) fail_transfers: Option<(u16, usize)>,
    /// Whether transfer creations are held (see [`StripeFake::hold_transfers`]).
    pub(super) holding: bool,
    /// How many transfers were recorded since the last `hold_transfers`.
    pub(super) held: usize,
    /// How many of the next account reads (`GET /v1/accounts/{id}`) to hold
    /// (see [`StripeFake::hold_account_reads`]).
    pub(super) reads_to_hold: usize,
    /// How many account reads were held since the last `hold_account_reads`.
    pub(super) held_reads: usize,
}

/// State shared by the server's tasks, the fake and its gates.
#[derive(Debug)]
pub(super) struct Shared {
    pub(super) upstream: Option<String>,
    /// Whether forwarded JSON is repaired (see `set_upstream_fixups`).
    pub(super) fixups: AtomicBool,
    pub(super) state: Mutex<State>,
    /// Notified whenever `held` or `held_reads` grows.
    pub(super) held_changed: Condvar,
    /// Released by each `release_transfers`; held transfers wait for it.
    pub(super) release: Release,
    /// Released by each `release_account_reads`; held reads wait for it.
    pub(super) release_reads: Release,
}

impl Shared {
    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
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
    /// A held transfer or account read: answer `Reply` (as it was when the
    /// request came) once its hold is released.
    Held(Reply, Hold),
}

/// The one handler: serves the fake's routes, forwards everything else.
pub(super) async fn handle(
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
        Outcome::Held(reply, hold) => {
            hold.released().await;
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
        return Outcome::Held(reply, shared.release.hold());
    }
    if matches!(route, Route::GetAccount(_)) && succeeded && state.reads_to_hold > 0 {
        state.reads_to_hold -= 1;
        state.held_reads += 1;
        shared.held_changed.notify_all();
        return Outcome::Held(reply, shared.release_reads.hold());
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
