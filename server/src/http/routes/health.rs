//! Liveness and readiness probes. Readiness is read from the engine at most once a second
//! (a `Snapshot`), so a burst of probes, which anyone may send, costs one store read.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use droply_engine::{Engine, Readiness};
use serde_json::{Value, json};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::snapshot::Snapshot;
use crate::http::{AppState, blocking};

/// `GET /health` and `GET /ready`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(health))
        .routes(routes!(ready))
}

/// `GET /health`: the process answers.
#[utoipa::path(
    get,
    path = "/health",
    tag = "operations",
    summary = "Liveness probe",
    responses((status = 200, description = "The process answers: `{\"status\": \"ok\"}`", body = Object))
)]
pub async fn health() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// `GET /ready`: the store is open, readable and taking writes, and the search index (when
/// this server serves search) has caught up with the store once. The answer is read from the
/// engine at most once a second (a `ReadySnapshot`), however many probes come: it may be up
/// to a second old, so a store that stops taking writes, or an index being rebuilt, is
/// reported within about a second.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "operations",
    summary = "Readiness probe",
    description = "Read from the engine at most once a second, whatever the number of probes: an answer is up to a second old.",
    responses(
        (status = 200, description = "The store is open and readable and search has caught up: `{\"status\": \"ready\"}`, with `\"search\": {\"applied_seq\": N, \"indexed_experts\": N}` when the server serves search, and `\"background_jobs\": \"running\"` or `\"standby\"` when it has store-wide jobs (of the nodes sharing one PostgreSQL database, one runs them)", body = Object),
        (status = 503, description = "`search_unavailable`: the search index is still loading or catching up with the store; `store_unavailable`: a disk sync failed and the store takes no writes until the server is restarted", body = ErrorBody),
    )
)]
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let answer = match state.ready.fresh() {
        Some(answer) => answer,
        None => {
            let probe = Arc::clone(&state.ready);
            blocking(&state, move |engine| {
                Ok(probe.get(|| read_readiness(engine)))
            })
            .await?
        }
    };
    answer.map(Json).map_err(Refusal::into_error)
}

/// `/ready`'s answer, read at most once per [`SNAPSHOT_EVERY`](crate::http::snapshot::SNAPSHOT_EVERY).
pub(crate) type ReadySnapshot = Snapshot<ReadyAnswer>;

/// `/ready`'s body, or why the server is not ready.
pub(crate) type ReadyAnswer = Result<Value, Refusal>;

/// A refusal kept to be answered again: the parts of an [`ApiError`] a readiness failure has.
#[derive(Debug, Clone)]
pub(crate) struct Refusal {
    code: ErrorCode,
    message: String,
    retry_after_secs: Option<u64>,
}

impl Refusal {
    fn of(error: &ApiError) -> Self {
        Refusal {
            code: error.code(),
            message: error.message().to_owned(),
            retry_after_secs: error.retry_after_secs(),
        }
    }

    fn into_error(self) -> ApiError {
        let error = ApiError::new(self.code, self.message);
        match self.retry_after_secs {
            Some(secs) => error.with_retry_after(secs),
            None => error,
        }
    }
}

/// Asks the engine whether it is ready. The body says whether the server serves (and how
/// far search has got), never how many users the store holds: it is answered to anyone.
fn read_readiness(engine: &Engine) -> ReadyAnswer {
    let readiness = engine
        .readiness()
        .map_err(|err| Refusal::of(&ApiError::from(err)))?;
    Ok(ready_body(&readiness))
}

/// The body of a ready answer.
fn ready_body(readiness: &Readiness) -> Value {
    let mut body = json!({"status": "ready"});
    if let Some(leads) = readiness.leads_store_jobs {
        body["background_jobs"] = json!(if leads { "running" } else { "standby" });
    }
    if let Some(search) = &readiness.search {
        body["search"] = json!({
            "applied_seq": search.applied_seq,
            "indexed_experts": search.indexed_experts,
        });
    }
    body
}

#[cfg(test)]
mod tests {
    use droply_engine::SearchReadinessInfo;

    use super::*;

    #[test]
    fn ready_does_not_publish_the_user_count() {
        let body = ready_body(&Readiness {
            search: Some(SearchReadinessInfo {
                applied_seq: 7,
                indexed_experts: 3,
            }),
            leads_store_jobs: Some(true),
        });
        assert_eq!(
            body,
            json!({
                "status": "ready",
                "background_jobs": "running",
                "search": {"applied_seq": 7, "indexed_experts": 3},
            })
        );
    }

    #[test]
    fn a_kept_refusal_is_answered_with_its_code_and_wait() {
        let kept = Refusal::of(&ApiError::new(ErrorCode::Overloaded, "busy").with_retry_after(2));
        let again = kept.into_error();
        assert_eq!(again.code(), ErrorCode::Overloaded);
        assert_eq!(again.message(), "busy");
        assert_eq!(again.retry_after_secs(), Some(2));
    }
}
