//! Video rooms of booked sessions through the API, with Daily.co played by
//! the in-process [`DailyFake`] reached by the real client: a confirmed
//! booking gets exactly one room (after a 500 and a retry on the backoff's
//! schedule, or found by name when Daily's answer was lost), a paid one once
//! Stripe confirms it, an imported one too, and a room of a cancelled or moved
//! session, or one Daily made while its booking was cancelled or fell back to
//! WebRTC, deleted at Daily.
//! Meetings (tokens, the WebRTC fallback, the window, joining from the booking
//! page) are in `video_meetings`; Daily's webhooks and recordings in
//! `video_webhooks`, both over the helpers here.

use std::time::Duration;

use droply_engine::EngineConfig;
use droply_engine::video::{
    DailyClient, DailyConfig, RetryPolicy, RoomState, VideoRoom, room_sweep,
};
use droply_models::{Booking, BookingId, Timestamp};
use droply_test_support::daily_fake::{DAILY_API_KEY, DAILY_WEBHOOK_SECRET, DailyFake};

use crate::app::{TestApp, error_code, spawn_app_paying_with, spawn_app_with};
use crate::availability::expert_working;
use crate::dates;

/// A Monday 10:00 in Berlin, on the slot grid: [`dates::winter_monday`] 09:00Z.
pub(crate) fn slot() -> String {
    dates::at(0, "09:00")
}

