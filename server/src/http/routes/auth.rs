//! Accounts: sign up, sign in, sign out (of one session, or of every
//! session of the account at once).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_engine::accounts::Registration;
use droply_models::Timestamp;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, BearerToken, ClientAddr, SignedIn};
use crate::http::views::AccountView;
use crate::http::{AppState, blocking};

/// `POST /v1/auth/register`, `/login`, `/logout` and `/logout_all`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(register_account))
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(logout_all))
}

/// Body of `POST /v1/auth/register`. No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterBody {
    /// Wanted username.
    username: String,
    /// Login email.
    email: String,
    /// 8 to 128 characters; only a slow salted hash of it is kept.
    #[schema(min_length = 8, max_length = 128)]
    password: String,
    /// Display name.
    full_name: String,
    /// ISO 4217 code; USD when absent.
    #[schema(nullable = false)]
    currency: Option<String>,
    /// IANA time zone; UTC when absent.
    #[schema(nullable = false)]
    timezone: Option<String>,
    /// Language code; English when absent.
    #[schema(nullable = false)]
    language: Option<String>,
    /// The referral code of whoever brought you (from their `?ref=` link).
    #[schema(nullable = false)]
    referral_code: Option<String>,
}

/// Answer of `POST /v1/auth/register`.
#[derive(Debug, Serialize, ToSchema)]
pub struct RegisteredAnswer {
    /// Bearer token for `Authorization: Bearer ...`.
    token: String,
    /// When the token stops working.
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
    /// The new account, as its owner sees it.
    user: AccountView,
}

/// `POST /v1/auth/register`: creates an account and signs it in.
#[utoipa::path(
    post,
    path = "/v1/auth/register",
    tag = "accounts",
    summary = "Sign up",
    description = "Creates an account and signs it in.",
    request_body = RegisterBody,
    responses(
        (status = 201, description = "Signed up and signed in", body = RegisteredAnswer),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 409, description = "`conflict`: the username or email is taken", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
        (status = 429, description = "`rate_limited`: too many sign-ups and sign-ins from this address; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`overloaded`: every password-hashing slot stayed busy; see `Retry-After`", body = ErrorBody),
    )
)]
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
        referral_code: body.referral_code,
    };
    let (user, token) = blocking(&state, move |engine| engine.register(&registration)).await?;
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
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    /// Login email.
    email: String,
    /// The password.
    password: String,
}

/// Answer of `POST /v1/auth/login`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenAnswer {
    /// Bearer token for `Authorization: Bearer ...`.
    token: String,
    /// When the token stops working.
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// `POST /v1/auth/login`: a new bearer token for a matching email and password.
#[utoipa::path(
    post,
    path = "/v1/auth/login",
    tag = "accounts",
    summary = "Sign in",
    description = "A new bearer token for a matching email and password. Each attempt counts before the password is checked; five failed attempts on one email from one client address in 15 minutes answer 429 `too_many_attempts` with `Retry-After`.",
    request_body = LoginBody,
    responses(
        (status = 200, description = "Signed in", body = TokenAnswer),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`invalid_credentials`", body = ErrorBody),
        (status = 429, description = "`too_many_attempts` or `rate_limited`; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`overloaded`: every password-hashing slot stayed busy; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn login(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Json<TokenAnswer>, ApiError> {
    let token = blocking(&state, move |engine| {
        engine.login(client, &body.email, &body.password)
    })
    .await?;
    Ok(Json(TokenAnswer {
        token: token.token,
        expires_at: token.expires_at,
    }))
}

/// `POST /v1/auth/logout`: ends the session of the token sent.
#[utoipa::path(
    post,
    path = "/v1/auth/logout",
    tag = "accounts",
    summary = "Sign out",
    description = "Ends the session of the bearer token sent.",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out"))
)]
pub async fn logout(
    State(state): State<AppState>,
    BearerToken(token): BearerToken,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |engine| engine.logout(&token)).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/auth/logout_all`: ends every session of the caller.
#[utoipa::path(
    post,
    path = "/v1/auth/logout_all",
    tag = "accounts",
    summary = "Sign out everywhere",
    description = "Ends every session of the signed-in account in one write: every bearer token and browser session, the token sent included.",
    security(("bearer" = [])),
    responses((status = 204, description = "Signed out everywhere"))
)]
pub async fn logout_all(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |engine| engine.logout_all(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
