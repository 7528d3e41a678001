//! `ApiBytes`: a request body read whole as bytes (a webhook's event, kept
//! exactly as sent for its signature) under the route's body limit, with
//! its rejections in the one error format: over the limit is
//! `payload_too_large`, a body that broke off `invalid_input`.
//! [`body_too_large`] is the one answer to an oversized body, JSON ones too.

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use crate::http::error::{ApiError, ErrorCode};

/// A request body, whole, as bytes.
#[derive(Debug, Clone, Default)]
pub struct ApiBytes(pub Bytes);

impl<S> FromRequest<S> for ApiBytes
where
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(ApiBytes(bytes)),
            Err(rejection) => Err(bytes_error(&rejection)),
        }
    }
}

fn bytes_error(rejection: &BytesRejection) -> ApiError {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        body_too_large()
    } else {
        ApiError::new(ErrorCode::InvalidInput, rejection.body_text())
    }
}

/// `413 payload_too_large`: the body is over the route's limit.
pub(super) fn body_too_large() -> ApiError {
    ApiError::new(ErrorCode::PayloadTooLarge, "the request body is too large")
}
