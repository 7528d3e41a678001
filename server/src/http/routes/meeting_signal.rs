//! The WebRTC fallback's signal relay: `GET /v1/bookings/{id}/signal`
//! upgrades to a WebSocket that passes offer, answer and ICE messages
//! between a booking's two parties, from shortly before the start until
//! the end. Anyone else is refused before the upgrade (404, as for the
//! booking itself). A party proves who they are with a bearer header, or
//! with a socket ticket for this booking as `?ticket=` (a browser on
//! another site); a sign-in token in the URL is refused, as a URL is
//! logged. The call page opens it with the session cookie, from this
//! site's own origin only. The two parties may reach different nodes
//! sharing one PostgreSQL store: the relay passes frames and presence
//! between them (`live::signal_relay`). Who is let in, and who may stay
//! (the same rule checked again every few seconds: a cancelled booking or
//! a signed-out party is closed out), is `live::relay_access`.

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use droply_models::{BookingId, Timestamp};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, ApiQuery, parse_id};
use crate::http::live::relay_access::{self, RelayProof};
use crate::http::live::signal_relay;
use crate::http::live::socket::{self, LiveCredential};
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
    /// A socket ticket for this booking from `POST /v1/live/tickets`, for
    /// browsers that cannot send `Authorization` on a WebSocket.
    ticket: Option<String>,
    /// Not taken here: a sign-in token in a URL ends up in logs, so it is
    /// refused with `401 unauthorized` (send `Authorization: Bearer`, or a
    /// `ticket`).
    token: Option<String>,
}

/// `GET /v1/bookings/{id}/signal`: the WebRTC signal relay, over WebSocket.
#[utoipa::path(
    get,
    path = "/v1/bookings/{id}/signal",
    tag = "bookings",
    summary = "The WebRTC signal relay (WebSocket)",
    description = "For the booking's client and provider only, once it is confirmed, from 10 minutes before the start until the end. The server sends `{\"type\":\"peer\",\"present\":bool}` when the other side comes or goes; clients send `{\"type\":\"offer|answer\",\"sdp\"}`, `{\"type\":\"ice\",\"candidate\"}` or `{\"type\":\"bye\"}`, passed to the other side with `from` (`client` or `provider`) added. Nothing is stored. The server closes it at the session's end (1000), within a few seconds of the booking no longer being joinable (cancelled or rescheduled, no longer confirmed: 1000) or of the credential that opened it ending (signed out, every session signed out, the account closed: 4002), and when a newer connection of the same side replaces it (4000). Sign in with `Authorization: Bearer` (native clients) or, from a browser, with `?ticket=` (a socket ticket for this booking from `POST /v1/live/tickets`, good for 60 seconds); the call page sends the session cookie `droply_session` (`__Host-droply_session` behind an https public URL), taken only when `Origin` is this site. A sign-in token as `?token=` is refused (`401`): a URL ends up in proxy logs and browser history.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The booking's id"), SignalQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no credential, a sign-in token as `?token=`, or a ticket that is for another socket, expired, tampered with or of a session that ended", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cookie sent from another site's page (or without `Origin`)", body = ErrorBody),
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
    // A bearer token, a ticket, else the call page's session cookie.
    let credential = socket::live_credential(
        &headers,
        query.token,
        query.ticket,
        &[crate::pages::cookies::SESSION],
        &state.pages,
    )?;
    let party = blocking(&state, move |engine| {
        let proof = match credential {
            LiveCredential::Token(token) => RelayProof::Token(token),
            LiveCredential::Ticket(ticket) => RelayProof::Ticket {
                ticket,
                at: Timestamp::now(),
            },
            // No participant tokens here: whatever came in the URL is refused.
            LiveCredential::QueryPass(_) => return Ok(None),
        };
        relay_access::admit(engine, id, proof).map(Some)
    })
    .await?;
    let party = party.ok_or_else(socket::query_token_refused)?;
    let ws = socket::upgrade(ws, state.live.limits())?;
    let permit = state.live.admit()?;
    let relay = state.live.relay(id)?;
    Ok(ws.on_upgrade(move |socket| signal_relay::serve(socket, state, id, party, relay, permit)))
}
