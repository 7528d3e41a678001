//! Reviews against no-shows over HTTP: a client may review a confirmed
//! session once it has ended, before the expert marks it; marking it a
//! no-show withdraws that review (gone from the expert's list, its stars out
//! of the rating, in search too), and the client cannot review it again.

use droply_models::{BookingId, BookingStatus, Timestamp};
use serde_json::json;

use crate::app::{TestApp, error_code, spawn_app, spawn_app_with_search};
use crate::availability::expert_working;
use crate::dates;
use crate::search_market::{hit_ids, search};

/// A free expert, a client, a session the client attended (completed three
/// days ago, reviewed 4 stars) and one still confirmed that ended half an
/// hour ago, unreviewed: (expert id, expert token, client token, id of the
/// confirmed one).
fn attended_then_ended(app: &TestApp, n: usize) -> (u64, String, String, u64) {
    let (expert, provider) =
        expert_working(app, &format!("ruth{n}"), "Europe/Berlin", "09:00", "17:00");
    app.make_free(expert);
    let (_, client) = app.register(&format!("carl{n}"));
    let mut ids = Vec::new();
    for (day, status, ended_minutes_ago) in [
        (dates::day(0), BookingStatus::Completed, 3 * 24 * 60),
        (dates::day(1), BookingStatus::Confirmed, 30),
    ] {
        let booked = app.post_booking(
            &client,
            &format!(r#"{{"provider_id":{expert},"start_time":"{day}T09:00:00Z","duration":60}}"#),
        );
        assert_eq!(booked.status, 201, "{}", booked.raw);
        assert_eq!(booked.body["status"], "confirmed", "{}", booked.raw);
        let id = booked.body["id"].as_u64().expect("id");
        app.store
            .bookings()
            .modify(BookingId::new(id), |b| {
                b.end_time = Timestamp::now().plus_minutes(-ended_minutes_ago);
                b.start_time = b.end_time.plus_minutes(-60);
                b.status = status;
                Ok(())
            })
            .expect("in the past");
        ids.push(id);
    }
    let attended = app.authed(
        "POST",
        &format!("/v1/bookings/{}/review", ids[0]),
        &client,
        Some(r#"{"rating":4,"comment":"Helpful."}"#),
    );
    assert_eq!(attended.status, 201, "{}", attended.raw);
    (expert, provider, client, ids[1])
}

/// The ratings of `expert`'s reviews as listed, newest first.
fn listed_ratings(app: &TestApp, expert: u64) -> Vec<u64> {
    let listed = app.get(&format!("/v1/experts/{expert}/reviews"));
    assert_eq!(listed.status, 200, "{}", listed.raw);
    listed.body["reviews"]
        .as_array()
        .expect("reviews")
        .iter()
        .map(|r| r["rating"].as_u64().expect("rating"))
        .collect()
}

/// Regression: a no-show marked after the client reviewed the session left
/// the review standing and counting in the expert's rating, so a client who
/// reviewed before the expert marked the no-show locked in a review of a
/// session they missed.
#[test]
fn a_no_show_marked_after_the_client_reviewed_withdraws_the_review_and_its_rating() {
    let app = spawn_app();
    let (expert, provider, client, id) = attended_then_ended(&app, 1);
    let path = format!("/v1/bookings/{id}/review");
    let reviewed = app.authed("POST", &path, &client, Some(r#"{"rating":1}"#));
    assert_eq!(reviewed.status, 201, "{}", reviewed.raw);
    assert_eq!(listed_ratings(&app, expert), vec![1, 4]);
    let profile = app.get(&format!("/v1/experts/{expert}"));
    assert_eq!(
        (&profile.body["rating_count"], &profile.body["rating"]),
        (&json!(2), &json!(2.5)),
        "{}",
        profile.raw
    );

    let marked = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/no_show"),
        &provider,
        None,
    );
    assert_eq!(marked.status, 200, "{}", marked.raw);
    assert_eq!(marked.body["status"], "no_show", "{}", marked.raw);

    assert_eq!(
        listed_ratings(&app, expert),
        vec![4],
        "only the attended one"
    );
    let profile = app.get(&format!("/v1/experts/{expert}"));
    assert_eq!(
        (&profile.body["rating_count"], &profile.body["rating"]),
        (&json!(1), &json!(4.0)),
        "{}",
        profile.raw
    );
    // The freed key does not let the client review the missed session again.
    let again = app.authed("POST", &path, &client, Some(r#"{"rating":5}"#));
    assert_eq!(
        (again.status, error_code(&again).as_str()),
        (409, "invalid_state"),
        "{}",
        again.raw
    );
    assert_eq!(listed_ratings(&app, expert), vec![4]);
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
    app.assert_no_leaks();
}

/// Regression: the withdrawn review's stars stayed in the rating the search
/// index filters and ranks by.
#[test]
fn search_stops_counting_a_review_withdrawn_by_a_no_show() {
    let app = spawn_app_with_search();
    let (expert, provider, client, id) = attended_then_ended(&app, 2);
    let top_rated = json!({"filter": "rating >= 4.5", "limit": 100});
    let reviewed = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/review"),
        &client,
        Some(r#"{"rating":5}"#),
    );
    assert_eq!(reviewed.status, 201, "{}", reviewed.raw);
    app.wait_for_index();
    assert!(
        hit_ids(&search(&app, &top_rated)).contains(&expert),
        "4 and 5 stars average 4.5"
    );

    let marked = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/no_show"),
        &provider,
        None,
    );
    assert_eq!(marked.status, 200, "{}", marked.raw);
    app.wait_for_index();
    assert!(
        !hit_ids(&search(&app, &top_rated)).contains(&expert),
        "4 stars alone are below 4.5"
    );
    let still_rated = json!({"filter": "rating >= 4", "limit": 100});
    assert!(hit_ids(&search(&app, &still_rated)).contains(&expert));
}
