//! `POST /v1/webhooks/daily`: Daily.co's events. The raw body is read as
//! bytes under the webhooks' own limit (over it: `413 payload_too_large`)
//! and handed with the `X-Webhook-Signature` and `X-Webhook-Timestamp`
//! headers to the engine, which verifies them before reading anything and
//! applies the event once.

use axum::Json;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::HeaderMap;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::webhooks::{MAX_WEBHOOK_BYTES, WebhookAnswer};
use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::ApiBytes;
use crate::http::{AppState, blocking};

/// `/v1/webhooks/daily`, with the webhooks' body limit.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(daily_webhook))
        .layer(DefaultBodyLimit::max(MAX_WEBHOOK_BYTES))
}

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned)
}

/// `POST /v1/webhooks/daily`.
#[utoipa::path(
    post,
    path = "/v1/webhooks/daily",
    tag = "video",
    summary = "Daily.co webhook endpoint",
    description = "Verifies `X-Webhook-Signature` (base64 HMAC-SHA256 of `timestamp.body` keyed by the base64-decoded webhook secret, timestamp from `X-Webhook-Timestamp`, 300 s tolerance) before reading the event, then applies it in one transaction with its event id, so a redelivery answers 200 and changes nothing. `meeting.started` and `meeting.ended` set the booking's `meeting_started_at`, `meeting_ended_at` and `meeting_duration` (the earliest start and latest end win, whatever the order of delivery); `recording.ready-to-download` keeps the recording's id for the booking. Other types, rooms that are not ours, and the rooms of cancelled or moved bookings (a room being deleted or deleted) are acknowledged and ignored: a late event never gives a cancelled booking a call or a recording.",
    request_body(content = String, content_type = "application/json", description = "The event exactly as Daily sent it"),
    params(
        ("X-Webhook-Signature" = String, Header, description = "base64 HMAC-SHA256"),
        ("X-Webhook-Timestamp" = String, Header, description = "unix seconds (or milliseconds)"),
    ),
    responses(
        (status = 200, description = "Received", body = WebhookAnswer),
        (status = 400, description = "`invalid_signature` (nothing changed) or `invalid_input` (a verified event that is malformed)", body = ErrorBody),
        (status = 413, description = "`payload_too_large`: over 1 MiB", body = ErrorBody),
        (status = 503, description = "`video_not_configured`: no Daily webhook secret on this server", body = ErrorBody),
    )
)]
pub async fn daily_webhook(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiBytes(body): ApiBytes,
) -> Result<Json<WebhookAnswer>, ApiError> {
    let signature = header(&headers, "x-webhook-signature");
    let timestamp = header(&headers, "x-webhook-timestamp");
    let receipt = blocking(&state, move |engine| {
        engine.daily_webhook(&body, signature.as_deref(), timestamp.as_deref())
    })
    .await?;
    Ok(Json(WebhookAnswer::new(receipt.applied)))
}
