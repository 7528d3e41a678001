//! The request budget: at most `max_in_flight` requests are handled at
//! once, and each gets at most the request timeout. A request over the
//! in-flight limit is answered `503 overloaded` with `Retry-After` at once
//! rather than queued; one that runs out of time (reading its body
//! included) is answered `503 request_timeout`. Content uploads get the
//! longer upload timeout instead. Health, readiness and metrics are never
//! refused, so probes and scrapes still answer under load.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::Semaphore;

use crate::http::error::{ApiError, ErrorCode};

/// Seconds a request refused as overloaded is told to wait.
pub const OVERLOADED_RETRY_AFTER_SECS: u64 = 1;

/// Routes answered whatever the load.
const ALWAYS_ANSWERED: &[&str] = &["/health", "/ready", "/metrics"];

/// Routes that take a file upload as their body.
const UPLOADS: &[&str] = &["/v1/content/{id}/file", "/v1/content/{id}/preview"];

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
    let _permit = if exempt {
        None
    } else {
        match Arc::clone(&budget.in_flight).try_acquire_owned() {
            Ok(permit) => Some(permit),
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
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::new(
            ErrorCode::RequestTimeout,
            format!(
                "the request was not answered within {} ms",
                timeout.as_millis()
            ),
        )
        .into_response(),
    }
}
