//! Sending a stored file: streamed from disk (never read whole), with its
//! stored media type, `Content-Disposition` under a name the engine made,
//! `ETag` from its SHA-256, and byte ranges: one `Range: bytes=` range is
//! answered `206` with `Content-Range`; a range past the end is `416`; a
//! malformed or multi-part range is ignored and the whole file sent, as
//! RFC 9110 allows. An `If-Range` that is not the file's current `ETag` (the
//! file changed since the client's first part, or a date, which we cannot
//! check) sends the whole file, so a resumed download is never spliced
//! from two versions. An attachment is a file someone was entitled to (a
//! bought download), signed in by a token or a cookie alike: it is never
//! kept by a shared cache (`Cache-Control: private, no-store`).

use std::io::{Seek, SeekFrom};

use axum::body::Body;
use axum::http::header::{
    ACCEPT_RANGES, CACHE_CONTROL, CONTENT_DISPOSITION, CONTENT_LENGTH, CONTENT_RANGE, CONTENT_TYPE,
    ETAG, IF_RANGE, RANGE, X_CONTENT_TYPE_OPTIONS,
};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use droply_engine::ContentFile;
use tokio::io::AsyncReadExt;
use tokio_util::io::ReaderStream;

use crate::http::error::{ApiError, ErrorCode};

/// Whether the browser should save the file or show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Disposition {
    /// `attachment`: saved.
    Attachment,
    /// `inline`: shown.
    Inline,
}

/// The response sending `file`, honouring the request's `Range`.
pub fn send_file(
    file: ContentFile,
    request: &HeaderMap,
    disposition: Disposition,
) -> Result<Response, ApiError> {
    let size = file.meta.size;
    let etag = format!("\"{}\"", file.meta.sha256);
    let range = request
        .get(RANGE)
        .filter(|_| range_applies(request, &etag))
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_range(value, size));
    let (status, start, len) = match range {
        None => (StatusCode::OK, 0, size),
        Some(Err(Unsatisfiable)) => {
            let mut response = ApiError::new(
                ErrorCode::RangeNotSatisfiable,
                format!("the range starts past the end of the {size}-byte file"),
            )
            .into_response();
            response
                .headers_mut()
                .insert(CONTENT_RANGE, header(&format!("bytes */{size}"))?);
            return Ok(response);
        }
        Some(Ok((start, end))) => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
    };
    let mut std_file = file.file;
    std_file
        .seek(SeekFrom::Start(start))
        .map_err(ApiError::internal)?;
    let reader = tokio::fs::File::from_std(std_file).take(len);
    let mut response = Response::new(Body::from_stream(ReaderStream::with_capacity(
        reader,
        64 * 1024,
    )));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, header(&file.meta.media_type)?);
    headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    headers.insert(ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    headers.insert(ETAG, header(&etag)?);
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(
        CONTENT_DISPOSITION,
        header(&content_disposition(disposition, &file.download_name))?,
    );
    if disposition == Disposition::Attachment {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    }
    if status == StatusCode::PARTIAL_CONTENT {
        headers.insert(
            CONTENT_RANGE,
            header(&format!("bytes {start}-{}/{size}", start + len - 1))?,
        );
    }
    Ok(response)
}

/// Whether the request's `Range` may be honoured: no `If-Range`, or one
/// that is exactly the file's current strong `etag`.
fn range_applies(request: &HeaderMap, etag: &str) -> bool {
    match request.get(IF_RANGE) {
        None => true,
        Some(value) => value.as_bytes() == etag.as_bytes(),
    }
}

fn header(value: &str) -> Result<HeaderValue, ApiError> {
    HeaderValue::from_str(value).map_err(ApiError::internal)
}

/// A range that starts past the end.
#[derive(Debug, PartialEq, Eq)]
struct Unsatisfiable;

/// The one byte range `value` asks of a `size`-byte file, inclusive;
/// `None` to send it whole (no usable range).
fn parse_range(value: &str, size: u64) -> Option<Result<(u64, u64), Unsatisfiable>> {
    let spec = value.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        let suffix: u64 = last.parse().ok()?;
        if suffix == 0 {
            return Some(Err(Unsatisfiable));
        }
        if size == 0 {
            return None;
        }
        return Some(Ok((size.saturating_sub(suffix), size - 1)));
    }
    let start: u64 = first.parse().ok()?;
    let end: u64 = if last.is_empty() {
        u64::MAX
    } else {
        last.parse().ok()?
    };
    if end < start {
        return None;
    }
    if start >= size {
        return Some(Err(Unsatisfiable));
    }
    Some(Ok((start, end.min(size - 1))))
}

/// `attachment; filename="ascii"; filename*=UTF-8''percent-encoded`.
fn content_disposition(disposition: Disposition, name: &str) -> String {
    let kind = match disposition {
        Disposition::Attachment => "attachment",
        Disposition::Inline => "inline",
    };
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for byte in name.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'-' | b'_') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    format!("{kind}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-99", 1000), Some(Ok((0, 99))));
        assert_eq!(parse_range("bytes=900-", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-100", 1000), Some(Ok((900, 999))));
        assert_eq!(parse_range("bytes=-5000", 1000), Some(Ok((0, 999))));
        assert_eq!(parse_range("bytes=500-5000", 1000), Some(Ok((500, 999))));
        assert_eq!(parse_range("bytes=1000-", 1000), Some(Err(Unsatisfiable)));
        assert_eq!(parse_range("bytes=-0", 1000), Some(Err(Unsatisfiable)));
        assert_eq!(parse_range("bytes=0-1,5-6", 1000), None);
        assert_eq!(parse_range("bytes=9-1", 1000), None);
        assert_eq!(parse_range("items=0-1", 1000), None);
        assert_eq!(parse_range("bytes=x-1", 1000), None);
    }

    /// Regression: `If-Range` was ignored, so a download resumed after the
    /// file was replaced got the new file's bytes after the old one's.
    #[test]
    fn a_range_applies_only_to_the_version_it_was_asked_of() {
        let etag = "\"abc123\"";
        let mut request = HeaderMap::new();
        assert!(range_applies(&request, etag));
        request.insert(IF_RANGE, HeaderValue::from_static("\"abc123\""));
        assert!(range_applies(&request, etag));
        for other in [
            "\"def456\"",
            "W/\"abc123\"",
            "Wed, 21 Oct 2026 07:28:00 GMT",
        ] {
            request.insert(IF_RANGE, HeaderValue::from_static(other));
            assert!(!range_applies(&request, etag), "{other}");
        }
    }

    #[test]
    fn names_are_safe_in_the_header() {
        assert_eq!(
            content_disposition(Disposition::Attachment, "Größe.pdf"),
            "attachment; filename=\"Gr__e.pdf\"; filename*=UTF-8''Gr%C3%B6%C3%9Fe.pdf"
        );
        assert_eq!(
            content_disposition(Disposition::Inline, "a\"b.png"),
            "inline; filename=\"a_b.png\"; filename*=UTF-8''a%22b.png"
        );
    }
}
