//! Favorites and interactions over HTTP: saving and forgetting experts, the
//! list of saved experts, and recording interactions (only the kinds a
//! client may record, once a day each).

use droply_models::InteractionType;

use crate::app::{TestApp, error_code, spawn_app};
use crate::availability::expert_working;
use crate::payments::{book, slot};

fn interactions_of(app: &TestApp, user: u64) -> Vec<(u64, InteractionType)> {
    app.store
        .interactions()
        .by_user(
            droply_models::UserId::new(user),
            &droply_engine::PageRequest::first(100),
        )
        .expect("interactions")
        .items
        .iter()
        .map(|i| (i.target_user_id.get(), i.interaction_type))
        .collect()
}

#[test]
fn save_list_and_forget_an_expert() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (carl, token) = app.register("carl");

    let saved = app.authed("POST", &format!("/v1/favorites/{grace}"), &token, None);
    assert_eq!(saved.status, 201, "{}", saved.raw);
    assert_eq!(saved.body["expert_id"].as_u64(), Some(grace));

    let again = app.authed("POST", &format!("/v1/favorites/{grace}"), &token, None);
    assert_eq!(
        (again.status, error_code(&again).as_str()),
        (409, "conflict")
    );

    let list = app.authed("GET", "/v1/favorites", &token, None);
    assert_eq!(list.status, 200, "{}", list.raw);
    let experts = list.body["experts"].as_array().expect("experts");
    assert_eq!(experts.len(), 1);
    assert_eq!(experts[0]["id"].as_u64(), Some(grace));
    assert_eq!(experts[0]["profession"], "Tax Advisor");
    assert!(experts[0].get("email").is_none());
    // Regression: someone who stopped being an expert stayed listed, their
    // profile shown to whoever had saved them.
    let stepped_down = |profession: &str| {
        app.store
            .users()
            .modify(droply_models::UserId::new(grace), |user| {
                user.profession = profession.to_owned();
                Ok(())
            })
            .expect("profession");
    };
    stepped_down("");
    let hidden = app.authed("GET", "/v1/favorites", &token, None);
    assert_eq!(
        hidden.body["experts"].as_array().map(Vec::len),
        Some(0),
        "{}",
        hidden.raw
    );
    stepped_down("Tax Advisor");

    let gone = app.authed("DELETE", &format!("/v1/favorites/{grace}"), &token, None);
    assert_eq!(gone.status, 204, "{}", gone.raw);
    let twice = app.authed("DELETE", &format!("/v1/favorites/{grace}"), &token, None);
    assert_eq!(
        (twice.status, error_code(&twice).as_str()),
        (404, "not_found")
    );

    let empty = app.authed("GET", "/v1/favorites", &token, None);
    assert_eq!(empty.body["experts"].as_array().map(Vec::len), Some(0));
    assert_eq!(
        interactions_of(&app, carl),
        vec![
            (grace, InteractionType::Favorite),
            (grace, InteractionType::Unfavorite)
        ]
    );
    assert!(app.store.verify_integrity().expect("check").is_consistent());
    app.assert_no_leaks();
}

#[test]
fn favorites_page_with_a_cursor() {
    let app = spawn_app();
    let (_, token) = app.register("carl");
    let mut experts = Vec::new();
    for name in ["expert1", "expert2", "expert3"] {
        let (id, _) = app.register(name);
        app.make_expert(id, "Europe/Berlin");
        let r = app.authed("POST", &format!("/v1/favorites/{id}"), &token, None);
        assert_eq!(r.status, 201, "{}", r.raw);
        experts.push(id);
    }
    let first = app.authed("GET", "/v1/favorites?limit=2", &token, None);
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["experts"].as_array().map(Vec::len), Some(2));
    let cursor = first.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    let second = app.authed(
        "GET",
        &format!("/v1/favorites?limit=2&cursor={cursor}"),
        &token,
        None,
    );
    assert_eq!(second.status, 200, "{}", second.raw);
    let rest = second.body["experts"].as_array().expect("experts");
    assert_eq!(rest.len(), 1);
    assert_eq!(rest[0]["id"].as_u64(), Some(experts[2]));
    for bad in [
        "/v1/favorites?limit=0",
        "/v1/favorites?limit=101",
        "/v1/favorites?limit=many",
        "/v1/favorites?cursor=nonsense",
    ] {
        let r = app.authed("GET", bad, &token, None);
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "invalid_parameter"),
            "{bad}"
        );
    }
    app.assert_no_leaks();
}

