//! The `Idempotency-Key` header of a write a client may retry (`POST
//! /v1/bookings`, `POST /v1/payouts`), checked once: absent is `None`; a
//! key that is not ASCII is refused with `invalid_parameter`, one that is
//! not 1 to 255 visible characters with `invalid_input` (the engine's rule).

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use droply_engine::idempotency_key::IdempotencyKey;

use crate::http::error::{ApiError, ErrorCode};

/// The request's `Idempotency-Key`, if it sent one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKeyHeader(pub Option<IdempotencyKey>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKeyHeader {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let Some(value) = parts.headers.get("idempotency-key") else {
            return Ok(IdempotencyKeyHeader(None));
        };
        let text = value.to_str().map_err(|_| {
            ApiError::new(ErrorCode::InvalidParameter, "Idempotency-Key must be ASCII")
        })?;
        Ok(IdempotencyKeyHeader(Some(IdempotencyKey::parse(text)?)))
    }
}
