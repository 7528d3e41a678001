//! Changing one's password over HTTP (`POST /v1/users/me/password`, and
//! the form on `/account` that posts to `/account/password`): the old
//! password stops signing in and the new one starts; every other session
//! of the account ends while the caller's token keeps working; a wrong
//! current password is 401 `invalid_credentials` and changes nothing,
//! throttled as sign-ins are, unless the new one already signs in (a
//! retried change: 204 again); a new password that breaks the sign-up rule
//! or repeats the current one is 400; no answer holds a password or a hash.

use serde_json::json;

use crate::app::{Response, TestApp, error_code, spawn_app};
use crate::pages_account::{browser, get_with, post_form};

const NEW: &str = "a brand new secret";

/// `POST /v1/users/me/password` as the holder of `token`.
fn change(app: &TestApp, token: &str, current: &str, new: &str) -> Response {
    let body = json!({ "current_password": current, "new_password": new }).to_string();
    app.authed("POST", "/v1/users/me/password", token, Some(&body))
}

/// `POST /v1/auth/login` as `name@example.com` with `password`.
fn login(app: &TestApp, name: &str, password: &str) -> Response {
    let body = json!({ "email": format!("{name}@example.com"), "password": password }).to_string();
    app.request("POST", "/v1/auth/login", Some(&body))
}

/// The answer holds neither password nor anything of a hash.
fn assert_no_secret(response: &Response, passwords: &[&str]) {
    for needle in passwords.iter().copied().chain(["argon2"]) {
        assert!(
            !response.raw.contains(needle),
            "the answer holds {needle:?}: {}",
            response.raw
        );
    }
}

#[test]
fn a_changed_password_ends_the_old_one_and_every_other_session_but_the_callers() {
    let app = spawn_app();
    let (_, mine) = app.register("ann");
    let elsewhere = login(&app, "ann", "password-ann");
    assert_eq!(elsewhere.status, 200, "{}", elsewhere.raw);
    let other = elsewhere.body["token"].as_str().expect("token").to_owned();

    let changed = change(&app, &mine, "password-ann", NEW);
    assert_eq!(changed.status, 204, "{}", changed.raw);
    assert_no_secret(&changed, &["password-ann", NEW]);

    let old = login(&app, "ann", "password-ann");
    assert_eq!(
        (old.status, error_code(&old).as_str()),
        (401, "invalid_credentials"),
        "{}",
        old.raw
    );
    let new = login(&app, "ann", NEW);
    assert_eq!(new.status, 200, "{}", new.raw);

    let theirs = app.authed("GET", "/v1/users/me", &other, None);
    assert_eq!(
        (theirs.status, error_code(&theirs).as_str()),
        (401, "unauthorized"),
        "the other session ended: {}",
        theirs.raw
    );
    let own = app.authed("GET", "/v1/users/me", &mine, None);
    assert_eq!(own.status, 200, "the caller stays signed in: {}", own.raw);
    assert_no_secret(&own, &["password-ann", NEW]);
    app.assert_no_leaks();
}

#[test]
fn a_password_change_sent_twice_succeeds_both_times_and_the_new_password_signs_in() {
    let app = spawn_app();
    let (_, mine) = app.register("eve");
    let first = change(&app, &mine, "password-eve", NEW);
    assert_eq!(first.status, 204, "{}", first.raw);
    // The first answer lost: the client sends the same change again, more
    // times than the sign-in throttle allows failures.
    for _ in 0..6 {
        let again = change(&app, &mine, "password-eve", NEW);
        assert_eq!(again.status, 204, "made already: {}", again.raw);
        assert_no_secret(&again, &["password-eve", NEW]);
    }
    let new = login(&app, "eve", NEW);
    assert_eq!(new.status, 200, "not locked out: {}", new.raw);
    assert_eq!(
        error_code(&login(&app, "eve", "password-eve")),
        "invalid_credentials"
    );
    let own = app.authed("GET", "/v1/users/me", &mine, None);
    assert_eq!(own.status, 200, "the caller stays signed in: {}", own.raw);
    app.assert_no_leaks();
}

#[test]
fn a_wrong_current_password_is_401_invalid_credentials_and_changes_nothing() {
    let app = spawn_app();
    let (_, mine) = app.register("bob");
    let other = login(&app, "bob", "password-bob").body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let wrong = change(&app, &mine, "not-the-password", NEW);
    assert_eq!(
        (wrong.status, error_code(&wrong).as_str()),
        (401, "invalid_credentials"),
        "{}",
        wrong.raw
    );
    assert_no_secret(&wrong, &["not-the-password", "password-bob", NEW]);
    assert_eq!(login(&app, "bob", "password-bob").status, 200);
    assert_eq!(
        error_code(&login(&app, "bob", NEW)),
        "invalid_credentials",
        "the new password was not set"
    );
    // A second sign-in of the same account (not the app's registered token,
    // so not `/v1/users/me`, whose own email the leak scan would flag).
    let theirs = app.authed("GET", "/v1/bookings", &other, None);
    assert_eq!(theirs.status, 200, "no session ended: {}", theirs.raw);
    app.assert_no_leaks();
}

