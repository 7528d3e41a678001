//! The request budget: at most `max_in_flight` requests are handled at
//! once, and each gets at most the request timeout. A request over the
//! in-flight limit is answered `503 overloaded` with `Retry-After` at once
//! rather than queued; one that runs out of time (reading its body
//! included) is answered `503 request_timeout`. Content uploads get the
//! longer upload timeout instead. Health, readiness and metrics are never
//! refused, so probes and scrapes still answer under load.
//!
//! A timeout drops the handler, but not the blocking work it started on a
//! worker thread, which cannot be cancelled and runs on (a write may still
//! commit). So the request's in-flight permit is shared with that work
//! (`in_flight_share`, taken by `http::blocking`) and given back only
//! when the answer is sent and the work has ended: `max_in_flight` bounds
//! the worker threads really busy. A timed-out write is told it may still
//! complete.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::http::error::{ApiError, ErrorCode};

/// Seconds a request refused as overloaded is told to wait.
pub const OVERLOADED_RETRY_AFTER_SECS: u64 = 1;

/// Routes answered whatever the load.
const ALWAYS_ANSWERED: &[&str] = &["/health", "/ready", "/metrics"];

/// Routes that take a file upload as their body.
const UPLOADS: &[&str] = &["/v1/content/{id}/file", "/v1/content/{id}/preview"];

tokio::task_local! {
    /// The in-flight permit of the request this task is handling.
    static IN_FLIGHT: InFlight;
}

/// A share of one request's in-flight permit: the permit is given back
/// when the last share is dropped.
#[derive(Debug, Clone)]
pub(crate) struct InFlight {
    _permit: Arc<OwnedSemaphorePermit>,
}

/// A share of the in-flight permit of the request being handled on this
/// task, for work that may outlive its answer (blocking work runs on after
/// a timeout drops the handler); `None` outside a counted request (probes,
/// live connections after their upgrade).
pub(crate) fn in_flight_share() -> Option<InFlight> {
    IN_FLIGHT.try_with(InFlight::clone).ok()
}

/// The in-flight permits and the per-request time limit.
#[derive(Debug)]
pub struct RequestBudget {
    in_flight: Arc<Semaphore>,
    max_in_flight: usize,
    timeout: Duration,
    upload_timeout: Duration,
}

impl RequestBudget {
    /// At most `max_in_flight` requests at once (at least 1), each for at
    /// most `timeout` (uploads: `upload_timeout`).
    pub fn new(max_in_flight: usize, timeout: Duration, upload_timeout: Duration) -> Self {
        let max_in_flight = max_in_flight.max(1);
        RequestBudget {
            in_flight: Arc::new(Semaphore::new(max_in_flight)),
            max_in_flight,
            timeout,
            upload_timeout,
        }
    }

    /// Requests being handled now (those always answered not counted).
    pub fn in_flight(&self) -> usize {
        self.max_in_flight
            .saturating_sub(self.in_flight.available_permits())
    }
}

/// Handles a request within the budget. Added with `Router::layer`, so it
/// sees the matched route.
pub async fn within_budget(
    State(budget): State<Arc<RequestBudget>>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|route| route.as_str().to_owned());
    let exempt = route
        .as_deref()
        .is_some_and(|route| ALWAYS_ANSWERED.contains(&route));
    let timeout = if request.method() == axum::http::Method::PUT
        && route
            .as_deref()
            .is_some_and(|route| UPLOADS.contains(&route))
    {
        budget.upload_timeout
    } else {
        budget.timeout
    };
    let method = request.method();
    let write = method != Method::GET && method != Method::HEAD;
    let permit = if exempt {
        None
    } else {
        match Arc::clone(&budget.in_flight).try_acquire_owned() {
            Ok(permit) => Some(InFlight {
                _permit: Arc::new(permit),
            }),
            Err(_) => {
                return ApiError::new(
                    ErrorCode::Overloaded,
                    "the server is handling as many requests as it can; try again shortly",
                )
                .with_retry_after(OVERLOADED_RETRY_AFTER_SECS)
                .into_response();
            }
        }
    };
    let handled = next.run(request);
    let answered = match permit {
        Some(permit) => tokio::time::timeout(timeout, IN_FLIGHT.scope(permit, handled)).await,
        None => tokio::time::timeout(timeout, handled).await,
    };
    match answered {
        Ok(response) => response,
        Err(_) => {
            ApiError::new(ErrorCode::RequestTimeout, timed_out(timeout, write)).into_response()
        }
    }
}

