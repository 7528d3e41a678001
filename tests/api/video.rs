//! Video calls of booked sessions through the API, with Daily.co played by
//! the in-process [`DailyFake`] reached by the real client: a confirmed
//! booking gets exactly one room (after a 500 and a retry on the backoff's
//! schedule), meeting tokens for the booker and the provider only (the
//! provider's owns the room) that never show up anywhere else, the WebRTC
//! fallback without Daily or without a room, the meeting window, Daily's
//! signed webhooks (call times once, in any order; a bad signature changes
//! nothing) and recordings with their short-lived links for the two
//! parties only.

use std::time::Duration;

use droply_engine::EngineConfig;
use droply_engine::video::{
    DailyClient, DailyConfig, RetryPolicy, RoomState, VideoRoom, room_sweep,
};
use droply_models::{Booking, BookingId, Timestamp};
use droply_test_support::daily_fake::{
    DAILY_API_KEY, DAILY_WEBHOOK_SECRET, DailyFake, daily_event, post_webhook, sign_webhook,
};
use serde_json::{Value, json};

use crate::app::{TestApp, error_code, spawn_app_paying_with, spawn_app_with};
use crate::availability::expert_working;

/// A Monday 10:00 in Berlin, on the slot grid.
const SLOT: &str = "2027-01-04T09:00:00Z";

/// Daily on `fake`, with the meeting open for years before the start (the
/// slot is far ahead) and a first retry 30 s after a failure.
fn daily_config(fake: &DailyFake, config: &mut EngineConfig) {
    config.video.daily = Some(DailyConfig {
        api_base: fake.base_url(),
        webhook_secret: Some(DAILY_WEBHOOK_SECRET.into()),
        ..DailyConfig::new(DAILY_API_KEY.into())
    });
    config.video.open_before = Duration::from_secs(3 * 365 * 24 * 3600);
    config.video.retry = RetryPolicy {
        first_delay: Duration::from_secs(30),
        max_delay: Duration::from_secs(600),
        max_attempts: 5,
    };
}

fn spawn_app_with_daily(fake: &DailyFake) -> TestApp {
    spawn_app_with(|config| daily_config(fake, config))
}

/// Who is on a booking.
struct Session {
    booking: u64,
    provider: String,
    client: String,
    stranger: String,
}

