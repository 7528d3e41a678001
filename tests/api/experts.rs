//! Expert profiles over HTTP: the public view, paging, and bad input.

use droply_models::*;

use crate::app::{error_code, spawn_app};

/// An expert carrying every kind of secret the public view must hide.
pub fn secretive_expert(name: &str) -> User {
    let now = Timestamp::parse_rfc3339("2026-10-01T08:00:00Z").expect("instant");
    let mut user = User::new(
        NewUser {
            username: Username::parse(name).expect("name"),
            email: Email::parse(&format!("{name}.private@example.com")).expect("email"),
            password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2VjcmV0$SECRETHASH".to_owned(),
            full_name: "Grace Expert".to_owned(),
            currency: Currency::EUR,
            timezone: TimeZone::parse("Europe/Berlin").expect("zone"),
            language: LanguageCode::parse("en").expect("lang"),
            referral_code: ReferralCode::parse(&format!("REF{}", name.to_uppercase()))
                .expect("code"),
            referred_by: None,
        },
        UserId::new(0),
        now,
    );
    user.profession = "Tax Advisor".to_owned();
    user.industry = "Finance".to_owned();
    user.skills_1 = Some("VAT".to_owned());
    user.hourly_rate = Some(Money::new(9_000, Currency::EUR));
    user.phone = Some(PhoneNumber::parse("+4915199999999").expect("phone"));
    // One connected account per user: the secret part is what no response shows.
    user.stripe_account_id = Some(format!("acct_SECRETSTRIPE{name}"));
    user.google_calendar_token = Some("ya29.SECRETTOKEN".to_owned());
    user.google_calendar_refresh_token = Some("1//SECRETREFRESH".to_owned());
    // Earned and owed (the ledger's opening row makes it so on import).
    user.total_earnings = Money::new(777_777, Currency::EUR);
    user.pending_balance = Money::new(777_777, Currency::EUR);
    user
}

const SECRETS: [&str; 7] = [
    "private@example.com",
    "SECRETHASH",
    "argon2id",
    "acct_SECRETSTRIPE",
    "SECRETTOKEN",
    "SECRETREFRESH",
    "+4915199999999",
];

#[test]
fn the_public_profile_shows_the_expert_and_no_secret() {
    let app = spawn_app();
    let expert = app
        .store
        .users()
        .create(secretive_expert("grace"))
        .expect("expert");
    let response = app.get(&format!("/v1/experts/{}", expert.id));
    assert_eq!(response.status, 200, "{}", response.raw);
    assert_eq!(response.body["profession"], "Tax Advisor");
    assert_eq!(response.body["skills"][0], "VAT");
    assert_eq!(response.body["hourly_rate"]["amount_minor"], 9_000);
    for secret in SECRETS {
        assert!(
            !response.raw.contains(secret),
            "public profile leaks {secret}"
        );
    }
    assert!(!response.raw.contains("777777") && !response.raw.contains("pending_balance"));
}

#[test]
fn experts_page_through_with_cursors() {
    let app = spawn_app();
    for name in ["ann", "bea", "cat"] {
        app.store
            .users()
            .create(secretive_expert(name))
            .expect("expert");
    }
    let first = app.get("/v1/experts?limit=2");
    assert_eq!(first.status, 200);
    assert_eq!(first.body["experts"].as_array().map(Vec::len), Some(2));
    let cursor = first.body["next_cursor"].as_str().expect("cursor");
    let second = app.get(&format!("/v1/experts?limit=2&cursor={cursor}"));
    assert_eq!(second.body["experts"].as_array().map(Vec::len), Some(1));
    assert_eq!(second.body["experts"][0]["username"], "cat");
    for secret in SECRETS {
        assert!(!first.raw.contains(secret) && !second.raw.contains(secret));
    }
}

#[test]
fn bad_ids_and_parameters_get_clear_errors() {
    let app = spawn_app();
    let missing = app.get("/v1/experts/424242");
    assert_eq!(
        (missing.status, error_code(&missing).as_str()),
        (404, "not_found")
    );
    // Ids past PostgreSQL's bigint (a 500 and a "corrupt store" log line there, once)
    // name no row on either backend.
    for path in [
        "/v1/experts/9223372036854775808",
        "/v1/experts/18446744073709551615",
        "/v1/content/9223372036854775808",
        "/v1/dropins/18446744073709551615",
    ] {
        let past = app.get(path);
        assert_eq!(
            (past.status, error_code(&past).as_str()),
            (404, "not_found"),
            "{path}: {}",
            past.raw
        );
    }
    let malformed = app.get("/v1/experts/not-a-number");
    assert_eq!(
        (malformed.status, error_code(&malformed).as_str()),
        (400, "invalid_parameter")
    );
    let too_many = app.get("/v1/experts?limit=100000");
    assert_eq!(
        (too_many.status, error_code(&too_many).as_str()),
        (400, "invalid_parameter")
    );
    let wrong_type = app.get("/v1/experts?limit=lots");
    assert_eq!(
        (wrong_type.status, error_code(&wrong_type).as_str()),
        (400, "invalid_parameter")
    );
    let bad_cursor = app.get("/v1/experts?cursor=zz");
    assert_eq!(
        (bad_cursor.status, error_code(&bad_cursor).as_str()),
        (400, "invalid_parameter")
    );
}

/// Regression: `GET /v1/experts` paged through every user and dropped the
/// clients afterwards, so a page between experts came back short (or empty
/// with a cursor). Experts are now paged by their own index.
#[test]
fn expert_pages_are_full_when_clients_sign_up_between_experts() {
    let app = spawn_app();
    for (n, name) in ["ann", "bea", "cat", "dan", "eve"].into_iter().enumerate() {
        app.store
            .users()
            .create(secretive_expert(name))
            .expect("expert");
        app.register(&format!("client{n}"));
        app.register(&format!("other{n}"));
    }
    // A profession of spaces offers nothing: not listed, not an expert.
    let mut blank = secretive_expert("blank");
    blank.profession = "   ".to_owned();
    let blank = app.store.users().create(blank).expect("user");
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/v1/experts?limit=2&cursor={cursor}"),
            None => "/v1/experts?limit=2".to_owned(),
        };
        let page = app.get(&path);
        assert_eq!(page.status, 200, "{}", page.raw);
        let experts = page.body["experts"].as_array().expect("experts").clone();
        cursor = page.body["next_cursor"].as_str().map(str::to_owned);
        if cursor.is_some() {
            assert_eq!(
                experts.len(),
                2,
                "a page with a cursor is full: {}",
                page.raw
            );
        }
        seen.extend(
            experts
                .iter()
                .map(|e| e["username"].as_str().unwrap_or("").to_owned()),
        );
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(seen, ["ann", "bea", "cat", "dan", "eve"]);
    let blank = app.get(&format!("/v1/experts/{}", blank.id));
    assert_eq!(
        (blank.status, error_code(&blank).as_str()),
        (404, "not_found")
    );
}
