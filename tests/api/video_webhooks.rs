//! Daily.co's side of video calls through the API, with the in-process
//! [`DailyFake`]: its signed webhooks record a call's times once, in any
//! order, and a bad signature changes nothing; recordings are kept once
//! however often Daily sends them, and their short-lived links are for the
//! booking's two parties only. The events of a cancelled or moved
//! session's room, arriving late, are acknowledged and change nothing: the
//! booking stays cancelled without a call, and a replacement booking does
//! not get the old room's call.

use droply_engine::video::{DailyEvent, RoomState};
use droply_models::{BookingStatus, Timestamp};
use droply_test_support::daily_fake::{
    DAILY_WEBHOOK_SECRET, DailyFake, daily_event, post_webhook, sign_webhook,
};
use serde_json::{Value, json};

use crate::app::{TestApp, error_code};
use crate::dates;
use crate::video::{
    Session, booking_row, confirmed_session, room_row, session_with_room, spawn_app_with_daily,
    webhook_url,
};

#[test]
fn daily_webhooks_record_the_call_once_in_any_order_and_only_when_signed() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (session, room) = session_with_room(&app, "h");
    let url = webhook_url(&app);
    let start = dates::unix_seconds(0, "09:00") as f64 + 0.25; // the session's start, 09:00:00.25Z
    let end = start + 50.0 * 60.0 + 10.0;

    // A bad signature changes nothing.
    let ended = daily_event(
        "ev-ended",
        "meeting.ended",
        json!({"room": room, "meeting_id": "m1", "start_ts": start, "end_ts": end}),
    );
    let (status, body) = DailyFake::send_webhook(&url, "d3Jvbmcta2V5", &ended);
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_signature"))
    );
    let now = Timestamp::now().as_micros() / 1_000_000;
    let text = ended.to_string();
    let signature = sign_webhook(DAILY_WEBHOOK_SECRET, &now.to_string(), text.as_bytes());
    let tampered = text.replace("m1", "m2");
    let (status, _) = post_webhook(&url, &signature, &now.to_string(), tampered.as_bytes());
    assert_eq!(status, 400);
    let stale = (now - 3600).to_string();
    let old = sign_webhook(DAILY_WEBHOOK_SECRET, &stale, text.as_bytes());
    let (status, _) = post_webhook(&url, &old, &stale, text.as_bytes());
    assert_eq!(status, 400);
    let unchanged = booking_row(&app, session.booking);
    assert!(unchanged.meeting_started_at.is_none() && unchanged.meeting_ended_at.is_none());

    // Ended arrives before started; both applied once.
    let (status, body) = DailyFake::send_webhook(&url, DAILY_WEBHOOK_SECRET, &ended);
    assert_eq!(
        (status, &body),
        (200, &json!({"received": true, "applied": true}))
    );
    let started = daily_event(
        "ev-started",
        "meeting.started",
        json!({"room": room, "meeting_id": "m1", "start_ts": start + 5.0}),
    );
    let (status, body) = DailyFake::send_webhook(&url, DAILY_WEBHOOK_SECRET, &started);
    assert_eq!((status, body["applied"].as_bool()), (200, Some(true)));
    // The same event again is received, not applied.
    let (status, body) = DailyFake::send_webhook(&url, DAILY_WEBHOOK_SECRET, &ended);
    assert_eq!((status, body["applied"].as_bool()), (200, Some(false)));

    let view = app.authed(
        "GET",
        &format!("/v1/bookings/{}", session.booking),
        &session.provider,
        None,
    );
    assert_eq!(view.status, 200, "{}", view.raw);
    assert_eq!(
        view.body["meeting_started_at"],
        format!("{}T09:00:00.250Z", dates::day(0)),
        "{}",
        view.raw
    );
    assert_eq!(
        view.body["meeting_ended_at"],
        format!("{}T09:50:10.250Z", dates::day(0)),
        "{}",
        view.raw
    );
    assert_eq!(view.body["meeting_duration"], 51, "{}", view.raw);

    // Other rooms and other types are acknowledged and ignored.
    let foreign = daily_event(
        "ev-foreign",
        "meeting.started",
        json!({"room": "someone-elses-room", "start_ts": start}),
    );
    let (status, body) = DailyFake::send_webhook(&url, DAILY_WEBHOOK_SECRET, &foreign);
    assert_eq!((status, body["applied"].as_bool()), (200, Some(true)));
    let other = daily_event("ev-other", "participant.joined", json!({"room": room}));
    let (status, _) = DailyFake::send_webhook(&url, DAILY_WEBHOOK_SECRET, &other);
    assert_eq!(status, 200);
    // A signed body that is not an event is invalid input, not a 500.
    let (status, body) = DailyFake::send_webhook(&url, DAILY_WEBHOOK_SECRET, &json!([1, 2]));
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_input"))
    );
    let after = booking_row(&app, session.booking);
    assert_eq!(after.meeting_duration, Some(51));
}

