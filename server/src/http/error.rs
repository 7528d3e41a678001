//! The API's one error format, `{"code": "...", "type": "...", "message": "..."}`,
//! from one table of stable codes. Engine errors map to codes exhaustively.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};

/// Every error code the API answers with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// The path matches no route.
    RouteNotFound,
    /// The route exists but not for this method.
    MethodNotAllowed,
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
    /// No valid bearer token: missing, unknown or expired.
    Unauthorized,
    /// Sign-in with an email and password that do not match.
    InvalidCredentials,
    /// Too many failed sign-ins for one email.
    TooManyAttempts,
    /// The body is not well-formed JSON.
    InvalidJson,
    /// The body is over the size limit.
    PayloadTooLarge,
    /// The body is not sent as `application/json`.
    UnsupportedMediaType,
    /// The caller sees the row but may not do this to it.
    Forbidden,
    /// The row's state does not allow this.
    InvalidState,
    /// An `Idempotency-Key` was sent again with a different request.
    IdempotencyKeyReused,
    /// This server runs without the search index (or it is not open yet).
    SearchUnavailable,
    /// A search `filter` cannot be parsed or names what cannot be filtered.
    InvalidSearchFilter,
    /// A search asks for facets of an unknown field.
    InvalidSearchFacets,
}

impl ErrorCode {
    /// Every code, in table order.
    pub const ALL: &'static [ErrorCode] = &[
        ErrorCode::RouteNotFound,
        ErrorCode::MethodNotAllowed,
        ErrorCode::NotFound,
        ErrorCode::Conflict,
        ErrorCode::SlotUnavailable,
        ErrorCode::InvalidInput,
        ErrorCode::InvalidParameter,
        ErrorCode::Internal,
        ErrorCode::Unauthorized,
        ErrorCode::InvalidCredentials,
        ErrorCode::TooManyAttempts,
        ErrorCode::InvalidJson,
        ErrorCode::PayloadTooLarge,
        ErrorCode::UnsupportedMediaType,
        ErrorCode::Forbidden,
        ErrorCode::InvalidState,
        ErrorCode::IdempotencyKeyReused,
        ErrorCode::SearchUnavailable,
        ErrorCode::InvalidSearchFilter,
        ErrorCode::InvalidSearchFacets,
    ];

    /// The stable code, the error type and the HTTP status.
    pub fn describe(self) -> (&'static str, &'static str, StatusCode) {
        match self {
            ErrorCode::RouteNotFound => {
                ("route_not_found", "invalid_request", StatusCode::NOT_FOUND)
            }
            ErrorCode::MethodNotAllowed => (
                "method_not_allowed",
                "invalid_request",
                StatusCode::METHOD_NOT_ALLOWED,
            ),
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
            ErrorCode::Unauthorized => ("unauthorized", "auth", StatusCode::UNAUTHORIZED),
            ErrorCode::InvalidCredentials => {
                ("invalid_credentials", "auth", StatusCode::UNAUTHORIZED)
            }
            ErrorCode::TooManyAttempts => {
                ("too_many_attempts", "auth", StatusCode::TOO_MANY_REQUESTS)
            }
            ErrorCode::InvalidJson => ("invalid_json", "invalid_request", StatusCode::BAD_REQUEST),
            ErrorCode::PayloadTooLarge => (
                "payload_too_large",
                "invalid_request",
                StatusCode::PAYLOAD_TOO_LARGE,
            ),
            ErrorCode::UnsupportedMediaType => (
                "unsupported_media_type",
                "invalid_request",
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ),
            ErrorCode::Forbidden => ("forbidden", "invalid_request", StatusCode::FORBIDDEN),
            ErrorCode::InvalidState => ("invalid_state", "invalid_request", StatusCode::CONFLICT),
            ErrorCode::IdempotencyKeyReused => (
                "idempotency_key_reused",
                "invalid_request",
                StatusCode::UNPROCESSABLE_ENTITY,
            ),
            ErrorCode::SearchUnavailable => (
                "search_unavailable",
                "system",
                StatusCode::SERVICE_UNAVAILABLE,
            ),
            ErrorCode::InvalidSearchFilter => (
                "invalid_search_filter",
                "invalid_request",
                StatusCode::BAD_REQUEST,
            ),
            ErrorCode::InvalidSearchFacets => (
                "invalid_search_facets",
                "invalid_request",
                StatusCode::BAD_REQUEST,
            ),
        }
    }
}

/// The schema of every error body in the OpenAPI document: `code` is one of
/// [`ErrorCode::ALL`], `type` one of their types.
#[derive(Debug)]
pub struct ErrorBody;

impl utoipa::PartialSchema for ErrorBody {
    fn schema() -> RefOr<Schema> {
        let mut codes: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.describe().0).collect();
        let mut types: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.describe().1).collect();
        codes.sort_unstable();
        types.sort_unstable();
        types.dedup();
        let text = |description: &str, values: Option<Vec<&str>>| {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
                .enum_values(values)
        };
        ObjectBuilder::new()
            .description(Some(
                "Every failure has this shape; `code` is stable and snake_case.",
            ))
            .property("code", text("The stable error code.", Some(codes)))
            .required("code")
            .property("type", text("The error's kind.", Some(types)))
            .required("type")
            .property("message", text("What went wrong, for people.", None))
            .required("message")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)))
            .into()
    }
}

impl utoipa::ToSchema for ErrorBody {
    fn name() -> std::borrow::Cow<'static, str> {
        std::borrow::Cow::Borrowed("Error")
    }
}

/// An error answer.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    message: String,
    retry_after_secs: Option<u64>,
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
            retry_after_secs: None,
        }
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.code
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
            E::Unauthorized => ApiError::new(ErrorCode::Unauthorized, err.to_string()),
            E::InvalidCredentials => ApiError::new(ErrorCode::InvalidCredentials, err.to_string()),
            E::TooManyAttempts { retry_after_secs } => ApiError {
                retry_after_secs: Some(retry_after_secs),
                ..ApiError::new(ErrorCode::TooManyAttempts, err.to_string())
            },
            E::Forbidden(_) => ApiError::new(ErrorCode::Forbidden, err.to_string()),
            E::InvalidState(_) => ApiError::new(ErrorCode::InvalidState, err.to_string()),
            E::IdempotencyKeyReused => {
                ApiError::new(ErrorCode::IdempotencyKeyReused, err.to_string())
            }
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
        let mut response = (status, Json(body)).into_response();
        if let Some(secs) = self.retry_after_secs {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, secs.into());
        } else if status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        response
    }
}

/// The answer for paths no route matches.
pub async fn not_found() -> ApiError {
    ApiError::new(ErrorCode::RouteNotFound, "no such route")
}

/// The answer for a known path asked with a method it does not serve.
pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        ErrorCode::MethodNotAllowed,
        "this route does not take that method",
    )
}
