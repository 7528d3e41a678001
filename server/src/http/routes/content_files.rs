//! Content files: the creator uploads the file and the preview as a raw
//! body, streamed to disk on the blocking pool (never held whole in
//! memory; the type is read from the bytes, not the `Content-Type`); the
//! creator and buyers download the file, anyone the preview of published
//! content, both with byte ranges.

use std::io;

use axum::Json;
use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use axum::response::Response;
use droply_engine::content::{FileRole, Viewer};
use droply_models::ContentId;
use futures_util::TryStreamExt;
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, MaybeSignedIn, SignedIn, parse_id};
use crate::http::file_response::{Disposition, send_file};
use crate::http::views::ContentView;
use crate::http::{AppState, blocking};

/// `/v1/content/{id}/file`, `/v1/content/{id}/preview` and
/// `/v1/content/{id}/download`.
pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(upload_file))
        .routes(routes!(upload_preview, get_preview))
        .routes(routes!(download))
}

/// `PUT /v1/content/{id}/file`: the creator uploads the file buyers get.
#[utoipa::path(
    put,
    path = "/v1/content/{id}/file",
    tag = "content",
    summary = "Upload content's file (creator)",
    description = "The raw bytes as the body (any `Content-Type`; the type is read from the bytes): PDF, PNG, JPEG, GIF, WebP, MP3, AAC, M4A, Ogg, FLAC, WAV, MP4, QuickTime, WebM, Matroska or ZIP, fitting the content's type. At most 100 MiB by default. Replaces an earlier file; a failed upload changes nothing.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The content's id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The content with its file", body = ContentView),
        (status = 400, description = "`invalid_parameter` or `invalid_input` (the upload broke off)", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the creator", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`: archived", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
    )
)]
pub async fn upload_file(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ContentView>, ApiError> {
    upload(state, user, &id, FileRole::File, &headers, body).await
}

/// `PUT /v1/content/{id}/preview`: the creator uploads the free preview.
#[utoipa::path(
    put,
    path = "/v1/content/{id}/preview",
    tag = "content",
    summary = "Upload content's preview (creator)",
    description = "The raw bytes as the body: any allowed type but ZIP, at most 5 MiB by default.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The content's id")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses(
        (status = 200, description = "The content with its preview", body = ContentView),
        (status = 400, description = "`invalid_parameter` or `invalid_input`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 403, description = "`forbidden`: not the creator", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 409, description = "`invalid_state`: archived", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 415, description = "`unsupported_media_type`", body = ErrorBody),
    )
)]
pub async fn upload_preview(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<ContentView>, ApiError> {
    upload(state, user, &id, FileRole::Preview, &headers, body).await
}

async fn upload(
    state: AppState,
    user: droply_models::UserId,
    id: &str,
    role: FileRole,
    headers: &HeaderMap,
    body: Body,
) -> Result<Json<ContentView>, ApiError> {
    let id: ContentId = parse_id(id, "content")?;
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    let stream = body.into_data_stream().map_err(io::Error::other);
    let mut reader = SyncIoBridge::new(StreamReader::new(stream));
    let details = blocking(&state, move |engine| {
        engine.upload_content((id, user, role), declared, &mut reader)?;
        engine.view_content(id, Some(user), Viewer::User(user))
    })
    .await?;
    Ok(Json(ContentView::of(&details, Some(user))))
}

/// `GET /v1/content/{id}/download`: the file, to its creator and buyers.
#[utoipa::path(
    get,
    path = "/v1/content/{id}/download",
    tag = "content",
    summary = "Download content (creator or buyer)",
    description = "Streams the file with its stored type and a `Content-Disposition: attachment` name made from the title. One `Range: bytes=` range is answered `206`. Anyone but the creator and buyers holding it (paid, not refunded) gets `404`.",
    security(("bearer" = [])),
    params(("id" = u64, Path, description = "The content's id")),
    responses(
        (status = 200, description = "The file", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 401, description = "`unauthorized`", body = ErrorBody),
        (status = 404, description = "`not_found`", body = ErrorBody),
        (status = 416, description = "`range_not_satisfiable`", body = ErrorBody),
    )
)]
pub async fn download(
    State(state): State<AppState>,
    SignedIn(user): SignedIn,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id: ContentId = parse_id(&id, "content")?;
    let file = blocking(&state, move |engine| engine.open_content_file(id, user)).await?;
    send_file(file, &headers, Disposition::Attachment)
}

/// `GET /v1/content/{id}/preview`: the free preview.
#[utoipa::path(
    get,
    path = "/v1/content/{id}/preview",
    tag = "content",
    summary = "Content's preview",
    description = "Public for published content (drafts: the creator only). Shown inline; ranges as for downloads.",
    params(("id" = u64, Path, description = "The content's id")),
    responses(
        (status = 200, description = "The preview", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 206, description = "The range asked for", content_type = "application/octet-stream", body = Vec<u8>),
        (status = 400, description = "`invalid_parameter`", body = ErrorBody),
        (status = 404, description = "`not_found`: no such content, or no preview", body = ErrorBody),
        (status = 416, description = "`range_not_satisfiable`", body = ErrorBody),
    )
)]
pub async fn get_preview(
    State(state): State<AppState>,
    MaybeSignedIn(viewer): MaybeSignedIn,
    ApiPath(id): ApiPath<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let id: ContentId = parse_id(&id, "content")?;
    let file = blocking(&state, move |engine| {
        engine.open_content_preview(id, viewer)
    })
    .await?;
    send_file(file, &headers, Disposition::Inline)
}
