//! `GET /v1/experts/{id}/similar` and `GET /v1/recommendations`: similar
//! experts by meaning, trending for anyone, for-you for the signed-in only.

use droply_models::UserId;
use droply_test_support::fixtures::{favorite, full_user};

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

/// Regression: "for you" left out only the experts among the viewer's newest 100
/// saves (all its history reads), so an expert saved before them was recommended.
#[test]
fn for_you_leaves_out_experts_saved_long_ago() {
    let app = spawn_app_with_search();
    let (old, _) = add_expert(&app, "olga", &Profile::tax_advisor());
    let (recent, _) = add_expert(&app, "rita", &Profile::tax_advisor());
    let (unsaved, _) = add_expert(&app, "tina", &Profile::tax_advisor());
    let (viewer, token) = app.register("vera");
    let save = |expert: UserId, created: &str| {
        app.store
            .favorites()
            .create(favorite(UserId::new(viewer), expert, created))
            .expect("favorite");
    };
    save(UserId::new(old), "2026-01-01T00:00:00Z");
    // 99 later saves (of clients, who make no seeds), then the recent expert: the
    // newest 100 leave the first save out.
    for n in 0..99 {
        let mut client = full_user(&format!("saved{n}"));
        client.profession = String::new();
        let client = app.store.users().create(client).expect("client");
        save(client.id, "2026-02-01T00:00:00Z");
    }
    save(UserId::new(recent), "2026-03-01T00:00:00Z");
    app.wait_for_index();

    let for_you = app.authed(
        "GET",
        "/v1/recommendations?kind=for_you&limit=10",
        &token,
        None,
    );
    let ids = listed_ids(&for_you);
    assert!(!ids.contains(&old), "saved long ago: {}", for_you.raw);
    assert!(!ids.contains(&recent), "saved lately: {}", for_you.raw);
    assert!(ids.contains(&unsaved), "{}", for_you.raw);
    app.assert_no_leaks();
}
