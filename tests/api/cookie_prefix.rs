//! The site's cookies and transport behind an HTTPS public URL, over HTTP:
//! the real router is served with its pages set up as `--public-url
//! https://...` sets them, while the tests still talk plain HTTP on
//! loopback (as a TLS-terminating proxy does). Every cookie the site sets
//! is then named with the `__Host-` prefix (`Secure`, `Path=/`, no
//! `Domain`), or `__Secure-` for the drop-in cookies scoped to a path; the
//! prefixed cookie, sent back by hand (a client's cookie store keeps
//! `Secure` cookies off plain HTTP), signs the pages and the API's cookie
//! route in, and the plain name no longer does; every answer carries
//! `Strict-Transport-Security`. Behind an HTTP public URL (local
//! development) the names stay plain and no answer carries HSTS.

use droply_server::pages::PageSettings;
use serde_json::json;

use crate::app::{Response, TestApp, error_code, spawn_router};
use crate::dropins::{expert, open};
use crate::page_cookies::{cookie_value, handshake, page_csrf, set_cookies};
use crate::pages_account::{get_with, post_form};

/// The HSTS policy every answer carries behind HTTPS.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The real app with its pages served as behind `public_url` (what
/// `droply serve --public-url` makes of it), reached over plain HTTP on
/// loopback.
fn spawn_app_behind(public_url: &str) -> TestApp {
    let pages = PageSettings::for_public_url(public_url, None);
    spawn_router(move |state| droply_server::http::router(state.with_pages(pages)))
}

/// The `Set-Cookie` line of `response` that sets cookie `name`.
fn set_cookie_line(response: &Response, name: &str) -> String {
    let prefix = format!("{name}=");
    set_cookies(response)
        .into_iter()
        .find(|line| line.starts_with(&prefix))
        .unwrap_or_else(|| panic!("no {name} cookie in: {}", response.head))
}

/// The attributes of a `Set-Cookie` line, lowercased.
fn attributes(line: &str) -> Vec<String> {
    line.split(';')
        .skip(1)
        .map(|attribute| attribute.trim().to_ascii_lowercase())
        .collect()
}

/// Asserts `line` sets a cookie a browser takes under the `__Host-` prefix:
/// `Secure`, `Path=/` and no `Domain`.
fn assert_host_cookie(line: &str) {
    let attributes = attributes(line);
    assert!(line.starts_with("__Host-"), "{line}");
    assert!(attributes.iter().any(|a| a == "secure"), "{line}");
    assert!(attributes.iter().any(|a| a == "path=/"), "{line}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{line}"
    );
}

/// Asserts `line` sets a `__Secure-` cookie on `path`, marked `Secure`.
fn assert_secure_cookie_on(line: &str, path: &str) {
    let attributes = attributes(line);
    assert!(line.starts_with("__Secure-"), "{line}");
    assert!(attributes.iter().any(|a| a == "secure"), "{line}");
    let path = format!("path={}", path.to_ascii_lowercase());
    assert!(attributes.contains(&path), "{line}");
    assert!(
        !attributes.iter().any(|a| a.starts_with("domain")),
        "{line}"
    );
}

/// Asserts `response` sets no cookie under a plain (unprefixed) name.
fn assert_no_plain_cookie(response: &Response) {
    for line in set_cookies(response) {
        assert!(!line.starts_with("droply_"), "a plain cookie: {line}");
    }
}

