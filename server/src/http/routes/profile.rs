//! The owner's own account: read it, and change the fields they may set.

use axum::Json;
use axum::extract::State;
use droply_engine::accounts::ProfileUpdate;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, SignedIn};
use crate::http::views::AccountView;
use crate::http::views::model_schemas::ProfileUpdateSchema;
use crate::http::{AppState, blocking};

/// `GET` and `PATCH /v1/users/me`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_own_account, update_own_account))
}

/// `GET /v1/users/me`: the caller's account as its owner sees it.
#[utoipa::path(
    get,
    path = "/v1/users/me",
    tag = "accounts",
    summary = "One's own account",
    description = "Profile, branding, pricing and settings; never the password hash, tokens, Stripe or Google credentials.",
    security(("bearer" = [])),
    responses((status = 200, description = "The owner's view", body = AccountView))
)]
pub async fn get_own_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<AccountView>, ApiError> {
    let row = blocking(&state, move |engine| engine.account(user)).await?;
    Ok(Json(AccountView::from(&row)))
}

/// `PATCH /v1/users/me`: changes allowlisted profile fields; any other
/// field (system-set or unknown) is refused with `invalid_input`.
#[utoipa::path(
    patch,
    path = "/v1/users/me",
    tag = "accounts",
    summary = "Change one's own account",
    description = "Changes only the allowlisted fields; any other field is refused with 400 `invalid_input` naming it. `null` clears the optional ones.",
    security(("bearer" = [])),
    request_body = ProfileUpdateSchema,
    responses(
        (status = 200, description = "The changed account", body = AccountView),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
    )
)]
pub async fn update_own_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(update): ApiJson<ProfileUpdate>,
) -> Result<Json<AccountView>, ApiError> {
    let row = blocking(&state, move |engine| engine.update_profile(user, update)).await?;
    Ok(Json(AccountView::from(&row)))
}
