//! Reviews over HTTP: only the client of a session that took place
//! (completed, or confirmed and ended) reviews it,
//! once, within the window; the expert's rating moves at once; the expert
//! answers once; anyone lists an expert's reviews, authors by public name.

use droply_models::{BookingId, Timestamp, UserId};

use crate::app::{TestApp, error_code, spawn_app};
use crate::availability::expert_working;
use crate::bookings::held_then_completed;
use crate::dates;

/// A free expert (no rate), a client, and the client's booking that took
/// place `days_ago` and was completed: (expert id, expert token, client
/// token, booking id).
pub fn completed_session(app: &TestApp, n: usize, days_ago: i64) -> (u64, String, String, u64) {
    let (expert, provider, client, id) = confirmed_free_session(app, n);
    let path = format!("/v1/bookings/{id}/review");
    let early = app.authed("POST", &path, &client, Some(r#"{"rating":5}"#));
    assert_eq!(
        (early.status, error_code(&early).as_str()),
        (409, "invalid_state"),
        "{}",
        early.raw
    );
    let start = Timestamp::now().plus_days(-days_ago).plus_minutes(-120);
    held_then_completed(app, id, start, &provider);
    (expert, provider, client, id)
}

/// A free expert (no rate) `ruth{n}`, a client `carl{n}`, and the client's
/// booking of Monday 10:00 in Berlin ([`dates::winter_monday`]), confirmed
/// at once as a free session is: (expert id, expert token, client token,
/// booking id).
fn confirmed_free_session(app: &TestApp, n: usize) -> (u64, String, String, u64) {
    let (expert, provider) =
        expert_working(app, &format!("ruth{n}"), "Europe/Berlin", "09:00", "17:00");
    app.make_free(expert);
    let (_, client) = app.register(&format!("carl{n}"));
    let booked = app.post_booking(
        &client,
        &format!(
            r#"{{"provider_id":{expert},"start_time":"{}","duration":60}}"#,
            dates::at(0, "09:00")
        ),
    );
    assert_eq!(booked.status, 201, "{}", booked.raw);
    assert_eq!(
        booked.body["status"], "confirmed",
        "free: confirmed at once: {}",
        booked.raw
    );
    let id = booked.body["id"].as_u64().expect("id");
    (expert, provider, client, id)
}

/// Moves booking `id`'s hour in the store to one that started ten minutes
/// ago and ends in fifty.
fn running_for_ten_minutes(app: &TestApp, id: u64) {
    app.store
        .bookings()
        .modify(BookingId::new(id), |b| {
            b.start_time = Timestamp::now().plus_minutes(-10);
            b.end_time = b.start_time.plus_minutes(60);
            Ok(())
        })
        .expect("running");
}

/// Moves booking `id`'s hour in the store to one that ended `minutes` ago.
fn ended_minutes_ago(app: &TestApp, id: u64, minutes: i64) {
    app.store
        .bookings()
        .modify(BookingId::new(id), |b| {
            b.end_time = Timestamp::now().plus_minutes(-minutes);
            b.start_time = b.end_time.plus_minutes(-60);
            Ok(())
        })
        .expect("ended");
}

#[test]
fn the_client_of_a_completed_session_reviews_it_once_and_the_rating_moves() {
    let app = spawn_app();
    let (expert, provider, client, id) = completed_session(&app, 1, 0);
    let (_, stranger) = app.register("sam");
    let path = format!("/v1/bookings/{id}/review");
    let body = r#"{"rating":4,"comment":"Clear and kind."}"#;
    assert_eq!(app.request("POST", &path, Some(body)).status, 401);
    let strangers = app.authed("POST", &path, &stranger, Some(body));
    assert_eq!(error_code(&strangers), "not_found");
    let own = app.authed("POST", &path, &provider, Some(body));
    assert_eq!((own.status, error_code(&own).as_str()), (403, "forbidden"));
    for bad in [r#"{"rating":0}"#, r#"{"rating":6}"#, r#"{"rating":"five"}"#] {
        let r = app.authed("POST", &path, &client, Some(bad));
        assert_eq!(r.status, 400, "{bad}: {}", r.raw);
    }
    let long = format!(r#"{{"rating":4,"comment":"{}"}}"#, "x".repeat(2001));
    assert_eq!(
        error_code(&app.authed("POST", &path, &client, Some(&long))),
        "invalid_input"
    );
    let before = app
        .store
        .users()
        .get(UserId::new(expert))
        .expect("expert")
        .rating_count();

    let made = app.authed("POST", &path, &client, Some(body));
    assert_eq!(made.status, 201, "{}", made.raw);
    assert_eq!(made.body["rating"], 4);
    assert_eq!(made.body["author_name"], "carl1 P.");
    let twice = app.authed("POST", &path, &client, Some(r#"{"rating":1}"#));
    assert_eq!(
        (twice.status, error_code(&twice).as_str()),
        (409, "conflict")
    );
    let rated = app.store.users().get(UserId::new(expert)).expect("expert");
    assert_eq!(rated.rating_count(), before + 1);
    let profile = app.get(&format!("/v1/experts/{expert}"));
    assert_eq!(
        profile.body["rating_count"],
        rated.rating_count(),
        "{}",
        profile.raw
    );

    // The expert answers once; the author and strangers cannot.
    let review = made.body["id"].as_u64().expect("review id");
    let answer_path = format!("/v1/reviews/{review}/answer");
    let answer = r#"{"answer":"Thank you!"}"#;
    let by_author = app.authed("POST", &answer_path, &client, Some(answer));
    assert_eq!(error_code(&by_author), "forbidden");
    assert_eq!(
        error_code(&app.authed("POST", &answer_path, &stranger, Some(answer))),
        "not_found"
    );
    assert_eq!(
        error_code(&app.authed("POST", &answer_path, &provider, Some(r#"{"answer":" "}"#))),
        "invalid_input"
    );
    let answered = app.authed("POST", &answer_path, &provider, Some(answer));
    assert_eq!(answered.status, 200, "{}", answered.raw);
    assert_eq!(answered.body["answer"], "Thank you!");
    let again = app.authed("POST", &answer_path, &provider, Some(answer));
    assert_eq!(error_code(&again), "conflict");

    // Anyone reads them, authors by public name only.
    let listed = app.get(&format!("/v1/experts/{expert}/reviews"));
    assert_eq!(listed.status, 200, "{}", listed.raw);
    let reviews = listed.body["reviews"].as_array().expect("reviews");
    assert_eq!(reviews.len(), 1);
    assert_eq!(reviews[0]["comment"], "Clear and kind.");
    assert!(!listed.raw.contains("carl1@example.com") && !listed.raw.contains("Person"));
    assert_eq!(app.get("/v1/experts/424242/reviews").status, 404);
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
    app.assert_no_leaks();
}

#[test]
fn a_review_after_the_window_is_refused() {
    let app = spawn_app();
    let (_, _, client, id) = completed_session(&app, 2, 31);
    let late = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/review"),
        &client,
        Some(r#"{"rating":5}"#),
    );
    assert_eq!(
        (late.status, error_code(&late).as_str()),
        (409, "invalid_state"),
        "{}",
        late.raw
    );
    assert!(late.raw.contains("window"), "{}", late.raw);
}

#[test]
fn reviews_are_listed_newest_first() {
    let app = spawn_app();
    let (expert, _, client, first) = completed_session(&app, 3, 2);
    let r = app.authed(
        "POST",
        &format!("/v1/bookings/{first}/review"),
        &client,
        Some(r#"{"rating":3}"#),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    // A second session with the same expert, reviewed later.
    let booked = app.post_booking(
        &client,
        &format!(
            r#"{{"provider_id":{expert},"start_time":"{}","duration":60}}"#,
            dates::at(1, "09:00")
        ),
    );
    assert_eq!(booked.status, 201, "{}", booked.raw);
    let second = booked.body["id"].as_u64().expect("id");
    app.store
        .bookings()
        .modify(BookingId::new(second), |b| {
            b.start_time = Timestamp::now().plus_minutes(-180);
            b.end_time = b.start_time.plus_minutes(60);
            b.status = droply_models::BookingStatus::Completed;
            Ok(())
        })
        .expect("done");
    let r = app.authed(
        "POST",
        &format!("/v1/bookings/{second}/review"),
        &client,
        Some(r#"{"rating":5}"#),
    );
    assert_eq!(r.status, 201, "{}", r.raw);
    let listed = app.get(&format!("/v1/experts/{expert}/reviews?limit=1"));
    assert_eq!(listed.body["reviews"][0]["rating"], 5, "{}", listed.raw);
    let cursor = listed.body["next_cursor"].as_str().expect("more");
    let rest = app.get(&format!(
        "/v1/experts/{expert}/reviews?limit=1&cursor={cursor}"
    ));
    assert_eq!(rest.body["reviews"][0]["rating"], 3, "{}", rest.raw);
}

/// Regression: the expert may mark a session completed once it has started, and
/// its client could then rate it while it was still running.
#[test]
fn a_session_is_reviewed_once_it_has_ended() {
    let app = spawn_app();
    let (_, _, client, id) = completed_session(&app, 9, 0);
    // Moved back to running: started ten minutes ago, ends in fifty.
    running_for_ten_minutes(&app, id);
    let path = format!("/v1/bookings/{id}/review");
    let early = app.authed("POST", &path, &client, Some(r#"{"rating":5}"#));
    assert_eq!(
        (early.status, error_code(&early).as_str()),
        (409, "invalid_state"),
        "{}",
        early.raw
    );
    assert!(early.raw.contains("ended"), "{}", early.raw);
    ended_minutes_ago(&app, id, 1);
    let reviewed = app.authed("POST", &path, &client, Some(r#"{"rating":5}"#));
    assert_eq!(reviewed.status, 201, "{}", reviewed.raw);
}

/// Regression: only a `completed` session could be reviewed, and only the
/// expert completes one, so an expert who never completed a session kept
/// its review away; a confirmed session that has ended took place unless
/// marked otherwise.
#[test]
fn a_session_the_expert_never_completed_can_be_reviewed_after_it_ended() {
    let app = spawn_app();
    let (expert, _, client, id) = confirmed_free_session(&app, 10);
    let path = format!("/v1/bookings/{id}/review");
    // Confirmed but not yet ended (ahead, then running): refused.
    let ahead = app.authed("POST", &path, &client, Some(r#"{"rating":2}"#));
    assert_eq!(
        (ahead.status, error_code(&ahead).as_str()),
        (409, "invalid_state"),
        "{}",
        ahead.raw
    );
    running_for_ten_minutes(&app, id);
    let running = app.authed("POST", &path, &client, Some(r#"{"rating":2}"#));
    assert_eq!(
        (running.status, error_code(&running).as_str()),
        (409, "invalid_state"),
        "{}",
        running.raw
    );
    // Ended an hour ago, still confirmed: the expert never completed it.
    ended_minutes_ago(&app, id, 60);
    let stored = app
        .store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking");
    assert_eq!(stored.status, droply_models::BookingStatus::Confirmed);
    let before = app
        .store
        .users()
        .get(UserId::new(expert))
        .expect("expert")
        .rating_count();
    let reviewed = app.authed("POST", &path, &client, Some(r#"{"rating":2}"#));
    assert_eq!(reviewed.status, 201, "{}", reviewed.raw);
    let rated = app.store.users().get(UserId::new(expert)).expect("expert");
    assert_eq!(rated.rating_count(), before + 1);
    let twice = app.authed("POST", &path, &client, Some(r#"{"rating":5}"#));
    assert_eq!(
        (twice.status, error_code(&twice).as_str()),
        (409, "conflict")
    );
}
