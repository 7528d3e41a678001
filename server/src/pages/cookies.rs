//! The pages' cookies: reading one from a request's `Cookie` headers, and
//! writing the `Set-Cookie` values for the session, the CSRF token and the
//! viewer's time zone, each with its attributes in one place.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;

/// The signed-in session (the same token the API takes as a bearer token).
pub const SESSION: &str = "droply_session";
/// The CSRF token every form and state-changing request repeats.
pub const CSRF: &str = "droply_csrf";
/// The IANA time zone the viewer sees times in.
pub const TIME_ZONE: &str = "droply_tz";
/// A drop-in participant token, sent only to that drop-in's live socket.
pub const DROPIN: &str = "droply_dropin";
/// That this browser joined a drop-in (no secret: the room page reads it).
pub const DROPIN_JOINED: &str = "droply_dropin_joined";

/// The value of cookie `name`, if the request carries it.
pub fn read<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
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

/// The session token of the request's session cookie, if it has one of a
/// plausible length (longer ones are never looked up).
pub fn session_token(headers: &HeaderMap) -> Option<&str> {
    read(headers, SESSION).filter(|token| token.len() <= 256)
}

/// A `Set-Cookie` value for an HttpOnly cookie on the whole site.
/// `same_site` is `Lax` for the session (a link from elsewhere arrives
/// signed in) and `Strict` for the CSRF token; `max_age` in seconds, `None`
/// for a cookie that ends with the browser session.
pub fn set(name: &str, value: &str, same_site: &str, max_age: Option<i64>, secure: bool) -> String {
    set_on_path(name, value, "/", same_site, max_age, secure)
}

/// [`set`] for a cookie the browser sends only to URLs under `path`.
pub fn set_on_path(
    name: &str,
    value: &str,
    path: &str,
    same_site: &str,
    max_age: Option<i64>,
    secure: bool,
) -> String {
    let mut cookie = format!("{name}={value}; Path={path}; HttpOnly; SameSite={same_site}");
    if let Some(seconds) = max_age {
        cookie.push_str(&format!("; Max-Age={}", seconds.max(0)));
    }
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

/// A `Set-Cookie` value that removes cookie `name`.
pub fn clear(name: &str, secure: bool) -> String {
    set(name, "", "Lax", Some(0), secure)
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
        assert_eq!(read(&headers, TIME_ZONE), Some("Europe/Paris"));
        assert_eq!(read(&headers, SESSION), Some("tok"));
        assert_eq!(read(&headers, CSRF), None);
    }

    #[test]
    fn cookies_are_http_only_and_secure_when_asked() {
        let cookie = set(SESSION, "t", "Lax", Some(60), true);
        assert_eq!(
            cookie,
            "droply_session=t; Path=/; HttpOnly; SameSite=Lax; Max-Age=60; Secure"
        );
        assert!(clear(SESSION, false).contains("Max-Age=0"));
        assert_eq!(
            set_on_path(DROPIN, "t", "/v1/dropins/7/live", "Strict", None, false),
            "droply_dropin=t; Path=/v1/dropins/7/live; HttpOnly; SameSite=Strict"
        );
    }
}
