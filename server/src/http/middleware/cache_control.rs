//! `Cache-Control: no-store` on every answer to a request that carried
//! credentials: what a signed-in user sees (their account, bookings,
//! matches) must not be kept by a browser or a shared cache. Credentials are
//! an `Authorization` header anywhere, or the pages' session cookie on an API
//! route (`/v1/...`: the calendar callback signs a browser in by it, and a
//! page's script calls the API with it); the pages set their own policy and
//! their versioned assets stay cacheable. An answer that set its own cache
//! policy keeps it.

use axum::extract::Request;
use axum::http::header::{AUTHORIZATION, CACHE_CONTROL};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::pages::cookies;

/// Marks answers `no-store` to requests with an `Authorization` header, and
/// to API requests with the session cookie.
pub async fn no_store_when_signed_in(request: Request, next: Next) -> Response {
    let signed_in = carries_credentials(request.uri().path(), request.headers());
    let mut response = next.run(request).await;
    if signed_in && !response.headers().contains_key(CACHE_CONTROL) {
        response
            .headers_mut()
            .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Whether a request for `path` with `headers` carries credentials: a bearer
/// header, or on an API path the session cookie (whatever its value: a stale
/// one is still a browser's session) under either of its names, plain or
/// `__Host-` (erring towards `no-store`, this needs no configuration).
fn carries_credentials(path: &str, headers: &HeaderMap) -> bool {
    let session_cookie = |secure| cookies::read(headers, cookies::SESSION, secure).is_some();
    headers.contains_key(AUTHORIZATION)
        || (path.starts_with("/v1/") && (session_cookie(false) || session_cookie(true)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::header::COOKIE;

    fn headers(pairs: &[(axum::http::HeaderName, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(name.clone(), HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn a_session_cookie_is_a_credential_on_api_paths_only() {
        let cookie = headers(&[(COOKIE, "droply_tz=UTC; droply_session=tok")]);
        assert!(carries_credentials("/v1/calendar/google/callback", &cookie));
        assert!(!carries_credentials("/assets/app.css", &cookie));
        let bearer = headers(&[(AUTHORIZATION, "Bearer tok")]);
        assert!(carries_credentials("/v1/users/me", &bearer));
        assert!(carries_credentials("/account", &bearer));
        let prefixed = headers(&[(COOKIE, "__Host-droply_session=tok")]);
        assert!(carries_credentials(
            "/v1/calendar/google/callback",
            &prefixed
        ));
        let other = headers(&[(COOKIE, "droply_csrf=abc; __Host-droply_csrf=abc")]);
        assert!(!carries_credentials("/v1/experts", &other));
        assert!(!carries_credentials("/v1/experts", &HeaderMap::new()));
    }
}
