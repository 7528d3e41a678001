//! Choosing the zone times are shown in (`POST /time-zone`): the picker on
//! pages that show times posts an IANA zone here, which is kept in the
//! `droply_tz` cookie (the same cookie `app.js` sets from the browser, so
//! it is readable by scripts and not HttpOnly; it holds no secret), and the
//! viewer goes back to the page they came from.

use axum::Router;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::header::SET_COOKIE;
use axum::response::Response;
use axum::routing::post;
use droply_models::TimeZone;
use serde::Deserialize;

use crate::http::AppState;
use crate::pages::cookies;
use crate::pages::extract::PageForm;
use crate::pages::page::{PageError, local_path, see_other};

/// How long the chosen zone is remembered, in seconds (a year).
const KEPT_FOR: i64 = 365 * 24 * 60 * 60;

/// `POST /time-zone`.
pub fn router() -> Router<AppState> {
    Router::new().route("/time-zone", post(set_time_zone))
}

/// The picker's form.
#[derive(Debug, Deserialize)]
struct ZoneForm {
    #[serde(default)]
    zone: String,
    next: Option<String>,
}

/// The `Set-Cookie` value that keeps `zone`.
fn zone_cookie(zone: TimeZone, secure: bool) -> String {
    let mut cookie = format!(
        "{}={}; Path=/; Max-Age={KEPT_FOR}; SameSite=Lax",
        cookies::TIME_ZONE.name(secure),
        zone.as_str().replace('/', "%2F")
    );
    if secure {
        cookie.push_str("; Secure");
    }
    cookie
}

async fn set_time_zone(
    State(state): State<AppState>,
    PageForm(form): PageForm<ZoneForm>,
) -> Result<Response, PageError> {
    let zone = TimeZone::parse(form.zone.trim())
        .map_err(|_| PageError::bad_request("Choose a time zone from the list."))?;
    let mut response = see_other(&local_path(form.next.as_deref()));
    if let Ok(value) = HeaderValue::from_str(&zone_cookie(zone, state.pages.secure_cookies)) {
        response.headers_mut().append(SET_COOKIE, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_zone_cookie_is_what_app_js_writes() {
        let zone = TimeZone::parse("America/Los_Angeles").expect("valid");
        assert_eq!(
            zone_cookie(zone, false),
            "droply_tz=America%2FLos_Angeles; Path=/; Max-Age=31536000; SameSite=Lax"
        );
        assert!(zone_cookie(zone, true).ends_with("; Secure"));
    }
}
