//! Drop-ins: an expert opens one (now or scheduled) and ends it; anyone
//! reads a session and an expert's live and upcoming ones; people join
//! with the code (signed in, or anonymously where the host allows) and get
//! a participant token for the live room, a WebSocket at
//! `/v1/dropins/{id}/live`. Joins are rate limited per client address.

use axum::Json;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use droply_engine::dropins::{Joining, MemberProof, NewDropin};
use droply_models::{DropinSessionId, Timestamp, UserId};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{
    ApiJson, ApiPath, ApiQuery, BearerToken, MaybeSignedIn, SignedIn, parse_id,
};
use crate::http::live::dropin_room;
use crate::http::live::socket::{self, LiveCredential};
use crate::http::views::{DropinView, JoinedView};
use crate::http::{AppState, blocking};
use crate::pages::cookies;

/// `/v1/dropins...` and `/v1/experts/{id}/dropins`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_dropin))
        .routes(routes!(join_dropin))
        .routes(routes!(get_dropin))
        .routes(routes!(end_dropin))
        .routes(routes!(expert_dropins))
        .routes(routes!(live_dropin))
}

/// Body of `POST /v1/dropins`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenDropinBody {
    /// What it is about, 1-200 characters.
    topic: String,
    /// More detail, at most 5,000 characters.
    #[serde(default)]
    description: String,
    /// Seats, 1-500 (default 50).
    #[serde(default = "default_capacity")]
    max_participants: u32,
    /// Whether people may join without signing in and appear without names (default false).
    #[serde(default)]
    is_anonymous: bool,
    /// When it starts (RFC 3339, within 90 days); omitted: now.
    #[schema(value_type = Option<String>, format = DateTime)]
    starts_at: Option<Timestamp>,
    /// Planned minutes, 5-480 (default 30).
    #[serde(default = "default_minutes")]
    duration_minutes: u32,
}

fn default_capacity() -> u32 {
    50
}

fn default_minutes() -> u32 {
    30
}

/// `POST /v1/dropins`: an expert opens a drop-in.
#[utoipa::path(
    post,
    path = "/v1/dropins",
    tag = "dropins",
    summary = "Open a drop-in (expert)",
    description = "Now, or scheduled within 90 days. Answers the session with its join code. An expert keeps at most 10 open at once.",
    security(("bearer" = [])),
    request_body = OpenDropinBody,
    responses(
        (status = 201, description = "The session", body = DropinView),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: only experts host", body = ErrorBody),
        (status = 409, description = "`limit_reached`: 10 open already", body = ErrorBody),
    )
)]
pub async fn open_dropin(
    State(state): State<AppState>,
    SignedIn(host): SignedIn,
    ApiJson(body): ApiJson<OpenDropinBody>,
) -> Result<(StatusCode, Json<DropinView>), ApiError> {
    let new = NewDropin {
        topic: body.topic,
        description: body.description,
        max_participants: body.max_participants,
        is_anonymous: body.is_anonymous,
        starts_at: body.starts_at,
        duration_minutes: body.duration_minutes,
    };
    let session = blocking(&state, move |engine| engine.open_dropin(host, &new)).await?;
    Ok((StatusCode::CREATED, Json(DropinView::from(&session))))
}

/// Body of `POST /v1/dropins/join`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct JoinBody {
    /// The session's code (6-12 letters or digits; case does not matter).
    code: String,
    /// The name to appear under where one appears anonymously, 1-50 characters.
    display_name: Option<String>,
}

