//! Google Calendar connections over HTTP, against the in-process Google
//! fake reached by the real client through the configured URLs: connecting
//! (a consent URL with a state and an S256 challenge, the callback
//! exchanging the code with its verifier), a wrong, reused or passed-on
//! state refused, disconnecting revoking the grant (by the sync when Google
//! did not take it at the disconnect), the routes without Google, and no
//! token or client secret in any answer or `Debug` output. What the sync
//! does with a connection (busy times, refreshed tokens, events) is in
//! `calendar_sync.rs`.

use std::time::Duration;

use droply_engine::calendar::{
    CalendarConfig, CalendarConnection, GoogleConfig, LinkState, PendingRevocation, SecretKey,
};
use droply_engine::video::RetryPolicy;
use droply_models::{Timestamp, UserId};
use droply_test_support::google_fake::{CLIENT_ID, CLIENT_SECRET, GoogleFake};

use crate::app::{Response, TestApp, error_code, spawn_app, spawn_app_with};
use crate::availability::expert_working;

/// An app with Google pointed at a fresh fake.
pub(crate) fn spawn_app_with_google() -> (TestApp, GoogleFake) {
    spawn_app_with_google_and(|_| {})
}

/// [`spawn_app_with_google`] with `change` made to the calendar config.
fn spawn_app_with_google_and(change: impl FnOnce(&mut CalendarConfig)) -> (TestApp, GoogleFake) {
    let fake = GoogleFake::start();
    let google = GoogleConfig {
        auth_url: fake.auth_url(),
        token_url: fake.token_url(),
        revoke_url: fake.revoke_url(),
        api_base: fake.base_url(),
        redirect_url: "http://127.0.0.1/v1/calendar/google/callback".to_owned(),
        ..GoogleConfig::new(CLIENT_ID, CLIENT_SECRET.into())
    };
    let app = spawn_app_with(|config| {
        config.calendar = CalendarConfig {
            google: Some(google),
            secret_key: Some(SecretKey::from_bytes([42; 32])),
            ..CalendarConfig::default()
        };
        change(&mut config.calendar);
    });
    (app, fake)
}

/// A free expert in UTC working 09:00-17:00 every day; (id, token).
pub(crate) fn free_expert(app: &TestApp, name: &str) -> (u64, String) {
    let (id, token) = expert_working(app, name, "UTC", "09:00", "17:00");
    app.make_free(id);
    (id, token)
}

/// Asks for `token`'s consent URL, consents on `fake` and follows the
/// callback: the callback's answer.
pub(crate) fn consent_and_callback(app: &TestApp, fake: &GoogleFake, token: &str) -> Response {
    let consent = app.authed("GET", "/v1/calendar/google/connect", token, None);
    assert_eq!(consent.status, 200, "{}", consent.raw);
    let url = consent.body["url"].as_str().expect("url");
    let (code, state) = fake.authorize(url);
    app.authed("GET", &callback_path(&code, &state), token, None)
}

/// Connects `token`'s calendar through the consent URL and the callback.
pub(crate) fn connect(app: &TestApp, fake: &GoogleFake, token: &str) {
    let back = consent_and_callback(app, fake, token);
    assert_eq!(back.status, 200, "{}", back.raw);
    assert_eq!(back.body["status"], "connected", "{}", back.raw);
}

/// A day ten days from now, `YYYY-MM-DD` (inside the 90-day busy window).
pub(crate) fn day_ahead() -> String {
    Timestamp::now().plus_days(10).to_rfc3339()[..10].to_owned()
}

