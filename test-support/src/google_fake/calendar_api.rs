//! The fake's Calendar API: FreeBusy (the busy intervals the test set and
//! every event not shown free, its answer held when asked), and creating,
//! reading, patching and deleting events (each keeps its private extended
//! property `droply`). Every call checks its access token (401 otherwise)
//! and answers 503 while failures are asked for, or 401 while refusals are;
//! a creation can be made and its answer lost.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::{FakeEvent, Inner, api_error, lock};

/// A 503 while failures are asked for (counted down), logged as `failed`;
/// else a 401 while refusals are (counted down), logged as `refused`.
fn injected_failure(inner: &mut Inner) -> Option<Response> {
    if inner.failing_api_calls == 0 && inner.refused_api_calls > 0 {
        inner.refused_api_calls -= 1;
        inner.log.push(("refused".to_owned(), String::new()));
        return Some(api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials"));
    }
    if inner.failing_api_calls == 0 {
        return None;
    }
    inner.failing_api_calls -= 1;
    inner.log.push(("failed".to_owned(), String::new()));
    Some(api_error(StatusCode::SERVICE_UNAVAILABLE, "Backend Error"))
}

/// The bearer token, if it is a valid access token.
fn authorized(inner: &Inner, headers: &HeaderMap) -> Option<String> {
    let token = headers
        .get("authorization")?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")?
        .to_owned();
    inner.access.contains(&token).then_some(token)
}

/// `POST /calendar/v3/freeBusy`: [`answer_free_busy`], sent once any hold
/// on it is released.
pub(super) async fn free_busy(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (answer, hold) = answer_free_busy(&inner, &headers, &body);
    if let Some(hold) = hold {
        // Released by a send or by the sender's drop: either way, answer now.
        let _ = hold.await;
    }
    answer
}

/// FreeBusy's answer as things stand when the request arrives (under the
/// lock), and the hold to wait for before sending it, if one was asked for.
fn answer_free_busy(
    inner: &Mutex<Inner>,
    headers: &HeaderMap,
    body: &[u8],
) -> (Response, Option<tokio::sync::oneshot::Receiver<()>>) {
    let mut inner = lock(inner);
    if let Some(failure) = injected_failure(&mut inner) {
        return (failure, None);
    }
    let Some(token) = authorized(&inner, headers) else {
        inner.log.push(("unauthorized".to_owned(), String::new()));
        return (
            api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials"),
            None,
        );
    };
    inner.log.push(("freebusy".to_owned(), token));
    let request: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    if !request["timeMin"].is_string() || !request["timeMax"].is_string() {
        return (
            api_error(StatusCode::BAD_REQUEST, "timeMin and timeMax are required"),
            None,
        );
    }
    // The busy times set, and every event that is not shown free (as
    // Google answers: an event is busy unless it says otherwise).
    let busy: Vec<Value> = inner
        .busy
        .iter()
        .map(|(s, e)| json!({"start": s, "end": e}))
        .chain(
            inner
                .events
                .values()
                .filter(|event| !event.transparent)
                .map(|event| json!({"start": event.start, "end": event.end})),
        )
        .collect();
    let answer = axum::Json(json!({
        "kind": "calendar#freeBusy",
        "timeMin": request["timeMin"],
        "timeMax": request["timeMax"],
        "calendars": {"primary": {"busy": busy}},
    }))
    .into_response();
    let hold = inner.free_busy_hold.take();
    if hold.is_some() {
        inner.log.push(("freebusy-held".to_owned(), String::new()));
    }
    (answer, hold)
}

/// Event `id` as `body` sets it, the fields it leaves out kept from `old`.
fn event_from(id: &str, body: &Value, old: Option<&FakeEvent>) -> FakeEvent {
    let text = |pointer: &str, fallback: Option<&String>| {
        body.pointer(pointer)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| fallback.cloned())
            .unwrap_or_default()
    };
    FakeEvent {
        id: id.to_owned(),
        summary: text("/summary", old.map(|e| &e.summary)),
        start: text("/start/dateTime", old.map(|e| &e.start)),
        end: text("/end/dateTime", old.map(|e| &e.end)),
        transparent: match body.get("transparency").and_then(Value::as_str) {
            Some(value) => value == "transparent",
            None => old.is_some_and(|e| e.transparent),
        },
        owner: body
            .pointer("/extendedProperties/private/droply")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .or_else(|| old.and_then(|e| e.owner.clone())),
    }
}

