//! The owner's own account over HTTP: `GET` and `PATCH /v1/users/me`, the
//! allowlist of settable fields, validation and refusal of system fields.

use crate::app::{error_code, spawn_app};
use crate::availability::expert_working;
use crate::payments::{book, slot};

#[test]
fn the_owner_reads_their_own_account() {
    let app = spawn_app();
    let (id, token) = app.register("ada");
    let me = app.authed("GET", "/v1/users/me", &token, None);
    assert_eq!(me.status, 200, "{}", me.raw);
    assert_eq!(me.body["id"].as_u64(), Some(id));
    assert_eq!(me.body["email"], "ada@example.com");
    assert_eq!(me.body["username"], "ada");
    for secret in [
        "password_hash",
        "stripe_account_id",
        "google_calendar_token",
    ] {
        assert!(me.body.get(secret).is_none(), "{secret} shown");
    }
    app.assert_no_leaks();
}

#[test]
fn users_me_needs_a_valid_token() {
    let app = spawn_app();
    app.register("ada");
    for (method, body) in [("GET", None), ("PATCH", Some(r#"{"bio":"x"}"#))] {
        let none = app.request(method, "/v1/users/me", body);
        assert_eq!(
            (none.status, error_code(&none).as_str()),
            (401, "unauthorized")
        );
        let bad = app.authed(method, "/v1/users/me", "not-a-token", body);
        assert_eq!(
            (bad.status, error_code(&bad).as_str()),
            (401, "unauthorized")
        );
    }
    app.assert_no_leaks();
}

#[test]
fn the_owner_patches_allowlisted_fields() {
    let app = spawn_app();
    let (id, token) = app.register("ada");
    let before = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    let body = r##"{
        "full_name": "Ada Lovelace",
        "bio": "Numbers.",
        "industry": "Finance",
        "profession": "Tax Advisor",
        "location": "London, UK",
        "skills": "tax, vat",
        "skills_1": "VAT",
        "skills_2": "Payroll",
        "specialty_tags": ["vat", "startups"],
        "profile_picture": "https://example.com/ada.png",
        "background_color": "#fff",
        "primary_color": "#112233",
        "secondary_color": "#abcdef",
        "font_family": "Open Sans",
        "font_size": 18,
        "profile_layout": "grid",
        "hourly_rate": 12000,
        "is_available": true,
        "service_description": "One hour on your taxes.",
        "session_duration": 45,
        "content_description": "Guides.",
        "timezone": "Europe/London",
        "language": "en",
        "email_notifications": false,
        "linkedin_url": "https://linkedin.com/in/ada",
        "twitter_url": "https://x.com/ada",
        "github_url": "https://github.com/ada",
        "instagram_url": "https://instagram.com/ada",
        "facebook_url": "https://facebook.com/ada",
        "youtube_url": "https://youtube.com/@ada",
        "snapchat_url": "https://snapchat.com/add/ada",
        "website_url": "https://ada.example.com"
    }"##;
    let patched = app.authed("PATCH", "/v1/users/me", &token, Some(body));
    assert_eq!(patched.status, 200, "{}", patched.raw);
    let b = &patched.body;
    assert_eq!(b["full_name"], "Ada Lovelace");
    assert_eq!(b["background_color"], "#FFFFFF");
    assert_eq!(b["font_family"], "open_sans");
    assert_eq!(b["font_size"], 18);
    assert_eq!(b["profile_layout"], "grid");
    assert_eq!(b["hourly_rate"]["amount_minor"], 12000);
    assert_eq!(b["hourly_rate"]["currency"], b["currency"]);
    assert_eq!(b["session_duration"], 45);
    assert_eq!(b["timezone"], "Europe/London");
    assert_eq!(b["email_notifications"], false);
    assert_eq!(b["website_url"], "https://ada.example.com");

    let stored = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    assert_eq!(stored.profession, "Tax Advisor");
    assert_eq!(stored.specialty_tags, vec!["vat", "startups"]);
    assert!(stored.updated_at >= before.updated_at);
    assert_eq!(stored.password_hash, before.password_hash);

    // GET shows the same; the public profile shows the new data too.
    let me = app.authed("GET", "/v1/users/me", &token, None);
    assert_eq!(me.body["bio"], "Numbers.");
    let public = app.get(&format!("/v1/experts/{id}"));
    assert_eq!(public.status, 200, "{}", public.raw);
    assert_eq!(public.body["full_name"], "Ada Lovelace");

    // null clears the clearable fields; absent fields stay.
    let cleared = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"skills_2": null, "website_url": null, "hourly_rate": null}"#),
    );
    assert_eq!(cleared.status, 200, "{}", cleared.raw);
    assert!(cleared.body["skills_2"].is_null());
    assert!(cleared.body["website_url"].is_null());
    assert!(cleared.body["hourly_rate"].is_null());
    assert_eq!(cleared.body["skills_1"], "VAT");
    app.assert_no_leaks();
}