#[test]
fn wrong_current_passwords_count_against_the_sign_in_throttle() {
    let app = spawn_app();
    let (_, token) = app.register("tom");
    // Five attempts: each wrong change counts two (the current password's,
    // then the new one's, checked in case the change was made already), so
    // the third one's second is refused.
    for _ in 0..2 {
        let wrong = change(&app, &token, "guessing-again", NEW);
        assert_eq!(error_code(&wrong), "invalid_credentials", "{}", wrong.raw);
    }
    let used_up = change(&app, &token, "guessing-again", NEW);
    assert_eq!(error_code(&used_up), "too_many_attempts", "{}", used_up.raw);
    let throttled = change(&app, &token, "password-tom", NEW);
    assert_eq!(
        (throttled.status, error_code(&throttled).as_str()),
        (429, "too_many_attempts"),
        "{}",
        throttled.raw
    );
    assert_eq!(
        error_code(&login(&app, "tom", "password-tom")),
        "too_many_attempts",
        "one count for both"
    );
}

#[test]
fn a_new_password_too_short_or_the_same_as_the_current_one_is_400() {
    let app = spawn_app();
    let (_, token) = app.register("cai");
    for new in ["short", "password-cai"] {
        let refused = change(&app, &token, "password-cai", new);
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (400, "invalid_input"),
            "{}",
            refused.raw
        );
        assert!(refused.raw.contains("new_password"), "{}", refused.raw);
        assert_no_secret(&refused, &["password-cai", "short"]);
    }
    assert_eq!(login(&app, "cai", "password-cai").status, 200);
    let unknown = app.authed(
        "POST",
        "/v1/users/me/password",
        &token,
        Some(r#"{"current_password":"password-cai","new_password":"a brand new secret","also":1}"#),
    );
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (400, "invalid_input"),
        "an unknown field: {}",
        unknown.raw
    );
    let anonymous = app.request(
        "POST",
        "/v1/users/me/password",
        Some(r#"{"current_password":"password-cai","new_password":"a brand new secret"}"#),
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.raw);
}

#[test]
fn the_password_form_changes_it_behind_csrf_and_keeps_the_browser_signed_in() {
    let app = spawn_app();
    let (_, token) = app.register("pia");
    let other = login(&app, "pia", "password-pia").body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let (cookie, csrf) = browser(&app, &token);
    let account = get_with(&app, "/account", &cookie);
    assert!(
        account.raw.contains(r#"action="/account/password""#)
            && account.raw.contains(r#"name="current_password""#)
            && account.raw.contains(r#"name="new_password""#),
        "{}",
        account.raw
    );

    let fields = |current: &'static str| [("current_password", current), ("new_password", NEW)];
    let forged = post_form(&app, "/account/password", &cookie, &fields("password-pia"));
    assert_eq!(forged.status, 403, "{}", forged.raw);
    assert_eq!(
        login(&app, "pia", "password-pia").status,
        200,
        "no CSRF: nothing changed"
    );

    let mut wrong_fields = vec![("_csrf", csrf.as_str())];
    wrong_fields.extend(fields("not-the-password"));
    let wrong = post_form(&app, "/account/password", &cookie, &wrong_fields);
    // As the sign-in page answers a wrong password.
    assert_eq!(wrong.status, 401, "{}", wrong.raw);
    assert!(wrong.raw.contains(r#"role="alert""#), "{}", wrong.raw);
    assert_no_secret(&wrong, &["not-the-password", NEW]);

    let mut right_fields = vec![("_csrf", csrf.as_str())];
    right_fields.extend(fields("password-pia"));
    let changed = post_form(&app, "/account/password", &cookie, &right_fields);
    assert_eq!(changed.status, 200, "{}", changed.raw);
    assert!(changed.raw.contains(r#"role="status""#), "{}", changed.raw);
    assert_no_secret(&changed, &["password-pia", NEW]);

    assert_eq!(
        get_with(&app, "/account", &cookie).status,
        200,
        "still signed in"
    );
    assert_eq!(app.authed("GET", "/v1/users/me", &other, None).status, 401);
    assert_eq!(
        error_code(&login(&app, "pia", "password-pia")),
        "invalid_credentials"
    );
    assert_eq!(login(&app, "pia", NEW).status, 200);
}
