//! CSRF protection for the pages: a signed-in browser's token is derived
//! from its session token (so it changes with every sign-in, and a token
//! cookie planted by someone else, from a sibling domain or before sign-in,
//! is worth nothing); a signed-out browser gets a random token in an
//! HttpOnly, `SameSite=Strict` cookie (`__Host-droply_csrf` behind an HTTPS
//! public URL, see [`cookies`]). Every page repeats the token (a
//! hidden `_csrf` field in each form, a `<meta>` that scripts send back as
//! `X-CSRF-Token`), and every state-changing request must carry the same
//! value and, when the browser says where it comes from (`Origin`,
//! `Sec-Fetch-Site`), come from this site: an `Origin` naming the `Host`
//! the request was sent to, or the configured public origin (behind a
//! proxy that rewrites `Host`, the only one that matches). One middleware
//! checks it all before any handler runs; handlers read the token from
//! [`CsrfToken`].

use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HOST, ORIGIN, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::cookies;
use super::page::PageError;
use crate::http::{AppState, MAX_BODY_BYTES};

/// The header scripts send the token in.
pub const HEADER: &str = "x-csrf-token";
/// The form field that carries the token.
pub const FIELD: &str = "_csrf";

/// This browser's CSRF token, for the page to repeat.
#[derive(Clone)]
pub struct CsrfToken(pub String);

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CsrfToken(..)")
    }
}

/// Checks the token of every state-changing request, and gives a browser
/// without one its token.
pub async fn protect(State(state): State<AppState>, request: Request, next: Next) -> Response {
    with_token(&state, request, next, true).await
}

/// Gives a browser without one its token, checking none: for answers that
/// change nothing whatever the method (the pages for an address no page
/// serves, `missing`), which render with the browser's token all the same.
pub async fn provide(State(state): State<AppState>, request: Request, next: Next) -> Response {
    with_token(&state, request, next, false).await
}

/// The token of the browser sending `request` (made when it has none) for
/// the pages to render, after checking it on a state-changing request when
/// `check`.
async fn with_token(state: &AppState, request: Request, next: Next, check: bool) -> Response {
    let secure = state.pages.secure_cookies;
    let known = cookies::session_token(request.headers(), secure)
        .map(session_bound)
        .or_else(|| {
            cookies::read(request.headers(), cookies::CSRF, secure)
                .filter(|token| well_formed(token))
                .map(str::to_owned)
        });
    let mut request = if !check || is_safe(request.method()) {
        request
    } else {
        let public_origin = state.pages.public_origin.as_deref();
        match checked(request, known.as_deref(), public_origin).await {
            Ok(request) => request,
            Err(refusal) => return refusal.into_response(),
        }
    };
    let (token, fresh) = match known {
        Some(token) => (token, false),
        None => (hex::encode(rand::random::<[u8; 32]>()), true),
    };
    request.extensions_mut().insert(CsrfToken(token.clone()));
    let mut response = next.run(request).await;
    // A response shared caches may keep (assets, themes) never carries a
    // browser's token, or a cache would hand it to everyone.
    if fresh && !shared_cacheable(response.headers()) {
        let cookie = cookies::set(cookies::CSRF, &token, "Strict", None, secure);
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(SET_COOKIE, value);
        }
    }
    response
}

/// The token of a browser signed in with `session`: a hash of it under a
/// label of its own (neither the session token nor the hash the store
/// keeps of it can be read back from a page).
fn session_bound(session: &str) -> String {
    let mut digest = Sha256::new();
    digest.update(b"droply-csrf\0");
    digest.update(session.as_bytes());
    hex::encode(digest.finalize())
}

/// Whether `Cache-Control` lets shared caches keep the response.
fn shared_cacheable(headers: &HeaderMap) -> bool {
    headers
        .get_all(CACHE_CONTROL)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|directive| directive.trim().eq_ignore_ascii_case("public"))
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn well_formed(token: &str) -> bool {
    token.len() == 64 && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// The request, its body restored, when it comes from this site (its
/// `Host`, or `public_origin`) and carries the browser's token (in the
/// header, or the form's `_csrf` field).
async fn checked(
    request: Request,
    expected: Option<&str>,
    public_origin: Option<&str>,
) -> Result<Request, PageError> {
    let refused = || {
        PageError::forbidden(
            "This form has expired or did not come from this site. Reload the page and try again.",
        )
    };
    if !same_site(request.headers(), public_origin) {
        return Err(refused());
    }
    let expected = expected.ok_or_else(refused)?;
    if let Some(sent) = request.headers().get(HEADER) {
        return match sent.to_str() {
            Ok(sent) if equal(sent, expected) => Ok(request),
            _ => Err(refused()),
        };
    }
    let is_form = request
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(refused());
    }
    let (parts, body) = request.into_parts();
    let bytes = to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| PageError::form_too_large())?;
    let sent = form_field(&bytes, FIELD).ok_or_else(refused)?;
    if !equal(&sent, expected) {
        return Err(refused());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// False when the browser says the request comes from another site: a
/// `Sec-Fetch-Site` of another site ([`sent_from_another_site`]), or an
/// `Origin` that is not this site ([`origin_is_this_site`]).
fn same_site(headers: &HeaderMap, public_origin: Option<&str>) -> bool {
    if sent_from_another_site(headers) {
        return false;
    }
    origin_is_this_site(headers, public_origin).unwrap_or(true)
}

/// Whether the browser's `Sec-Fetch-Site` says the request was started by
/// another site (`cross-site`, `same-site`, or a value it does not know):
/// only `same-origin` (this site's own pages) and `none` (typed, a
/// bookmark) are this site; a browser that sends no `Sec-Fetch-Site` says
/// nothing. The one rule the forms and the GET links that make something
/// (joining a call) share.
pub(crate) fn sent_from_another_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .is_some_and(|site| !matches!(site.to_str(), Ok("same-origin" | "none")))
}

