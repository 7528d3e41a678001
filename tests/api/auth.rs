//! Accounts over HTTP: sign up, sign in, sign out (of one session or of
//! all), tokens, throttling, the error format of every bad body, and
//! `no-store` on API answers to a browser's session cookie.

use crate::app::{error_code, spawn_app};

#[test]
fn register_login_logout_round_trip() {
    let app = spawn_app();
    let (id, token) = app.register("ann");
    let me = app.authed("GET", "/v1/availability/rules", &token, None);
    assert_eq!(me.status, 200, "{}", me.raw);

    let login = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"ANN@example.com","password":"password-ann"}"#),
    );
    assert_eq!(login.status, 200, "{}", login.raw);
    let second = login.body["token"].as_str().expect("token").to_owned();
    assert_ne!(second, token);
    assert_eq!(second.len(), 64);

    let out = app.authed("POST", "/v1/auth/logout", &token, None);
    assert_eq!(out.status, 204, "{}", out.raw);
    let after = app.authed("GET", "/v1/availability/rules", &token, None);
    assert_eq!(
        (after.status, error_code(&after).as_str()),
        (401, "unauthorized")
    );
    let again = app.authed("POST", "/v1/auth/logout", &token, None);
    assert_eq!(again.status, 401);
    // The other session still works.
    assert_eq!(app.authed("GET", "/v1/bookings", &second, None).status, 200);

    let user = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    assert!(user.password_hash.starts_with("$argon2id$"));
    assert_eq!(user.currency, droply_models::Currency::USD);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
    app.assert_no_leaks();
}

#[test]
fn register_answers_the_owner_view_without_secrets() {
    let app = spawn_app();
    let response = app.request(
        "POST",
        "/v1/auth/register",
        Some(r#"{"username":"bea","email":"bea@example.com","password":"long enough","full_name":"Bea","timezone":"Europe/Berlin"}"#),
    );
    assert_eq!(response.status, 201, "{}", response.raw);
    assert_eq!(response.body["user"]["email"], "bea@example.com");
    assert_eq!(response.body["user"]["timezone"], "Europe/Berlin");
    assert!(response.body["user"]["referral_code"].is_string());
    assert!(!response.raw.contains("password"));
    assert!(!response.raw.contains("argon2"));
}

#[test]
fn bad_registrations_get_clear_errors() {
    let app = spawn_app();
    app.register("cat");
    let cases = [
        (
            r#"{"username":"cat","email":"x@example.com","password":"password1","full_name":"C"}"#,
            409,
            "conflict",
        ),
        (
            r#"{"username":"cat2","email":"cat@example.com","password":"password1","full_name":"C"}"#,
            409,
            "conflict",
        ),
        // Regression: the same address in full-width letters made a second account.
        (
            r#"{"username":"cat3","email":"ｃat@Ｅxample.com","password":"password1","full_name":"C"}"#,
            409,
            "conflict",
        ),
        (
            r#"{"username":"dan","email":"dan@example.com","password":"short","full_name":"D"}"#,
            400,
            "invalid_input",
        ),
        (
            r#"{"username":"dan","email":"not-an-email","password":"password1","full_name":"D"}"#,
            400,
            "invalid_input",
        ),
        (
            r#"{"username":"1dan","email":"dan@example.com","password":"password1","full_name":"D"}"#,
            400,
            "invalid_input",
        ),
        (
            r#"{"username":"dan","email":"dan@example.com","password":"password1","full_name":"  "}"#,
            400,
            "invalid_input",
        ),
        (
            r#"{"username":"dan","email":"dan@example.com","password":"password1"}"#,
            400,
            "invalid_input",
        ),
        (
            r#"{"username":"dan","email":"dan@example.com","password":12345678,"full_name":"D"}"#,
            400,
            "invalid_input",
        ),
        (r#"{"username":"dan","#, 400, "invalid_json"),
        ("[]", 400, "invalid_input"),
    ];
    for (body, status, code) in cases {
        let response = app.request("POST", "/v1/auth/register", Some(body));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (status, code),
            "{body}: {}",
            response.raw
        );
    }
    let long = format!(
        r#"{{"username":"dan","email":"dan@example.com","password":"{}","full_name":"D"}}"#,
        "x".repeat(129)
    );
    let response = app.request("POST", "/v1/auth/register", Some(&long));
    assert_eq!(error_code(&response), "invalid_input");
}

#[test]
fn oversized_and_non_json_bodies_are_refused() {
    let app = spawn_app();
    let huge = format!(r#"{{"email":"{}","password":"x"}}"#, "a".repeat(200_000));
    let response = app.request("POST", "/v1/auth/login", Some(&huge));
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (413, "payload_too_large")
    );
    let text = app.send(
        "POST",
        "/v1/auth/login",
        Some("email=a"),
        None,
        &[("Content-Type", "text/plain")],
    );
    assert_eq!(
        (text.status, error_code(&text).as_str()),
        (415, "unsupported_media_type")
    );
    let wrong_method = app.request("DELETE", "/v1/auth/login", None);
    assert_eq!(
        (wrong_method.status, error_code(&wrong_method).as_str()),
        (405, "method_not_allowed")
    );
}

#[test]
fn wrong_passwords_are_refused_then_throttled() {
    let app = spawn_app();
    app.register("eve");
    let unknown = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"nobody@example.com","password":"password-eve"}"#),
    );
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (401, "invalid_credentials")
    );
    for _ in 0..5 {
        let wrong = app.request(
            "POST",
            "/v1/auth/login",
            Some(r#"{"email":"eve@example.com","password":"wrong-password"}"#),
        );
        assert_eq!(error_code(&wrong), "invalid_credentials");
    }
    // Even the right password waits now.
    let locked = app.request(
        "POST",
        "/v1/auth/login",
        Some(r#"{"email":"eve@example.com","password":"password-eve"}"#),
    );
    assert_eq!(
        (locked.status, error_code(&locked).as_str()),
        (429, "too_many_attempts")
    );
    assert!(locked.head.to_ascii_lowercase().contains("retry-after"));
}

#[test]
fn bearer_tokens_are_checked() {
    let app = spawn_app();
    for header in ["", "Bearer", "Bearer nonsense", "Basic YWxhZGRpbjpvcGVu"] {
        let headers: Vec<(&str, &str)> = if header.is_empty() {
            Vec::new()
        } else {
            vec![("Authorization", header)]
        };
        let response = app.send("GET", "/v1/bookings", None, None, &headers);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (401, "unauthorized"),
            "{header}"
        );
    }
    let logout = app.request("POST", "/v1/auth/logout", None);
    assert_eq!(logout.status, 401);
}

