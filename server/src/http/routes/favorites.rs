//! Favorites: save an expert, forget one, list one's saved experts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_models::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, SignedIn, page_request, parse_id};
use crate::http::views::PublicProfile;
use crate::http::{AppState, blocking};

/// `/v1/favorites`: the caller's saved experts.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_favorites))
        .routes(routes!(add_favorite_expert, remove_favorite_expert))
}

/// A saved expert, as answered by `POST /v1/favorites/{expert_id}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct FavoriteView {
    /// The saved expert's id.
    #[schema(value_type = u64)]
    expert_id: UserId,
    /// When it was saved.
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
}

/// `POST /v1/favorites/{expert_id}`: saves an expert; 201, or 409 when
/// already saved.
#[utoipa::path(
    post,
    path = "/v1/favorites/{expert_id}",
    tag = "favorites",
    summary = "Save an expert",
    description = "Records a `favorite` interaction in the same transaction.",
    security(("bearer" = [])),
    params(("expert_id" = u64, Path, description = "The expert's user id")),
    responses(
        (status = 201, description = "Saved", body = FavoriteView),
        (status = 400, description = "`invalid_parameter`, or `invalid_input` for oneself", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user, or not an expert", body = ErrorBody),
        (status = 409, description = "`conflict`: already saved", body = ErrorBody),
    )
)]
pub async fn add_favorite_expert(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(raw): ApiPath<String>,
) -> Result<(StatusCode, Json<FavoriteView>), ApiError> {
    let expert: UserId = parse_id(&raw, "expert")?;
    let favorite = blocking(&state, move |engine| engine.add_favorite(user, expert)).await?;
    Ok((
        StatusCode::CREATED,
        Json(FavoriteView {
            expert_id: favorite.favorited_user_id,
            created_at: favorite.created_at,
        }),
    ))
}

/// `DELETE /v1/favorites/{expert_id}`: forgets a saved expert; 204, or 404
/// when it was not saved.
#[utoipa::path(
    delete,
    path = "/v1/favorites/{expert_id}",
    tag = "favorites",
    summary = "Forget a saved expert",
    description = "Records an `unfavorite` interaction in the same transaction.",
    security(("bearer" = [])),
    params(("expert_id" = u64, Path, description = "The expert's user id")),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: not saved", body = ErrorBody),
    )
)]
pub async fn remove_favorite_expert(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(raw): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let expert: UserId = parse_id(&raw, "expert")?;
    blocking(&state, move |engine| engine.remove_favorite(user, expert)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /v1/favorites`; other parameters are ignored, as on
/// every list route.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListFavoritesQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of saved experts.
#[derive(Debug, Serialize, ToSchema)]
pub struct FavoritePage {
    experts: Vec<PublicProfile>,
    next_cursor: Option<String>,
}

/// `GET /v1/favorites?limit=&cursor=`: the caller's saved experts as public
/// profiles, oldest saved first.
#[utoipa::path(
    get,
    path = "/v1/favorites",
    tag = "favorites",
    summary = "List saved experts",
    description = "The caller's saved experts as public profiles, oldest saved first.",
    security(("bearer" = [])),
    params(ListFavoritesQuery),
    responses(
        (status = 200, description = "A page of saved experts", body = FavoritePage),
        (status = 400, description = "`invalid_parameter`: bad limit or cursor", body = ErrorBody),
    )
)]
pub async fn list_favorites(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(query): ApiQuery<ListFavoritesQuery>,
) -> Result<Json<FavoritePage>, ApiError> {
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| {
        engine.favorite_experts(user, &page_request)
    })
    .await?;
    Ok(Json(FavoritePage {
        experts: page.items.iter().map(PublicProfile::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}