#[test]
fn system_fields_are_refused_by_name() {
    let app = spawn_app();
    let (id, token) = app.register("ada");
    let before = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    for (field, value) in [
        ("id", "7"),
        ("username", r#""eve""#),
        ("email", r#""eve@example.com""#),
        ("rating", r#"{"sum":50,"count":10}"#),
        ("rating_count", "10"),
        ("total_earnings", r#"{"amount_minor":1,"currency":"USD"}"#),
        ("total_payouts", r#"{"amount_minor":1,"currency":"USD"}"#),
        ("pending_balance", r#"{"amount_minor":1,"currency":"USD"}"#),
        ("payout_enabled", "true"),
        ("payout_schedule", r#""daily""#),
        ("stripe_account_id", r#""acct_1""#),
        ("stripe_account_status", r#""active""#),
        ("google_calendar_connected", "true"),
        ("google_calendar_token", r#""t""#),
        ("google_calendar_refresh_token", r#""t""#),
        ("google_calendar_id", r#""c""#),
        ("referral_code", r#""FREE""#),
        ("referred_by", "1"),
        ("referral_count", "99"),
        (
            "total_referral_earnings",
            r#"{"amount_minor":1,"currency":"USD"}"#,
        ),
        ("is_featured_user", "true"),
        ("created_at", r#""2020-01-01T00:00:00Z""#),
        ("updated_at", r#""2020-01-01T00:00:00Z""#),
        ("phone", r#""+4930123456""#),
        ("no_such_field", "1"),
    ] {
        let body = format!(r#"{{"bio":"sneaky","{field}":{value}}}"#);
        let r = app.authed("PATCH", "/v1/users/me", &token, Some(&body));
        assert_eq!(r.status, 400, "{field}: {}", r.raw);
        assert_eq!(error_code(&r), "invalid_input", "{field}");
        assert!(
            r.body["message"]
                .as_str()
                .unwrap_or_default()
                .contains(field),
            "{field} not named: {}",
            r.raw
        );
    }
    app.assert_no_leaks();
    // Last, as the refusal names the field the caller sent, which the leak
    // scan looks for.
    let hash = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"password_hash":"$x$"}"#),
    );
    assert_eq!(
        (hash.status, error_code(&hash).as_str()),
        (400, "invalid_input")
    );
    assert!(
        hash.raw.contains("unknown field `password_hash`"),
        "{}",
        hash.raw
    );
    assert!(!hash.raw.contains("$argon2"), "{}", hash.raw);
    let after = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    assert_eq!(after, before, "nothing changed");
}

#[test]
fn bad_values_are_refused() {
    let app = spawn_app();
    let (id, token) = app.register("ada");
    let before = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    for body in [
        r#"{"primary_color": "red"}"#,
        r##"{"background_color": "#12345"}"##,
        r#"{"font_family": "Comic Sans"}"#,
        r#"{"font_size": 99}"#,
        r#"{"font_size": "big"}"#,
        r#"{"profile_layout": "wavy"}"#,
        r#"{"website_url": "javascript:alert(1)"}"#,
        r#"{"profile_picture": "ftp://example.com/x.png"}"#,
        r#"{"timezone": "Mars/Olympus"}"#,
        r#"{"language": "english!"}"#,
        r#"{"session_duration": 5}"#,
        r#"{"session_duration": 481}"#,
        r#"{"session_duration": -1}"#,
        r#"{"hourly_rate": 0}"#,
        r#"{"hourly_rate": -500}"#,
        r#"{"hourly_rate": {"amount_minor": 100, "currency": "EUR"}}"#,
        r#"{"full_name": "   "}"#,
        r#"{"is_available": "yes"}"#,
        r#"{"specialty_tags": "vat"}"#,
        r#"{"skills_1": ""}"#,
        r#"{"currency": "XXX"}"#,
        r#"[]"#,
        r#""bio""#,
    ] {
        let r = app.authed("PATCH", "/v1/users/me", &token, Some(body));
        assert_eq!(r.status, 400, "{body}: {}", r.raw);
        assert_eq!(error_code(&r), "invalid_input", "{body}");
    }
    let bio = "x".repeat(5001);
    let long = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(&format!(r#"{{"bio":"{bio}"}}"#)),
    );
    assert_eq!(
        (long.status, error_code(&long).as_str()),
        (400, "invalid_input")
    );
    let tags: Vec<String> = (0..21).map(|i| format!(r#""t{i}""#)).collect();
    let many = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(&format!(r#"{{"specialty_tags":[{}]}}"#, tags.join(","))),
    );
    assert_eq!(
        (many.status, error_code(&many).as_str()),
        (400, "invalid_input")
    );

    let malformed = app.authed("PATCH", "/v1/users/me", &token, Some(r#"{"bio": "#));
    assert_eq!(
        (malformed.status, error_code(&malformed).as_str()),
        (400, "invalid_json")
    );
    let after = app
        .store
        .users()
        .get(droply_models::UserId::new(id))
        .expect("user");
    assert_eq!(after, before, "nothing changed");
    app.assert_no_leaks();
}

#[test]
fn currency_changes_only_with_a_consistent_rate() {
    let app = spawn_app();
    let (id, token) = app.register("ada");
    let user = droply_models::UserId::new(id);
    let currency = app.store.users().get(user).expect("user").currency;
    let other = if currency.as_str() == "EUR" {
        "USD"
    } else {
        "EUR"
    };

    let rate = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"hourly_rate":9000}"#),
    );
    assert_eq!(rate.status, 200, "{}", rate.raw);
    // A rate in the old currency would be inconsistent: refused.
    let alone = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(&format!(r#"{{"currency":"{other}"}}"#)),
    );
    assert_eq!(
        (alone.status, error_code(&alone).as_str()),
        (400, "invalid_input")
    );
    assert!(alone.raw.contains("currency"), "{}", alone.raw);
    // Together with a new rate: accepted, everything in the new currency.
    let both = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(&format!(r#"{{"currency":"{other}","hourly_rate":8000}}"#)),
    );
    assert_eq!(both.status, 200, "{}", both.raw);
    assert_eq!(both.body["currency"], other);
    assert_eq!(both.body["hourly_rate"]["currency"], other);
    let stored = app.store.users().get(user).expect("user");
    assert_eq!(stored.total_earnings.currency.as_str(), other);
    assert!(stored.validate().is_ok());

    // Once money was earned the currency is fixed.
    app.store
        .users()
        .modify(user, |u| {
            u.total_earnings = droply_models::Money::new(100, u.currency);
            Ok(())
        })
        .expect("earn");
    let back = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(&format!(
            r#"{{"currency":"{}","hourly_rate":8000}}"#,
            currency.as_str()
        )),
    );
    assert_eq!(
        (back.status, error_code(&back).as_str()),
        (400, "invalid_input")
    );
    app.assert_no_leaks();
}

#[test]
fn a_patch_changes_only_the_callers_account() {
    let app = spawn_app();
    let (ada, ada_token) = app.register("ada");
    let (bob, _) = app.register("bob");
    let bob_before = app
        .store
        .users()
        .get(droply_models::UserId::new(bob))
        .expect("bob");
    let r = app.authed(
        "PATCH",
        "/v1/users/me",
        &ada_token,
        Some(r#"{"bio":"mine"}"#),
    );
    assert_eq!(r.status, 200, "{}", r.raw);
    assert_eq!(r.body["id"].as_u64(), Some(ada));
    let bob_after = app
        .store
        .users()
        .get(droply_models::UserId::new(bob))
        .expect("bob");
    assert_eq!(bob_after, bob_before);
    // Other users' accounts have no route.
    let other = app.authed("GET", &format!("/v1/users/{bob}"), &ada_token, None);
    assert_eq!(other.status, 404);
    app.assert_no_leaks();
}

/// Regression: links accepted loopback and cloud-metadata hosts, and text
/// accepted bidirectional overrides that make a name read backwards.
#[test]
fn links_inside_the_network_and_bidi_overrides_are_refused() {
    let app = spawn_app();
    let (_, token) = app.register("mallory");
    for body in [
        r#"{"website_url": "http://169.254.169.254/latest/meta-data"}"#,
        r#"{"linkedin_url": "http://localhost:8080/admin"}"#,
        r#"{"profile_picture": "http://10.0.0.7/p.png"}"#,
        r#"{"bio": "totally normal \u202Etxt.exe"}"#,
        r#"{"full_name": "Nul\u0000Name"}"#,
    ] {
        let response = app.authed("PATCH", "/v1/users/me", &token, Some(body));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_input"),
            "{body}: {}",
            response.raw
        );
    }
    let fine = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(r#"{"website_url": "https://example.com/me", "bio": "line one\nline two"}"#),
    );
    assert_eq!(fine.status, 200, "{}", fine.raw);
}

/// Regression: answers to signed-in requests carried no `Cache-Control`, so a
/// shared cache or a browser could keep someone's account.
#[test]
fn signed_in_answers_are_not_stored_by_caches() {
    let app = spawn_app();
    let (_, token) = app.register("carol");
    let own = app.authed("GET", "/v1/users/me", &token, None);
    assert_eq!(own.status, 200);
    assert_eq!(own.header("cache-control"), Some("no-store"));
    let refused = app.authed("GET", "/v1/users/me", "not-a-token", None);
    assert_eq!(refused.header("cache-control"), Some("no-store"));
    let public = app.get("/health");
    assert_eq!(public.header("cache-control"), None);
}

#[test]
fn the_public_profile_carries_the_branding_set_by_patch() {
    let app = spawn_app();
    let (id, token) = app.register("ada");
    let patched = app.authed(
        "PATCH",
        "/v1/users/me",
        &token,
        Some(
            r##"{"profession":"Tax Advisor","background_color":"#0f0","primary_color":"#112233",
                "secondary_color":"#abcdef","font_family":"JetBrains Mono","font_size":20,
                "profile_layout":"card"}"##,
        ),
    );
    assert_eq!(patched.status, 200, "{}", patched.raw);
    let profile = app.get(&format!("/v1/experts/{id}"));
    assert_eq!(profile.status, 200, "{}", profile.raw);
    assert_eq!(
        profile.body["branding"],
        serde_json::json!({
            "background_color": "#00FF00",
            "primary_color": "#112233",
            "secondary_color": "#ABCDEF",
            "font_family": "jetbrains_mono",
            "font_size": 20,
            "profile_layout": "card"
        })
    );
    // The OpenAPI schema names exactly these fields.
    let doc = app.get("/openapi.json").body;
    let fields: std::collections::BTreeSet<&str> =
        doc["components"]["schemas"]["Branding"]["properties"]
            .as_object()
            .expect("the Branding schema")
            .keys()
            .map(String::as_str)
            .collect();
    let sent: std::collections::BTreeSet<&str> = profile.body["branding"]
        .as_object()
        .expect("branding")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(fields, sent);
    assert!(
        doc["components"]["schemas"]["PublicProfile"]["required"]
            .as_array()
            .expect("required")
            .iter()
            .any(|field| field == "branding")
    );
}

/// Regression: an expert cleared their profession with a session still
/// ahead, which then could not be rescheduled (only experts are booked),
/// left their `/@username` page 404 and refunded a client's late
/// cancellation by the client's policy rather than in full.
#[test]
fn clearing_the_profession_with_a_session_ahead_is_refused() {
    let app = spawn_app();
    let (grace, token) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    app.make_free(grace);
    let (_, carl) = app.register("carl");
    let booked = book(&app, &carl, grace, &slot());
    assert_eq!(booked.status, 201, "{}", booked.raw);
    assert_eq!(booked.body["status"], "confirmed");
    let booking = booked.body["id"].as_u64().expect("id");

    let clear = r#"{"profession": ""}"#;
    let refused = app.authed("PATCH", "/v1/users/me", &token, Some(clear));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "invalid_state"),
        "{}",
        refused.raw
    );
    assert!(refused.raw.contains("profession"), "{}", refused.raw);
    let profession = || {
        app.store
            .users()
            .get(droply_models::UserId::new(grace))
            .expect("user")
            .profession
    };
    assert_eq!(profession(), "Tax Advisor");
    assert_eq!(app.get(&format!("/v1/experts/{grace}")).status, 200);
    assert_eq!(app.get("/@grace").status, 200);

    // Once the session is cancelled nothing holds the profession.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{booking}/cancel"),
        &carl,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.raw);
    let cleared = app.authed("PATCH", "/v1/users/me", &token, Some(clear));
    assert_eq!(cleared.status, 200, "{}", cleared.raw);
    assert_eq!(profession(), "");
    assert_eq!(app.get(&format!("/v1/experts/{grace}")).status, 404);
    app.assert_no_leaks();
}