/// Regression: a webhook body over the webhooks' 1 MiB limit got axum's
/// plain-text 413, not the one error format.
#[test]
fn a_daily_webhook_over_one_mebibyte_is_payload_too_large() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let huge = "x".repeat(1024 * 1024 + 1);
    let now = (Timestamp::now().as_micros() / 1_000_000).to_string();
    let response = app.send(
        "POST",
        "/v1/webhooks/daily",
        Some(&huge),
        None,
        &[
            ("X-Webhook-Signature", "d3Jvbmcta2V5"),
            ("X-Webhook-Timestamp", now.as_str()),
        ],
    );
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (413, "payload_too_large"),
        "{}",
        response.head
    );
}

#[test]
fn recordings_and_their_links_are_for_the_two_parties_only() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "c");
    let other = confirmed_session(&app, "c2");
    app.engine.run_video_sweep().expect("sweep");
    let room = booking_row(&app, session.booking)
        .meeting_room_id
        .expect("a room");
    let recording_id = "6f2c1b7e-91d4-4c55-a0a7-4b8a4c1f0e11";
    let ready = daily_event(
        "ev-rec",
        "recording.ready-to-download",
        json!({"type": "cloud", "recording_id": recording_id, "room_name": room,
               "start_ts": dates::unix_seconds(0, "09:00"), "status": "finished", "duration": 1800,
               "s3_key": "droply/recording.mp4"}),
    );
    let (status, _) = DailyFake::send_webhook(&webhook_url(&app), DAILY_WEBHOOK_SECRET, &ready);
    assert_eq!(status, 200);
    let list_path = format!("/v1/bookings/{}/recordings", session.booking);
    let link_path = format!("{list_path}/{recording_id}/link");

    for token in [&session.client, &session.provider] {
        let list = app.authed("GET", &list_path, token, None);
        assert_eq!(list.status, 200, "{}", list.raw);
        assert_eq!(list.body["recordings"][0]["recording_id"], recording_id);
        assert_eq!(list.body["recordings"][0]["duration_secs"], 1800);
        assert!(!list.raw.contains("s3_key") && !list.raw.contains("recording.mp4"));
        let link = app.authed("POST", &link_path, token, None);
        assert_eq!(link.status, 200, "{}", link.raw);
        assert!(
            link.body["url"]
                .as_str()
                .is_some_and(|u| u.contains(recording_id)),
            "{}",
            link.raw
        );
        assert!(link.body["expires_at"].is_string(), "{}", link.raw);
    }
    assert_eq!(fake.link_requests().len(), 2);

    for (method, path) in [("GET", &list_path), ("POST", &link_path)] {
        let stranger = app.authed(method, path, &session.stranger, None);
        assert_eq!(stranger.status, 404, "{method} {path}: {}", stranger.raw);
        // The other booking's parties are strangers here too.
        let neighbour = app.authed(method, path, &other.client, None);
        assert_eq!(neighbour.status, 404, "{}", neighbour.raw);
        let anonymous = app.request(method, path, None);
        assert_eq!(anonymous.status, 401, "{}", anonymous.raw);
    }
    // This recording is not the other booking's.
    let wrong_booking = app.authed(
        "POST",
        &format!(
            "/v1/bookings/{}/recordings/{recording_id}/link",
            other.booking
        ),
        &other.client,
        None,
    );
    assert_eq!(wrong_booking.status, 404, "{}", wrong_booking.raw);
    let unknown = app.authed(
        "POST",
        &format!("{list_path}/not..a%20recording/link"),
        &session.client,
        None,
    );
    assert_eq!(unknown.status, 404, "{}", unknown.raw);
    assert_eq!(fake.link_requests().len(), 2, "no link asked for strangers");
    // The links are never kept nor shown elsewhere.
    let view = app.authed(
        "GET",
        &format!("/v1/bookings/{}", session.booking),
        &session.client,
        None,
    );
    assert!(!view.raw.contains("recordings.daily.test"), "{}", view.raw);
    app.assert_no_leaks();
}

