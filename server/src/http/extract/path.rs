//! `ApiPath`: axum's `Path` extractor answering `invalid_parameter` in the
//! one error format (a segment that is not UTF-8, or not of the type asked,
//! got axum's plain-text `400` before); and parsing of ids in paths.

use std::str::FromStr;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::http::error::{ApiError, ErrorCode};

/// The path parameters of a route, of type `T` (a `String`, or a tuple of
/// them for a route with several).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(ApiPath(value)),
            // A route declared without the parameters its handler takes:
            // our mistake, not the caller's.
            Err(rejection) if rejection.status().is_server_error() => {
                Err(ApiError::internal(rejection.body_text()))
            }
            Err(rejection) => Err(ApiError::new(
                ErrorCode::InvalidParameter,
                rejection.body_text(),
            )),
        }
    }
}

/// Parses an id from a path segment; `invalid_parameter` when it is not one.
pub(crate) fn parse_id<T: FromStr>(raw: &str, what: &str) -> Result<T, ApiError> {
    raw.parse().map_err(|_| {
        ApiError::new(
            ErrorCode::InvalidParameter,
            format!("{raw:?} is not a {what} id"),
        )
    })
}