#[test]
fn favorites_refuse_bad_targets() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (carl, token) = app.register("carl");
    let (dora, _) = app.register("dora"); // not an expert

    let unknown = app.authed("POST", "/v1/favorites/999999", &token, None);
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (404, "not_found")
    );
    let client = app.authed("POST", &format!("/v1/favorites/{dora}"), &token, None);
    assert_eq!(
        (client.status, error_code(&client).as_str()),
        (404, "not_found")
    );
    let own = app.authed("POST", &format!("/v1/favorites/{carl}"), &token, None);
    assert_eq!(
        (own.status, error_code(&own).as_str()),
        (400, "invalid_input")
    );
    app.make_expert(carl, "Europe/Berlin");
    let own_expert = app.authed("POST", &format!("/v1/favorites/{carl}"), &token, None);
    assert_eq!(own_expert.status, 400, "{}", own_expert.raw);
    for method in ["POST", "DELETE"] {
        let bad = app.authed(method, "/v1/favorites/abc", &token, None);
        assert_eq!(
            (bad.status, error_code(&bad).as_str()),
            (400, "invalid_parameter")
        );
    }
    let never = app.authed("DELETE", "/v1/favorites/999999", &token, None);
    assert_eq!(
        (never.status, error_code(&never).as_str()),
        (404, "not_found")
    );
    assert_eq!(app.store.favorites().count(), 0);
    assert!(interactions_of(&app, carl).is_empty());
    app.assert_no_leaks();
}

#[test]
fn favorites_are_private_to_their_owner() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (_, carl) = app.register("carl");
    let (_, dora) = app.register("dora");
    let saved = app.authed("POST", &format!("/v1/favorites/{grace}"), &carl, None);
    assert_eq!(saved.status, 201);
    // Dora sees none of Carl's favorites and cannot remove them.
    let list = app.authed("GET", "/v1/favorites", &dora, None);
    assert_eq!(list.body["experts"].as_array().map(Vec::len), Some(0));
    let remove = app.authed("DELETE", &format!("/v1/favorites/{grace}"), &dora, None);
    assert_eq!(
        (remove.status, error_code(&remove).as_str()),
        (404, "not_found")
    );
    assert_eq!(app.store.favorites().count(), 1);
    // No token: 401 on every favorites route.
    for (method, path) in [
        ("GET", "/v1/favorites".to_owned()),
        ("POST", format!("/v1/favorites/{grace}")),
        ("DELETE", format!("/v1/favorites/{grace}")),
    ] {
        let r = app.request(method, &path, None);
        assert_eq!((r.status, error_code(&r).as_str()), (401, "unauthorized"));
    }
    app.assert_no_leaks();
}

#[test]
fn interactions_are_recorded() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (carl, token) = app.register("carl");
    for kind in ["view", "click", "share", "message"] {
        let body = format!(r#"{{"target_user_id":{grace},"interaction_type":"{kind}"}}"#);
        let r = app.authed("POST", "/v1/interactions", &token, Some(&body));
        assert_eq!(r.status, 201, "{}", r.raw);
        assert_eq!(r.body["interaction_type"], kind);
        assert_eq!(r.body["target_user_id"].as_u64(), Some(grace));
    }
    assert_eq!(interactions_of(&app, carl).len(), 4);
    app.assert_no_leaks();
}

