//! Favorites: save an expert, forget one, list one's saved experts.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use droply_engine::accounts::{add_favorite, favorite_experts, remove_favorite};
use droply_models::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::bearer::SignedIn;
use super::error::ApiError;
use super::paging::page_request;
use super::query::{ApiQuery, parse_id};
use super::{AppState, PublicProfile, blocking};

/// A saved expert, as answered by `POST /v1/favorites/{expert_id}`.
#[derive(Debug, Serialize)]
pub struct FavoriteView {
    /// The saved expert's id.
    expert_id: UserId,
    /// When it was saved.
    created_at: Timestamp,
}

/// `POST /v1/favorites/{expert_id}`: saves an expert; 201, or 409 when
/// already saved.
pub async fn add_favorite_expert(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(raw): Path<String>,
) -> Result<(StatusCode, Json<FavoriteView>), ApiError> {
    let expert: UserId = parse_id(&raw, "expert")?;
    let store = state.store.clone();
    let favorite = blocking(move || add_favorite(&store, user, expert)).await?;
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
pub async fn remove_favorite_expert(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    Path(raw): Path<String>,
) -> Result<StatusCode, ApiError> {
    let expert: UserId = parse_id(&raw, "expert")?;
    let store = state.store.clone();
    blocking(move || remove_favorite(&store, user, expert)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Query of `GET /v1/favorites`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListFavoritesQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A page of saved experts.
#[derive(Debug, Serialize)]
pub struct FavoritePage {
    experts: Vec<PublicProfile>,
    next_cursor: Option<String>,
}

/// `GET /v1/favorites?limit=&cursor=`: the caller's saved experts as public
/// profiles, oldest saved first.
pub async fn list_favorites(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiQuery(query): ApiQuery<ListFavoritesQuery>,
) -> Result<Json<FavoritePage>, ApiError> {
    let page_request = page_request(query.limit, query.cursor)?;
    let store = state.store.clone();
    let page = blocking(move || favorite_experts(&store, user, &page_request)).await?;
    Ok(Json(FavoritePage {
        experts: page.items.iter().map(PublicProfile::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}