pub(crate) fn slot_starts(app: &TestApp, expert: u64, day: &str) -> Vec<String> {
    let slots = app.get(&format!(
        "/v1/experts/{expert}/slots?from={day}&to={day}&duration=60"
    ));
    assert_eq!(slots.status, 200, "{}", slots.raw);
    slots.body["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .map(|s| s["start"].as_str().expect("start")[11..16].to_owned())
        .collect()
}

/// No answer carries a token the fake issued or the client secret.
pub(crate) fn assert_no_tokens(app: &TestApp, fake: &GoogleFake) {
    let mut secrets = fake.issued_tokens();
    secrets.push(CLIENT_SECRET.to_owned());
    for (_, path, raw) in app.seen.lock().expect("log").iter() {
        for secret in &secrets {
            assert!(
                !raw.contains(secret.as_str()),
                "{path} leaks a token: {raw}"
            );
        }
    }
}

#[test]
fn connecting_stores_the_tokens_encrypted_and_never_shows_them() {
    let (app, fake) = spawn_app_with_google();
    let (expert, token) = free_expert(&app, "grace");
    let none = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(none.status, 200, "{}", none.raw);
    assert_eq!(none.body["status"], "none");

    let consent = app.authed("GET", "/v1/calendar/google/connect", &token, None);
    assert_eq!(consent.status, 200, "{}", consent.raw);
    let url = consent.body["url"].as_str().expect("url").to_owned();
    assert!(url.starts_with(&fake.auth_url()), "{url}");
    for part in [
        "state=",
        "code_challenge=",
        "code_challenge_method=S256",
        "access_type=offline",
    ] {
        assert!(url.contains(part), "{url} lacks {part}");
    }
    assert!(!url.contains("code_verifier"), "{url}");
    let (code, state) = fake.authorize(&url);
    let back = app.authed("GET", &callback_path(&code, &state), &token, None);
    assert_eq!(back.status, 200, "{}", back.raw);
    assert_eq!(back.body["status"], "connected");
    assert_eq!(fake.count("exchange"), 1);

    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(status.body["status"], "connected", "{}", status.raw);
    assert!(status.body["connected_at"].is_string());

    // The stored row holds no token in clear, nor does its Debug output.
    let row: CalendarConnection = app
        .store
        .get(UserId::new(expert))
        .expect("read")
        .expect("a connection");
    assert_eq!(row.state, LinkState::Connected);
    let debug = format!("{row:?}");
    for issued in fake.issued_tokens() {
        assert!(!debug.contains(&issued), "{debug}");
        let bytes = issued.as_bytes();
        assert!(!row.access_token.windows(bytes.len()).any(|w| w == bytes));
        let refresh = row.refresh_token.as_deref().expect("a refresh token");
        assert!(!refresh.windows(bytes.len()).any(|w| w == bytes));
    }
    let config = format!("{:?}", app.engine);
    assert!(
        !config.contains(CLIENT_SECRET),
        "the engine's Debug shows the secret"
    );
    assert_no_tokens(&app, &fake);
    app.assert_no_leaks();
}

#[test]
fn a_wrong_or_reused_state_is_refused() {
    let (app, fake) = spawn_app_with_google();
    let (_, token) = free_expert(&app, "grace");
    let consent = app.authed("GET", "/v1/calendar/google/connect", &token, None);
    let (code, state) = fake.authorize(consent.body["url"].as_str().expect("url"));
    let wrong = app.authed("GET", &callback_path(&code, "not-the-state"), &token, None);
    assert_eq!(wrong.status, 400, "{}", wrong.raw);
    assert_eq!(error_code(&wrong), "invalid_oauth_state");
    let first = app.authed("GET", &callback_path(&code, &state), &token, None);
    assert_eq!(first.status, 200, "{}", first.raw);
    let again = app.authed("GET", &callback_path(&code, &state), &token, None);
    assert_eq!(again.status, 400, "{}", again.raw);
    assert_eq!(error_code(&again), "invalid_oauth_state");
    // Only the newest consent's state is good.
    let older = app.authed("GET", "/v1/calendar/google/connect", &token, None);
    let (older_code, older_state) = fake.authorize(older.body["url"].as_str().expect("url"));
    let newer = app.authed("GET", "/v1/calendar/google/connect", &token, None);
    let (newer_code, newer_state) = fake.authorize(newer.body["url"].as_str().expect("url"));
    let replaced = app.authed(
        "GET",
        &callback_path(&older_code, &older_state),
        &token,
        None,
    );
    assert_eq!(error_code(&replaced), "invalid_oauth_state");
    let newest = app.authed(
        "GET",
        &callback_path(&newer_code, &newer_state),
        &token,
        None,
    );
    assert_eq!(newest.status, 200, "{}", newest.raw);
    let missing = app.get("/v1/calendar/google/callback?state=x");
    assert_eq!(missing.status, 400);
    assert_eq!(error_code(&missing), "invalid_parameter");
    let denied = app.get("/v1/calendar/google/callback?error=access_denied&state=x");
    assert_eq!(denied.status, 400);
    assert_eq!(error_code(&denied), "invalid_input");
    // A client (no profession) cannot connect.
    let (_, client) = app.register("carl");
    let refused = app.authed("GET", "/v1/calendar/google/connect", &client, None);
    assert_eq!(refused.status, 403, "{}", refused.raw);
    let anonymous = app.get("/v1/calendar/google/connect");
    assert_eq!(anonymous.status, 401);
    assert_no_tokens(&app, &fake);
}

/// The callback for `code` and `state`, as Google sends the browser back.
fn callback_path(code: &str, state: &str) -> String {
    format!(
        "/v1/calendar/google/callback?code={}&state={state}",
        code.replace('/', "%2F")
    )
}

/// `path` from a browser (it accepts HTML) with the pages' session cookie
/// of `session`, if any.
fn from_browser(app: &TestApp, path: &str, session: Option<&str>) -> crate::app::Response {
    let cookie = session.map(|token| format!("droply_session={token}"));
    let mut headers = vec![("Accept", "text/html,application/xhtml+xml")];
    if let Some(cookie) = &cookie {
        headers.push(("Cookie", cookie.as_str()));
    }
    app.send("GET", path, None, None, &headers)
}

#[test]
fn a_consent_link_passed_to_someone_else_links_nobody_elses_calendar() {
    let (app, fake) = spawn_app_with_google();
    let (_, grace) = free_expert(&app, "grace");
    let (_, victim) = app.register("victor");
    let consent = app.authed("GET", "/v1/calendar/google/connect", &grace, None);
    let (code, state) = fake.authorize(consent.body["url"].as_str().expect("url"));
    let back = callback_path(&code, &state);
    // Signed in nowhere: a browser is sent to sign in and come back; an
    // API call is refused. Neither spends the state.
    let signed_out = from_browser(&app, &back, None);
    assert_eq!(signed_out.status, 303, "{}", signed_out.raw);
    let location = signed_out.header("location").expect("location");
    assert!(
        location.starts_with("/signin?next=/v1/calendar/google/callback%3Fcode%3D"),
        "{location}"
    );
    let anonymous = app.get(&back);
    assert_eq!(anonymous.status, 401, "{}", anonymous.raw);
    assert_eq!(error_code(&anonymous), "unauthorized");
    // The link lands in someone else's browser: refused, and spent.
    let elsewhere = from_browser(&app, &back, Some(&victim));
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.raw);
    assert_eq!(error_code(&elsewhere), "invalid_oauth_state");
    let by_token = app.authed("GET", &back, &grace, None);
    assert_eq!(
        error_code(&by_token),
        "invalid_oauth_state",
        "{}",
        by_token.raw
    );
    for token in [&grace, &victim] {
        let status = app.authed("GET", "/v1/calendar/google", token, None);
        assert_eq!(status.body["status"], "none", "{}", status.raw);
    }
    // The expert's own browser, signed in to the pages, connects.
    let consent = app.authed("GET", "/v1/calendar/google/connect", &grace, None);
    let (code, state) = fake.authorize(consent.body["url"].as_str().expect("url"));
    let own = from_browser(&app, &callback_path(&code, &state), Some(&grace));
    assert_eq!(own.status, 200, "{}", own.raw);
    assert_eq!(own.body["status"], "connected", "{}", own.raw);
    assert_no_tokens(&app, &fake);
}