#[test]
fn interactions_refuse_bad_input() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    let (carl, token) = app.register("carl");
    let unknown = app.authed(
        "POST",
        "/v1/interactions",
        &token,
        Some(r#"{"target_user_id":999999,"interaction_type":"view"}"#),
    );
    assert_eq!(
        (unknown.status, error_code(&unknown).as_str()),
        (404, "not_found")
    );
    // Someone who is not an expert has no profile to act on.
    let (dora, _) = app.register("dora");
    let not_an_expert = app.authed(
        "POST",
        "/v1/interactions",
        &token,
        Some(&format!(
            r#"{{"target_user_id":{dora},"interaction_type":"view"}}"#
        )),
    );
    assert_eq!(
        (not_an_expert.status, error_code(&not_an_expert).as_str()),
        (404, "not_found")
    );
    for body in [
        format!(r#"{{"target_user_id":{grace},"interaction_type":"stalk"}}"#),
        format!(r#"{{"target_user_id":"{grace}","interaction_type":"view"}}"#),
        format!(r#"{{"target_user_id":{grace}}}"#),
        r#"{"interaction_type":"view"}"#.to_owned(),
        format!(r#"{{"target_user_id":{grace},"interaction_type":"view","user_id":1}}"#),
        format!(r#"{{"target_user_id":-{grace},"interaction_type":"view"}}"#),
    ] {
        let r = app.authed("POST", "/v1/interactions", &token, Some(&body));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "invalid_input"),
            "{body}: {}",
            r.raw
        );
    }
    let malformed = app.authed("POST", "/v1/interactions", &token, Some("{not json"));
    assert_eq!(
        (malformed.status, error_code(&malformed).as_str()),
        (400, "invalid_json")
    );
    let body = format!(r#"{{"target_user_id":{grace},"interaction_type":"view"}}"#);
    let anonymous = app.request("POST", "/v1/interactions", Some(&body));
    assert_eq!(
        (anonymous.status, error_code(&anonymous).as_str()),
        (401, "unauthorized")
    );
    assert!(interactions_of(&app, carl).is_empty());
    app.assert_no_leaks();
}

#[test]
fn a_client_cannot_record_book_or_favorite_interactions() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (carl, token) = app.register("carl");
    for kind in ["book", "favorite", "unfavorite", "search_impression"] {
        let body = format!(r#"{{"target_user_id":{grace},"interaction_type":"{kind}"}}"#);
        let r = app.authed("POST", "/v1/interactions", &token, Some(&body));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "invalid_input"),
            "{kind}: {}",
            r.raw
        );
        let message = r.body["message"].as_str().expect("message");
        assert!(
            message.contains("interaction_type")
                && message.contains("view, click, share or message"),
            "{message}"
        );
    }
    assert!(interactions_of(&app, carl).is_empty());
    // Saving still records its own `favorite`, through the favorite itself.
    let saved = app.authed("POST", &format!("/v1/favorites/{grace}"), &token, None);
    assert_eq!(saved.status, 201, "{}", saved.raw);
    assert_eq!(
        interactions_of(&app, carl),
        vec![(grace, InteractionType::Favorite)]
    );
    app.assert_no_leaks();
}

#[test]
fn a_flood_of_views_is_recorded_once_a_day() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (carl, token) = app.register("carl");
    let body = format!(r#"{{"target_user_id":{grace},"interaction_type":"view"}}"#);
    let first = app.authed("POST", "/v1/interactions", &token, Some(&body));
    assert_eq!(first.status, 201, "{}", first.raw);
    for _ in 0..20 {
        let again = app.authed("POST", "/v1/interactions", &token, Some(&body));
        assert_eq!(again.status, 200, "{}", again.raw);
        assert_eq!(again.body["id"], first.body["id"]);
    }
    let click = format!(r#"{{"target_user_id":{grace},"interaction_type":"click"}}"#);
    assert_eq!(
        app.authed("POST", "/v1/interactions", &token, Some(&click))
            .status,
        201
    );
    assert_eq!(
        interactions_of(&app, carl),
        vec![
            (grace, InteractionType::View),
            (grace, InteractionType::Click)
        ]
    );
    app.assert_no_leaks();
}

/// Regression: saving and forgetting an expert wrote an interaction each
/// time, outside the daily bound: one account looping on it grew the store
/// without end and pushed everyone else's views out of the window the
/// expert's ranking reads.
#[test]
fn saving_and_forgetting_in_a_loop_records_each_once_a_day() {
    let app = spawn_app();
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let (carl, token) = app.register("carl");
    for _ in 0..30 {
        let saved = app.authed("POST", &format!("/v1/favorites/{grace}"), &token, None);
        assert_eq!(saved.status, 201, "{}", saved.raw);
        let forgotten = app.authed("DELETE", &format!("/v1/favorites/{grace}"), &token, None);
        assert_eq!(forgotten.status, 204, "{}", forgotten.raw);
    }
    assert_eq!(
        interactions_of(&app, carl),
        [
            (grace, InteractionType::Favorite),
            (grace, InteractionType::Unfavorite)
        ]
    );
    // The save itself is still kept.
    app.authed("POST", &format!("/v1/favorites/{grace}"), &token, None);
    let list = app.authed("GET", "/v1/favorites", &token, None);
    assert_eq!(list.body["experts"].as_array().map(Vec::len), Some(1));
}

/// Regression: every booking wrote a `book` interaction outside the daily
/// bounds, so one account booking a free expert and cancelling, again and
/// again, filled the newest interactions the ranking reads (the expert's
/// 2,000, trending's 50,000) with its own rows, pushing out everyone
/// else's. A booking's `book` counts once a day like every interaction.
#[test]
fn booking_and_cancelling_in_a_loop_records_one_book_a_day() {
    let app = spawn_app();
    let (grace, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    app.make_free(grace);
    let (carl, token) = app.register("carl");
    for _ in 0..10 {
        let booked = book(&app, &token, grace, &slot());
        assert_eq!(booked.status, 201, "{}", booked.raw);
        let id = booked.body["id"].as_u64().expect("id");
        let cancelled = app.authed(
            "POST",
            &format!("/v1/bookings/{id}/cancel"),
            &token,
            Some(r#"{"reason":"changed my mind"}"#),
        );
        assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    }
    assert_eq!(
        interactions_of(&app, carl),
        [(grace, InteractionType::Book)]
    );
}

/// Regression: a well-formed cursor of another list (here another person's)
/// was refused as 400 `invalid_input` by the store, while a malformed one is
/// 400 `invalid_parameter`; both are a bad `cursor` query parameter.
#[test]
fn a_cursor_of_another_list_is_an_invalid_parameter_like_a_malformed_cursor() {
    let app = spawn_app();
    let (_, carl) = app.register("carl");
    let (_, dora) = app.register("dora");
    for name in ["expert1", "expert2"] {
        let (id, _) = app.register(name);
        app.make_expert(id, "Europe/Berlin");
        for token in [&carl, &dora] {
            let saved = app.authed("POST", &format!("/v1/favorites/{id}"), token, None);
            assert_eq!(saved.status, 201, "{}", saved.raw);
        }
    }
    let first = app.authed("GET", "/v1/favorites?limit=1", &carl, None);
    assert_eq!(first.status, 200, "{}", first.raw);
    let carls = first.body["next_cursor"]
        .as_str()
        .expect("cursor")
        .to_owned();
    // Carl's cursor pages on through Carl's own list.
    let own = app.authed(
        "GET",
        &format!("/v1/favorites?limit=1&cursor={carls}"),
        &carl,
        None,
    );
    assert_eq!(own.status, 200, "{}", own.raw);
    // Dora sending it, to her favorites or her bookings, is refused as a
    // malformed cursor is.
    for path in [
        format!("/v1/favorites?cursor={carls}"),
        format!("/v1/bookings?cursor={carls}"),
        format!("/v1/bookings?role=provider&cursor={carls}"),
        "/v1/favorites?cursor=nonsense".to_owned(),
    ] {
        let refused = app.authed("GET", &path, &dora, None);
        assert_eq!(
            (refused.status, error_code(&refused).as_str()),
            (400, "invalid_parameter"),
            "{path}: {}",
            refused.raw
        );
        assert!(
            refused.body["message"]
                .as_str()
                .is_some_and(|message| message.contains("cursor")),
            "{path}: {}",
            refused.raw
        );
    }
    app.assert_no_leaks();
}

/// Regression: `GET /v1/favorites` was the one list refusing a query
/// parameter it does not know (400), where `/v1/bookings` and the other
/// lists ignore it (a cache-buster such as `_=123`).
#[test]
fn favorites_list_ignores_unknown_query_parameters_like_the_other_lists() {
    let app = spawn_app();
    let (_, carl) = app.register("carl");
    let (grace, _) = app.register("grace");
    app.make_expert(grace, "Europe/Berlin");
    let saved = app.authed("POST", &format!("/v1/favorites/{grace}"), &carl, None);
    assert_eq!(saved.status, 201, "{}", saved.raw);
    for path in ["/v1/favorites?limit=5&_=123", "/v1/bookings?limit=5&_=123"] {
        let listed = app.authed("GET", path, &carl, None);
        assert_eq!(listed.status, 200, "{path}: {}", listed.raw);
    }
    let listed = app.authed("GET", "/v1/favorites?limit=5&_=123", &carl, None);
    let experts = listed.body["experts"].as_array().expect("experts");
    assert_eq!(experts.len(), 1, "{}", listed.raw);
    assert_eq!(experts[0]["id"].as_u64(), Some(grace));
    app.assert_no_leaks();
}
