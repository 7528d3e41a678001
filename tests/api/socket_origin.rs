//! The live sockets' `Origin` check behind a proxy that rewrites `Host`:
//! with the pages served as behind a public URL and reached on loopback, a
//! page of the public origin opens the drop-in room with the browser's
//! cookie although its `Origin` never names the `Host` the request reached
//! the app with, as the page forms already allowed; a page of another site,
//! or a request without `Origin`, is still refused with 403.

use droply_server::pages::PageSettings;
use serde_json::json;

use crate::app::{TestApp, spawn_router};
use crate::dropins::{expert, open};
use crate::page_cookies::handshake;

/// The public URL the pages are served behind.
const PUBLIC_URL: &str = "http://droply.example:8080";

/// The real app with its pages served as behind `public_url`, reached on
/// loopback (as behind a proxy that rewrites `Host`).
fn spawn_app_behind(public_url: &str) -> TestApp {
    let pages = PageSettings::for_public_url(public_url, None);
    spawn_router(move |state| droply_server::http::router(state.with_pages(pages)))
}

/// Regression: the drop-in socket took a cookie only when `Origin` named
/// the `Host`, so behind a proxy that rewrites `Host` every page's live
/// room was refused with 403 while the page forms were accepted.
#[test]
fn a_socket_cookie_from_the_public_origin_is_accepted_whatever_host_the_proxy_sends() {
    let app = spawn_app_behind(PUBLIC_URL);
    let (_, host) = expert(&app, "proxiedhost");
    let dropin = open(
        &app,
        &host,
        json!({"topic": "Behind the proxy", "is_anonymous": false}),
    );
    let id = dropin["id"].as_u64().expect("id");
    let live = format!("/v1/dropins/{id}/live");
    // The handshake's `Host` is the loopback address, never the public one.
    assert_ne!(format!("http://{}", app.addr), PUBLIC_URL);
    let cookie = ("Cookie", format!("droply_session={host}"));
    let from = |origin: &str| {
        handshake(
            &app,
            &live,
            &[cookie.clone(), ("Origin", origin.to_owned())],
        )
    };

    let (status, welcome) = from(PUBLIC_URL);
    assert_eq!(status, 101, "the public origin is this site");
    let welcome = welcome.expect("a welcome frame");
    assert_eq!(welcome["kind"], "welcome", "{welcome}");

    assert_eq!(from("https://evil.test").0, 403, "another site");
    assert_eq!(
        from("http://droply.example:9999").0,
        403,
        "another port of the public host is another origin"
    );
    assert_eq!(
        handshake(&app, &live, std::slice::from_ref(&cookie)).0,
        403,
        "a cookie without an Origin"
    );
    // The address the request was sent to still counts as this site.
    assert_eq!(from(format!("http://{}", app.addr).as_str()).0, 101);
}