#[test]
fn disconnecting_revokes_the_grant_and_forgets_the_tokens() {
    let (app, fake) = spawn_app_with_google();
    let (expert, token) = free_expert(&app, "grace");
    connect(&app, &fake, &token);
    let day = day_ahead();
    fake.set_busy(&[(
        format!("{day}T09:00:00Z").as_str(),
        format!("{day}T12:00:00Z").as_str(),
    )]);
    app.engine.sync_calendars().expect("sync");
    assert_eq!(slot_starts(&app, expert, &day).len(), 9);
    let gone = app.authed("DELETE", "/v1/calendar/google", &token, None);
    assert_eq!(gone.status, 204, "{}", gone.raw);
    assert_eq!(fake.count("revoke"), 1);
    let issued = fake.issued_tokens();
    assert_eq!(
        fake.revoked(),
        [issued[1].clone()],
        "the refresh token is revoked"
    );
    assert!(
        app.store
            .get::<CalendarConnection>(UserId::new(expert))
            .expect("read")
            .is_none()
    );
    assert_eq!(
        app.store.count::<PendingRevocation>(),
        0,
        "revoked: nothing is left to send"
    );
    // Its busy times go with it.
    assert_eq!(slot_starts(&app, expert, &day).len(), 15);
    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(status.body["status"], "none");
    let again = app.authed("DELETE", "/v1/calendar/google", &token, None);
    assert_eq!(again.status, 404);
    assert_no_tokens(&app, &fake);
}

