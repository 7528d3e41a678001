//! The API's one error format, `{"code": "...", "type": "...", "message": "..."}`,
//! from one table of stable codes (`error_codes!`): the enum, each code's
//! type, status and meaning, the OpenAPI `Error` schema and README's table
//! ([`ErrorCode::markdown_table`]) all come from it. Engine errors map to codes
//! exhaustively; one that refuses a single input value also keeps which
//! ([`FieldError`]), outside the JSON body, for the pages' forms.

use std::fmt::Write as _;

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, Schema, Type};

/// Declares [`ErrorCode`] from one table: each row is a variant, its stable
/// code, its type, its HTTP status and what it means. [`ErrorCode::ALL`],
/// [`ErrorCode::describe`], [`ErrorCode::meaning`], the `Error` schema's
/// enums and [`ErrorCode::markdown_table`] are all read from it.
macro_rules! error_codes {
    ($($variant:ident => $code:literal, $kind:literal, $status:ident, $meaning:literal;)*) => {
        /// Every error code the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode {
            $(
                #[doc = concat!("`", $code, "`: ", $meaning, ".")]
                $variant,
            )*
        }

        impl ErrorCode {
            /// Every code, in table order.
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The stable code, the error type and the HTTP status.
            pub fn describe(self) -> (&'static str, &'static str, StatusCode) {
                match self {
                    $(ErrorCode::$variant => ($code, $kind, StatusCode::$status),)*
                }
            }

            /// When the code is answered, for people.
            pub fn meaning(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $meaning,)*
                }
            }
        }
    };
}

