//! Accounts: sign up, sign in, sign out.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_engine::accounts::{
    Registration, login as engine_login, logout as engine_logout, register,
};
use droply_models::Timestamp;
use serde::{Deserialize, Serialize};

use super::account_view::AccountView;
use super::bearer::BearerToken;
use super::error::ApiError;
use super::json_body::ApiJson;
use super::{AppState, blocking};

/// Body of `POST /v1/auth/register`. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    username: String,
    email: String,
    password: String,
    full_name: String,
    currency: Option<String>,
    timezone: Option<String>,
    language: Option<String>,
}

/// Answer of `POST /v1/auth/register`.
#[derive(Debug, Serialize)]
pub struct RegisteredAnswer {
    token: String,
    expires_at: Timestamp,
    user: AccountView,
}

/// `POST /v1/auth/register`: creates an account and signs it in.
pub async fn register_account(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<RegisterBody>,
) -> Result<(StatusCode, Json<RegisteredAnswer>), ApiError> {
    let registration = Registration {
        username: body.username,
        email: body.email,
        password: body.password,
        full_name: body.full_name,
        currency: body.currency,
        timezone: body.timezone,
        language: body.language,
    };
    let store = state.store.clone();
    let (user, token) = blocking(move || register(&store, &registration)).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisteredAnswer {
            token: token.token,
            expires_at: token.expires_at,
            user: AccountView::from(&user),
        }),
    ))
}

/// Body of `POST /v1/auth/login`. No `Debug`: it holds a password.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    email: String,
    password: String,
}

/// Answer of `POST /v1/auth/login`.
#[derive(Debug, Serialize)]
pub struct TokenAnswer {
    token: String,
    expires_at: Timestamp,
}

/// `POST /v1/auth/login`: a new bearer token for a matching email and password.
pub async fn login(
    State(state): State<AppState>,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<TokenAnswer>, ApiError> {
    let store = state.store.clone();
    let throttle = state.login_throttle.clone();
    let token =
        blocking(move || engine_login(&store, &throttle, &body.email, &body.password)).await?;
    Ok(Json(TokenAnswer {
        token: token.token,
        expires_at: token.expires_at,
    }))
}

/// `POST /v1/auth/logout`: ends the session of the token sent.
pub async fn logout(
    State(state): State<AppState>,
    BearerToken(token): BearerToken,
) -> Result<StatusCode, ApiError> {
    let store = state.store.clone();
    blocking(move || engine_logout(&store, &token)).await?;
    Ok(StatusCode::NO_CONTENT)
}
