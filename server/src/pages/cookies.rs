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

/// A `Set-Cookie` value for an HttpOnly cookie on the whole site.
/// `same_site` is `Lax` for the session (a link from elsewhere arrives
/// signed in) and `Strict` for the CSRF token; `max_age` in seconds, `None`
/// for a cookie that ends with the browser session.
pub fn set(name: &str, value: &str, same_site: &str, max_age: Option<i64>, secure: bool) -> String {
    let mut cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
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
    }
}
