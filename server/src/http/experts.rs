//! Expert profiles: read one, list a page.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use droply_models::UserId;
use serde::{Deserialize, Serialize};

use super::error::{ApiError, ErrorCode};
use super::paging::page_request;
use super::{AppState, PublicProfile, blocking};

/// `GET /v1/experts/{id}`: the public profile of an expert.
pub async fn get_expert(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<PublicProfile>, ApiError> {
    let id: UserId = id.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("{id:?} is not an expert id"),
        )
    })?;
    let store = state.store.clone();
    let user = blocking(move || store.users().get(id)).await?;
    if user.profession.is_empty() {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("expert {id} not found"),
        ));
    }
    Ok(Json(PublicProfile::from(&user)))
}

/// Query of `GET /v1/experts`.
#[derive(Debug, Deserialize)]
pub struct ListQuery {
    limit: Option<usize>,
    cursor: Option<String>,
}

/// A page of experts.
#[derive(Debug, Serialize)]
pub struct ExpertPage {
    experts: Vec<PublicProfile>,
    next_cursor: Option<String>,
}

/// `GET /v1/experts?limit=&cursor=`: experts in id order.
pub async fn list_experts(
    State(state): State<AppState>,
    query: Result<Query<ListQuery>, QueryRejection>,
) -> Result<Json<ExpertPage>, ApiError> {
    let Query(query) =
        query.map_err(|err| ApiError::new(ErrorCode::InvalidParameter, err.body_text()))?;
    let page_request = page_request(query.limit, query.cursor)?;
    let store = state.store.clone();
    let page = blocking(move || store.users().list(&page_request)).await?;
    Ok(Json(ExpertPage {
        experts: page
            .items
            .iter()
            .filter(|u| !u.profession.is_empty())
            .map(PublicProfile::from)
            .collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}
