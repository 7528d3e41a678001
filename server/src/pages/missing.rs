//! The site's answer to an address no page serves: a path that names no
//! page (404), or a page's address asked with a method it does not take
//! (405: typically a browser's GET of the POST-only address a form sends
//! to, after a reload or a typed URL). Both are HTML pages in the site's
//! frame, with the browser's CSRF token and the security headers of every
//! page; no token is checked, since nothing is done (a POST without one
//! is a 404 too, not a CSRF refusal). Which paths are the API's, answered in JSON instead, is decided
//! once, by `crate::http::router::is_api_path`.

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::from_fn_with_state;
use axum::response::Response;
use maud::html;
use tower::ServiceExt;

use super::layout::{Head, page};
use super::page::html_with;
use super::viewer::Viewer;
use super::{csrf, security_headers};
use crate::http::AppState;

/// Answers `request`, which no page serves, with the page for `status`
/// (`404` or `405`; any other status is shown as the 404 page's text).
pub async fn missing(state: &AppState, status: StatusCode, request: Request) -> Response {
    let router = if status == StatusCode::METHOD_NOT_ALLOWED {
        Router::<AppState>::new().fallback(method_not_allowed_page)
    } else {
        Router::<AppState>::new().fallback(not_found_page)
    };
    let router: Router = router
        // Nothing is done here whatever the method, so nothing is checked: a
        // POST to an unknown path is a 404, not a CSRF refusal.
        .layer(from_fn_with_state(state.clone(), csrf::provide))
        .layer(from_fn_with_state(state.clone(), security_headers::add))
        .with_state(state.clone());
    match router.oneshot(request).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

/// `404` in the site's frame.
async fn not_found_page(viewer: Viewer) -> Response {
    framed(
        &viewer,
        StatusCode::NOT_FOUND,
        "Page not found",
        "There is no page at this address. It may have moved, or the link may be mistyped.",
    )
}

/// `405` in the site's frame.
async fn method_not_allowed_page(viewer: Viewer) -> Response {
    // axum adds the `Allow` header naming the methods the path takes.
    framed(
        &viewer,
        StatusCode::METHOD_NOT_ALLOWED,
        "Not a page to open",
        "This address only takes a form sent from its page. Nothing was done: go back to that page and send the form again.",
    )
}

/// A short page with `title` and `message` and the ways on: search, and
/// one's account when signed in.
fn framed(viewer: &Viewer, status: StatusCode, title: &str, message: &str) -> Response {
    let content = html! {
        div class="narrow error-page" {
            h1 { (title) }
            p role="alert" { (message) }
            p {
                a href="/" { "Back to search" }
                @if viewer.user.is_some() {
                    " · " a href="/account" { "My account" }
                }
            }
        }
    };
    html_with(
        status,
        page(
            viewer,
            Head {
                title,
                ..Head::default()
            },
            content,
        ),
    )
}
