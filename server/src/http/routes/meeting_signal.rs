//! The WebRTC fallback's signal relay: `GET /v1/bookings/{id}/signal`
//! upgrades to a WebSocket that passes offer, answer and ICE messages
//! between a booking's two parties, from shortly before the start until
//! the end. Anyone else is refused before the upgrade (404, as for the
//! booking itself). The call page opens it with the session cookie, from
//! this site's own origin only.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use droply_models::BookingId;
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, parse_id};
use crate::http::live::{signal_relay, socket};
use crate::http::{AppState, blocking};

/// `/v1/bookings/{id}/signal`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(booking_signal))
}

/// Query of `GET /v1/bookings/{id}/signal`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignalQuery {
    /// The caller's sign-in token, for browsers that cannot send
    /// `Authorization` on a WebSocket.
    token: Option<String>,
}

/// `GET /v1/bookings/{id}/signal`: the WebRTC signal relay, over WebSocket.
#[utoipa::path(
    get,
    path = "/v1/bookings/{id}/signal",
    tag = "bookings",
    summary = "The WebRTC signal relay (WebSocket)",
    description = "For the booking's client and provider only, once it is confirmed, from 10 minutes before the start until the end. The server sends `{\"type\":\"peer\",\"present\":bool}` when the other side comes or goes; clients send `{\"type\":\"offer|answer\",\"sdp\"}`, `{\"type\":\"ice\",\"candidate\"}` or `{\"type\":\"bye\"}`, passed to the other side with `from` (`client` or `provider`) added. Nothing is stored.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id"), SignalQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such booking, or not the caller's", body = ErrorBody),
        (status = 409, description = "`booking_not_confirmed`, or `meeting_not_open` outside the meeting's window", body = ErrorBody),
        (status = 426, description = "`upgrade_required`: not a WebSocket handshake", body = ErrorBody),
        (status = 503, description = "`overloaded`: too many live connections or rooms", body = ErrorBody),
    )
)]
pub async fn booking_signal(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<SignalQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let id: BookingId = parse_id(&id, "booking")?;
    // The call page's session cookie, else a bearer token.
    let token =
        socket::live_token_or_cookie(&headers, query.token, &[crate::pages::cookies::SESSION])?;
    let access = blocking(&state, move |engine| {
        let user = engine.authenticate(&token)?;
        Ok((user, engine.signal_party(id, user)?))
    })
    .await?;
    let (user, access) = access;
    let ws = socket::upgrade(ws, state.live.limits())?;
    let permit = state.live.admit()?;
    let relay = state.live.relay(id)?;
    Ok(ws.on_upgrade(move |socket| {
        signal_relay::serve(
            socket,
            state,
            id,
            (user, access.role),
            access.closes_at,
            relay,
            permit,
        )
    }))
}