/// Regression: every sign-in added a session row without bound; a user keeps
/// at most 20, and signing in once more ends the oldest.
#[test]
fn signing_in_past_twenty_sessions_ends_the_oldest() {
    let app = spawn_app();
    let (_, first) = app.register("sam");
    let login = r#"{"email":"sam@example.com","password":"password-sam"}"#;
    let mut tokens = vec![first];
    for _ in 0..20 {
        let response = app.request("POST", "/v1/auth/login", Some(login));
        assert_eq!(response.status, 200, "{}", response.raw);
        tokens.push(response.body["token"].as_str().expect("token").to_owned());
    }
    let oldest = app.authed("GET", "/v1/users/me", &tokens[0], None);
    assert_eq!(
        oldest.status, 401,
        "the oldest session ended: {}",
        oldest.raw
    );
    for token in &tokens[1..] {
        assert_eq!(app.authed("GET", "/v1/users/me", token, None).status, 200);
    }
}

/// Regression: a session could only be ended by its own token, so a token
/// lost with a device stayed valid; `logout_all` ends every session of the
/// caller's account at once, and no one else's.
#[test]
fn logout_all_ends_every_session_of_the_caller_and_no_one_elses() {
    let app = spawn_app();
    let (_, registered) = app.register("lou");
    let (_, other) = app.register("max");
    let login = r#"{"email":"lou@example.com","password":"password-lou"}"#;
    let mut tokens = vec![registered];
    for _ in 0..2 {
        let response = app.request("POST", "/v1/auth/login", Some(login));
        assert_eq!(response.status, 200, "{}", response.raw);
        tokens.push(response.body["token"].as_str().expect("token").to_owned());
    }
    for token in &tokens {
        assert_eq!(app.authed("GET", "/v1/users/me", token, None).status, 200);
    }

    let out = app.authed("POST", "/v1/auth/logout_all", &tokens[1], None);
    assert_eq!(out.status, 204, "{}", out.raw);
    for (i, token) in tokens.iter().enumerate() {
        let me = app.authed("GET", "/v1/users/me", token, None);
        assert_eq!(
            (me.status, error_code(&me).as_str()),
            (401, "unauthorized"),
            "session {i} ended: {}",
            me.raw
        );
    }
    let again = app.authed("POST", "/v1/auth/logout_all", &tokens[1], None);
    assert_eq!(again.status, 401, "{}", again.raw);
    let anonymous = app.request("POST", "/v1/auth/logout_all", None);
    assert_eq!(anonymous.status, 401, "{}", anonymous.raw);

    // Another account's session is untouched, and signing in works again.
    assert_eq!(app.authed("GET", "/v1/users/me", &other, None).status, 200);
    let back = app.request("POST", "/v1/auth/login", Some(login));
    assert_eq!(back.status, 200, "{}", back.raw);
    let token = back.body["token"].as_str().expect("token");
    assert_eq!(app.authed("GET", "/v1/users/me", token, None).status, 200);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// Regression: only an `Authorization` header marked an answer `no-store`, so
/// an API answer to a browser signed in by its session cookie (the calendar
/// callback's) could be kept by a cache.
#[test]
fn an_api_answer_to_a_session_cookie_is_not_stored() {
    let app = spawn_app();
    let (_, token) = app.register("nia");
    let path = "/v1/calendar/google/callback?code=c&state=s";
    let cookie = format!("droply_session={token}");
    let by_cookie = app.send("GET", path, None, None, &[("Cookie", &cookie)]);
    assert_eq!(
        by_cookie.header("cache-control"),
        Some("no-store"),
        "{}",
        by_cookie.raw
    );
    let by_token = app.authed("GET", path, &token, None);
    assert_eq!(by_token.header("cache-control"), Some("no-store"));
    // Without credentials the answer sets no cache policy.
    let anonymous = app.get(path);
    assert_eq!(anonymous.header("cache-control"), None, "{}", anonymous.raw);
}

/// Regression: an address at the closed accounts' tombstone domain was taken
/// at sign-up, and its account read as closed.
#[test]
fn signing_up_at_the_closed_accounts_domain_is_refused() {
    let app = spawn_app();
    for email in ["a@closed.invalid", "b@CLOSED.invalid"] {
        let body = format!(
            r#"{{"username":"squat","email":"{email}","password":"password-squat","full_name":"Sam Squat"}}"#
        );
        let response = app.request("POST", "/v1/auth/register", Some(&body));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_input"),
            "{email}: {}",
            response.raw
        );
        assert!(response.raw.contains("email"), "{}", response.raw);
    }
}
