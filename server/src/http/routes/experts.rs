//! Expert profiles: read one, list a page.

use axum::Json;
use axum::extract::State;
use droply_models::UserId;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, page_request, parse_id};
use crate::http::views::PublicProfile;
use crate::http::{AppState, blocking};

/// `GET /v1/experts` and `GET /v1/experts/{id}`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_experts))
        .routes(routes!(get_expert))
}

/// `GET /v1/experts/{id}`: the public profile of an expert.
#[utoipa::path(
    get,
    path = "/v1/experts/{id}",
    tag = "experts",
    summary = "An expert's public profile",
    description = "Never the email, phone, password hash, tokens, Stripe ids or balances.",
    params(("id" = u64, Path, description = "The expert's user id")),
    responses(
        (status = 200, description = "The public profile", body = PublicProfile),
        (status = 400, description = "`invalid_parameter`: the id is not a number", body = ErrorBody),
        (status = 404, description = "`not_found`: no such user, or not an expert", body = ErrorBody),
    )
)]
pub async fn get_expert(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<PublicProfile>, ApiError> {
    let id: UserId = parse_id(&id, "expert")?;
    let user = blocking(&state, move |engine| engine.expert(id)).await?;
    Ok(Json(PublicProfile::from(&user)))
}

/// Query of `GET /v1/experts`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 100 (default 20).
    limit: Option<usize>,
    /// `next_cursor` of the previous page.
    cursor: Option<String>,
}

/// A page of experts.
#[derive(Debug, Serialize, ToSchema)]
pub struct ExpertPage {
    experts: Vec<PublicProfile>,
    next_cursor: Option<String>,
}

/// `GET /v1/experts?limit=&cursor=`: experts in id order.
#[utoipa::path(
    get,
    path = "/v1/experts",
    tag = "experts",
    summary = "List experts",
    description = "Public profiles of experts in id order, a page at a time.",
    params(ListQuery),
    responses(
        (status = 200, description = "A page of experts", body = ExpertPage),
        (status = 400, description = "`invalid_parameter`: bad limit or cursor", body = ErrorBody),
    )
)]
pub async fn list_experts(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ExpertPage>, ApiError> {
    let page_request = page_request(query.limit, query.cursor)?;
    let page = blocking(&state, move |engine| engine.list_experts(&page_request)).await?;
    Ok(Json(ExpertPage {
        experts: page.items.iter().map(PublicProfile::from).collect(),
        next_cursor: page.next.map(|c| c.to_string()),
    }))
}