/// What a request that ran out of `timeout` is told: a write may still
/// complete (its work runs on), so it is told to check before retrying.
fn timed_out(timeout: Duration, write: bool) -> String {
    let ms = timeout.as_millis();
    if write {
        format!(
            "the request took too long to answer (over {ms} ms); it may still complete: check before retrying (a booking or a payout retried with the same Idempotency-Key is not made twice)"
        )
    } else {
        format!("the request was not answered within {ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc::{Receiver, channel};
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use axum::Router;
    use axum::body::Body;
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::middleware::from_fn_with_state;
    use axum::routing::{get, post};
    use droply_engine::{Engine, EngineConfig, Store};
    use tower::ServiceExt;

    use super::{RequestBudget, within_budget};
    use crate::http::{AppState, blocking};

    /// A handler whose blocking work waits until `release` says so (or is
    /// dropped), under a budget of 4 requests of 100 ms each.
    fn app_waiting_on(release: Receiver<()>) -> (Router, Arc<RequestBudget>) {
        let store = Store::open_temporary().expect("store");
        let engine = Engine::over(store, EngineConfig::new("unused")).expect("engine");
        let budget = Arc::new(RequestBudget::new(
            4,
            Duration::from_millis(100),
            Duration::from_secs(60),
        ));
        let release = Arc::new(Mutex::new(release));
        let work = move |State(state): State<AppState>| {
            let release = Arc::clone(&release);
            async move {
                blocking(&state, move |_| {
                    let _ = release.lock().expect("release").recv();
                    Ok(())
                })
                .await
            }
        };
        let app = Router::new()
            .route("/work", post(work.clone()))
            .route("/read", get(work))
            .layer(from_fn_with_state(Arc::clone(&budget), within_budget))
            .with_state(AppState::new(engine));
        (app, budget)
    }

    async fn answer(app: &Router, method: &str, path: &str) -> (StatusCode, String) {
        let request = axum::http::Request::builder()
            .method(method)
            .uri(path)
            .body(Body::empty())
            .expect("request");
        let response = app.clone().oneshot(request).await.expect("answer");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    async fn wait_until_idle(budget: &RequestBudget) {
        let deadline = Instant::now() + Duration::from_secs(5);
        while budget.in_flight() != 0 {
            assert!(Instant::now() < deadline, "the permit never came back");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The timeout dropped the handler and gave the permit back while its
    /// work still ran on a worker thread (and could commit): the client was
    /// told "not answered", and `max_in_flight` no longer bounded the busy
    /// threads.
    #[tokio::test]
    async fn a_timed_out_write_keeps_its_in_flight_permit_until_its_work_ends() {
        let (release, released) = channel();
        let (app, budget) = app_waiting_on(released);
        let (status, body) = answer(&app, "POST", "/work").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("\"code\":\"request_timeout\""), "{body}");
        assert!(body.contains("it may still complete"), "{body}");
        assert!(body.contains("Idempotency-Key"), "{body}");
        assert_eq!(budget.in_flight(), 1, "the work still runs");
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(budget.in_flight(), 1, "the work still runs");
        release.send(()).expect("release");
        wait_until_idle(&budget).await;
    }

    #[tokio::test]
    async fn a_timed_out_read_is_told_it_was_not_answered() {
        let (release, released) = channel();
        let (app, budget) = app_waiting_on(released);
        let (status, body) = answer(&app, "GET", "/read").await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
        assert!(body.contains("\"code\":\"request_timeout\""), "{body}");
        assert!(body.contains("was not answered within 100 ms"), "{body}");
        assert!(!body.contains("may still complete"), "{body}");
        drop(release);
        wait_until_idle(&budget).await;
    }
}
