//! The owner's own account: read it, and change the fields they may set.

use axum::Json;
use axum::extract::State;
use droply_engine::accounts::{ProfileUpdate, update_profile};

use super::account_view::AccountView;
use super::bearer::SignedIn;
use super::error::ApiError;
use super::json_body::ApiJson;
use super::{AppState, blocking};

/// `GET /v1/users/me`: the caller's account as its owner sees it.
pub async fn get_own_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<AccountView>, ApiError> {
    let store = state.store.clone();
    let row = blocking(move || store.users().get(user)).await?;
    Ok(Json(AccountView::from(&row)))
}

/// `PATCH /v1/users/me`: changes allowlisted profile fields; any other
/// field (system-set or unknown) is refused with `invalid_input`.
pub async fn update_own_account(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiJson(update): ApiJson<ProfileUpdate>,
) -> Result<Json<AccountView>, ApiError> {
    let store = state.store.clone();
    let row = blocking(move || update_profile(&store, user, update)).await?;
    Ok(Json(AccountView::from(&row)))
}
