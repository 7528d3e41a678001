//! An expert's Google Calendar: the consent URL to connect it, Google's
//! redirect back (the callback: the `state` names the expert who asked, and
//! the browser it lands in must be signed in as them, by the pages' session
//! or a bearer token, so a consent link passed to someone else links nobody
//! else's calendar), the connection's status, and disconnecting. Without Google configured every route answers
//! `calendar_not_configured`. No answer ever carries a token.

use axum::Json;
use axum::extract::{OriginalUri, State};
use axum::http::header::ACCEPT;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody, ErrorCode};
use crate::http::extract::{ApiQuery, BrowserOrBearer, SignedIn};
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
    description = "Takes the `state` (once), exchanges the `code` at Google's token endpoint with the PKCE verifier, and stores the tokens encrypted (AES-256-GCM). The browser Google sends back must be signed in as the expert who asked for the consent: by the pages' session cookie, or a bearer token when an app finishes the flow itself. A browser that is not signed in is sent to the sign-in page, which comes back here; a signed-out API call is answered `401`; a state started by another account is spent and refused. Answers the connection's status.",
    params(CallbackQuery),
    responses(
        (status = 200, description = "Connected", body = CalendarStatusView),
        (status = 303, description = "A browser that is not signed in: to the sign-in page, then back here"),
        (status = 400, description = "`invalid_oauth_state` (unknown, expired, used, or started by another account), `invalid_parameter` (no code or state) or `invalid_input` (consent refused)", body = ErrorBody),
        (status = 401, description = "`unauthorized`: signed in neither by session nor by bearer token", body = ErrorBody),
        (status = 502, description = "`calendar_provider_error`", body = ErrorBody),
        (status = 503, description = "`calendar_not_configured`", body = ErrorBody),
    )
)]
pub async fn google_calendar_callback(
    State(state): State<AppState>,
    BrowserOrBearer(caller): BrowserOrBearer,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<CallbackQuery>,
) -> Result<Response, ApiError> {
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
    let Some(caller) = caller else {
        if accepts_html(&headers) {
            let here = uri.path_and_query().map_or("/", |whole| whole.as_str());
            return Ok(crate::pages::page::PageError::sign_in_first(here).into_response());
        }
        return Err(ApiError::new(
            ErrorCode::Unauthorized,
            "sign in as the expert who started connecting, then open the consent link again",
        ));
    };
    let (_, status) = blocking(&state, move |engine| {
        engine.google_callback(&code, &oauth_state, caller)
    })
    .await?;
    Ok(Json(CalendarStatusView::from(&status)).into_response())
}

/// Whether the request is a browser's navigation (it accepts HTML).
fn accepts_html(headers: &HeaderMap) -> bool {
    headers
        .get_all(ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .any(|value| value.contains("text/html"))
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
