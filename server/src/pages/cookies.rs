//! The site's cookies: the one place each cookie's name is decided (from
//! whether the public URL is HTTPS), reading one from a request's `Cookie`
//! headers, and writing the `Set-Cookie` values for the session, the CSRF
//! token and the drop-in passes, each with its attributes in one place.
//!
//! Behind an HTTPS public URL a cookie sent to the whole site is named with
//! the `__Host-` prefix (a browser takes it only `Secure`, with `Path=/`
//! and no `Domain`, so a sibling subdomain or a plain-HTTP page cannot plant
//! or shadow it), and one scoped to a path with `__Secure-` (all but the
//! time zone, which the page script writes too); the plain name is then
//! never read. Over plain HTTP (local development, the tests) the
//! names stay plain, as browsers refuse prefixed cookies there. Whoever
//! sets a cookie and whoever reads it pass the same `secure` flag
//! ([`PageSettings::secure_cookies`](super::PageSettings)), so both use the
//! same name.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// One of the site's cookies: the names it goes by over plain HTTP and
/// behind an HTTPS public URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CookieName {
    /// The name over plain HTTP.
    plain: &'static str,
    /// The name behind an HTTPS public URL.
    https: &'static str,
}

impl CookieName {
    /// The name this cookie goes by: with its prefix when `secure` (the
    /// public URL is HTTPS), plain otherwise.
    pub const fn name(self, secure: bool) -> &'static str {
        if secure { self.https } else { self.plain }
    }
}

/// The signed-in session (the same token the API takes as a bearer token).
pub const SESSION: CookieName = CookieName {
    plain: "droply_session",
    https: "__Host-droply_session",
};
/// The CSRF token every form and state-changing request repeats.
pub const CSRF: CookieName = CookieName {
    plain: "droply_csrf",
    https: "__Host-droply_csrf",
};
/// The IANA time zone the viewer sees times in. It keeps its plain name
/// behind HTTPS too: the page script (`app.js`) writes it as well, and it
/// is no credential (a planted zone only changes how times are shown).
pub const TIME_ZONE: CookieName = CookieName {
    plain: "droply_tz",
    https: "droply_tz",
};
/// A drop-in participant token, sent only to that drop-in's live socket
/// (set on that path, hence `__Secure-`: `__Host-` needs `Path=/`).
pub const DROPIN: CookieName = CookieName {
    plain: "droply_dropin",
    https: "__Secure-droply_dropin",
};
/// That this browser joined a drop-in (no secret: the room page reads it;
/// set on the room page's path, hence `__Secure-`).
pub const DROPIN_JOINED: CookieName = CookieName {
    plain: "droply_dropin_joined",
    https: "__Secure-droply_dropin_joined",
};

/// The value of `cookie` under its name for `secure`, if the request
/// carries it. Behind HTTPS the plain name is not read.
pub fn read(headers: &HeaderMap, cookie: CookieName, secure: bool) -> Option<&str> {
    read_named(headers, cookie.name(secure))
}

/// The value of the cookie called exactly `name`, if the request carries it.
fn read_named<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|line| line.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim_matches('"'))
        .filter(|value| !value.is_empty())
}

/// The session token of the request's session cookie (named for
/// `secure`), if it has one of a plausible length (longer ones are never
/// looked up).
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<&str> {
    read(headers, SESSION, secure).filter(|token| token.len() <= 256)
}

/// A `Set-Cookie` value for an HttpOnly cookie on the whole site, named
/// for `secure` and marked `Secure` then.
/// `same_site` is `Lax` for the session (a link from elsewhere arrives
/// signed in) and `Strict` for the CSRF token; `max_age` in seconds, `None`
/// for a cookie that ends with the browser session.
pub fn set(
    cookie: CookieName,
    value: &str,
    same_site: &str,
    max_age: Option<i64>,
    secure: bool,
) -> String {
    set_on_path(cookie, value, "/", same_site, max_age, secure)
}

/// [`set`] for a cookie the browser sends only to URLs under `path` (one
/// whose HTTPS name has the `__Secure-` prefix: a `__Host-` cookie must be
/// set on `/`).
pub fn set_on_path(
    cookie: CookieName,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: Option<i64>,
    secure: bool,
) -> String {
    let name = cookie.name(secure);
    let mut line = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if let Some(seconds) = max_age {
        line.push_str(&format!("; Max-Age={}", seconds.max(0)));
    }
    if secure {
        line.push_str("; Secure");
    }
    line
}

/// A `Set-Cookie` value that removes `cookie` (under its name for `secure`).
pub fn clear(cookie: CookieName, secure: bool) -> String {
    set(cookie, "", "Lax", Some(0), secure)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_a_cookie_among_several_headers_and_pairs() {
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("a=1; droply_tz=Europe/Paris"),
        );
        headers.append(COOKIE, HeaderValue::from_static("droply_session=\"tok\""));
        assert_eq!(read(&headers, TIME_ZONE, false), Some("Europe/Paris"));
        assert_eq!(read(&headers, SESSION, false), Some("tok"));
        assert_eq!(read(&headers, CSRF, false), None);
    }

    #[test]
    fn cookies_are_http_only_and_plain_over_http() {
        let cookie = set(SESSION, "t", "Lax", Some(60), false);
        assert_eq!(
            cookie,
            "droply_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60"
        );
        assert!(clear(SESSION, false).contains("Max-Age=0"));
        assert_eq!(
            set_on_path(DROPIN, "t", "/v1/dropins/7/live", "Strict", None, false),
            "droply_dropin=t; Path=/v1/dropins/7/live; HttpOnly; SameSite=Strict"
        );
    }

    /// Regression: behind HTTPS the session and CSRF cookies had their plain
    /// names, so a sibling subdomain or a plain-HTTP response could plant or
    /// shadow them.
    #[test]
    fn behind_https_site_cookies_are_host_prefixed_and_the_plain_name_is_not_read() {
        assert_eq!(
            set(SESSION, "t", "Lax", Some(60), true),
            "__Host-droply_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert_eq!(
            clear(SESSION, true),
            "__Host-droply_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Secure"
        );
        assert_eq!(
            set(CSRF, "c", "Strict", None, true),
            "__Host-droply_csrf=c; Path=/; HttpOnly; SameSite=Strict; Secure"
        );
        assert_eq!(
            set_on_path(DROPIN, "t", "/v1/dropins/7/live", "Strict", None, true),
            "__Secure-droply_dropin=t; Path=/v1/dropins/7/live; HttpOnly; SameSite=Strict; Secure"
        );
        let mut headers = HeaderMap::new();
        headers.append(
            COOKIE,
            HeaderValue::from_static("droply_session=planted; droply_csrf=planted"),
        );
        assert_eq!(session_token(&headers, true), None);
        assert_eq!(read(&headers, CSRF, true), None);
        headers.append(
            COOKIE,
            HeaderValue::from_static("__Host-droply_session=real"),
        );
        assert_eq!(session_token(&headers, true), Some("real"));
        assert_eq!(session_token(&headers, false), Some("planted"));
    }

    #[test]
    fn every_prefixed_name_is_its_plain_name_with_the_prefix() {
        for cookie in [SESSION, CSRF, DROPIN, DROPIN_JOINED] {
            let https = cookie.name(true);
            let plain = cookie.name(false);
            assert!(
                https == format!("__Host-{plain}") || https == format!("__Secure-{plain}"),
                "{https}"
            );
        }
        assert_eq!(TIME_ZONE.name(true), TIME_ZONE.name(false));
    }
}
