//! How a page is answered: [`html`] sends rendered markup (never cached:
//! pages show the viewer's own state), [`see_other`] redirects after a
//! form, and [`PageError`] is the page-shaped twin of the API's error: the
//! same status, a readable message, and a link home, or a redirect to sign
//! in.

use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{DOCTYPE, Markup, html as markup};

use super::assets;
use crate::http::{ApiError, ErrorCode};

/// A page answer with `status`.
pub fn html_with(status: StatusCode, page: Markup) -> Response {
    let mut response = (status, page.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// A `200` page answer.
pub fn html(page: Markup) -> Response {
    html_with(StatusCode::OK, page)
}

/// `303 See Other` to `location` (a path on this site).
pub fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(value) = HeaderValue::from_str(location) {
        response.headers_mut().insert(LOCATION, value);
    }
    response
}

/// `next` when it is a path on this site (never another origin), else `/`.
pub fn local_path(next: Option<&str>) -> String {
    match next {
        Some(path)
            if path.starts_with('/')
                && !path.starts_with("//")
                && !path.contains('\\')
                && !path.chars().any(char::is_control) =>
        {
            path.to_owned()
        }
        _ => "/".to_owned(),
    }
}

/// A page that could not be shown.
#[derive(Debug)]
pub struct PageError {
    status: StatusCode,
    message: String,
    sign_in_then: Option<String>,
}

impl PageError {
    /// An error page with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        PageError {
            status,
            message: message.into(),
            sign_in_then: None,
        }
    }

    /// `404`: nothing (visible to the viewer) is there.
    pub fn not_found() -> Self {
        PageError::new(StatusCode::NOT_FOUND, "There is no such page.")
    }

    /// `403` with `message`.
    pub fn forbidden(message: impl Into<String>) -> Self {
        PageError::new(StatusCode::FORBIDDEN, message)
    }

    /// `400` with `message`.
    pub fn bad_request(message: impl Into<String>) -> Self {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    /// `400`: a form over the body limit.
    pub fn form_too_large() -> Self {
        PageError::bad_request("The form is too large.")
    }

    /// A redirect to the sign-in page, which returns to `next` afterwards.
    pub fn sign_in_first(next: &str) -> Self {
        PageError {
            sign_in_then: Some(next.to_owned()),
            ..PageError::new(StatusCode::UNAUTHORIZED, "Sign in first.")
        }
    }

    /// The status it is answered with (the tests read it; no page needs it yet).
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

/// The status an API error is answered with.
pub fn status_of(err: &ApiError) -> StatusCode {
    err.code().describe().2
}

impl From<ApiError> for PageError {
    fn from(err: ApiError) -> Self {
        let status = status_of(&err);
        let message = match err.code() {
            // An API 404 names the missing record; a page keeps to one sentence.
            ErrorCode::NotFound => "There is no such page.".to_owned(),
            _ => err.message().to_owned(),
        };
        PageError::new(status, message)
    }
}

impl From<droply_engine::Error> for PageError {
    fn from(err: droply_engine::Error) -> Self {
        PageError::from(ApiError::from(err))
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if let Some(next) = &self.sign_in_then {
            let query: String = url_encode(next);
            return see_other(&format!("/signin?next={query}"));
        }
        let title = self.status.canonical_reason().unwrap_or("Error");
        html_with(
            self.status,
            markup! {
                (DOCTYPE)
                html lang="en" {
                    head {
                        meta charset="utf-8";
                        meta name="viewport" content="width=device-width, initial-scale=1";
                        title { (title) " · Droply" }
                        link rel="icon" href=(assets::url("favicon.svg")) type="image/svg+xml";
                link rel="stylesheet" href=(assets::url("app.css"));
                    }
                    body {
                        main id="main" class="narrow error-page" {
                            h1 { (title) }
                            p role="alert" { (self.message) }
                            p { a href="/" { "Back to search" } }
                        }
                    }
                }
            },
        )
    }
}

/// Percent-encodes `text` for a query value.
pub fn url_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                out.push(char::from(byte));
            }
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed() {
        assert_eq!(local_path(Some("/account")), "/account");
        assert_eq!(local_path(Some("//evil.test/x")), "/");
        assert_eq!(local_path(Some("https://evil.test")), "/");
        assert_eq!(local_path(Some("/\\evil.test")), "/");
        assert_eq!(local_path(None), "/");
    }

    #[test]
    fn sign_in_first_redirects_with_the_way_back() {
        let response = PageError::sign_in_first("/bookings/7?x=1").into_response();
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            response.headers()[LOCATION],
            "/signin?next=/bookings/7%3Fx%3D1"
        );
    }
}
