//! Socket tickets: `POST /v1/live/tickets` trades the caller's bearer token
//! for a ticket that opens one WebSocket (a drop-in's live room or a
//! booking's signal relay) for 60 seconds, sent as `?ticket=` by a browser,
//! which cannot set `Authorization` on a WebSocket. The 30-day sign-in
//! token never goes in a URL, where proxies, CDNs and browser history keep
//! it. The ticket only says who the caller is; the socket still checks what
//! they may open. The engine signs and checks tickets
//! ([`droply_engine::accounts::SocketTicket`]).

use axum::Json;
use axum::extract::State;
use droply_engine::accounts::SocketTarget;
use droply_models::{BookingId, DropinSessionId, Timestamp};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiJson, BearerToken};
use crate::http::{AppState, blocking};

/// `POST /v1/live/tickets`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_socket_ticket))
}

/// Which socket a ticket opens.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketPurpose {
    /// A drop-in's live room, `GET /v1/dropins/{id}/live` (its host).
    Dropin,
    /// A booking's signal relay, `GET /v1/bookings/{id}/signal` (its client or provider).
    Signal,
}

/// Body of `POST /v1/live/tickets`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SocketTicketBody {
    /// Which socket: `dropin` or `signal`.
    purpose: TicketPurpose,
    /// The drop-in's id (`dropin`) or the booking's id (`signal`).
    id: u64,
}

impl SocketTicketBody {
    /// The one socket the ticket is for.
    fn target(&self) -> SocketTarget {
        match self.purpose {
            TicketPurpose::Dropin => SocketTarget::DropinRoom(DropinSessionId::new(self.id)),
            TicketPurpose::Signal => SocketTarget::SignalRelay(BookingId::new(self.id)),
        }
    }
}

/// Answer of `POST /v1/live/tickets`. No `Debug`: it holds a credential.
#[derive(Serialize, ToSchema)]
pub struct SocketTicketAnswer {
    /// Send as `?ticket=` on the socket's URL.
    ticket: String,
    /// When it stops opening the socket (60 seconds from now).
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// `POST /v1/live/tickets` `{purpose, id}`: a socket ticket for the caller.
#[utoipa::path(
    post,
    path = "/v1/live/tickets",
    tag = "accounts",
    summary = "Get a socket ticket",
    description = "A ticket that opens one WebSocket as the caller for 60 seconds: `{\"purpose\":\"dropin\",\"id\"}` for a drop-in's live room (`GET /v1/dropins/{id}/live`, as its host), `{\"purpose\":\"signal\",\"id\"}` for a booking's signal relay (`GET /v1/bookings/{id}/signal`). Send it as `?ticket=`: browsers cannot set `Authorization` on a WebSocket, and a sign-in token in a URL is refused there, as proxies, CDNs and browser history keep URLs. The ticket is signed, not stored: it opens no other socket, ends with the caller's session (signing out), and can be used again until it expires. It says who the caller is; the socket still checks what they may open (a ticket for a booking that is not theirs is refused there, as with the header).",
    security(("bearer" = [])),
    request_body = SocketTicketBody,
    responses(
        (status = 200, description = "The ticket", body = SocketTicketAnswer),
        (status = 400, description = "`invalid_input` or `invalid_json`: no such purpose, or no id", body = ErrorBody),
    )
)]
pub async fn create_socket_ticket(
    State(state): State<AppState>,
    BearerToken(token): BearerToken,
    ApiJson(body): ApiJson<SocketTicketBody>,
) -> Result<Json<SocketTicketAnswer>, ApiError> {
    let target = body.target();
    let issued = blocking(&state, move |engine| {
        engine.issue_socket_ticket(&token, target)
    })
    .await?;
    Ok(Json(SocketTicketAnswer {
        ticket: issued.ticket,
        expires_at: issued.expires_at,
    }))
}
