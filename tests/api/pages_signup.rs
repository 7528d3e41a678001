//! Signing up through the pages, and the pages on their public origin:
//! signing up sets an HttpOnly, `SameSite=Lax` session cookie that
//! `/account` then recognises, and goes on to a local `next` path, never
//! off site; the referral link on the account page is absolute on the
//! public origin; behind a proxy that rewrites `Host`, a form from the
//! public origin is accepted and one from another is refused.

use droply_models::UserId;

use crate::app::{Response, TestApp, spawn_app};
use crate::page_cookies::{cookie_value, csrf, set_cookies};
use crate::pages_account::{FORM, browser, get_with, post_form};

#[test]
fn signing_up_sets_an_http_only_lax_session_cookie_and_the_account_shows_the_user() {
    let app = spawn_app();
    let csrf = csrf(&app);
    let cookie = format!("droply_csrf={csrf}");
    let signed_up = post_form(
        &app,
        "/signup",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("full_name", "Sam Signup"),
            ("username", "sam_signup"),
            ("email", "sam@example.com"),
            ("password", "a-long-password"),
            ("currency", "EUR"),
            ("timezone", "Europe/Paris"),
        ],
    );
    assert_eq!(signed_up.status, 303, "{}", signed_up.raw);
    assert_eq!(signed_up.header("location"), Some("/account"));
    let session_cookie = set_cookies(&signed_up)
        .into_iter()
        .find(|c| c.starts_with("droply_session="))
        .expect("a session cookie");
    assert!(session_cookie.contains("HttpOnly"), "{session_cookie}");
    assert!(session_cookie.contains("SameSite=Lax"), "{session_cookie}");
    let session = cookie_value(&signed_up, "droply_session").expect("session");

    let account = get_with(
        &app,
        "/account",
        &format!("droply_csrf={csrf}; droply_session={session}"),
    );
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(account.raw.contains("Sam Signup"), "{}", account.raw);
    assert!(account.raw.contains("@sam_signup"));
    assert!(account.raw.contains("/signup?ref="), "the referral link");
    assert!(!account.raw.contains(&session), "no token in the page");

    let anonymous = app.get("/account");
    assert_eq!(anonymous.status, 303);
    assert_eq!(anonymous.header("location"), Some("/signin?next=/account"));
}

/// Signs up through the sign-up form with `next`; the answer.
fn sign_up_with_next(app: &TestApp, name: &str, next: &str) -> Response {
    let csrf = csrf(app);
    let cookie = format!("droply_csrf={csrf}");
    let email = format!("{name}@example.com");
    post_form(
        app,
        "/signup",
        &cookie,
        &[
            ("_csrf", &csrf),
            ("full_name", "Nina Next"),
            ("username", name),
            ("email", &email),
            ("password", "a-long-password"),
            ("currency", "USD"),
            ("timezone", "Europe/Paris"),
            ("next", next),
        ],
    )
}

/// Regression: signing up forgot `next` (the sign-in page's "Create an
/// account" link dropped it and sign-up always went to `/account`).
#[test]
fn signing_up_goes_to_the_local_next_path_and_never_off_site() {
    let app = spawn_app();
    let sign_in = app.get("/signin?next=/%40someone");
    assert_eq!(sign_in.status, 200, "{}", sign_in.raw);
    assert!(
        sign_in.raw.contains("href=\"/signup?next=/%40someone\""),
        "{}",
        sign_in.raw
    );
    let sign_up = app.get("/signup?next=/%40someone");
    assert_eq!(sign_up.status, 200, "{}", sign_up.raw);
    assert!(
        sign_up.raw.contains("name=\"next\" value=\"/@someone\""),
        "{}",
        sign_up.raw
    );

    let local = sign_up_with_next(&app, "nina_next", "/@someone");
    assert_eq!(local.status, 303, "{}", local.raw);
    assert_eq!(local.header("location"), Some("/@someone"));

    let off_site = sign_up_with_next(&app, "otto_next", "//evil.test");
    assert_eq!(off_site.status, 303, "{}", off_site.raw);
    let location = off_site.header("location").expect("a location");
    assert!(location == "/" || location == "/account", "{location}");
}

/// The real app with its pages served as behind `public_url`, reached on
/// loopback (as behind a proxy that rewrites `Host`).
fn spawn_app_behind(public_url: &str) -> TestApp {
    let pages = droply_server::pages::PageSettings::for_public_url(public_url, None);
    crate::app::spawn_router(move |state| droply_server::http::router(state.with_pages(pages)))
}

/// The branding form, as `pages_account.rs`'s
/// `a_form_without_its_csrf_token_is_refused_and_changes_nothing` sends it,
/// from `origin`.
fn post_branding_from(app: &TestApp, cookie: &str, csrf: &str, origin: &str) -> Response {
    let body = format!(
        "_csrf={csrf}&background_color=%23888888&primary_color=%233B4CCA\
         &secondary_color=%23777777&font_family=lato&font_size=20&profile_layout=grid"
    );
    app.send(
        "POST",
        "/account/branding",
        Some(&body),
        None,
        &[
            ("Content-Type", FORM),
            ("Cookie", cookie),
            ("Origin", origin),
        ],
    )
}

/// Regression: the referral link was the bare path `/signup?ref=...`, which
/// goes nowhere pasted in a message; it is on the public origin.
#[test]
fn the_referral_link_is_absolute_on_the_public_origin() {
    // Without a configured public URL: `droply serve`'s default.
    let app = spawn_app();
    let (_, token) = app.register("rita");
    let (cookie, _) = browser(&app, &token);
    let account = get_with(&app, "/account", &cookie);
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(
        account
            .raw
            .contains("value=\"http://localhost:8080/signup?ref="),
        "{}",
        account.raw
    );
    assert!(
        account
            .raw
            .contains("href=\"http://localhost:8080/signup?ref="),
        "{}",
        account.raw
    );
    assert!(
        !account.raw.contains("value=\"/signup?ref="),
        "{}",
        account.raw
    );

    let app = spawn_app_behind("http://droply.example:8080/");
    let (_, token) = app.register("rafa");
    let (cookie, _) = browser(&app, &token);
    let account = get_with(&app, "/account", &cookie);
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(
        account
            .raw
            .contains("value=\"http://droply.example:8080/signup?ref="),
        "{}",
        account.raw
    );
}

/// Regression: behind a proxy that rewrites `Host` (nginx's default), the
/// browser's `Origin` (the public URL's) never named the `Host`, and every
/// page form was refused with 403.
#[test]
fn a_form_from_the_public_origin_is_accepted_whatever_host_the_proxy_sends() {
    let app = spawn_app_behind("http://droply.example:8080");
    let (id, token) = app.register("prox");
    let (cookie, csrf) = browser(&app, &token);
    let foreign = post_branding_from(&app, &cookie, &csrf, "http://evil.test");
    assert_eq!(foreign.status, 403, "{}", foreign.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_ne!(user.background_color.as_str(), "#888888");

    let public = post_branding_from(&app, &cookie, &csrf, "http://droply.example:8080");
    assert_eq!(public.status, 303, "{}", public.raw);
    let user = app.engine.account(UserId::new(id)).expect("account");
    assert_eq!(user.background_color.as_str(), "#888888");

    // The address the request was sent to still counts as this site.
    let host = format!("http://{}", app.addr);
    let direct = post_branding_from(&app, &cookie, &csrf, &host);
    assert_eq!(direct.status, 303, "{}", direct.raw);
}
