//! The API's one error format, `{"code": "...", "type": "...", "message": "..."}`,
//! from one table of stable codes. Engine errors map to codes exhaustively.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Every error code the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The path matches no route.
    RouteNotFound,
    /// The requested row does not exist (or is not visible to the caller).
    NotFound,
    /// A unique value is taken.
    Conflict,
    /// The asked booking time is not open.
    SlotUnavailable,
    /// A value failed validation.
    InvalidInput,
    /// A path or query parameter is malformed.
    InvalidParameter,
    /// Something failed on our side.
    Internal,
}

impl ErrorCode {
    /// The stable code, the error type and the HTTP status.
    pub fn describe(self) -> (&'static str, &'static str, StatusCode) {
        match self {
            ErrorCode::RouteNotFound => {
                ("route_not_found", "invalid_request", StatusCode::NOT_FOUND)
            }
            ErrorCode::NotFound => ("not_found", "invalid_request", StatusCode::NOT_FOUND),
            ErrorCode::Conflict => ("conflict", "invalid_request", StatusCode::CONFLICT),
            ErrorCode::SlotUnavailable => {
                ("slot_unavailable", "invalid_request", StatusCode::CONFLICT)
            }
            ErrorCode::InvalidInput => {
                ("invalid_input", "invalid_request", StatusCode::BAD_REQUEST)
            }
            ErrorCode::InvalidParameter => (
                "invalid_parameter",
                "invalid_request",
                StatusCode::BAD_REQUEST,
            ),
            ErrorCode::Internal => ("internal", "internal", StatusCode::INTERNAL_SERVER_ERROR),
        }
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
}

#[derive(Serialize)]
struct Body<'a> {
    code: &'a str,
    r#type: &'a str,
    message: &'a str,
}

impl ApiError {
    /// An error with this code and message.
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
        }
    }

    /// An internal failure; the details go to the log, not to the caller.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        ApiError::new(ErrorCode::Internal, "internal error")
    }
}

impl From<droply_engine::Error> for ApiError {
    fn from(err: droply_engine::Error) -> Self {
        use droply_engine::Error as E;
        match err {
            E::NotFound { .. } => ApiError::new(ErrorCode::NotFound, err.to_string()),
            E::Conflict { .. } => ApiError::new(ErrorCode::Conflict, err.to_string()),
            E::SlotUnavailable => ApiError::new(ErrorCode::SlotUnavailable, err.to_string()),
            E::Model(_) | E::Invalid(_) => ApiError::new(ErrorCode::InvalidInput, err.to_string()),
            E::SchemaTooNew { .. } | E::Corrupt(_) | E::Storage(_) | E::Io(_) => {
                ApiError::internal(err)
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (code, kind, status) = self.code.describe();
        let body = Body {
            code,
            r#type: kind,
            message: &self.message,
        };
        (status, Json(body)).into_response()
    }
}

/// The answer for paths no route matches.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such route")
}
