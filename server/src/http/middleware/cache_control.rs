//! `Cache-Control: no-store` on every answer to a request that carried
//! credentials: what a signed-in user sees (their account, bookings,
//! matches) must not be kept by a browser or a shared cache. An answer that
//! set its own cache policy keeps it.

use axum::extract::Request;
use axum::http::HeaderValue;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL};
use axum::middleware::Next;
use axum::response::Response;

/// Marks answers to requests with an `Authorization` header `no-store`.
pub async fn no_store_when_signed_in(request: Request, next: Next) -> Response {
    let signed_in = request.headers().contains_key(AUTHORIZATION);
    let mut response = next.run(request).await;
    if signed_in && !response.headers().contains_key(CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}