/// Regression: the grant was revoked once, at the disconnect, and a failure
/// only logged: with Google down then, the grant stayed alive at Google for
/// good while Droply had forgotten its tokens.
#[test]
fn a_revocation_google_did_not_take_at_disconnect_is_sent_by_the_sync() {
    // Due again at once, so that the sync run now sends it.
    let (app, fake) = spawn_app_with_google_and(|calendar| {
        calendar.revoke_retry = RetryPolicy {
            first_delay: Duration::ZERO,
            max_delay: Duration::ZERO,
            max_attempts: 5,
        };
    });
    let (expert, token) = free_expert(&app, "grace");
    connect(&app, &fake, &token);
    fake.fail_next_revokes(1);
    let gone = app.authed("DELETE", "/v1/calendar/google", &token, None);
    assert_eq!(gone.status, 204, "{}", gone.raw);
    let status = app.authed("GET", "/v1/calendar/google", &token, None);
    assert_eq!(status.body["status"], "none", "{}", status.raw);
    assert_eq!(fake.count("revoke-failed"), 1);
    assert!(fake.revoked().is_empty());
    let pending: Vec<PendingRevocation> = app
        .store
        .iter::<PendingRevocation>()
        .collect::<Result<_, _>>()
        .expect("pending");
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].user_id, UserId::new(expert));

    let report = app.engine.sync_calendars().expect("sync");
    assert_eq!(report.revoked, 1, "{report:?}");
    let issued = fake.issued_tokens();
    assert_eq!(
        fake.revoked(),
        [issued[1].clone()],
        "the refresh token is revoked"
    );
    assert_eq!(app.store.count::<PendingRevocation>(), 0);
    app.engine.sync_calendars().expect("sync");
    assert_eq!(fake.count("revoke"), 1, "revoked exactly once");
    assert_no_tokens(&app, &fake);
}

#[test]
fn without_google_the_calendar_routes_answer_calendar_not_configured() {
    let app = spawn_app();
    let (_, token) = free_expert(&app, "grace");
    for (method, path) in [
        ("GET", "/v1/calendar/google/connect"),
        ("GET", "/v1/calendar/google"),
        ("DELETE", "/v1/calendar/google"),
        ("GET", "/v1/calendar/google/callback?code=c&state=s"),
    ] {
        let answer = app.authed(method, path, &token, None);
        assert_eq!(answer.status, 503, "{path}: {}", answer.raw);
        assert_eq!(error_code(&answer), "calendar_not_configured");
    }
    let report = app.engine.sync_calendars().expect("sync is off");
    assert_eq!(report.synced, 0);
}