/// Whether the request's `Origin` is this site: the configured
/// `public_origin` (behind a proxy that rewrites `Host`, the only one that
/// matches), or an origin naming the `Host` the request was sent to;
/// `None` when the request has no `Origin`. The one rule the page forms
/// and the live sockets' cookies share.
pub(crate) fn origin_is_this_site(
    headers: &HeaderMap,
    public_origin: Option<&str>,
) -> Option<bool> {
    let header = |name: &str| headers.get(name).and_then(|value| value.to_str().ok());
    let origin = header(ORIGIN.as_str())?;
    if public_origin.is_some_and(|public| origin.eq_ignore_ascii_case(public)) {
        return Some(true);
    }
    Some(header(HOST.as_str()).is_some_and(|host| {
        origin
            .split_once("://")
            .is_some_and(|(_, authority)| authority.eq_ignore_ascii_case(host))
    }))
}

/// The first value of `name` in a URL-encoded form (the token is hex, so it
/// needs no decoding; anything else in the field fails the comparison).
fn form_field(body: &[u8], name: &str) -> Option<String> {
    let text = std::str::from_utf8(body).ok()?;
    text.split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// Compares in time independent of where the values differ.
fn equal(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn requests_from_another_site_are_refused() {
        assert!(same_site(
            &headers(&[("host", "a.test"), ("origin", "http://a.test")]),
            None
        ));
        assert!(same_site(&headers(&[("host", "a.test")]), None));
        assert!(!same_site(
            &headers(&[("host", "a.test"), ("origin", "http://evil.test")]),
            None
        ));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            None
        ));
        assert!(same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            None
        ));
    }

    /// Regression: behind a proxy that rewrites `Host` (nginx's default
    /// `proxy_set_header Host $proxy_host`), `Origin` never named the `Host`
    /// and every page form was refused with 403.
    #[test]
    fn behind_a_proxy_rewriting_host_the_public_origin_is_this_site() {
        let public = Some("https://droply.example");
        let proxied =
            |origin: &'static str| headers(&[("host", "127.0.0.1:8080"), ("origin", origin)]);
        assert!(same_site(&proxied("https://droply.example"), public));
        assert!(!same_site(&proxied("https://evil.test"), public));
        assert!(!same_site(&proxied("https://droply.example"), None));
        // The Host match still holds (the tests, on loopback).
        assert!(same_site(&proxied("http://127.0.0.1:8080"), public));
        // The browser saying it is another site still wins.
        assert!(!same_site(
            &headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "https://droply.example"),
                ("sec-fetch-site", "cross-site"),
            ]),
            public
        ));
    }

    #[test]
    fn only_same_origin_none_or_no_sec_fetch_site_is_this_site() {
        for other in ["cross-site", "same-site", "something-new"] {
            let sent = headers(&[("sec-fetch-site", other)]);
            assert!(sent_from_another_site(&sent), "{other}");
        }
        assert!(!sent_from_another_site(&headers(&[(
            "sec-fetch-site",
            "same-origin"
        )])));
        assert!(!sent_from_another_site(&headers(&[(
            "sec-fetch-site",
            "none"
        )])));
        assert!(!sent_from_another_site(&headers(&[("host", "a.test")])));
    }

    #[test]
    fn an_origin_is_this_site_by_its_host_or_the_public_origin() {
        let public = Some("https://droply.example");
        let this = |origin: &'static str, public: Option<&str>| {
            origin_is_this_site(
                &headers(&[("host", "127.0.0.1:8080"), ("origin", origin)]),
                public,
            )
        };
        assert_eq!(this("https://droply.example", public), Some(true));
        assert_eq!(this("HTTPS://Droply.Example", public), Some(true));
        assert_eq!(this("http://127.0.0.1:8080", None), Some(true));
        assert_eq!(this("https://evil.test", public), Some(false));
        assert_eq!(this("https://droply.example", None), Some(false));
        let no_origin = headers(&[("host", "a.test")]);
        assert_eq!(origin_is_this_site(&no_origin, public), None);
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(
            form_field(b"a=1&_csrf=abc&b=2", FIELD).as_deref(),
            Some("abc")
        );
        assert_eq!(form_field(b"a=1", FIELD), None);
        assert!(equal("abc", "abc") && !equal("abc", "abd") && !equal("abc", "ab"));
        assert!(well_formed(&"a".repeat(64)) && !well_formed("zz"));
    }

    #[test]
    fn a_signed_in_browsers_token_is_its_sessions_and_changes_with_it() {
        let token = session_bound("session-one");
        assert!(well_formed(&token), "{token}");
        assert_eq!(token, session_bound("session-one"));
        assert_ne!(token, session_bound("session-two"));
    }
}
