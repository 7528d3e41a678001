//! Matches: a signed-in search whose results are kept as AIMatch rows (query,
//! score, reasons), and the owner's feedback on them (viewed, acted upon).

use axum::Json;
use axum::extract::State;
use droply_engine::matching::{MatchFeedback, SearchRequest};
use droply_models::{AiMatch, AiMatchId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, ApiPath, SignedIn, parse_id};
use crate::http::large_json::LargeJson;
use crate::http::views::{MatchReasonView, PublicProfile, reason_views};
use crate::http::{AppState, blocking};

use super::search::FilterSchema;

/// `POST /v1/matches` and the feedback on a stored match.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_matches))
        .routes(routes!(mark_match_viewed))
        .routes(routes!(mark_match_acted))
}

/// Body of `POST /v1/matches`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct MatchBody {
    /// What the caller is looking for.
    q: Option<String>,
    /// A filter, as in `POST /v1/search`.
    #[schema(value_type = Option<FilterSchema>)]
    filter: Option<Value>,
    /// Matches returned and stored, 1 to 20 (default 20).
    limit: Option<usize>,
    /// Matches skipped, at most 200 (default 0).
    offset: Option<usize>,
    /// 0 ranks by words only, 1 by meaning only (default 0.5).
    semantic_ratio: Option<f32>,
    /// The currency of `hourly_rate` bounds in `filter` (ISO 4217).
    currency: Option<String>,
}

/// One stored match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchView {
    /// The match's id (for `/v1/matches/{id}/viewed` and `/acted`).
    pub id: u64,
    /// The expert found.
    pub expert: PublicProfile,
    /// How good a match, 0 to 1.
    pub match_score: f32,
    /// Why, strongest first.
    pub match_reasons: Vec<MatchReasonView>,
}

/// The answer of `POST /v1/matches`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchList {
    /// Best first.
    pub matches: Vec<MatchView>,
}

/// What the owner did with a match.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MatchFeedbackView {
    /// The match.
    pub id: u64,
    /// The expert matched.
    pub expert_id: u64,
    /// The owner opened the expert.
    pub is_viewed: bool,
    /// The owner acted on it (contacted, booked, ...).
    pub is_acted_upon: bool,
}

impl From<&AiMatch> for MatchFeedbackView {
    fn from(row: &AiMatch) -> Self {
        MatchFeedbackView {
            id: row.id.get(),
            expert_id: row.matched_user_id.get(),
            is_viewed: row.is_viewed,
            is_acted_upon: row.is_acted_upon,
        }
    }
}

/// `POST /v1/matches`: searches for the caller and keeps the results.
#[utoipa::path(
    post,
    path = "/v1/matches",
    tag = "search",
    summary = "Find and keep matches",
    description = "Runs the search as `POST /v1/search` does, personalized for the caller, and stores one AIMatch per returned expert with its score and reasons (at most 500 a UTC day per account; an expert's impression is recorded once a day).",
    security(("bearer" = [])),
    request_body = MatchBody,
    responses(
        (status = 200, description = "The stored matches", body = MatchList),
        (status = 400, description = "`invalid_search_filter`, `invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 409, description = "`limit_reached`: the day's matches are stored already", body = ErrorBody),
        (status = 503, description = "`search_unavailable`: this server runs without search", body = ErrorBody),
    )
)]
pub async fn create_matches(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<MatchBody>,
) -> Result<LargeJson<MatchList>, ApiError> {
    let request = SearchRequest {
        q: body.q,
        filter: body.filter,
        currency: body.currency,
        limit: body.limit,
        offset: body.offset,
        semantic_ratio: body.semantic_ratio,
        ..SearchRequest::default()
    };
    let matched = blocking(&state, move |engine| engine.create_matches(request, user)).await?;
    let matches = matched
        .iter()
        .map(|(hit, row)| MatchView {
            id: row.id.get(),
            expert: PublicProfile::from(&*hit.expert),
            match_score: row.match_score,
            match_reasons: reason_views(&row.match_reasons),
        })
        .collect();
    Ok(LargeJson(MatchList { matches }))
}

async fn feedback(
    state: AppState,
    user: SignedIn,
    id: &str,
    feedback: MatchFeedback,
) -> Result<Json<MatchFeedbackView>, ApiError> {
    let id: AiMatchId = parse_id(id, "match")?;
    let row = blocking(&state, move |engine| {
        engine.match_feedback(user.0, id, feedback)
    })
    .await?;
    Ok(Json(MatchFeedbackView::from(&row)))
}

/// `POST /v1/matches/{id}/viewed`: the caller opened the matched expert.
#[utoipa::path(
    post,
    path = "/v1/matches/{id}/viewed",
    tag = "search",
    summary = "Mark a match viewed",
    description = "Idempotent; records a `view` interaction on the expert the first time. Only the match's owner may; others get 404.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The match's id")),
    responses(
        (status = 200, description = "The match's state", body = MatchFeedbackView),
        (status = 400, description = "`invalid_parameter`: the id is not a number", body = ErrorBody),
        (status = 404, description = "`not_found`: no such match of the caller's", body = ErrorBody),
    )
)]
pub async fn mark_match_viewed(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MatchFeedbackView>, ApiError> {
    feedback(state, user, &id, MatchFeedback::Viewed).await
}

/// `POST /v1/matches/{id}/acted`: the caller acted on the match.
#[utoipa::path(
    post,
    path = "/v1/matches/{id}/acted",
    tag = "search",
    summary = "Mark a match acted upon",
    description = "Idempotent; also marks it viewed, and records a `click` interaction on the expert the first time. Only the match's owner may; others get 404.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The match's id")),
    responses(
        (status = 200, description = "The match's state", body = MatchFeedbackView),
        (status = 400, description = "`invalid_parameter`: the id is not a number", body = ErrorBody),
        (status = 404, description = "`not_found`: no such match of the caller's", body = ErrorBody),
    )
)]
pub async fn mark_match_acted(
    State(state): State<AppState>,
    user: SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<MatchFeedbackView>, ApiError> {
    feedback(state, user, &id, MatchFeedback::Acted).await
}
