//! `ApiJson`: axum's `Json` extractor with its rejections in the one error
//! format: malformed JSON is `invalid_json`, wrong types and missing fields
//! `invalid_input`, a body over the limit `payload_too_large`.

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
    let code = match rejection {
        JsonRejection::JsonDataError(_) => ErrorCode::InvalidInput,
        JsonRejection::JsonSyntaxError(_) => ErrorCode::InvalidJson,
        JsonRejection::MissingJsonContentType(_) => ErrorCode::UnsupportedMediaType,
        _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => ErrorCode::PayloadTooLarge,
        _ => ErrorCode::InvalidJson,
    };
    match code {
        ErrorCode::PayloadTooLarge => body_too_large(),
        _ => ApiError::new(code, rejection.body_text()),
    }
}