error_codes! {
    RouteNotFound => "route_not_found", "invalid_request", NOT_FOUND,
        "no route matches the path";
    MethodNotAllowed => "method_not_allowed", "invalid_request", METHOD_NOT_ALLOWED,
        "the path exists but not for this method";
    NotFound => "not_found", "invalid_request", NOT_FOUND,
        "the row does not exist (or is not visible to the caller)";
    Conflict => "conflict", "invalid_request", CONFLICT,
        "a unique value is taken";
    SlotUnavailable => "slot_unavailable", "invalid_request", CONFLICT,
        "the asked booking time is not open";
    InvalidInput => "invalid_input", "invalid_request", BAD_REQUEST,
        "a value failed validation";
    InvalidParameter => "invalid_parameter", "invalid_request", BAD_REQUEST,
        "a path or query parameter is malformed";
    Internal => "internal", "internal", INTERNAL_SERVER_ERROR,
        "a failure on our side (details in the log only)";
    Unauthorized => "unauthorized", "auth", UNAUTHORIZED,
        "no valid bearer token (missing, unknown, expired or signed out)";
    InvalidCredentials => "invalid_credentials", "auth", UNAUTHORIZED,
        "sign-in with an email and password that do not match";
    TooManyAttempts => "too_many_attempts", "auth", TOO_MANY_REQUESTS,
        "too many failed sign-ins on one email from one client address; see `Retry-After`";
    InvalidJson => "invalid_json", "invalid_request", BAD_REQUEST,
        "the body is not well-formed JSON";
    PayloadTooLarge => "payload_too_large", "invalid_request", PAYLOAD_TOO_LARGE,
        "a JSON body over 64 KiB, a webhook body over 1 MiB, or an uploaded content file over its limit (100 MiB file, 5 MiB preview by default); nothing is kept";
    UnsupportedMediaType => "unsupported_media_type", "invalid_request", UNSUPPORTED_MEDIA_TYPE,
        "a JSON body not sent as `application/json`, or an uploaded file whose bytes are not an allowed type for it (PDF, images, audio, video, ZIP)";
    Forbidden => "forbidden", "invalid_request", FORBIDDEN,
        "the caller sees the row but may not do this to it (e.g. the client confirming a booking)";
    InvalidState => "invalid_state", "invalid_request", CONFLICT,
        "the row's state does not allow this (e.g. this move of the booking)";
    IdempotencyKeyReused => "idempotency_key_reused", "invalid_request", UNPROCESSABLE_ENTITY,
        "an `Idempotency-Key` sent again with a different request (`POST /v1/bookings`, `POST /v1/payouts`)";
    LimitReached => "limit_reached", "invalid_request", CONFLICT,
        "the caller already holds as many rows of this kind as one may (e.g. availability rules)";
    TooManyUnpaidBookings => "too_many_unpaid_bookings", "invalid_request", CONFLICT,
        "the booker already holds as many bookings awaiting payment as allowed (3 by default); pay for or cancel one first";
    SearchUnavailable => "search_unavailable", "system", SERVICE_UNAVAILABLE,
        "the server runs without the search index, the index is still being built (search routes), or (`/ready`) it has not caught up yet";
    InvalidSearchFilter => "invalid_search_filter", "invalid_request", BAD_REQUEST,
        "a search `filter` that cannot be parsed or asks for what cannot be filtered (the message names the problem)";
    InvalidSearchFacets => "invalid_search_facets", "invalid_request", BAD_REQUEST,
        "a search asks for facets of an unknown field";
    RateLimited => "rate_limited", "rate_limit", TOO_MANY_REQUESTS,
        "too many sign-in, search or write requests from one client address (or writes from one account) within the rate limit; see `Retry-After`";
    Overloaded => "overloaded", "system", SERVICE_UNAVAILABLE,
        "the server is handling as many requests (or password hashes) as it allows; see `Retry-After`";
    StoreUnavailable => "store_unavailable", "system", SERVICE_UNAVAILABLE,
        "the store takes no writes since a disk sync failed (nothing of the write is acknowledged); reads still answer, and `/ready` answers it until the server is restarted";
    RequestTimeout => "request_timeout", "system", SERVICE_UNAVAILABLE,
        "the request took longer than the request timeout (its body included); a read was not answered, but a write (any method but `GET` and `HEAD`) may still complete: check before retrying (a booking or a payout retried with the same `Idempotency-Key` is not made twice)";
    PaymentsNotConfigured => "payments_not_configured", "system", SERVICE_UNAVAILABLE,
        "a paid booking or a payout on a server running without Stripe (free sessions still book)";
    InvalidSignature => "invalid_signature", "invalid_request", BAD_REQUEST,
        "a Stripe or Daily.co webhook whose signature (`Stripe-Signature`; `X-Webhook-Signature` with `X-Webhook-Timestamp`) is missing, malformed, stale (over 300 s) or does not match; nothing was changed";
    PaymentProviderError => "payment_provider_error", "system", BAD_GATEWAY,
        "Stripe could not be reached or refused the call; a new booking whose payment could not start is cancelled (a retry or \"pay now\" that meets Stripe failing for now cancels nothing); the message is fixed, Stripe's own text goes to the log only";
    InsufficientBalance => "insufficient_balance", "invalid_request", CONFLICT,
        "a payout larger than what is available now (earnings past their hold, minus payouts)";
    PayoutsNotEnabled => "payouts_not_enabled", "invalid_request", CONFLICT,
        "a payout, or publishing content with a price, before the Stripe account was onboarded and enabled";
    AlreadyPurchased => "already_purchased", "invalid_request", CONFLICT,
        "buying content the caller already holds (a purchase whose payment is still open is answered again instead)";
    ContentHasBuyers => "content_has_buyers", "invalid_request", CONFLICT,
        "deleting content someone bought or started to buy; archive it instead (buyers keep their access)";
    CalendarNotConfigured => "calendar_not_configured", "system", SERVICE_UNAVAILABLE,
        "a Google Calendar route on a server running without Google (no client id and secret)";
    InvalidOauthState => "invalid_oauth_state", "invalid_request", BAD_REQUEST,
        "a calendar callback whose `state` is unknown, expired or already used, or whose code Google refused; start connecting again";
    CalendarProviderError => "calendar_provider_error", "system", BAD_GATEWAY,
        "Google could not be reached or refused the call; the message is fixed, Google's own text goes to the log only";
    RangeNotSatisfiable => "range_not_satisfiable", "invalid_request", RANGE_NOT_SATISFIABLE,
        "a `Range` that starts past the end of the file; `Content-Range` gives the size";
    DropinFull => "dropin_full", "invalid_request", CONFLICT,
        "joining a drop-in whose every seat is taken";
    UpgradeRequired => "upgrade_required", "invalid_request", UPGRADE_REQUIRED,
        "a live route (drop-in room, signal relay) called without a WebSocket upgrade";
    BookingNotConfirmed => "booking_not_confirmed", "invalid_request", CONFLICT,
        "a booking's meeting asked while the booking is not `confirmed` (awaiting payment, cancelled, completed, ...)";
    MeetingNotOpen => "meeting_not_open", "invalid_request", CONFLICT,
        "a booking's meeting asked before it opens (10 minutes before the start by default) or after the session's end";
    VideoProviderError => "video_provider_error", "system", BAD_GATEWAY,
        "Daily.co could not be reached or refused the call (a meeting token or a recording link); the message is fixed, Daily's own text goes to the log only";
    VideoNotConfigured => "video_not_configured", "system", SERVICE_UNAVAILABLE,
        "a Daily.co webhook or a recording link on a server running without Daily (meetings then use the WebRTC fallback)";
}