#[test]
fn a_redelivered_recording_is_kept_once() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (session, room) = session_with_room(&app, "d");
    for id in ["ev-a", "ev-b"] {
        let ready = daily_event(
            id,
            "recording.ready-to-download",
            json!({"recording_id": "rec-1", "room_name": room}),
        );
        let (status, _) = DailyFake::send_webhook(&webhook_url(&app), DAILY_WEBHOOK_SECRET, &ready);
        assert_eq!(status, 200);
    }
    let list = app.authed(
        "GET",
        &format!("/v1/bookings/{}/recordings", session.booking),
        &session.client,
        None,
    );
    let recordings: &Value = &list.body["recordings"];
    assert_eq!(recordings.as_array().map(Vec::len), Some(1), "{}", list.raw);
}

/// What Daily may still send about `room` after its session was called
/// off (a call that was running, or a late delivery): someone joins, the
/// meeting starts and ends 50 minutes later, someone leaves, a recording is
/// ready. Event ids start with `tag`.
fn late_events(tag: &str, room: &str, start: f64) -> Vec<Value> {
    let end = start + 50.0 * 60.0;
    vec![
        daily_event(
            &format!("{tag}-joined"),
            "participant.joined",
            json!({"room": room, "session_id": format!("{tag}-s1"), "joined_at": start}),
        ),
        daily_event(
            &format!("{tag}-started"),
            "meeting.started",
            json!({"room": room, "meeting_id": format!("{tag}-m"), "start_ts": start}),
        ),
        daily_event(
            &format!("{tag}-ended"),
            "meeting.ended",
            json!({"room": room, "meeting_id": format!("{tag}-m"),
                   "start_ts": start, "end_ts": end}),
        ),
        daily_event(
            &format!("{tag}-left"),
            "participant.left",
            json!({"room": room, "session_id": format!("{tag}-s1"),
                   "joined_at": start, "duration": 3000}),
        ),
        daily_event(
            &format!("{tag}-recording"),
            "recording.ready-to-download",
            json!({"recording_id": format!("{tag}-rec"), "room_name": room,
                   "start_ts": start, "duration": 3000, "status": "finished"}),
        ),
    ]
}

/// What the store recorded that event `id` did.
fn outcome_of(app: &TestApp, id: &str) -> String {
    app.store
        .iter::<DailyEvent>()
        .map(|row| row.expect("event row"))
        .find(|row| row.event_id == id)
        .map(|row| row.outcome)
        .unwrap_or_else(|| panic!("event {id} was not recorded"))
}

/// Sends `events`, each acknowledged with 200 (so Daily stops sending it)
/// and recorded as ignored.
fn send_ignored(app: &TestApp, events: &[Value]) {
    for event in events {
        let (status, body) =
            DailyFake::send_webhook(&webhook_url(app), DAILY_WEBHOOK_SECRET, event);
        assert_eq!(
            (status, body["applied"].as_bool()),
            (200, Some(true)),
            "{event}: {body}"
        );
        let id = event["id"].as_str().expect("event id");
        let outcome = outcome_of(app, id);
        assert!(outcome.starts_with("ignored"), "{id}: {outcome}");
    }
}

/// Asserts booking `id` is in `status` with no call times and no
/// recordings, through the store and the API (as `session`'s client).
fn assert_no_call(app: &TestApp, id: u64, status: BookingStatus, session: &Session) {
    let row = booking_row(app, id);
    assert_eq!(
        (
            row.status,
            row.meeting_started_at,
            row.meeting_ended_at,
            row.meeting_duration
        ),
        (status, None, None, None),
        "booking {id}"
    );
    let view = app.authed("GET", &format!("/v1/bookings/{id}"), &session.client, None);
    assert_eq!(view.status, 200, "{}", view.raw);
    assert_eq!(view.body["status"], status.as_str(), "{}", view.raw);
    for field in ["meeting_started_at", "meeting_ended_at", "meeting_duration"] {
        assert!(view.body[field].is_null(), "{field}: {}", view.raw);
    }
    let list = app.authed(
        "GET",
        &format!("/v1/bookings/{id}/recordings"),
        &session.client,
        None,
    );
    assert_eq!(list.status, 200, "{}", list.raw);
    assert_eq!(
        list.body["recordings"].as_array().map(Vec::len),
        Some(0),
        "{}",
        list.raw
    );
}

