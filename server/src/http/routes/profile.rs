//! The owner's own account: read it, change the fields they may set,
//! change its password (the current one asked again, every other session
//! ended), and close it for good (their password asked again).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use droply_engine::accounts::ProfileUpdate;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, BearerToken, ClientAddr, SignedIn};
use crate::http::views::AccountView;
use crate::http::views::model_schemas::ProfileUpdateSchema;
use crate::http::{AppState, blocking};

/// `GET`, `PATCH` and `DELETE /v1/users/me`, and `POST
/// /v1/users/me/password`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(
            get_own_account,
            update_own_account,
            close_own_account
        ))
        .routes(routes!(change_own_password))
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
        (status = 409, description = "`invalid_state`: the profession cleared while a session the expert gives is still ahead", body = ErrorBody),
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

/// Body of `DELETE /v1/users/me`. No `Debug`: it holds a password.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseAccountBody {
    /// The account's password, asked again before it is closed.
    password: String,
}

/// `DELETE /v1/users/me`: closes the caller's account for good.
#[utoipa::path(
    delete,
    path = "/v1/users/me",
    tag = "accounts",
    summary = "Close one's own account",
    description = "Closes the account for good once its password is given again (counted by the sign-in throttle as a sign-in is). Its bookings that have not started are cancelled (refunded as any cancellation by that side is), its drop-ins end, its content is archived (buyers keep it), its calendar is disconnected, every session ends, and its personal data is erased; bookings, payments, reviews and purchases others hold stay, naming it \"Closed account\". Refused with 409 `invalid_state` while money owed to or by it would be lost: a balance not paid out, earnings still held, a payout not sent yet, a payment or refund on its way (the refunds of the bookings its closing cancelled do not count). A 409 from the last write (a booking made meanwhile) leaves the bookings already cancelled cancelled; closing again finishes.",
    security(("bearer" = [])),
    request_body = CloseAccountBody,
    responses(
        (status = 204, description = "Closed: the token no longer signs anyone in, and the address is free"),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized` (no valid bearer token), or `invalid_credentials`: the password is wrong (nothing changed)", body = ErrorBody),
        (status = 409, description = "`invalid_state`: money owed to or by the account would be lost, or a booking was made while it closed (nothing changed, except that bookings the closing already cancelled stay cancelled; closing again finishes)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many wrong passwords (as for signing in), or `rate_limited`; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`overloaded`: every password-hashing slot stayed busy; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn close_own_account(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    SignedIn(user): SignedIn,
    ApiJson(body): ApiJson<CloseAccountBody>,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |engine| {
        engine.close_account(user, client, &body.password)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Body of `POST /v1/users/me/password`. No `Debug`: it holds passwords.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordBody {
    /// The account's password now, asked again.
    current_password: String,
    /// The password wanted instead: 8 to 128 characters, not the current one.
    #[schema(min_length = 8, max_length = 128)]
    new_password: String,
}

/// `POST /v1/users/me/password`: changes the caller's password and ends
/// every other session of the account.
#[utoipa::path(
    post,
    path = "/v1/users/me/password",
    tag = "accounts",
    summary = "Change one's password",
    description = "Changes the account's password once the current one is given again (counted by the sign-in throttle as a sign-in is). The new one follows the sign-up rule (8 to 128 characters) and must differ from the current one. In the same write every other session of the account ends (other devices, browsers, and whoever signed in with the old password); the bearer token sent keeps working.",
    security(("bearer" = [])),
    request_body = ChangePasswordBody,
    responses(
        (status = 204, description = "Changed: the old password no longer signs in, and only the token sent is still signed in"),
        (status = 400, description = "`invalid_input` (the new password is too short or long, or the same as the current one) or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized` (no valid bearer token), or `invalid_credentials`: the current password is wrong (nothing changed)", body = ErrorBody),
        (status = 429, description = "`too_many_attempts`: too many wrong passwords (as for signing in), or `rate_limited`; see `Retry-After`", body = ErrorBody),
        (status = 503, description = "`overloaded`: every password-hashing slot stayed busy; see `Retry-After`", body = ErrorBody),
    )
)]
pub async fn change_own_password(
    State(state): State<AppState>,
    ClientAddr(client): ClientAddr,
    SignedIn(user): SignedIn,
    BearerToken(token): BearerToken,
    ApiJson(body): ApiJson<ChangePasswordBody>,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |engine| {
        engine.change_password(
            user,
            client,
            &token,
            &body.current_password,
            &body.new_password,
        )
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
