//! `GET /v1/experts/{id}/similar` and `GET /v1/recommendations`: similar
//! experts by meaning, trending for anyone, for-you for the signed-in only.

use crate::app::{error_code, spawn_app_with_search};
use crate::search_market::{Profile, add_expert, listed_ids};

#[test]
fn similar_experts_are_close_in_meaning() {
    let app = spawn_app_with_search();
    let (tax, _) = add_expert(&app, "tina", &Profile::tax_advisor());
    let (accountant, _) = add_expert(
        &app,
        "anna",
        &Profile {
            profession: "Accountant",
            industry: "Finance",
            skills: ["Bookkeeping", "Payroll", "Tax Returns"],
            bio: "Keeps the accounts of small companies.",
            ..Profile::default()
        },
    );
    let (yoga, _) = add_expert(
        &app,
        "yara",
        &Profile {
            profession: "Yoga Teacher",
            industry: "Health",
            skills: ["Yoga", "Meditation", "Breathing"],
            bio: "Calm morning classes.",
            ..Profile::default()
        },
    );
    let (client, _) = app.register("carl");
    app.wait_for_index();

    let similar = app.get(&format!("/v1/experts/{tax}/similar?limit=2"));
    let ids = listed_ids(&similar);
    assert_eq!(ids, vec![accountant, yoga], "{}", similar.raw);
    let first = &similar.body["experts"][0];
    assert!(
        first["score"]
            .as_f64()
            .is_some_and(|s| (0.0..=1.0).contains(&s))
    );
    assert!(first["reasons"].is_array());
    assert!(first["expert"].get("email").is_none());
    let one = app.get(&format!("/v1/experts/{tax}/similar?limit=1"));
    assert_eq!(listed_ids(&one), vec![accountant]);

    for (path, status, code) in [
        (format!("/v1/experts/{client}/similar"), 404, "not_found"),
        ("/v1/experts/999999/similar".to_owned(), 404, "not_found"),
        (
            "/v1/experts/abc/similar".to_owned(),
            400,
            "invalid_parameter",
        ),
        (
            format!("/v1/experts/{tax}/similar?limit=0"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/v1/experts/{tax}/similar?limit=51"),
            400,
            "invalid_parameter",
        ),
        (
            format!("/v1/experts/{tax}/similar?limit=x"),
            400,
            "invalid_parameter",
        ),
    ] {
        let response = app.get(&path);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (status, code),
            "{path}: {}",
            response.raw
        );
    }
    let bad_token = app.send(
        "GET",
        &format!("/v1/experts/{tax}/similar"),
        None,
        Some("nope"),
        &[],
    );
    assert_eq!(bad_token.status, 401);
    app.assert_no_leaks();
}

#[test]
fn trending_is_open_and_for_you_needs_a_sign_in() {
    let app = spawn_app_with_search();
    let (tax, _) = add_expert(
        &app,
        "tina",
        &Profile {
            profession: "Tax Advisor",
            industry: "Finance",
            skills: ["Tax Planning", "Bookkeeping", "VAT Returns"],
            ..Profile::default()
        },
    );
    add_expert(&app, "eddie", &Profile::default());
    let (_, token) = app.register("carl");
    for expected in [201, 200, 200] {
        // Recorded once a day; the repeats answer the day's row.
        let body = format!(r#"{{"target_user_id":{tax},"interaction_type":"view"}}"#);
        let viewed = app.authed("POST", "/v1/interactions", &token, Some(&body));
        assert_eq!(viewed.status, expected, "{}", viewed.raw);
    }
    app.wait_for_index();

    let trending = app.get("/v1/recommendations");
    assert_eq!(listed_ids(&trending), vec![tax], "{}", trending.raw);
    let explicit = app.get("/v1/recommendations?kind=trending&limit=1");
    assert_eq!(listed_ids(&explicit), vec![tax]);

    let for_you = app.authed("GET", "/v1/recommendations", &token, None);
    assert!(!listed_ids(&for_you).is_empty(), "{}", for_you.raw);
    let reasons = &for_you.body["experts"][0]["reasons"];
    assert!(reasons.is_array(), "{}", for_you.raw);
    let also = app.authed(
        "GET",
        "/v1/recommendations?kind=for_you&limit=5",
        &token,
        None,
    );
    assert_eq!(also.status, 200, "{}", also.raw);

    let anonymous = app.get("/v1/recommendations?kind=for_you");
    assert_eq!(
        (anonymous.status, error_code(&anonymous).as_str()),
        (401, "unauthorized")
    );
    for path in [
        "/v1/recommendations?kind=popular",
        "/v1/recommendations?limit=0",
        "/v1/recommendations?limit=51",
    ] {
        let response = app.get(path);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (400, "invalid_parameter"),
            "{path}: {}",
            response.raw
        );
    }
    app.assert_no_leaks();
}
