//! `POST /v1/matches` and the feedback on a match: signed in only, stored as
//! AIMatch rows with reasons, and viewed / acted upon by their owner alone.

use droply_engine::PageRequest;
use droply_models::UserId;
use serde_json::json;

use crate::app::{error_code, spawn_app_with_search};
use crate::search_market::{Profile, add_expert};

#[test]
fn matches_are_stored_with_reasons_and_only_their_owner_gives_feedback() {
    let app = spawn_app_with_search();
    let (tax, _) = add_expert(&app, "tina", &Profile::tax_advisor());
    add_expert(&app, "eddie", &Profile::default());
    app.wait_for_index();
    let (carl, token) = app.register("carl");
    let (_, other) = app.register("dora");
    let body = r#"{"q": "help with my tax return", "limit": 5}"#;

    let anonymous = app.request("POST", "/v1/matches", Some(body));
    assert_eq!(
        (anonymous.status, error_code(&anonymous).as_str()),
        (401, "unauthorized")
    );

    let response = app.authed("POST", "/v1/matches", &token, Some(body));
    assert_eq!(response.status, 200, "{}", response.raw);
    let matches = response.body["matches"].as_array().expect("matches");
    assert_eq!(matches.len(), 2, "{}", response.raw);
    let first = &matches[0];
    assert_eq!(first["expert"]["id"].as_u64(), Some(tax));
    assert_eq!(first["expert"]["profession"], "Tax Advisor");
    assert!(first["expert"].get("email").is_none());
    for m in matches {
        let score = m["match_score"].as_f64().expect("score");
        assert!((0.0..=1.0).contains(&score), "{m}");
        let reasons = m["match_reasons"].as_array().expect("reasons");
        assert!(!reasons.is_empty(), "{m}");
        for reason in reasons {
            assert!(
                reason["signal"].as_str().is_some_and(|s| !s.is_empty()),
                "{reason}"
            );
            assert!(
                reason["text"].as_str().is_some_and(|s| !s.is_empty()),
                "{reason}"
            );
            assert!(reason["weight"].is_number() && reason["value"].is_string());
        }
    }

    let stored = app
        .store
        .ai_matches()
        .by_user(UserId::new(carl), &PageRequest::first(10))
        .expect("rows")
        .items;
    assert_eq!(stored.len(), 2);
    let id = first["id"].as_u64().expect("id");
    let row = stored
        .iter()
        .find(|r| r.id.get() == id)
        .expect("stored row");
    assert_eq!(row.matched_user_id.get(), tax);
    assert_eq!(row.query, "help with my tax return");
    assert!(!row.match_reasons.is_empty());

    let viewed_path = format!("/v1/matches/{id}/viewed");
    let acted_path = format!("/v1/matches/{id}/acted");
    for path in [&viewed_path, &acted_path] {
        let foreign = app.authed("POST", path, &other, None);
        assert_eq!(
            (foreign.status, error_code(&foreign).as_str()),
            (404, "not_found"),
            "{path}"
        );
        let anonymous = app.request("POST", path, None);
        assert_eq!(anonymous.status, 401, "{path}");
    }
    let viewed = app.authed("POST", &viewed_path, &token, None);
    assert_eq!(viewed.status, 200, "{}", viewed.raw);
    assert_eq!(
        viewed.body,
        json!({"id": id, "expert_id": tax, "is_viewed": true, "is_acted_upon": false})
    );
    let acted = app.authed("POST", &acted_path, &token, None);
    assert_eq!(
        acted.body,
        json!({"id": id, "expert_id": tax, "is_viewed": true, "is_acted_upon": true})
    );
    let again = app.authed("POST", &acted_path, &token, None);
    assert_eq!(again.status, 200);

    let unknown = app.authed("POST", "/v1/matches/999999/viewed", &token, None);
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (404, "not_found")
    );
    let bad = app.authed("POST", "/v1/matches/abc/acted", &token, None);
    assert_eq!(
        (bad.status, error_code(&bad).as_str()),
        (400, "invalid_parameter")
    );
    app.assert_no_leaks();
}

