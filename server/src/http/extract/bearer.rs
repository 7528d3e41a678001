//! Signing in on a request: `Authorization: Bearer <token>`. Without a valid
//! token the request is answered `401 unauthorized` in the one error format;
//! routes open to anonymous callers take [`MaybeSignedIn`], which lets a
//! request without the header through but still refuses a bad token. A
//! signed-in write also counts against the account's write rate limit.

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use droply_models::UserId;

use crate::http::error::{ApiError, ErrorCode};
use crate::http::{AppState, blocking};
use crate::pages::cookies;

/// The bearer token a request carries.
#[derive(Clone)]
pub struct BearerToken(pub String);

impl std::fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BearerToken(..)")
    }
}

impl BearerToken {
    /// The token of `headers`' `Authorization: Bearer` header; `None`
    /// without one or when it is malformed.
    pub fn of(headers: &HeaderMap) -> Option<BearerToken> {
        let header = headers.get(AUTHORIZATION)?.to_str().ok()?;
        let (scheme, token) = header.split_once(' ')?;
        let token = token.trim();
        if !scheme.eq_ignore_ascii_case("bearer") || token.is_empty() || token.len() > 256 {
            return None;
        }
        Some(BearerToken(token.to_owned()))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for BearerToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        BearerToken::of(&parts.headers)
            .ok_or_else(|| ApiError::new(ErrorCode::Unauthorized, "sign in first"))
    }
}

/// The signed-in user of a request. On a write route (see [`RouteClass`])
/// the request counts against the account's write rate limit, and is
/// refused `429 rate_limited` over it.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn(pub UserId);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let BearerToken(token) = BearerToken::from_request_parts(parts, state).await?;
        let user = blocking(state, move |engine| engine.authenticate(&token)).await?;
        state.rate_limits.check_account_write(parts, user)?;
        Ok(SignedIn(user))
    }
}

/// The signed-in user of a request that may also come anonymously: no
/// `Authorization` header is `None`; a header without a valid bearer token is
/// refused with `401 unauthorized`, never taken as anonymous.
#[derive(Debug, Clone, Copy)]
pub struct MaybeSignedIn(pub Option<UserId>);

impl FromRequestParts<AppState> for MaybeSignedIn {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts.headers.contains_key(AUTHORIZATION) {
            return Ok(MaybeSignedIn(None));
        }
        let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
        Ok(MaybeSignedIn(Some(user)))
    }
}

/// The signed-in user of a request a browser makes when an outside site
/// sends it back (an OAuth redirect): the bearer token when the request has
/// one (a native app finishing the flow itself), else the pages' session
/// cookie (under its `__Host-` name behind an HTTPS public URL). `None`
/// when neither signs anyone in; a bad bearer token is still refused with
/// `401 unauthorized`.
#[derive(Debug, Clone, Copy)]
pub struct BrowserOrBearer(pub Option<UserId>);

impl FromRequestParts<AppState> for BrowserOrBearer {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if parts.headers.contains_key(AUTHORIZATION) {
            let SignedIn(user) = SignedIn::from_request_parts(parts, state).await?;
            return Ok(BrowserOrBearer(Some(user)));
        }
        let session = cookies::session_token(&parts.headers, state.pages.secure_cookies);
        let Some(token) = session.map(str::to_owned) else {
            return Ok(BrowserOrBearer(None));
        };
        let user = blocking(state, move |engine| engine.signed_in(&token)).await?;
        Ok(BrowserOrBearer(user))
    }
}
