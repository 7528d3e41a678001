//! Experts without a query: those similar to an expert, those trending this
//! week, and those picked for the caller from their history.

use axum::extract::State;
use droply_engine::Recommendation;
use droply_engine::matching::MAX_RECOMMENDATIONS;
use droply_models::UserId;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiPath, ApiQuery, MaybeSignedIn, parse_id};
use crate::http::large_json::LargeJson;
use crate::http::views::RankedExpertList;
use crate::http::{AppState, blocking};

/// `GET /v1/experts/{id}/similar` and `GET /v1/recommendations`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_similar_experts))
        .routes(routes!(list_recommendations))
}

/// How many experts a list holds when the request names no limit.
const DEFAULT_LIMIT: usize = 10;

/// The list size asked, checked.
fn list_limit(limit: Option<usize>) -> Result<usize, ApiError> {
    let limit = limit.unwrap_or(DEFAULT_LIMIT);
    if (1..=MAX_RECOMMENDATIONS).contains(&limit) {
        Ok(limit)
    } else {
        Err(ApiError::new(
            ErrorCode::InvalidParameter,
            format!("limit must be between 1 and {MAX_RECOMMENDATIONS}"),
        ))
    }
}

/// Query of `GET /v1/experts/{id}/similar`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SimilarQuery {
    /// Experts returned, 1 to 50 (default 10).
    limit: Option<usize>,
}

/// `GET /v1/experts/{id}/similar`: experts like this one.
#[utoipa::path(
    get,
    path = "/v1/experts/{id}/similar",
    tag = "search",
    summary = "Experts similar to one",
    description = "The experts whose profiles are closest in meaning to this expert's, re-ranked by quality and engagement. Anonymous callers are served; a bearer token that is sent must be valid.",
    params(("id" = u64, Path, description = "The expert's user id"), SimilarQuery),
    responses(
        (status = 200, description = "Similar experts, best first", body = RankedExpertList),
        (status = 400, description = "`invalid_parameter`: the id or limit is malformed", body = ErrorBody),
        (status = 401, description = "`unauthorized`: a bearer token was sent but is not valid", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user, or not an expert", body = ErrorBody),
        (status = 503, description = "`search_unavailable`: this server runs without search", body = ErrorBody),
    )
)]
pub async fn list_similar_experts(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ApiPath(id): ApiPath<String>,
    ApiQuery(query): ApiQuery<SimilarQuery>,
) -> Result<LargeJson<RankedExpertList>, ApiError> {
    let expert: UserId = parse_id(&id, "expert")?;
    let limit = list_limit(query.limit)?;
    let similar = blocking(&state, move |engine| {
        engine.similar_experts(expert, limit, viewer)
    })
    .await?;
    Ok(LargeJson(RankedExpertList::of(&similar)))
}

/// Which recommendations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RecommendationKind {
    /// Picked from the caller's history (needs sign-in).
    ForYou,
    /// The most engaged-with experts of the last week.
    Trending,
}

/// Query of `GET /v1/recommendations`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RecommendationQuery {
    /// `for_you` (needs sign-in; the default when signed in) or `trending` (the
    /// default otherwise).
    #[param(value_type = Option<String>)]
    kind: Option<RecommendationKind>,
    /// Experts returned, 1 to 50 (default 10).
    limit: Option<usize>,
}

/// `GET /v1/recommendations?kind=for_you|trending&limit=`: experts without a query.
#[utoipa::path(
    get,
    path = "/v1/recommendations",
    tag = "search",
    summary = "Recommended experts",
    description = "`for_you` picks experts from the caller's favorites, bookings and views (trending when there is no history yet) and needs a bearer token; `trending` ranks by engagement over the last week and is open to anyone. Without `kind`: `for_you` when signed in, else `trending`.",
    params(RecommendationQuery),
    responses(
        (status = 200, description = "Recommended experts, best first", body = RankedExpertList),
        (status = 400, description = "`invalid_parameter`: an unknown kind or a bad limit", body = ErrorBody),
        (status = 401, description = "`unauthorized`: `for_you` without a valid bearer token, or an invalid token sent", body = ErrorBody),
        (status = 503, description = "`search_unavailable`: this server runs without search", body = ErrorBody),
    )
)]
pub async fn list_recommendations(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ApiQuery(query): ApiQuery<RecommendationQuery>,
) -> Result<LargeJson<RankedExpertList>, ApiError> {
    let limit = list_limit(query.limit)?;
    let kind = query.kind.unwrap_or(if viewer.is_some() {
        RecommendationKind::ForYou
    } else {
        RecommendationKind::Trending
    });
    let kind = match (kind, viewer) {
        (RecommendationKind::ForYou, Some(viewer)) => Recommendation::ForYou(viewer),
        (RecommendationKind::ForYou, None) => {
            return Err(ApiError::new(
                ErrorCode::Unauthorized,
                "sign in first: `for_you` recommendations come from one's own history",
            ));
        }
        (RecommendationKind::Trending, viewer) => Recommendation::Trending { viewer },
    };
    let experts = blocking(&state, move |engine| engine.recommendations(kind, limit)).await?;
    Ok(LargeJson(RankedExpertList::of(&experts)))
}
