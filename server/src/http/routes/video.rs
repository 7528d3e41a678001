//! A booking's call: how its booker or provider joins it (a Daily room with
//! a fresh meeting token of their own, or the WebRTC relay), its recordings
//! and a recording's short-lived download link. Like every booking route,
//! a booking the caller is not on does not exist for them (404).

use axum::Json;
use axum::extract::State;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, SignedIn, parse_id};
use crate::http::views::{MeetingView, RecordingLinkView, RecordingList, RecordingView};
use crate::http::{AppState, blocking};

/// `/v1/bookings/{id}/meeting` and `/v1/bookings/{id}/recordings...`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(join_meeting))
        .routes(routes!(list_recordings))
        .routes(routes!(create_recording_link))
}

/// `POST /v1/bookings/{id}/meeting`: how the caller joins the call now.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/meeting",
    tag = "video",
    summary = "Join a booking's call",
    description = "For the booker and the provider only (others get 404), while the booking is `confirmed`, from 10 minutes (configurable) before its start until its end. With Daily.co configured and the booking's room made, answers `provider: daily` with the room URL and a meeting token made for the caller alone (the provider's owns the room); the token is never stored and never shown to anyone else, so ask again for a new one. Without Daily, or when its room failed or was not made by the time a party asks, answers `provider: webrtc` with the WebRTC relay's path (`signal_url`); both parties then get the same path.",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "How to join", body = MeetingView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`booking_not_confirmed` (awaiting payment, cancelled, completed, ...) or `meeting_not_open` (before the window opens or after the session's end)", body = ErrorBody),
        (status = 502, description = "`video_provider_error`: Daily could not make a meeting token", body = ErrorBody),
    )
)]
pub async fn join_meeting(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<MeetingView>, ApiError> {
    let id = parse_id(&raw, "booking")?;
    let access = blocking(&state, move |engine| engine.meeting(id, user)).await?;
    Ok(Json(MeetingView::from(&access)))
}

/// `GET /v1/bookings/{id}/recordings`: the call's recordings.
#[utoipa::path(
    get,
    path = "/v1/bookings/{id}/recordings",
    tag = "video",
    summary = "A booking's recordings",
    description = "For the booker and the provider only (others get 404): the recordings Daily.co reported ready for this booking's call, oldest first (ids only; ask for a link to download one).",
    security(("bearer" = [])),
    params(("id" = String, Path, description = "The booking's id")),
    responses(
        (status = 200, description = "The recordings", body = RecordingList),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
    )
)]
pub async fn list_recordings(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<RecordingList>, ApiError> {
    let id = parse_id(&raw, "booking")?;
    let recordings = blocking(&state, move |engine| engine.recordings(id, user)).await?;
    Ok(Json(RecordingList {
        recordings: recordings.iter().map(RecordingView::from).collect(),
    }))
}

/// `POST /v1/bookings/{id}/recordings/{recording_id}/link`: a download link.
#[utoipa::path(
    post,
    path = "/v1/bookings/{id}/recordings/{recording_id}/link",
    tag = "video",
    summary = "Download link of a recording",
    description = "For the booker and the provider only (others get 404): a short-lived download link of one of the booking's recordings, fetched from Daily.co now and never stored.",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, description = "The booking's id"),
        ("recording_id" = String, Path, description = "Daily's recording id, as listed"),
    ),
    responses(
        (status = 200, description = "The link", body = RecordingLinkView),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such booking for the caller, or no such recording of it", body = ErrorBody),
        (status = 502, description = "`video_provider_error`: Daily could not give a link", body = ErrorBody),
        (status = 503, description = "`video_not_configured`: the server runs without Daily", body = ErrorBody),
    )
)]
pub async fn create_recording_link(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath((raw, recording_id)): ApiPath<(String, String)>,
) -> Result<Json<RecordingLinkView>, ApiError> {
    let id = parse_id(&raw, "booking")?;
    let link = blocking(&state, move |engine| {
        engine.recording_link(id, &recording_id, user)
    })
    .await?;
    Ok(Json(RecordingLinkView::from(&link)))
}