/// A free (so at once confirmed) one-hour booking at [`SLOT`].
fn confirmed_session(app: &TestApp, n: &str) -> Session {
    let (expert, provider) = expert_working(
        app,
        &format!("provider{n}"),
        "Europe/Berlin",
        "09:00",
        "17:00",
    );
    app.make_free(expert);
    let (_, client) = app.register(&format!("client{n}"));
    let (_, stranger) = app.register(&format!("stranger{n}"));
    let body = format!(r#"{{"provider_id":{expert},"start_time":"{SLOT}","duration":60}}"#);
    let booked = app.post_booking(&client, &body);
    assert_eq!(booked.status, 201, "{}", booked.raw);
    assert_eq!(booked.body["status"], "confirmed", "{}", booked.raw);
    Session {
        booking: booked.body["id"].as_u64().expect("booking id"),
        provider,
        client,
        stranger,
    }
}

fn booking_row(app: &TestApp, id: u64) -> Booking {
    app.store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking")
}

fn room_row(app: &TestApp, id: u64) -> VideoRoom {
    app.store
        .iter::<VideoRoom>()
        .map(|row| row.expect("room row"))
        .find(|row| row.booking_id == BookingId::new(id))
        .expect("a room row for the booking")
}

fn meeting(app: &TestApp, id: u64, token: &str) -> crate::app::Response {
    app.authed("POST", &format!("/v1/bookings/{id}/meeting"), token, None)
}

fn webhook_url(app: &TestApp) -> String {
    format!("http://{}/v1/webhooks/daily", app.addr)
}

#[test]
fn a_confirmed_booking_gets_one_room_after_a_500_and_a_retry() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "r");
    let queued = room_row(&app, session.booking);
    assert_eq!(queued.state, RoomState::Pending);

    fake.fail_next_room_creates(1);
    let first = app.engine.run_video_sweep().expect("sweep");
    assert_eq!((first.retried, first.created), (1, 0), "{first:?}");
    let waiting = room_row(&app, session.booking);
    assert_eq!(waiting.state, RoomState::Pending);
    assert_eq!(waiting.attempts, 1);
    assert!(
        waiting
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("500")),
        "{waiting:?}"
    );
    let wait = waiting
        .next_attempt_at
        .signed_duration_since(Timestamp::now())
        .num_seconds();
    assert!(
        (25..=30).contains(&wait),
        "the first retry is 30 s away, not {wait} s"
    );
    assert!(booking_row(&app, session.booking).meeting_room_id.is_none());

    // Not due yet: nothing is asked of Daily.
    let early = app.engine.run_video_sweep().expect("sweep");
    assert_eq!(early, Default::default());
    assert_eq!(fake.room_create_calls(), 1);

    // Once due, the same room name is asked for again and made once.
    let client =
        DailyClient::new(app.engine.video_config().daily.as_ref().expect("daily")).expect("client");
    let later = Timestamp::now().plus_minutes(1);
    let second =
        room_sweep(&app.store, &client, app.engine.video_config(), later).expect("second pass");
    assert_eq!(second.created, 1, "{second:?}");
    assert_eq!(fake.room_create_calls(), 2);
    let rooms = fake.rooms();
    assert_eq!(rooms.len(), 1, "{rooms:?}");
    assert_eq!(rooms[0]["privacy"], "private");
    let booking = booking_row(&app, session.booking);
    assert_eq!(
        booking.meeting_room_id.as_deref(),
        rooms[0]["name"].as_str()
    );
    assert_eq!(
        booking.meeting_url.as_ref().map(|u| u.as_str().to_owned()),
        rooms[0]["url"].as_str().map(str::to_owned)
    );
    // The room expires after the session, and opens before it.
    let exp = rooms[0]["config"]["exp"].as_i64().expect("exp");
    let nbf = rooms[0]["config"]["nbf"].as_i64().expect("nbf");
    let end = booking.end_time.as_micros() / 1_000_000;
    let start = booking.start_time.as_micros() / 1_000_000;
    assert!(exp > end && nbf < start, "nbf {nbf}, exp {exp}");
    assert_eq!(room_row(&app, session.booking).state, RoomState::Created);

    // Later passes leave it alone.
    app.engine.run_video_sweep().expect("sweep");
    assert_eq!(fake.room_create_calls(), 2);
    assert_eq!(fake.unauthorized_calls(), 0);
    let view = app.authed(
        "GET",
        &format!("/v1/bookings/{}", session.booking),
        &session.client,
        None,
    );
    assert_eq!(view.body["meeting_url"], rooms[0]["url"], "{}", view.raw);
}

#[test]
fn a_room_made_whose_answer_was_lost_is_found_by_name_not_made_twice() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "l");
    fake.lose_next_room_answers(1);
    let first = app.engine.run_video_sweep().expect("sweep");
    assert_eq!(first.retried, 1, "{first:?}");
    assert_eq!(fake.rooms().len(), 1, "Daily made it");
    assert!(booking_row(&app, session.booking).meeting_room_id.is_none());
    let client =
        DailyClient::new(app.engine.video_config().daily.as_ref().expect("daily")).expect("client");
    let later = Timestamp::now().plus_minutes(1);
    let second =
        room_sweep(&app.store, &client, app.engine.video_config(), later).expect("second pass");
    assert_eq!(second.created, 1, "{second:?}");
    assert_eq!(fake.room_create_calls(), 2);
    let rooms = fake.rooms();
    assert_eq!(rooms.len(), 1, "{rooms:?}");
    assert_eq!(
        booking_row(&app, session.booking)
            .meeting_room_id
            .as_deref(),
        rooms[0]["name"].as_str()
    );
}