/// `POST /v1/dropins/join`: join with a code.
#[utoipa::path(
    post,
    path = "/v1/dropins/join",
    tag = "dropins",
    summary = "Join a drop-in with its code",
    description = "Signed in (a bearer token, optional), or anonymously where the host allows it. Answers a participant token for the live room (stored only as its hash, valid while the session is open). Joining again signed in keeps one's seat. Rate limited per client address.",
    request_body = JoinBody,
    responses(
        (status = 200, description = "The seat and its token", body = JoinedView),
        (status = 400, description = "`invalid_input` or `invalid_json`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: this drop-in asks people to sign in", body = ErrorBody),
        (status = 404, description = "`not_found`: no drop-in has this code", body = ErrorBody),
        (status = 409, description = "`dropin_full`, or `invalid_state` (ended, or the caller hosts it)", body = ErrorBody),
        (status = 429, description = "`rate_limited`", body = ErrorBody),
    )
)]
pub async fn join_dropin(
    State(state): State<AppState>,
    MaybeSignedIn(user): MaybeSignedIn,
    headers: HeaderMap,
    ApiJson(body): ApiJson<JoinBody>,
) -> Result<Json<JoinedView>, ApiError> {
    let joining = Joining {
        code: body.code,
        user,
        display_name: body.display_name,
    };
    // The participant token lasts as long as the sign-in that joined.
    let sign_in = user.and(BearerToken::of(&headers));
    let joined = blocking(&state, move |engine| {
        engine.join_dropin(&joining, sign_in.as_ref().map(|token| token.0.as_str()))
    })
    .await?;
    Ok(Json(JoinedView::from(&joined)))
}

/// `GET /v1/dropins/{id}`: a drop-in.
#[utoipa::path(
    get,
    path = "/v1/dropins/{id}",
    tag = "dropins",
    summary = "A drop-in",
    params(("id" = u64, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The session", body = DropinView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn get_dropin(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DropinView>, ApiError> {
    let id: DropinSessionId = parse_id(&id, "drop-in")?;
    let session = blocking(&state, move |engine| engine.dropin(id)).await?;
    Ok(Json(DropinView::from(&session)))
}

/// `POST /v1/dropins/{id}/end`: the host ends it.
#[utoipa::path(
    post,
    path = "/v1/dropins/{id}/end",
    tag = "dropins",
    summary = "End a drop-in (host)",
    description = "Records when it ended and how many minutes it ran, lets everyone out, and closes the live room after an `ended` notice.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The session's id")),
    responses(
        (status = 200, description = "The ended session", body = DropinView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the host", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`: ended already", body = ErrorBody),
    )
)]
pub async fn end_dropin(
    State(state): State<AppState>,
    SignedIn(host): SignedIn,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DropinView>, ApiError> {
    let id: DropinSessionId = parse_id(&id, "drop-in")?;
    // The `ended` notice reaches the room on every node through the store's
    // feed, after every message stored before it.
    let (ended, _) = blocking(&state, move |engine| engine.end_dropin(id, host)).await?;
    Ok(Json(DropinView::from(&ended)))
}

/// An expert's live and upcoming drop-ins.
#[derive(Debug, Serialize, ToSchema)]
pub struct DropinList {
    /// Soonest first.
    dropins: Vec<DropinView>,
}

/// `GET /v1/experts/{id}/dropins`: an expert's live and upcoming drop-ins.
#[utoipa::path(
    get,
    path = "/v1/experts/{id}/dropins",
    tag = "dropins",
    summary = "An expert's live and upcoming drop-ins",
    params(("id" = u64, Path, description = "The expert's user id")),
    responses(
        (status = 200, description = "Soonest first", body = DropinList),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such expert (or no longer one)", body = ErrorBody),
    )
)]
pub async fn expert_dropins(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DropinList>, ApiError> {
    let id: UserId = parse_id(&id, "expert")?;
    let sessions = blocking(&state, move |engine| engine.open_dropins_of(id)).await?;
    Ok(Json(DropinList {
        dropins: sessions.iter().map(DropinView::from).collect(),
    }))
}

/// Query of `GET /v1/dropins/{id}/live`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct LiveQuery {
    /// The participant token, for browsers that cannot send
    /// `Authorization` on a WebSocket. A sign-in token is refused here
    /// (`401`): a URL ends up in logs; the host sends `ticket` instead.
    token: Option<String>,
    /// A socket ticket for this drop-in from `POST /v1/live/tickets` (the
    /// host, from a browser on another site).
    ticket: Option<String>,
    /// The last message id the client saw: it gets what came after. Omitted: the whole history.
    after: Option<u64>,
}