impl ErrorCode {
    /// The error codes as a Markdown table (code, type, HTTP status,
    /// meaning), one row per code in table order; README.md holds a copy.
    pub fn markdown_table() -> String {
        let mut table =
            String::from("| code | type | HTTP status | meaning |\n| --- | --- | --- | --- |\n");
        for code in ErrorCode::ALL {
            let (name, kind, status) = code.describe();
            let meaning = code.meaning().replace('|', "\\|");
            let _ = writeln!(
                table,
                "| `{name}` | `{kind}` | {} | {meaning} |",
                status.as_u16()
            );
        }
        table
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
    field: Option<FieldError>,
    retry_after_secs: Option<u64>,
}

/// The one input value an error refuses, as the engine named it: the
/// field's API name and why, without the name. Not part of the JSON body
/// (whose `message` says both); the pages read it to mark the form field
/// and to word the sentence with the field's label.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's API name, e.g. `hourly_rate`.
    pub field: &'static str,
    /// Why it was refused, e.g. `must be greater than zero`.
    pub reason: String,
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
            field: None,
            retry_after_secs: None,
        }
    }

    /// The same error, saying it refuses `field` because of `reason`.
    pub fn with_field(self, field: &'static str, reason: impl Into<String>) -> Self {
        ApiError {
            field: Some(FieldError {
                field,
                reason: reason.into(),
            }),
            ..self
        }
    }

    /// The input value the error refuses, when it is about one.
    pub fn field_error(&self) -> Option<&FieldError> {
        self.field.as_ref()
    }

    /// The error's code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// What went wrong, for people.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The same error, answered with `Retry-After: secs`.
    pub fn with_retry_after(self, secs: u64) -> Self {
        ApiError {
            retry_after_secs: Some(secs),
            ..self
        }
    }

    /// The `Retry-After` seconds the answer carries, if any.
    pub fn retry_after_secs(&self) -> Option<u64> {
        self.retry_after_secs
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
            E::Conflict { field, ref value } => {
                let reason = format!("{value:?} is already taken");
                ApiError::new(ErrorCode::Conflict, err.to_string()).with_field(field, reason)
            }
            E::SlotUnavailable => ApiError::new(ErrorCode::SlotUnavailable, err.to_string()),
            E::Model(droply_models::Error::Invalid { field, ref reason }) => {
                let reason = reason.clone();
                ApiError::new(ErrorCode::InvalidInput, err.to_string()).with_field(field, reason)
            }
            E::Model(_) | E::Invalid(_) => ApiError::new(ErrorCode::InvalidInput, err.to_string()),
            // A cursor is a query parameter, refused like a malformed one.
            E::InvalidCursor => ApiError::new(ErrorCode::InvalidParameter, err.to_string()),
            E::Unauthorized => ApiError::new(ErrorCode::Unauthorized, err.to_string()),
            E::InvalidCredentials => ApiError::new(ErrorCode::InvalidCredentials, err.to_string()),
            E::TooManyAttempts { retry_after_secs } => {
                ApiError::new(ErrorCode::TooManyAttempts, err.to_string())
                    .with_retry_after(retry_after_secs)
            }
            E::Overloaded {
                retry_after_secs, ..
            } => ApiError::new(ErrorCode::Overloaded, err.to_string())
                .with_retry_after(retry_after_secs),
            E::Forbidden(_) => ApiError::new(ErrorCode::Forbidden, err.to_string()),
            E::InvalidState(_) => ApiError::new(ErrorCode::InvalidState, err.to_string()),
            E::LimitReached(_) => ApiError::new(ErrorCode::LimitReached, err.to_string()),
            E::IdempotencyKeyReused => {
                ApiError::new(ErrorCode::IdempotencyKeyReused, err.to_string())
            }
            E::TooManyUnpaidBookings { .. } => {
                ApiError::new(ErrorCode::TooManyUnpaidBookings, err.to_string())
            }
            E::InvalidFilter(_) => ApiError::new(ErrorCode::InvalidSearchFilter, err.to_string()),
            E::InvalidFacets(_) => ApiError::new(ErrorCode::InvalidSearchFacets, err.to_string()),
            E::SearchUnavailable(_) => ApiError::new(ErrorCode::SearchUnavailable, err.to_string()),
            E::WritesStopped(_) => ApiError::new(ErrorCode::StoreUnavailable, err.to_string()),
            E::PaymentsNotConfigured => {
                ApiError::new(ErrorCode::PaymentsNotConfigured, err.to_string())
            }
            E::InvalidSignature(_) => ApiError::new(ErrorCode::InvalidSignature, err.to_string()),
            E::PaymentProvider(_) => provider_error(
                ErrorCode::PaymentProviderError,
                "the payment provider could not complete the request; try again later",
                &err,
            ),
            E::InsufficientBalance { .. } => {
                ApiError::new(ErrorCode::InsufficientBalance, err.to_string())
            }
            E::PayoutsNotEnabled(_) => ApiError::new(ErrorCode::PayoutsNotEnabled, err.to_string()),
            E::FileTooLarge { .. } => ApiError::new(ErrorCode::PayloadTooLarge, err.to_string()),
            E::UnsupportedFile(_) => {
                ApiError::new(ErrorCode::UnsupportedMediaType, err.to_string())
            }
            E::AlreadyPurchased => ApiError::new(ErrorCode::AlreadyPurchased, err.to_string()),
            E::ContentHasBuyers => ApiError::new(ErrorCode::ContentHasBuyers, err.to_string()),
            E::DropinFull { .. } => ApiError::new(ErrorCode::DropinFull, err.to_string()),
            E::MeetingNeedsConfirmation(_) => {
                ApiError::new(ErrorCode::BookingNotConfirmed, err.to_string())
            }
            E::MeetingNotOpen(_) => ApiError::new(ErrorCode::MeetingNotOpen, err.to_string()),
            E::VideoProvider(_) => provider_error(
                ErrorCode::VideoProviderError,
                "the video provider could not complete the request; try again later",
                &err,
            ),
            E::VideoNotConfigured => ApiError::new(ErrorCode::VideoNotConfigured, err.to_string()),
            E::CalendarNotConfigured => {
                ApiError::new(ErrorCode::CalendarNotConfigured, err.to_string())
            }
            E::InvalidOAuthState(_) => ApiError::new(ErrorCode::InvalidOauthState, err.to_string()),
            E::CalendarProvider(_) => provider_error(
                ErrorCode::CalendarProviderError,
                "the calendar provider could not complete the request; try again later",
                &err,
            ),
            E::SchemaTooNew { .. } | E::Corrupt(_) | E::Storage(_) | E::Io(_) | E::Config(_) => {
                ApiError::internal(err)
            }
        }
    }
}