#[test]
fn bad_match_requests_get_the_error_format() {
    let app = spawn_app_with_search();
    let (_, token) = app.register("carl");
    app.wait_for_index();
    for (body, status, code) in [
        (
            r#"{"q": "tax", "filter": "price < 3"}"#,
            400,
            "invalid_search_filter",
        ),
        (r#"{"q": "tax", "limit": 1000}"#, 400, "invalid_input"),
        (r#"{"q": "tax", "semanticRatio": 2}"#, 400, "invalid_input"),
        (
            r#"{"q": "tax", "facets": ["industry"]}"#,
            400,
            "invalid_input",
        ),
        (r#"{"q": ["tax"]}"#, 400, "invalid_input"),
        (r#"{"q": "tax""#, 400, "invalid_json"),
    ] {
        let response = app.authed("POST", "/v1/matches", &token, Some(body));
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (status, code),
            "{body}: {}",
            response.raw
        );
    }
    let empty = app.authed("POST", "/v1/matches", &token, Some("{}"));
    assert_eq!(empty.status, 200, "{}", empty.raw);
    assert_eq!(empty.body["matches"], json!([]));
    app.assert_no_leaks();
}

/// Regression: every match request wrote an impression per expert and a match row,
/// without bound, so one account could push everyone else's interactions out of
/// the windows trending and popularity read, and grow the store at will.
#[test]
fn repeated_match_requests_write_one_impression_a_day_and_stop_at_the_daily_bound() {
    use droply_engine::matching::DAILY_MATCHES;
    use droply_models::{InteractionType, Timestamp, UserInteraction};

    let app = spawn_app_with_search();
    let (tax, _) = add_expert(&app, "tina", &Profile::tax_advisor());
    add_expert(&app, "eddie", &Profile::default());
    app.wait_for_index();
    let (carl, token) = app.register("carl");
    let body = r#"{"q": "help with my tax return", "limit": 20}"#;
    let impressions = || {
        app.store
            .interactions()
            .by_user(UserId::new(carl), &PageRequest::first(1000))
            .expect("rows")
            .items
            .iter()
            .filter(|row| row.interaction_type == InteractionType::SearchImpression)
            .count()
    };
    let stored = || {
        app.store
            .ai_matches()
            .by_user(UserId::new(carl), &PageRequest::first(1000))
            .expect("rows")
            .items
            .len()
    };
    let calls = DAILY_MATCHES / 2;
    for _ in 0..calls {
        let answer = app.authed("POST", "/v1/matches", &token, Some(body));
        assert_eq!(answer.status, 200, "{}", answer.raw);
    }
    assert_eq!(impressions(), 2, "one a day for each expert shown");
    assert_eq!(stored(), DAILY_MATCHES);
    let over = app.authed("POST", "/v1/matches", &token, Some(body));
    assert_eq!(
        (over.status, error_code(&over).as_str()),
        (409, "limit_reached"),
        "{}",
        over.raw
    );
    assert_eq!(stored(), DAILY_MATCHES, "nothing half-written");
    // Client interactions stop at the day's bound too (filled here directly).
    let (dora, dora_token) = app.register("dora");
    app.store
        .write(|txn| {
            for _ in 0..droply_engine::accounts::DAILY_INTERACTIONS {
                txn.create(UserInteraction::new(
                    UserId::new(dora),
                    UserId::new(carl),
                    InteractionType::View,
                    Timestamp::now(),
                ))?;
            }
            Ok(())
        })
        .expect("a day of interactions");
    let view = format!(r#"{{"target_user_id":{tax},"interaction_type":"view"}}"#);
    let refused = app.authed("POST", "/v1/interactions", &dora_token, Some(&view));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (409, "limit_reached"),
        "{}",
        refused.raw
    );
}