/// Regression: a Daily event of a cancelled session's room (a call still
/// running when it was called off, or a late delivery) wrote the call's
/// times and recordings on the cancelled booking, which then read as a
/// session that took place.
#[test]
fn a_late_daily_event_of_a_cancelled_sessions_room_leaves_it_cancelled_without_a_call() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (session, room) = session_with_room(&app, "x");
    let cancel = app.authed(
        "POST",
        &format!("/v1/bookings/{}/cancel", session.booking),
        &session.provider,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancel.status, 200, "{}", cancel.raw);
    let start = dates::unix_seconds(0, "09:00") as f64; // the session's start

    // While the room is still to be deleted at Daily...
    assert_eq!(room_row(&app, session.booking).state, RoomState::Deleting);
    send_ignored(&app, &late_events("deleting", &room, start));
    assert_no_call(&app, session.booking, BookingStatus::Cancelled, &session);

    // ...and once it is deleted.
    let sweep = app.engine.run_video_sweep().expect("sweep");
    assert_eq!(sweep.deleted, 1, "{sweep:?}");
    assert_eq!(room_row(&app, session.booking).state, RoomState::Deleted);
    send_ignored(&app, &late_events("deleted", &room, start + 60.0));
    assert_no_call(&app, session.booking, BookingStatus::Cancelled, &session);
}

/// Regression: a late Daily event of a moved session's old room wrote the
/// call's times on the old, cancelled booking. The replacement, booked
/// under a new id with a room of its own, gets only its own room's events.
#[test]
fn a_late_daily_event_of_a_moved_sessions_old_room_changes_neither_booking() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (moved, old_room) = session_with_room(&app, "y");
    // Moved two hours later (11:00Z, 12:00 in Berlin).
    let reschedule = app.authed(
        "POST",
        &format!("/v1/bookings/{}/reschedule", moved.booking),
        &moved.client,
        Some(&format!(r#"{{"start_time":"{}"}}"#, dates::at(0, "11:00"))),
    );
    assert_eq!(reschedule.status, 201, "{}", reschedule.raw);
    let new_booking = reschedule.body["id"].as_u64().expect("new booking");
    let start = dates::unix_seconds(0, "09:00") as f64; // the old start, 09:00Z

    // Before the room job ran: the old room is being deleted, the new one
    // not made yet.
    send_ignored(&app, &late_events("before", &old_room, start));
    let sweep = app.engine.run_video_sweep().expect("sweep");
    assert_eq!((sweep.deleted, sweep.created), (1, 1), "{sweep:?}");
    let new_room = booking_row(&app, new_booking)
        .meeting_room_id
        .expect("the new booking's room");
    assert_ne!(new_room, old_room);
    // After: the old room is deleted, the new one live.
    send_ignored(&app, &late_events("after", &old_room, start));
    assert_no_call(&app, moved.booking, BookingStatus::Cancelled, &moved);
    assert_no_call(&app, new_booking, BookingStatus::Confirmed, &moved);

    // The new room's own call goes on the new booking, and only there.
    let new_start = start + 2.0 * 3600.0;
    let ended = daily_event(
        "new-ended",
        "meeting.ended",
        json!({"room": new_room, "start_ts": new_start, "end_ts": new_start + 45.0 * 60.0}),
    );
    let (status, _) = DailyFake::send_webhook(&webhook_url(&app), DAILY_WEBHOOK_SECRET, &ended);
    assert_eq!(status, 200);
    let replacement = booking_row(&app, new_booking);
    assert_eq!(
        (replacement.status, replacement.meeting_duration),
        (BookingStatus::Confirmed, Some(45))
    );
    assert_no_call(&app, moved.booking, BookingStatus::Cancelled, &moved);
}