/// Regression: behind an HTTPS public URL the sign-in form set plain
/// `droply_csrf` and `droply_session` cookies (a sibling subdomain or a
/// plain-HTTP answer can plant or overwrite those), and the plain name
/// signed a browser in.
#[test]
fn behind_https_the_sign_in_form_sets_host_prefixed_cookies_and_the_plain_name_is_refused() {
    let app = spawn_app_behind("https://droply.example");
    app.register("prisca");
    let first = app.get("/signin");
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_host_cookie(&set_cookie_line(&first, "__Host-droply_csrf"));
    assert_no_plain_cookie(&first);
    let csrf = cookie_value(&first, "__Host-droply_csrf").expect("a CSRF token");
    let jar = format!("__Host-droply_csrf={csrf}");

    let signed = post_form(
        &app,
        "/signin",
        &jar,
        &[
            ("email", "prisca@example.com"),
            ("password", "password-prisca"),
            ("_csrf", &csrf),
            ("next", "/account"),
        ],
    );
    assert_eq!(signed.status, 303, "{}", signed.raw);
    assert_eq!(signed.header("location"), Some("/account"));
    let line = set_cookie_line(&signed, "__Host-droply_session");
    assert_host_cookie(&line);
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax"),
        "{line}"
    );
    assert_no_plain_cookie(&signed);
    let session = cookie_value(&signed, "__Host-droply_session").expect("a session");

    let prefixed = format!("__Host-droply_session={session}");
    let account = get_with(&app, "/account", &prefixed);
    assert_eq!(account.status, 200, "signed in: {}", account.raw);
    let plain = get_with(&app, "/account", &format!("droply_session={session}"));
    assert_eq!(
        plain.status, 303,
        "the plain name signs nobody in: {}",
        plain.raw
    );

    // Signing out clears the prefixed cookie (a plain one would not replace it).
    let token = page_csrf(&app, &prefixed);
    let out = post_form(&app, "/signout", &prefixed, &[("_csrf", &token)]);
    assert_eq!(out.status, 303, "{}", out.raw);
    let cleared = set_cookie_line(&out, "__Host-droply_session");
    assert_host_cookie(&cleared);
    assert!(
        cleared.starts_with("__Host-droply_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    assert_no_plain_cookie(&out);
    assert_eq!(get_with(&app, "/account", &prefixed).status, 303);
}

/// Regression: behind HTTPS the pages and the API's cookie route (Google's
/// redirect back) took a session under the plain cookie name; a session an
/// API sign-in issues signs a browser in under the `__Host-` name only.
#[test]
fn behind_https_an_api_session_signs_in_by_the_host_prefixed_cookie_only() {
    let app = spawn_app_behind("https://droply.example");
    app.register("quinn");
    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"quinn@example.com","password":"password-quinn"}"#),
    );
    assert_eq!(login.status, 200, "{}", login.raw);
    assert!(
        set_cookies(&login).is_empty(),
        "the API sets no cookie: {}",
        login.head
    );
    assert_eq!(login.header("strict-transport-security"), Some(HSTS));
    let token = login.body["token"].as_str().expect("token").to_owned();
    let prefixed = format!("__Host-droply_session={token}");
    let plain = format!("droply_session={token}");

    assert_eq!(get_with(&app, "/account", &prefixed).status, 200);
    assert_eq!(get_with(&app, "/account", &plain).status, 303);

    let callback = "/v1/calendar/google/callback?code=c&state=s";
    let by_plain = get_with(&app, callback, &plain);
    assert_eq!(by_plain.status, 401, "{}", by_plain.raw);
    assert_eq!(error_code(&by_plain), "unauthorized");
    let by_prefixed = get_with(&app, callback, &prefixed);
    assert_ne!(
        by_prefixed.status, 401,
        "signed in by the cookie: {}",
        by_prefixed.raw
    );
    assert_ne!(error_code(&by_prefixed), "unauthorized");
    assert_eq!(by_prefixed.header("cache-control"), Some("no-store"));

    // Signing out everywhere from the page clears the prefixed cookie and
    // ends the API's session too.
    let csrf = page_csrf(&app, &prefixed);
    let out = post_form(&app, "/signout/everywhere", &prefixed, &[("_csrf", &csrf)]);
    assert_eq!(out.status, 303, "{}", out.raw);
    let cleared = set_cookie_line(&out, "__Host-droply_session");
    assert_host_cookie(&cleared);
    assert!(cleared.contains("Max-Age=0"), "{cleared}");
    assert_eq!(app.authed("GET", "/v1/users/me", &token, None).status, 401);
}

