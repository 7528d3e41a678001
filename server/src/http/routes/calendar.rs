//! An expert's Google Calendar: the consent URL to connect it, Google's
//! redirect back (the callback, which the `state` binds to the expert who
//! asked, so it needs no bearer token), the connection's status, and
//! disconnecting. Without Google configured every route answers
//! `calendar_not_configured`. No answer ever carries a token.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiQuery, SignedIn};
use crate::http::views::CalendarStatusView;
use crate::http::{AppState, blocking};

/// `/v1/calendar/google...`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(connect_google_calendar))
        .routes(routes!(google_calendar_callback))
        .routes(routes!(google_calendar_status, disconnect_google_calendar))
}

/// Answer of `GET /v1/calendar/google/connect`.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConsentLink {
    /// Google's consent page, with a single-use `state` and a PKCE S256
    /// `code_challenge`; valid for 10 minutes.
    url: String,
}

/// `GET /v1/calendar/google/connect`: the consent URL for the caller.
#[utoipa::path(
    get,
    path = "/v1/calendar/google/connect",
    tag = "calendar",
    summary = "Start connecting one's Google calendar",
    description = "Answers Google's consent URL with a random `state` bound to the caller (stored only as its hash, valid 10 minutes, usable once) and a PKCE S256 code challenge (the verifier stays on the server). After consent Google redirects to the callback.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The consent URL", body = ConsentLink),
        (status = 403, description = "`forbidden`: only experts connect a calendar", body = ErrorBody),
        (status = 503, description = "`calendar_not_configured`", body = ErrorBody),
    )
)]
pub async fn connect_google_calendar(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<ConsentLink>, ApiError> {
    let url = blocking(&state, move |engine| engine.google_connect_url(user)).await?;
    Ok(Json(ConsentLink { url }))
}

/// Query of `GET /v1/calendar/google/callback`, as Google sends it.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CallbackQuery {
    /// The authorization code.
    code: Option<String>,
    /// The state of the consent URL.
    state: Option<String>,
    /// Set by Google instead of `code` when consent was not given.
    error: Option<String>,
}

/// `GET /v1/calendar/google/callback`: Google's redirect after consent.
#[utoipa::path(
    get,
    path = "/v1/calendar/google/callback",
    tag = "calendar",
    summary = "Finish connecting (Google's redirect)",
    description = "Takes the `state` (once), exchanges the `code` at Google's token endpoint with the PKCE verifier, and stores the tokens encrypted (AES-256-GCM). The state names the expert, so no bearer token is needed. Answers the connection's status.",
    params(CallbackQuery),
    responses(
        (status = 200, description = "Connected", body = CalendarStatusView),
        (status = 400, description = "`invalid_oauth_state`, `invalid_parameter` (no code or state) or `invalid_input` (consent refused)", body = ErrorBody),
        (status = 502, description = "`calendar_provider_error`", body = ErrorBody),
        (status = 503, description = "`calendar_not_configured`", body = ErrorBody),
    )
)]
pub async fn google_calendar_callback(
    State(state): State<AppState>,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Json<CalendarStatusView>, ApiError> {
    if let Some(error) = query.error {
        let shown: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return Err(ApiError::new(
            ErrorCode::InvalidInput,
            format!("Google did not grant access ({shown}); start connecting again"),
        ));
    }
    let (Some(code), Some(oauth_state)) = (query.code, query.state) else {
        return Err(ApiError::new(
            ErrorCode::InvalidParameter,
            "`code` and `state` are required",
        ));
    };
    let (_, status) = blocking(&state, move |engine| {
        engine.google_callback(&code, &oauth_state)
    })
    .await?;
    Ok(Json(CalendarStatusView::from(&status)))
}

/// `GET /v1/calendar/google`: the caller's connection.
#[utoipa::path(
    get,
    path = "/v1/calendar/google",
    tag = "calendar",
    summary = "One's Google calendar connection",
    description = "`none`, `connected` or `broken` (Google refused the stored grant: connect again), when it was connected and last synced. Never a token.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The status", body = CalendarStatusView),
        (status = 503, description = "`calendar_not_configured`", body = ErrorBody),
    )
)]
pub async fn google_calendar_status(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<Json<CalendarStatusView>, ApiError> {
    let status = blocking(&state, move |engine| engine.google_status(user)).await?;
    Ok(Json(CalendarStatusView::from(&status)))
}

/// `DELETE /v1/calendar/google`: disconnects and revokes.
#[utoipa::path(
    delete,
    path = "/v1/calendar/google",
    tag = "calendar",
    summary = "Disconnect one's Google calendar",
    description = "Forgets the tokens, the busy times and pending event changes, then revokes the grant at Google (after the store's write).",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 404, description = "`not_found`: nothing connected", body = ErrorBody),
        (status = 503, description = "`calendar_not_configured`", body = ErrorBody),
    )
)]
pub async fn disconnect_google_calendar(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
) -> Result<StatusCode, ApiError> {
    blocking(&state, move |engine| engine.google_disconnect(user)).await?;
    Ok(StatusCode::NO_CONTENT)
}