/// An outside service's failure: the client gets `message`, fixed for the
/// code, never the provider's own text (it can name other accounts' objects
/// or quote a masked key); that goes to the log.
fn provider_error(code: ErrorCode, message: &str, err: &droply_engine::Error) -> ApiError {
    tracing::warn!(code = code.describe().0, error = %err, "outside service failed");
    ApiError::new(code, message)
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

#[cfg(test)]
mod tests {
    use super::*;

    const README: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md");

    #[test]
    fn the_readme_holds_the_error_code_table() {
        let readme = std::fs::read_to_string(README).expect("README.md");
        let table = ErrorCode::markdown_table();
        assert!(
            readme.contains(&table),
            "README.md must hold the error-code table exactly as generated:\n\n{table}"
        );
    }

    /// Stripe's, Google's and Daily's own text went to the client: it can
    /// quote a (masked) key or name another account's objects.
    #[test]
    fn a_payment_provider_error_does_not_pass_stripes_message_to_the_client() {
        use droply_engine::Error as E;
        let said = "Invalid API Key provided: sk_live_****1234; pi_3OtherAccount";
        for (err, code) in [
            (
                E::PaymentProvider(said.to_owned()),
                ErrorCode::PaymentProviderError,
            ),
            (
                E::CalendarProvider(said.to_owned()),
                ErrorCode::CalendarProviderError,
            ),
            (
                E::VideoProvider(said.to_owned()),
                ErrorCode::VideoProviderError,
            ),
        ] {
            let answer = ApiError::from(err);
            assert_eq!(answer.code(), code);
            assert!(
                !answer.message().contains("sk_live"),
                "{}",
                answer.message()
            );
            assert!(!answer.message().contains("pi_3"), "{}", answer.message());
            assert!(
                answer.message().contains("try again later"),
                "{}",
                answer.message()
            );
        }
    }

    #[test]
    fn codes_are_unique_snake_case_and_statuses_are_errors() {
        let mut names: Vec<&str> = ErrorCode::ALL.iter().map(|c| c.describe().0).collect();
        assert!(
            names.iter().all(|n| {
                !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')
            })
        );
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ErrorCode::ALL.len());
        for code in ErrorCode::ALL {
            let status = code.describe().2;
            assert!(
                status.is_client_error() || status.is_server_error(),
                "{code:?}"
            );
        }
        assert_eq!(
            ErrorCode::markdown_table().lines().count(),
            ErrorCode::ALL.len() + 2,
            "one row per code"
        );
    }
}