#[test]
fn a_paid_booking_gets_its_room_once_stripe_confirms_it() {
    let fake = DailyFake::start();
    let app = spawn_app_paying_with(|config| daily_config(&fake, config));
    let (expert, _) = expert_working(&app, "paidprovider", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("paidclient");
    let body = format!(r#"{{"provider_id":{expert},"start_time":"{SLOT}","duration":60}}"#);
    let booked = app.post_booking(&client, &body);
    assert_eq!(booked.status, 201, "{}", booked.raw);
    let id = booked.body["id"].as_u64().expect("booking id");
    // Awaiting payment: no room in the outbox, no meeting.
    assert_eq!(app.store.iter::<VideoRoom>().count(), 0);
    let unpaid = meeting(&app, id, &client);
    assert_eq!(
        error_code(&unpaid),
        "booking_not_confirmed",
        "{}",
        unpaid.raw
    );
    app.pay_booking(id);
    app.wait_for_booking(id, |b| b.status == droply_models::BookingStatus::Confirmed);
    assert_eq!(room_row(&app, id).state, RoomState::Pending);
    let sweep = app.engine.run_video_sweep().expect("sweep");
    assert_eq!(sweep.created, 1, "{sweep:?}");
    assert!(booking_row(&app, id).meeting_room_id.is_some());
    let joined = meeting(&app, id, &client);
    assert_eq!(joined.body["provider"], "daily", "{}", joined.raw);
    app.assert_no_leaks();
}

#[test]
fn meeting_tokens_go_to_the_booker_and_the_provider_only() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "t");
    app.engine.run_video_sweep().expect("sweep");
    let room = booking_row(&app, session.booking)
        .meeting_room_id
        .expect("a room");

    let booker = meeting(&app, session.booking, &session.client);
    assert_eq!(booker.status, 200, "{}", booker.raw);
    assert_eq!(booker.body["provider"], "daily");
    assert!(booker.body.get("signal_url").is_none(), "{}", booker.raw);
    let booker_token = booker.body["token"].as_str().expect("token").to_owned();
    let claims = fake
        .token_claims(&booker_token)
        .expect("a token the fake made");
    assert_eq!(claims["room_name"], room.as_str());
    assert_eq!(claims["is_owner"], false);
    assert_eq!(claims["user_name"], "clientt Person");
    assert!(
        booker.body["room_url"]
            .as_str()
            .is_some_and(|u| u.ends_with(&room))
    );
    assert_eq!(booker.body["starts_at"], SLOT);

    let provider = meeting(&app, session.booking, &session.provider);
    assert_eq!(provider.status, 200, "{}", provider.raw);
    let provider_token = provider.body["token"].as_str().expect("token").to_owned();
    assert_ne!(provider_token, booker_token);
    let claims = fake
        .token_claims(&provider_token)
        .expect("a token the fake made");
    assert_eq!(claims["is_owner"], true);
    assert_eq!(claims["room_name"], room.as_str());

    // Each ask makes a fresh token.
    let again = meeting(&app, session.booking, &session.client);
    assert_ne!(again.body["token"], booker.body["token"]);

    let stranger = meeting(&app, session.booking, &session.stranger);
    assert_eq!(stranger.status, 404, "{}", stranger.raw);
    assert_eq!(error_code(&stranger), "not_found");
    let anonymous = app.request(
        "POST",
        &format!("/v1/bookings/{}/meeting", session.booking),
        None,
    );
    assert_eq!(anonymous.status, 401, "{}", anonymous.raw);
    assert_eq!(
        fake.tokens().len(),
        3,
        "no token for the stranger or anonymous"
    );

    // The tokens are never in a booking view, for either party.
    for token in [&session.client, &session.provider] {
        let one = app.authed(
            "GET",
            &format!("/v1/bookings/{}", session.booking),
            token,
            None,
        );
        assert_eq!(one.status, 200, "{}", one.raw);
        let list = app.authed("GET", "/v1/bookings?role=provider", token, None);
        let mine = app.authed("GET", "/v1/bookings", token, None);
        for raw in [&one.raw, &list.raw, &mine.raw] {
            assert!(
                !raw.contains(&booker_token) && !raw.contains(&provider_token),
                "{raw}"
            );
        }
    }
    // Nor in any answer but the meeting answer to its own holder.
    for (sent, path, raw) in app.seen.lock().expect("log").iter() {
        for (token, holder) in [
            (&booker_token, &session.client),
            (&provider_token, &session.provider),
        ] {
            if raw.contains(token.as_str()) {
                assert!(
                    path.ends_with("/meeting") && sent.as_deref() == Some(holder.as_str()),
                    "{path} shows a meeting token: {raw}"
                );
            }
        }
    }
    app.assert_no_leaks();
}

