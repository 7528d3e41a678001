//! Referrals over HTTP: signing up with a referral code records the
//! referral and moves the referrer's count in the same write; an unknown or
//! malformed code is a clear 400 and creates nothing; the referrer sees the
//! people they brought by public name only.

use crate::app::{error_code, spawn_app};

fn register_with(app: &crate::app::TestApp, name: &str, code: &str) -> crate::app::Response {
    let body = format!(
        r#"{{"username":"{name}","email":"{name}@example.com","password":"password-{name}","full_name":"{name} Person","referral_code":"{code}"}}"#
    );
    app.request("POST", "/v1/auth/register", Some(&body))
}

#[test]
fn signing_up_with_a_code_records_the_referral() {
    let app = spawn_app();
    let (_, rita) = app.register("rita");
    let me = app.authed("GET", "/v1/users/me", &rita, None);
    let code = me.body["referral_code"].as_str().expect("code").to_owned();

    // Unknown and malformed codes: a clear 400, and no account made.
    let users = app.store.users().count();
    for bad in ["ZZZZZZZZZZ", "ab", "ABC-DEF"] {
        let refused = register_with(&app, "mallory", bad);
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (400, "invalid_input"),
            "{bad}: {}",
            refused.raw
        );
        assert!(refused.raw.contains("referral_code"), "{}", refused.raw);
    }
    assert_eq!(app.store.users().count(), users);

    // A lower-case code is the same code.
    let carl = register_with(&app, "carl", &code.to_lowercase());
    assert_eq!(carl.status, 201, "{}", carl.raw);
    let carl_id = carl.body["user"]["id"].as_u64().expect("id");
    let stored = app
        .store
        .users()
        .get(droply_models::UserId::new(carl_id))
        .expect("carl");
    assert!(stored.referred_by.is_some());
    let dora = register_with(&app, "dora", &code);
    assert_eq!(dora.status, 201, "{}", dora.raw);

    let mine = app.authed("GET", "/v1/referrals", &rita, None);
    assert_eq!(mine.status, 200, "{}", mine.raw);
    assert_eq!(mine.body["code"], code.as_str());
    assert_eq!(mine.body["referral_count"], 2);
    let names: Vec<&str> = mine.body["referred"]
        .as_array()
        .expect("referred")
        .iter()
        .map(|r| r["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["carl P.", "dora P."]);
    assert_eq!(mine.body["referred"][0]["status"], "pending");
    assert!(!mine.raw.contains("carl@example.com"));
    // Carl referred nobody.
    let carl_token = carl.body["token"].as_str().expect("token").to_owned();
    let none = app.authed("GET", "/v1/referrals", &carl_token, None);
    assert_eq!(none.body["referral_count"], 0);
    assert_eq!(app.get("/v1/referrals").status, 401);
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
    app.assert_no_leaks();
}
