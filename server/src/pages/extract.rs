//! What page handlers take from a request, refused as an HTML error page
//! (never axum's plain-text rejections): a query string ([`PageQuery`]) or
//! a form ([`PageForm`]) that does not fit (a field missing, repeated or of
//! the wrong kind) is a `400`; path parameters ([`PagePath`]) that do not
//! fit, and ids in them that are not ids ([`path_id`]), are a `404`: no
//! such page.

use std::str::FromStr;

use axum::extract::{Form, FromRequest, FromRequestParts, Path, Query, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use super::page::PageError;
use crate::http::ApiError;

/// A page's query string, of type `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for PageQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(PageQuery(value)),
            Err(_) => Err(PageError::bad_request(
                "That link is broken: this page does not understand its query.",
            )),
        }
    }
}

/// A URL-encoded form body, of type `T`.
#[derive(Debug, Clone, Copy, Default)]
pub struct PageForm<T>(pub T);

impl<T, S> FromRequest<S> for PageForm<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Form::<T>::from_request(req, state).await {
            Ok(Form(value)) => Ok(PageForm(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(PageError::form_too_large())
            }
            Err(_) => Err(PageError::bad_request(
                "The form came incomplete or garbled. Reload the page and try again.",
            )),
        }
    }
}

/// A page's path parameters, of type `T` (a `String`, or a tuple of them).
#[derive(Debug, Clone, Copy, Default)]
pub struct PagePath<T>(pub T);

impl<T, S> FromRequestParts<S> for PagePath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = PageError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match Path::<T>::from_request_parts(parts, state).await {
            Ok(Path(value)) => Ok(PagePath(value)),
            // A route declared without the parameters its handler takes:
            // our mistake, logged, not the visitor's.
            Err(rejection) if rejection.status().is_server_error() => {
                Err(PageError::from(ApiError::internal(rejection.body_text())))
            }
            Err(_) => Err(PageError::not_found()),
        }
    }
}

/// The id a path segment names (digits only, as every id is read); a
/// segment that is not one is `404`: no such page.
pub fn path_id<T: FromStr>(raw: &str) -> Result<T, PageError> {
    raw.parse().map_err(|_| PageError::not_found())
}