#[test]
fn without_daily_the_meeting_is_webrtc_with_the_signal_url() {
    let app = spawn_app_with(|config| {
        config.video.open_before = Duration::from_secs(3 * 365 * 24 * 3600);
    });
    let session = confirmed_session(&app, "w");
    assert_eq!(
        app.engine.run_video_sweep().expect("sweep"),
        Default::default()
    );
    for token in [&session.client, &session.provider] {
        let answer = meeting(&app, session.booking, token);
        assert_eq!(answer.status, 200, "{}", answer.raw);
        assert_eq!(answer.body["provider"], "webrtc");
        assert_eq!(
            answer.body["signal_url"],
            format!("/v1/bookings/{}/signal", session.booking)
        );
        assert!(answer.body.get("token").is_none() && answer.body.get("room_url").is_none());
        assert_eq!(answer.body["ends_at"], "2027-01-04T10:00:00Z");
    }
    // Daily's webhook and recording links need Daily.
    let (status, body) = DailyFake::send_webhook(
        &webhook_url(&app),
        DAILY_WEBHOOK_SECRET,
        &daily_event("ev-1", "meeting.started", json!({})),
    );
    assert_eq!(
        (status, body["code"].as_str()),
        (503, Some("video_not_configured"))
    );
    let recordings = app.authed(
        "GET",
        &format!("/v1/bookings/{}/recordings", session.booking),
        &session.client,
        None,
    );
    assert_eq!(recordings.status, 200, "{}", recordings.raw);
    assert_eq!(recordings.body["recordings"], json!([]));
}

#[test]
fn a_room_not_made_when_a_party_asks_means_webrtc_for_both() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "f");
    let first = meeting(&app, session.booking, &session.client);
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["provider"], "webrtc", "{}", first.raw);
    assert_eq!(room_row(&app, session.booking).state, RoomState::FellBack);
    // The job makes no room now, so the provider meets the client there too.
    app.engine.run_video_sweep().expect("sweep");
    assert_eq!(fake.room_create_calls(), 0);
    let second = meeting(&app, session.booking, &session.provider);
    assert_eq!(second.body["provider"], "webrtc", "{}", second.raw);
    assert_eq!(second.body["signal_url"], first.body["signal_url"]);
}

#[test]
fn a_meeting_outside_its_window_or_of_an_unconfirmed_booking_is_refused() {
    let fake = DailyFake::start();
    // The default window: 10 minutes before the start (in 2027).
    let app = spawn_app_with(|config| {
        daily_config(&fake, config);
        config.video.open_before = Duration::from_secs(600);
    });
    let session = confirmed_session(&app, "o");
    app.engine.run_video_sweep().expect("sweep");
    let early = meeting(&app, session.booking, &session.client);
    assert_eq!(early.status, 409, "{}", early.raw);
    assert_eq!(error_code(&early), "meeting_not_open");
    assert!(
        early.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("2027-01-04T08:50:00")),
        "{}",
        early.raw
    );
    assert!(fake.tokens().is_empty(), "no token outside the window");

    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{}/cancel", session.booking),
        &session.client,
        Some(r#"{"reason":"plans changed"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    let refused = meeting(&app, session.booking, &session.provider);
    assert_eq!(refused.status, 409, "{}", refused.raw);
    assert_eq!(error_code(&refused), "booking_not_confirmed");
    let malformed = meeting(&app, 0, &session.provider);
    assert_eq!(malformed.status, 404, "{}", malformed.raw);
    let garbage = app.authed("POST", "/v1/bookings/x1/meeting", &session.provider, None);
    assert_eq!(garbage.status, 400, "{}", garbage.raw);
}

#[test]
fn daily_webhooks_record_the_call_once_in_any_order_and_only_when_signed() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let session = confirmed_session(&app, "h");
    app.engine.run_video_sweep().expect("sweep");
    let room = booking_row(&app, session.booking)
        .meeting_room_id
        .expect("a room");
    let url = webhook_url(&app);
    let start = 1_799_053_200.25; // 2027-01-04T09:00:00.25Z
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
        view.body["meeting_started_at"], "2027-01-04T09:00:00.250Z",
        "{}",
        view.raw
    );
    assert_eq!(
        view.body["meeting_ended_at"], "2027-01-04T09:50:10.250Z",
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
               "start_ts": 1_799_053_200, "status": "finished", "duration": 1800,
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
    let session = confirmed_session(&app, "d");
    app.engine.run_video_sweep().expect("sweep");
    let room = booking_row(&app, session.booking)
        .meeting_room_id
        .expect("a room");
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