/// `GET /v1/dropins/{id}/live`: the live room, over WebSocket.
#[utoipa::path(
    get,
    path = "/v1/dropins/{id}/live",
    tag = "dropins",
    summary = "The live room (WebSocket)",
    description = "Upgrade with a participant token (`Authorization: Bearer` or `?token=`), or as the host with their sign-in token as `Authorization: Bearer` or a socket ticket for this drop-in from `POST /v1/live/tickets` as `?ticket=` (good for 60 seconds); a sign-in token as `?token=` is refused (`401`), as a URL ends up in proxy logs and browser history. The web pages send the participant cookie `droply_dropin` (`__Secure-droply_dropin` behind an https public URL) or the host's session cookie, taken only when `Origin` is this site. The server sends `{\"kind\":\"welcome\",\"session_id\",\"you\"}`, then messages `{\"kind\":\"message\",\"id\",\"type\",\"content\",\"author\",\"reply_to\",\"removed\",\"created_at\"}` in id order (the history after `after`, then live), and `{\"kind\":\"error\",\"code\",\"message\"}` for the client's own mistakes. Clients send `{\"type\":\"question|comment|reaction|answer\",\"content\",\"reply_to\"?}`; the host also `{\"type\":\"remove\",\"message_id\"}`. See README for limits and close codes.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The session's id"), LiveQuery),
    responses(
        (status = 101, description = "Switching to the WebSocket protocol"),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`: no token, one that does not open this room, a sign-in token as `?token=`, or a ticket that is for another socket, expired, tampered with or of a session that ended", body = ErrorBody),
        (status = 403, description = "`forbidden`: a cookie sent from another site's page (or without `Origin`)", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`: the drop-in ended", body = ErrorBody),
        (status = 426, description = "`upgrade_required`: not a WebSocket handshake", body = ErrorBody),
        (status = 503, description = "`overloaded`: too many live connections or rooms", body = ErrorBody),
    )
)]
pub async fn live_dropin(
    State(state): State<AppState>,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    ApiQuery(query): ApiQuery<LiveQuery>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let id: DropinSessionId = parse_id(&id, "drop-in")?;
    // A bearer token, a ticket, a participant token in the URL, else the
    // pages' participant cookie, else the host's session cookie.
    let secure = state.pages.secure_cookies;
    let credential = socket::live_credential(
        &headers,
        query.token,
        query.ticket,
        &[cookies::DROPIN, cookies::SESSION],
        &state.pages,
    )?;
    // A pass the pages' cookie carries opens the room only beside the
    // session of the account that joined with it: signing out (or another
    // account signing in on the same browser) leaves the pass behind.
    let passed_by_cookie = credential.token().is_some()
        && cookies::read(&headers, cookies::DROPIN, secure) == credential.token();
    let session = cookies::session_token(&headers, secure).map(str::to_owned);
    let member = blocking(&state, move |engine| {
        let member = match credential {
            LiveCredential::Token(token) => engine.dropin_member(id, &token)?,
            // A URL is logged: only a participant token, never a sign-in token.
            LiveCredential::QueryPass(pass) => {
                match engine.dropin_member_by(id, MemberProof::Pass(&pass)) {
                    Err(droply_engine::Error::Unauthorized) => return Ok(None),
                    member => member?,
                }
            }
            LiveCredential::Ticket(ticket) => {
                engine.dropin_member_by(id, MemberProof::Ticket(&ticket))?
            }
        };
        if let (true, Some(owner)) = (passed_by_cookie, member.participant.user_id) {
            let signed_in = match session {
                Some(session) => engine.signed_in(&session)?,
                None => None,
            };
            if signed_in != Some(owner) {
                return Err(droply_engine::Error::Unauthorized);
            }
        }
        Ok(Some(member))
    })
    .await?
    .ok_or_else(socket::query_token_refused)?;
    let ws = socket::upgrade(ws, state.live.limits())?;
    let seat = state.live.enter(id, member.participant.id)?;
    let after = query.after.unwrap_or(0);
    Ok(ws.on_upgrade(move |socket| dropin_room::serve(socket, state, member, after, seat)))
}
