//! `ApiJson`: axum's `Json` extractor with its rejections in the one error
//! format: malformed JSON is `invalid_json`, wrong types and missing fields
//! `invalid_input`, a body over the limit `payload_too_large`, and a body
//! that could not be read (it broke off or timed out) `invalid_input`,
//! saying so rather than calling it invalid JSON.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::raw_body::body_too_large;
use crate::http::error::{ApiError, ErrorCode};

/// A JSON request body of type `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_error(&rejection)),
        }
    }
}

fn json_error(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonDataError(_) => {
            ApiError::new(ErrorCode::InvalidInput, rejection.body_text())
        }
        JsonRejection::JsonSyntaxError(_) => {
            ApiError::new(ErrorCode::InvalidJson, rejection.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => {
            ApiError::new(ErrorCode::UnsupportedMediaType, rejection.body_text())
        }
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => body_too_large(),
        // The body was never read whole: nothing says it is not JSON.
        JsonRejection::BytesRejection(_) => body_unreadable(),
        _ => ApiError::new(ErrorCode::InvalidJson, rejection.body_text()),
    }
}

/// `400 invalid_input`: the body could not be read to its end.
fn body_unreadable() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidInput,
        "the request body could not be read (it broke off or timed out); send it again",
    )
}

#[cfg(test)]
mod tests {
    use axum::body::{Body, Bytes};
    use axum::http::header::CONTENT_TYPE;

    use super::*;

    /// What `ApiJson` makes of a JSON request whose body is `body`.
    async fn rejection_of(body: Body) -> ApiError {
        let request = Request::post("/")
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .expect("request");
        match ApiJson::<serde_json::Value>::from_request(request, &()).await {
            Ok(_) => panic!("the body was taken"),
            Err(err) => err,
        }
    }

    /// Regression: a body that broke off (the client hung up, or it came
    /// too slowly and timed out) was answered `invalid_json`, as if the
    /// client had sent malformed JSON.
    #[tokio::test]
    async fn a_body_that_broke_off_is_unreadable_not_invalid_json() {
        let broken = Body::from_stream(futures_util::stream::iter([
            Ok(Bytes::from_static(b"{\"title\":")),
            Err(std::io::Error::new(
                std::io::ErrorKind::TimedOut,
                "the body stopped coming",
            )),
        ]));
        let err = rejection_of(broken).await;
        let (code, _, status) = err.code().describe();
        assert_eq!(code, "invalid_input");
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(
            err.message().contains("could not be read"),
            "{}",
            err.message()
        );
    }

    #[tokio::test]
    async fn a_body_over_the_limit_is_too_large_and_malformed_json_is_invalid_json() {
        // Over axum's default body limit (2 MiB): no route layer here.
        let large = Body::from(vec![b' '; 3 * 1024 * 1024]);
        let (code, _, status) = rejection_of(large).await.code().describe();
        assert_eq!(
            (code, status),
            ("payload_too_large", StatusCode::PAYLOAD_TOO_LARGE)
        );
        let malformed = Body::from("{\"title\":");
        let (code, _, status) = rejection_of(malformed).await.code().describe();
        assert_eq!((code, status), ("invalid_json", StatusCode::BAD_REQUEST));
    }
}