/// `GET .../events/{id}`: the event, with its private `droply` property;
/// 404 when there is none under `id`.
pub(super) async fn get_event(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut inner = lock(&inner);
    if let Some(failure) = injected_failure(&mut inner) {
        return failure;
    }
    let Some(token) = authorized(&inner, &headers) else {
        inner.log.push(("unauthorized".to_owned(), String::new()));
        return api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials");
    };
    inner.log.push(("get".to_owned(), token));
    let Some(event) = inner.events.get(&id) else {
        return api_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let transparency = if event.transparent {
        "transparent"
    } else {
        "opaque"
    };
    let mut answer = json!({
        "id": event.id,
        "status": "confirmed",
        "summary": event.summary,
        "start": {"dateTime": event.start},
        "end": {"dateTime": event.end},
        "transparency": transparency,
    });
    if let Some(owner) = &event.owner {
        answer["extendedProperties"] = json!({"private": {"droply": owner}});
    }
    axum::Json(answer).into_response()
}

/// `POST .../events`: makes an event under the id the caller chose, or a
/// new one (and, while creations are to be lost, answers 503 after).
pub(super) async fn create_event(
    State(inner): State<Arc<Mutex<Inner>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = lock(&inner);
    if let Some(failure) = injected_failure(&mut inner) {
        return failure;
    }
    let Some(token) = authorized(&inner, &headers) else {
        inner.log.push(("unauthorized".to_owned(), String::new()));
        return api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials");
    };
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    if !body
        .pointer("/start/dateTime")
        .is_some_and(Value::is_string)
    {
        return api_error(StatusCode::BAD_REQUEST, "start is required");
    }
    // An id the caller chose is kept, and taken only once (409 after).
    let id = match body.get("id").and_then(Value::as_str) {
        Some(id) if inner.events.contains_key(id) => {
            return api_error(
                StatusCode::CONFLICT,
                "The requested identifier already exists.",
            );
        }
        Some(id) => id.to_owned(),
        None => inner.next("evt"),
    };
    inner.log.push(("create".to_owned(), token));
    let event = event_from(&id, &body, None);
    inner.events.insert(id.clone(), event);
    if inner.lost_creates > 0 {
        inner.lost_creates -= 1;
        inner.log.push(("lost".to_owned(), id));
        return api_error(StatusCode::SERVICE_UNAVAILABLE, "Backend Error");
    }
    axum::Json(json!({"id": id, "status": "confirmed"})).into_response()
}

/// `PATCH` or `PUT .../events/{id}`: changes the fields the body sets.
pub(super) async fn patch_event(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inner = lock(&inner);
    if let Some(failure) = injected_failure(&mut inner) {
        return failure;
    }
    let Some(token) = authorized(&inner, &headers) else {
        inner.log.push(("unauthorized".to_owned(), String::new()));
        return api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials");
    };
    inner.log.push(("patch".to_owned(), token));
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let Some(old) = inner.events.get(&id).cloned() else {
        return api_error(StatusCode::NOT_FOUND, "Not Found");
    };
    let event = event_from(&id, &body, Some(&old));
    inner.events.insert(id.clone(), event);
    axum::Json(json!({"id": id})).into_response()
}

/// `DELETE .../events/{id}`: 410 when the event is gone already.
pub(super) async fn delete_event(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let mut inner = lock(&inner);
    if let Some(failure) = injected_failure(&mut inner) {
        return failure;
    }
    let Some(token) = authorized(&inner, &headers) else {
        inner.log.push(("unauthorized".to_owned(), String::new()));
        return api_error(StatusCode::UNAUTHORIZED, "Invalid Credentials");
    };
    inner.log.push(("delete".to_owned(), token));
    if inner.events.remove(&id).is_none() {
        return api_error(StatusCode::GONE, "Resource has been deleted");
    }
    StatusCode::NO_CONTENT.into_response()
}