/// Regression: behind HTTPS the drop-in pass and the joined marker kept
/// their plain names. They are scoped to a path, so they take `__Secure-`
/// (a `__Host-` cookie must be set on `/`); only those names open the room.
#[test]
fn behind_https_the_dropin_cookies_are_secure_prefixed_and_only_they_open_the_room() {
    let app = spawn_app_behind("https://droply.example");
    let (_, host) = expert(&app, "hostc");
    let dropin = open(
        &app,
        &host,
        json!({"topic": "Prefixed room", "is_anonymous": true}),
    );
    let (id, code) = (
        dropin["id"].as_u64().expect("id"),
        dropin["session_code"].as_str().expect("code").to_owned(),
    );
    let here = format!("/d/{code}");
    let page = app.get(&here);
    assert_eq!(page.status, 200, "{}", page.raw);
    let csrf = cookie_value(&page, "__Host-droply_csrf").expect("a CSRF token");
    let jar = format!("__Host-droply_csrf={csrf}");
    let joined = post_form(
        &app,
        &format!("{here}/join"),
        &jar,
        &[("_csrf", &csrf), ("display_name", "Careful Guest")],
    );
    assert_eq!(joined.status, 303, "{}", joined.raw);
    assert_no_plain_cookie(&joined);
    let live = format!("/v1/dropins/{id}/live");
    assert_secure_cookie_on(&set_cookie_line(&joined, "__Secure-droply_dropin"), &live);
    assert_secure_cookie_on(
        &set_cookie_line(&joined, "__Secure-droply_dropin_joined"),
        &here,
    );
    let pass = cookie_value(&joined, "__Secure-droply_dropin").expect("the pass");
    let marker = cookie_value(&joined, "__Secure-droply_dropin_joined").expect("the marker");

    let room = get_with(
        &app,
        &here,
        &format!("{jar}; __Secure-droply_dropin_joined={marker}"),
    );
    assert!(room.raw.contains("id=\"messages\""), "{}", room.raw);
    let plain_marker = get_with(
        &app,
        &here,
        &format!("{jar}; droply_dropin_joined={marker}"),
    );
    assert!(
        !plain_marker.raw.contains("id=\"messages\""),
        "the plain marker is not read: {}",
        plain_marker.raw
    );

    let origin = ("Origin", format!("http://{}", app.addr));
    let (status, welcome) = handshake(
        &app,
        &live,
        &[
            ("Cookie", format!("__Secure-droply_dropin={pass}")),
            origin.clone(),
        ],
    );
    assert_eq!(status, 101);
    assert_eq!(welcome.expect("a welcome frame")["kind"], "welcome");
    let (plain, _) = handshake(
        &app,
        &live,
        &[("Cookie", format!("droply_dropin={pass}")), origin],
    );
    assert_eq!(plain, 401, "the plain pass opens nothing");
}

/// A page, a refused form, an asset, the API (an answer, an error, a
/// sign-in) and an unknown path, from `app`.
fn answers(app: &TestApp) -> Vec<(&'static str, Response)> {
    vec![
        ("a page", app.get("/signin")),
        (
            "a refused form",
            app.send(
                "POST",
                "/signin",
                Some("email=a"),
                None,
                &[("Content-Type", "application/x-www-form-urlencoded")],
            ),
        ),
        ("an asset", app.get("/assets/nope.js")),
        ("the API", app.get("/health")),
        ("an API error", app.get("/v1/users/me")),
        (
            "an API sign-in",
            app.request(
                "POST",
                "/v1/auth/login",
                Some(r#"{"email":"nobody@example.com","password":"wrong-password"}"#),
            ),
        ),
        ("an unknown path", app.get("/no/such/path")),
    ]
}

/// Regression: no answer carried `Strict-Transport-Security`, so a browser
/// could be led to the plain-HTTP site (and its cookies read or planted
/// there) at any time.
#[test]
fn hsts_is_on_every_answer_behind_https_and_on_none_over_http() {
    let https = spawn_app_behind("https://droply.example");
    for (name, response) in answers(&https) {
        assert_eq!(
            response.header("strict-transport-security"),
            Some(HSTS),
            "{name}: {}",
            response.head
        );
    }
    let http = spawn_app_behind("http://localhost:8080");
    for (name, response) in answers(&http) {
        assert_eq!(
            response.header("strict-transport-security"),
            None,
            "{name}: {}",
            response.head
        );
    }
}

/// Over plain HTTP (local development, the tests) the cookies keep their
/// plain names and are not `Secure`: browsers refuse prefixed cookies there.
#[test]
fn over_plain_http_the_cookies_keep_their_plain_names() {
    let app = spawn_app_behind("http://localhost:8080");
    let page = app.get("/signin");
    assert_eq!(page.status, 200, "{}", page.raw);
    let line = set_cookie_line(&page, "droply_csrf");
    assert!(!attributes(&line).iter().any(|a| a == "secure"), "{line}");
    assert!(
        !set_cookies(&page).iter().any(|line| line.starts_with("__")),
        "{}",
        page.head
    );
}