/// Daily on `fake`, with the meeting open for years before the start (the
/// slot is weeks to months ahead) and a first retry 30 s after a failure.
pub(crate) fn daily_config(fake: &DailyFake, config: &mut EngineConfig) {
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

pub(crate) fn spawn_app_with_daily(fake: &DailyFake) -> TestApp {
    spawn_app_with(|config| daily_config(fake, config))
}

/// Who is on a booking.
pub(crate) struct Session {
    pub(crate) booking: u64,
    pub(crate) provider: String,
    pub(crate) client: String,
    pub(crate) stranger: String,
}

/// A free (so at once confirmed) one-hour booking at [`slot`].
pub(crate) fn confirmed_session(app: &TestApp, n: &str) -> Session {
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
    let slot = slot();
    let body = format!(r#"{{"provider_id":{expert},"start_time":"{slot}","duration":60}}"#);
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

/// [`confirmed_session`] after the video job made its room: the session and the room's id.
pub(crate) fn session_with_room(app: &TestApp, n: &str) -> (Session, String) {
    let session = confirmed_session(app, n);
    app.engine.run_video_sweep().expect("sweep");
    let room = booking_row(app, session.booking)
        .meeting_room_id
        .expect("a room");
    (session, room)
}

pub(crate) fn booking_row(app: &TestApp, id: u64) -> Booking {
    app.store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking")
}

pub(crate) fn room_row(app: &TestApp, id: u64) -> VideoRoom {
    app.store
        .iter::<VideoRoom>()
        .map(|row| row.expect("room row"))
        .find(|row| row.booking_id == BookingId::new(id))
        .expect("a room row for the booking")
}

pub(crate) fn meeting(app: &TestApp, id: u64, token: &str) -> crate::app::Response {
    app.authed("POST", &format!("/v1/bookings/{id}/meeting"), token, None)
}

pub(crate) fn webhook_url(app: &TestApp) -> String {
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
    let slot = slot();
    let body = format!(r#"{{"provider_id":{expert},"start_time":"{slot}","duration":60}}"#);
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

/// Regression: an imported confirmed booking still ahead got no video room
/// (only bookings confirmed here, and the schema-6 migration, queued one),
/// so its meeting fell back to WebRTC with Daily configured.
#[test]
fn an_imported_confirmed_session_gets_its_room() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (expert, _) = app.register("grace");
    app.make_expert(expert, "Europe/Berlin");
    let (client, _) = app.register("carl");
    let start = Timestamp::now().plus_days(3);
    let mut ahead = Booking::new(droply_models::NewBooking {
        user_id: droply_models::UserId::new(client),
        provider_id: droply_models::UserId::new(expert),
        start_time: start,
        duration: 60,
        payment_amount: droply_models::Money::zero(droply_models::Currency::USD),
        client_name: "carl Person".to_owned(),
        client_email: droply_models::Email::parse("carl@example.org").expect("email"),
        client_message: None,
        created_at: Timestamp::now(),
    });
    ahead.id = BookingId::new(9_001);
    ahead.status = droply_models::BookingStatus::Confirmed;
    let mut cancelled = ahead.clone();
    cancelled.id = BookingId::new(9_002);
    cancelled.status = droply_models::BookingStatus::Cancelled;
    droply_engine::import::import_rows(
        &app.store,
        [
            droply_engine::import::ImportRow::Booking(ahead),
            droply_engine::import::ImportRow::Booking(cancelled),
        ],
        |_| {},
    )
    .expect("import");
    app.engine.run_video_sweep().expect("sweep");
    assert!(booking_row(&app, 9_001).meeting_room_id.is_some());
    assert!(booking_row(&app, 9_002).meeting_room_id.is_none());
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// Regression: a room stayed at Daily after its booking was cancelled or moved: the
/// room, and the meeting tokens already given out, let people in until the old end
/// plus the grace, and rooms piled up in the account.
#[test]
fn a_cancelled_or_moved_sessions_room_is_deleted_at_daily() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);
    let (cancelled, cancelled_room) = session_with_room(&app, "c");
    let (moved, moved_room) = session_with_room(&app, "m");
    assert_eq!(fake.rooms().len(), 2);
    let cancel = app.authed(
        "POST",
        &format!("/v1/bookings/{}/cancel", cancelled.booking),
        &cancelled.provider,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancel.status, 200, "{}", cancel.raw);
    // Moved two hours later (11:00Z, 12:00 in Berlin): a new booking with a room of its own.
    let reschedule = app.authed(
        "POST",
        &format!("/v1/bookings/{}/reschedule", moved.booking),
        &moved.client,
        Some(&format!(r#"{{"start_time":"{}"}}"#, dates::at(0, "11:00"))),
    );
    assert_eq!(reschedule.status, 201, "{}", reschedule.raw);
    let new_booking = reschedule.body["id"].as_u64().expect("new booking");

    let sweep = app.engine.run_video_sweep().expect("sweep");
    assert_eq!((sweep.deleted, sweep.created), (2, 1), "{sweep:?}");
    let names: Vec<String> = fake
        .rooms()
        .iter()
        .filter_map(|room| room["name"].as_str().map(str::to_owned))
        .collect();
    assert!(
        !names.contains(&cancelled_room) && !names.contains(&moved_room),
        "{names:?}"
    );
    assert_eq!(
        names.len(),
        1,
        "only the moved session's new room: {names:?}"
    );
    for old in [cancelled.booking, moved.booking] {
        assert_eq!(room_row(&app, old).state, RoomState::Deleted);
        assert!(booking_row(&app, old).meeting_room_id.is_none());
    }
    assert!(booking_row(&app, new_booking).meeting_room_id.is_some());
    assert_eq!(
        app.engine.run_video_sweep().expect("sweep"),
        Default::default(),
        "each room is deleted once"
    );
}

/// Runs the room job on another thread while Daily holds the room it makes,
/// does `meanwhile`, then lets Daily answer; what the pass did.
fn sweep_while_daily_makes_the_room(
    app: &TestApp,
    fake: &DailyFake,
    meanwhile: impl FnOnce(),
) -> droply_engine::video::RoomSweep {
    fake.hold_room_creates();
    std::thread::scope(|scope| {
        let pass = scope.spawn(|| app.engine.run_video_sweep());
        let reached = fake.wait_for_held_room_creates(1, Duration::from_secs(15));
        if reached {
            meanwhile();
        }
        fake.release_room_creates();
        let sweep = pass.join().expect("the pass").expect("sweep");
        assert!(reached, "the room job reached Daily");
        sweep
    })
}

/// Regression: a room Daily made while its booking was being cancelled, or
/// while a party was sent to WebRTC, was never deleted: the job found its
/// row no longer pending and left the room open at Daily for good.
#[test]
fn a_room_made_while_its_booking_is_cancelled_or_falls_back_is_deleted() {
    let fake = DailyFake::start();
    let app = spawn_app_with_daily(&fake);

    let cancelled = confirmed_session(&app, "c");
    let sweep = sweep_while_daily_makes_the_room(&app, &fake, || {
        let cancel = app.authed(
            "POST",
            &format!("/v1/bookings/{}/cancel", cancelled.booking),
            &cancelled.client,
            Some(r#"{"reason":"cannot make it"}"#),
        );
        assert_eq!(cancel.status, 200, "{}", cancel.raw);
    });
    assert_eq!(sweep.created, 0, "{sweep:?}");
    assert_eq!(fake.rooms().len(), 1, "Daily made the room");
    let row = room_row(&app, cancelled.booking);
    assert_eq!(row.state, RoomState::Deleting, "{row:?}");
    assert!(row.daily_room_id.is_some(), "{row:?}");
    assert!(
        booking_row(&app, cancelled.booking)
            .meeting_room_id
            .is_none()
    );
    let sweep = app.engine.run_video_sweep().expect("sweep");
    assert_eq!(sweep.deleted, 1, "{sweep:?}");
    assert_eq!(room_row(&app, cancelled.booking).state, RoomState::Deleted);
    assert!(fake.rooms().is_empty(), "{:?}", fake.rooms());

    let fell_back = confirmed_session(&app, "w");
    let sweep = sweep_while_daily_makes_the_room(&app, &fake, || {
        let answer = meeting(&app, fell_back.booking, &fell_back.client);
        assert_eq!(answer.status, 200, "{}", answer.raw);
        assert_eq!(answer.body["provider"], "webrtc", "{}", answer.raw);
    });
    assert_eq!(sweep.created, 0, "{sweep:?}");
    assert_eq!(room_row(&app, fell_back.booking).state, RoomState::Deleting);
    let sweep = app.engine.run_video_sweep().expect("sweep");
    assert_eq!(sweep.deleted, 1, "{sweep:?}");
    assert_eq!(room_row(&app, fell_back.booking).state, RoomState::Deleted);
    assert!(fake.rooms().is_empty(), "{:?}", fake.rooms());
    // Both parties still meet over WebRTC.
    let again = meeting(&app, fell_back.booking, &fell_back.provider);
    assert_eq!(again.body["provider"], "webrtc", "{}", again.raw);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}
