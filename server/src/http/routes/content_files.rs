//! Content files: the creator uploads the file and the preview as a raw
//! body, streamed to disk on the blocking pool (never held whole in
//! memory; the type is read from the bytes, not the `Content-Type`); the
//! creator and buyers download the file, anyone the preview of published
//! content, both with byte ranges. An upload that sends nothing for
//! [`UPLOAD_IDLE_TIMEOUT`] is ended (`invalid_input`, nothing kept), so a
//! trickling client cannot hold a worker thread.

use std::io;
use std::time::Duration;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::http::header::CONTENT_LENGTH;
use axum::response::Response;
use droply_engine::content::{FileRole, Viewer};
use droply_models::ContentId;
use futures_util::{Stream, StreamExt};
use tokio_util::io::{StreamReader, SyncIoBridge};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::http::error::{ApiError, ErrorBody};
use crate::http::extract::{ApiPath, MaybeSignedIn, SignedIn, parse_id};
use crate::http::file_response::{Disposition, send_file};
use crate::http::views::ContentView;
use crate::http::{AppState, blocking};
use crate::limits::UPLOAD_IDLE_TIMEOUT;

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
        (status = 400, description = "`invalid_parameter` or `invalid_input` (the upload broke off, or sent nothing for 30 s)", body = ErrorBody),
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
        (status = 400, description = "`invalid_parameter` or `invalid_input` (the upload broke off, or sent nothing for 30 s)", body = ErrorBody),
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
    let stream = idle_bounded(body.into_data_stream(), UPLOAD_IDLE_TIMEOUT);
    let mut reader = SyncIoBridge::new(StreamReader::new(Box::pin(stream)));
    let details = blocking(&state, move |engine| {
        engine.upload_content((id, user, role), declared, &mut reader)?;
        engine.view_content(id, Some(user), Viewer::User(user))
    })
    .await?;
    Ok(Json(ContentView::of(&details, Some(user))))
}

/// `body`'s chunks, each awaited at most `idle`: when none comes within it
/// the stream ends with a `TimedOut` error (the upload is then refused and
/// its partial file deleted), and it ends after any error.
fn idle_bounded<S, E>(body: S, idle: Duration) -> impl Stream<Item = io::Result<Bytes>> + Send
where
    S: Stream<Item = Result<Bytes, E>> + Send,
    E: Into<Box<dyn std::error::Error + Send + Sync>> + Send,
{
    futures_util::stream::unfold(Some(Box::pin(body)), move |body| async move {
        let mut body = body?;
        match tokio::time::timeout(idle, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
            Ok(Some(Err(err))) => Some((Err(io::Error::other(err)), None)),
            Ok(None) => None,
            Err(_) => {
                let secs = idle.as_secs();
                let why = format!("nothing arrived for {secs} s; send the file again");
                Some((Err(io::Error::new(io::ErrorKind::TimedOut, why)), None))
            }
        }
    })
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

#[cfg(test)]
mod tests {
    use std::io;
    use std::time::{Duration, Instant};

    use axum::body::Bytes;
    use droply_engine::Store;
    use droply_engine::content::{CONTENT_DIR, ContentFiles, FileType};
    use futures_util::StreamExt;
    use tokio_util::io::{StreamReader, SyncIoBridge};

    use super::idle_bounded;

    fn any(_: FileType) -> droply_engine::Result<()> {
        Ok(())
    }

    /// A client that sent a few bytes and then nothing held a worker
    /// thread reading its body until the upload timeout (15 minutes), and
    /// past it with no in-flight permit.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn an_upload_that_stops_sending_is_ended_and_keeps_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open_temporary().expect("store");
        let files = ContentFiles::open(dir.path(), &store).expect("files");
        let start: io::Result<Bytes> = Ok(Bytes::from_static(b"%PDF-1.7 and then nothing"));
        let stalls = futures_util::stream::iter([start]).chain(futures_util::stream::pending());
        let idle = Duration::from_millis(200);
        let mut body = SyncIoBridge::new(StreamReader::new(Box::pin(idle_bounded(stalls, idle))));
        let started = Instant::now();
        let received =
            tokio::task::spawn_blocking(move || files.receive(&mut body, 1 << 20, &any).map(drop))
                .await
                .expect("worker");
        let waited = started.elapsed();
        match received {
            Err(droply_engine::Error::Invalid(why)) => {
                assert!(why.contains("nothing arrived"), "{why}");
            }
            other => panic!("the upload was not ended as stalled: {other:?}"),
        }
        assert!(
            waited >= idle && waited < Duration::from_secs(5),
            "{waited:?}"
        );
        let tmp = dir.path().join(CONTENT_DIR).join("tmp");
        assert_eq!(
            std::fs::read_dir(tmp).expect("tmp").count(),
            0,
            "no partial left"
        );
    }

    #[tokio::test]
    async fn an_upload_that_keeps_sending_is_read_whole() {
        let chunks: Vec<io::Result<Bytes>> = vec![
            Ok(Bytes::from_static(b"one ")),
            Ok(Bytes::from_static(b"two")),
        ];
        let read: Vec<io::Result<Bytes>> =
            idle_bounded(futures_util::stream::iter(chunks), Duration::from_secs(1))
                .collect()
                .await;
        let read: Vec<Bytes> = read
            .into_iter()
            .map(|chunk| chunk.expect("chunk"))
            .collect();
        assert_eq!(read.concat(), b"one two");
    }
}
