//! The web pages' foundation over HTTP: security headers, the embedded
//! assets, the CSRF check on every form, signing in and out with an
//! HttpOnly session cookie (a new sign-in ending the session it replaces,
//! and signing out everywhere), and the search page's reasons and errors.

use crate::app::{Response, TestApp, spawn_app, spawn_app_with_search};
use crate::page_cookies::{cookie_value, csrf, page_csrf, set_cookies};
use crate::pages_account::browser;
use crate::search_market::{Profile, add_expert};

fn form(app: &TestApp, path: &str, body: &str, cookies: &str, extra: &[(&str, &str)]) -> Response {
    let mut headers = vec![
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("Cookie", cookies),
    ];
    headers.extend_from_slice(extra);
    app.send("POST", path, Some(body), None, &headers)
}

#[test]
fn pages_carry_the_security_headers_and_assets_are_cached_by_version() {
    let app = spawn_app_with_search();
    let started = std::time::Instant::now();
    while app.get("/ready").status != 200 {
        assert!(started.elapsed().as_secs() < 5, "search never became ready");
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let page = app.get("/");
    assert_eq!(page.status, 200, "{}", page.raw);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(csp.contains("script-src 'self';"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("stripe"),
        "{csp}"
    );
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(
        page.header("referrer-policy"),
        Some("strict-origin-when-cross-origin")
    );
    assert_eq!(page.header("cache-control"), Some("no-store"));
    let csrf = set_cookies(&page)
        .into_iter()
        .find(|c| c.starts_with("droply_csrf="))
        .expect("a CSRF cookie");
    assert!(
        csrf.contains("HttpOnly") && csrf.contains("SameSite=Strict"),
        "{csrf}"
    );
    // No inline script: every <script> has a src on this site.
    assert!(!page.raw.contains("<script>"), "an inline script");

    let start = page
        .raw
        .find("/assets/app.css?v=")
        .expect("the stylesheet link");
    let link = &page.raw[start..start + "/assets/app.css?v=".len() + 16];
    let css = app.get(link);
    assert_eq!(css.status, 200);
    assert_eq!(css.header("content-type"), Some("text/css; charset=utf-8"));
    assert!(
        css.header("cache-control")
            .is_some_and(|c| c.contains("immutable"))
    );
    // Regression: a publicly cached asset carried a new browser's CSRF token.
    assert_eq!(css.header("set-cookie"), None, "{}", css.head);
    let etag = css.header("etag").expect("an ETag").to_owned();
    let again = app.send("GET", link, None, None, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert_eq!(app.get("/assets/nope.js").status, 404);
}

#[test]
fn a_form_without_this_sites_csrf_token_is_refused() {
    let app = spawn_app_with_search();
    app.register("carol");
    let token = csrf(&app);
    let jar = format!("droply_csrf={token}");
    let login = "email=carol%40example.com&password=password-carol";

    // No token, a wrong token, or the right token from another site: 403.
    let missing = form(&app, "/signin", login, &jar, &[]);
    assert_eq!(missing.status, 403, "{}", missing.raw);
    assert!(cookie_value(&missing, "droply_session").is_none());
    let wrong = format!("{login}&_csrf={}", "0".repeat(64));
    assert_eq!(form(&app, "/signin", &wrong, &jar, &[]).status, 403);
    let signed = format!("{login}&_csrf={token}");
    let cross = form(
        &app,
        "/signin",
        &signed,
        &jar,
        &[("Origin", "http://evil.example")],
    );
    assert_eq!(cross.status, 403);
    let no_cookie = form(&app, "/signin", &signed, "", &[]);
    assert_eq!(no_cookie.status, 403);

    // The same form with the token signs in.
    let ok = form(
        &app,
        "/signin",
        &format!("{signed}&next=%2Faccount"),
        &jar,
        &[],
    );
    assert_eq!(ok.status, 303, "{}", ok.raw);
    assert_eq!(ok.header("location"), Some("/account"));
    assert!(cookie_value(&ok, "droply_session").is_some());
}

/// Regression: a query or form that did not fit its page (a page number
/// that is not one, a repeated key, a missing field) got axum's plain-text
/// 400 or 422 instead of a page.
#[test]
fn a_query_or_form_that_does_not_fit_is_answered_with_a_page() {
    let app = spawn_app();
    let token = csrf(&app);
    let jar = format!("droply_csrf={token}");
    let no_password = form(
        &app,
        "/signin",
        &format!("email=carol%40example.com&_csrf={token}"),
        &jar,
        &[],
    );
    let pages = [
        ("/?page=abc", app.get("/?page=abc")),
        ("/?q=a&q=b", app.get("/?q=a&q=b")),
        ("/signin?next=a&next=b", app.get("/signin?next=a&next=b")),
        ("POST /signin without a password", no_password),
    ];
    for (name, page) in pages {
        assert_eq!(page.status, 400, "{name}: {}", page.raw);
        assert_eq!(
            page.header("content-type"),
            Some("text/html; charset=utf-8"),
            "{name}: {}",
            page.head
        );
        assert!(page.raw.contains("role=\"alert\""), "{name}: {}", page.raw);
    }
}

#[test]
fn signing_in_sets_an_http_only_session_that_signing_out_ends() {
    let app = spawn_app_with_search();
    app.register("dora");
    let token = csrf(&app);
    let jar = format!("droply_csrf={token}");

    let bad = form(
        &app,
        "/signin",
        &format!("email=dora%40example.com&password=wrong-password&_csrf={token}"),
        &jar,
        &[],
    );
    assert_eq!(bad.status, 401, "{}", bad.raw);
    assert!(bad.raw.contains("role=\"alert\""));
    assert!(bad.raw.contains("dora@example.com"), "the email is kept");
    assert!(!bad.raw.contains("wrong-password"), "never the password");

    // A way back to another site is not followed.
    let ok = form(
        &app,
        "/signin",
        &format!(
            "email=dora%40example.com&password=password-dora&next=%2F%2Fevil.example&_csrf={token}"
        ),
        &jar,
        &[],
    );
    assert_eq!(ok.status, 303);
    assert_eq!(ok.header("location"), Some("/"));
    let line = set_cookies(&ok)
        .into_iter()
        .find(|c| c.starts_with("droply_session="))
        .expect("a session cookie");
    assert!(
        line.contains("HttpOnly") && line.contains("SameSite=Lax"),
        "{line}"
    );
    assert!(
        line.contains("Max-Age=") && !line.contains("Secure"),
        "{line}"
    );
    let session = cookie_value(&ok, "droply_session").expect("session");

    let jar = format!("droply_csrf={token}; droply_session={session}");
    let home = app.send("GET", "/", None, None, &[("Cookie", &jar)]);
    assert!(
        home.raw.contains("Sign out (dora)"),
        "signed in: {}",
        home.raw
    );
    // The cookie's token is an API token of the same account engine.
    assert_eq!(
        app.authed("GET", "/v1/users/me", &session, None).status,
        200
    );

    // Regression: the token stayed the browser's cookie across sign-in, so a token
    // cookie planted before (or from a sibling domain) still passed once signed in.
    // A signed-in browser's token is its session's.
    let signed_in_token = page_csrf(&app, &jar);
    assert_ne!(signed_in_token, token, "a new token with the session");
    let planted = form(&app, "/signout", &format!("_csrf={token}"), &jar, &[]);
    assert_eq!(planted.status, 403, "{}", planted.raw);
    assert_eq!(
        app.authed("GET", "/v1/users/me", &session, None).status,
        200,
        "still signed in"
    );
    let out = form(
        &app,
        "/signout",
        &format!("_csrf={signed_in_token}"),
        &jar,
        &[],
    );
    assert_eq!(out.status, 303);
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("droply_session=;") && c.contains("Max-Age=0"))
    );
    assert_eq!(
        app.authed("GET", "/v1/users/me", &session, None).status,
        401
    );
    let after = app.send("GET", "/", None, None, &[("Cookie", &jar)]);
    assert!(after.raw.contains("Sign in"), "a stale cookie is anonymous");
}

#[test]
fn the_search_page_shows_reasons_and_tells_bad_filters() {
    let app = spawn_app_with_search();
    add_expert(
        &app,
        "tina",
        &Profile {
            profession: "Tax Advisor",
            industry: "Finance",
            skills: ["Tax Planning", "Bookkeeping", "VAT Returns"],
            bio: "Files income <b>tax</b> returns for freelancers.",
            rate: Some(9_000),
            ..Profile::default()
        },
    );
    app.wait_for_index();
    let page = app.get("/?q=tax+planning&show=experts");
    assert_eq!(page.status, 200, "{}", page.raw);
    assert!(page.raw.contains("href=\"/@tina\""), "{}", page.raw);
    assert!(page.raw.contains("class=\"reasons\""), "reasons are shown");
    assert!(page.raw.contains("$90.00 / hour"));
    let filtered = app.get("/?q=tax&industry=Finance");
    assert!(filtered.raw.contains("href=\"/@tina\""));
    assert!(filtered.raw.contains("class=\"facet\""), "facet counts");
    let none = app.get("/?q=tax&industry=Legal");
    assert!(!none.raw.contains("href=\"/@tina\""));

    let bad = app.get("/?min_price=lots");
    assert_eq!(bad.status, 400);
    assert!(bad.raw.contains("The lowest price must be an amount"));
    let injected = app.get("/?industry=%22%20OR%20industry%20%3D%20%22x");
    assert_eq!(injected.status, 200, "a quote in a value stays a value");
    assert!(!injected.raw.contains("href=\"/@tina\""));
}

/// Regression: signing in (or up) again in a browser that held a session set
/// a new cookie but left the old session valid on the server.
#[test]
fn signing_in_or_up_again_in_one_browser_ends_the_session_it_replaces() {
    let app = spawn_app();
    app.register("hana");
    let token = csrf(&app);
    let login = "email=hana%40example.com&password=password-hana";
    let first = form(
        &app,
        "/signin",
        &format!("{login}&_csrf={token}"),
        &format!("droply_csrf={token}"),
        &[],
    );
    assert_eq!(first.status, 303, "{}", first.raw);
    let first_session = cookie_value(&first, "droply_session").expect("a session");
    // The cookie's token is a bearer token of the same accounts engine.
    let me = app.authed("GET", "/v1/users/me", &first_session, None);
    assert_eq!(me.status, 200, "{}", me.raw);

    let jar = format!("droply_csrf={token}; droply_session={first_session}");
    let body = format!("{login}&_csrf={}", page_csrf(&app, &jar));
    let again = form(&app, "/signin", &body, &jar, &[]);
    assert_eq!(again.status, 303, "{}", again.raw);
    let second_session = cookie_value(&again, "droply_session").expect("a new session");
    assert_ne!(second_session, first_session);
    assert_eq!(
        app.authed("GET", "/v1/users/me", &first_session, None)
            .status,
        401,
        "the replaced session ended"
    );
    assert_eq!(
        app.authed("GET", "/v1/users/me", &second_session, None)
            .status,
        200
    );

    // Signing up another account in that browser ends its session too.
    let jar = format!("droply_csrf={token}; droply_session={second_session}");
    let body = format!(
        "username=hana_two&email=hana2%40example.com&password=a-long-password&full_name=Hana&_csrf={}",
        page_csrf(&app, &jar)
    );
    let signed_up = form(&app, "/signup", &body, &jar, &[]);
    assert_eq!(signed_up.status, 303, "{}", signed_up.raw);
    let third_session = cookie_value(&signed_up, "droply_session").expect("a new session");
    assert_eq!(
        app.authed("GET", "/v1/users/me", &second_session, None)
            .status,
        401,
        "the replaced session ended"
    );
    let me = app.authed("GET", "/v1/users/me", &third_session, None);
    assert_eq!(me.status, 200, "{}", me.raw);
    assert_eq!(me.body["username"], "hana_two");
}

#[test]
fn signing_out_everywhere_ends_every_session_of_the_account() {
    let app = spawn_app();
    let (_, api_token) = app.register("iris");
    let (_, other) = app.register("jack");
    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"iris@example.com","password":"password-iris"}"#),
    );
    assert_eq!(login.status, 200, "{}", login.raw);
    let session = login.body["token"].as_str().expect("token").to_owned();
    let (cookie, token) = browser(&app, &session);
    let account = app.send("GET", "/account", None, None, &[("Cookie", &cookie)]);
    assert_eq!(account.status, 200, "{}", account.raw);
    assert!(
        account.raw.contains(r#"action="/signout/everywhere""#),
        "the account page has the form: {}",
        account.raw
    );

    // Without this browser's CSRF token the form is refused and ends nothing.
    let refused = form(&app, "/signout/everywhere", "", &cookie, &[]);
    assert_eq!(refused.status, 403, "{}", refused.raw);
    assert_eq!(
        app.authed("GET", "/v1/users/me", &api_token, None).status,
        200
    );

    let out = form(
        &app,
        "/signout/everywhere",
        &format!("_csrf={token}"),
        &cookie,
        &[],
    );
    assert_eq!(out.status, 303, "{}", out.raw);
    assert_eq!(out.header("location"), Some("/"));
    assert!(
        set_cookies(&out)
            .iter()
            .any(|c| c.starts_with("droply_session=;") && c.contains("Max-Age=0")),
        "the cookie is cleared: {}",
        out.head
    );
    for (name, bearer) in [("the API's", &api_token), ("the browser's", &session)] {
        let me = app.authed("GET", "/v1/users/me", bearer, None);
        assert_eq!(me.status, 401, "{name} session ended: {}", me.raw);
    }
    assert_eq!(
        app.authed("GET", "/v1/users/me", &other, None).status,
        200,
        "another account's session is untouched"
    );
    let after = app.send("GET", "/account", None, None, &[("Cookie", &cookie)]);
    assert_eq!(after.status, 303, "the stale cookie is anonymous");
}
