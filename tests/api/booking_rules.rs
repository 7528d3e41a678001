//! The booking rules over HTTP, each test named after what a review found:
//! whole sessions on the slot grid, within the booking horizon, few and
//! short unpaid holds, confirmed only once paid, completed or marked a
//! no-show only once started, and a session price Stripe can charge
//! (checked on the rate and the booking).

use std::time::{Duration, Instant};

use droply_engine::availability::SlotPolicy;
use droply_models::{Booking, BookingId, Money, UserId};

use crate::app::{error_code, spawn_app_paying, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::bookings::{booking_body, slot};
use crate::dates;

/// A request to book `expert` for `minutes` from `start`, without a message.
fn booking_of(expert: u64, start: &str, minutes: u16) -> String {
    format!(r#"{{"provider_id":{expert},"start_time":"{start}","duration":{minutes}}}"#)
}

/// Regression: a client could book any time ahead (years), while the expert
/// can block time with exceptions only up to about two years ahead.
#[test]
fn a_booking_past_the_horizon_is_refused_like_a_time_not_open() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    // 10:00Z is 11:00 or 12:00 in Berlin: open every day.
    let days_ahead = |days: i64| {
        let day = droply_models::Timestamp::now().plus_days(days).to_rfc3339();
        format!("{}T10:00:00Z", &day[..10])
    };
    let far = app.post_booking(&client, &booking_of(expert, &days_ahead(800), 60));
    assert_eq!(
        (far.status, error_code(&far).as_str()),
        (409, "slot_unavailable"),
        "{}",
        far.raw
    );
    let past_a_year = app.post_booking(&client, &booking_of(expert, &days_ahead(367), 60));
    assert_eq!(
        error_code(&past_a_year),
        "slot_unavailable",
        "{}",
        past_a_year.raw
    );
    assert_eq!(app.store.bookings().count(), 0, "nothing was held");
    let within = app.post_booking(&client, &booking_of(expert, &days_ahead(300), 60));
    assert_eq!(within.status, 201, "{}", within.raw);
}

#[test]
fn a_one_minute_booking_inside_a_slot_is_refused() {
    let app = spawn_app_paying();
    // Sessions of 60 minutes (the default length).
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    for (start, minutes) in [
        (dates::at(0, "09:07"), 1),
        (slot(), 1),
        (slot(), 30),
        (slot(), 90),
        (slot(), 300),
    ] {
        let r = app.post_booking(&client, &booking_of(expert, &start, minutes));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "invalid_input"),
            "{minutes} minutes at {start}: {}",
            r.raw
        );
        let message = r.body["message"].as_str().expect("message");
        assert!(message.contains("duration"), "{message}");
    }
    assert_eq!(app.store.bookings().count(), 0, "nothing was held");
    // Up to four whole sessions.
    let long = app.post_booking(&client, &booking_of(expert, &slot(), 240));
    assert_eq!(long.status, 201, "{}", long.raw);
    assert_eq!(long.body["payment_amount"]["amount_minor"], 36_000);
}

#[test]
fn a_start_off_the_slot_grid_is_refused() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    for start in [
        dates::at(0, "09:07"),
        dates::at(0, "09:15"),
        format!("{}T09:00:30Z", dates::day(0)),
    ] {
        let r = app.post_booking(&client, &booking_of(expert, &start, 60));
        assert_eq!(
            (r.status, error_code(&r).as_str()),
            (400, "invalid_input"),
            "{start}: {}",
            r.raw
        );
        let message = r.body["message"].as_str().expect("message");
        assert!(message.contains("start_time"), "{message}");
    }
    // What the slots offer can be booked.
    let monday = dates::day(0);
    let slots = app.get(&format!(
        "/v1/experts/{expert}/slots?from={monday}&to={monday}&tz=Europe/Berlin&duration=60"
    ));
    let offered: Vec<&str> = slots.body["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|slot| slot["start"].as_str())
        .collect();
    // 09:00 and 09:30 in Berlin (UTC+1 in winter).
    assert_eq!(
        offered.first().copied(),
        Some(dates::at(0, "08:00").as_str())
    );
    assert_eq!(
        offered.get(1).copied(),
        Some(dates::at(0, "08:30").as_str())
    );
    let booked = app.post_booking(&client, &booking_of(expert, offered[1], 60));
    assert_eq!(booked.status, 201, "{}", booked.raw);
}

#[test]
fn a_booker_cannot_hold_more_than_three_unpaid_slots() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let (_, other) = app.register("olga");
    let starts = [
        dates::at(0, "08:00"),
        dates::at(0, "09:00"),
        dates::at(0, "10:00"),
        dates::at(0, "11:00"),
    ];
    let mut held = Vec::new();
    for start in &starts[..3] {
        let r = app.post_booking(&client, &booking_of(expert, start, 60));
        assert_eq!(r.status, 201, "{}", r.raw);
        held.push(r.body["id"].as_u64().expect("id"));
    }
    let fourth = app.post_booking(&client, &booking_of(expert, &starts[3], 60));
    assert_eq!(
        (fourth.status, error_code(&fourth).as_str()),
        (409, "too_many_unpaid_bookings"),
        "{}",
        fourth.raw
    );
    // The limit is the booker's own.
    let theirs = app.post_booking(&other, &booking_of(expert, &starts[3], 60));
    assert_eq!(theirs.status, 201, "{}", theirs.raw);
    // Cancelling one hold makes room again.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{}/cancel", held[0]),
        &client,
        Some(r#"{"reason":"wrong day"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    let again = app.post_booking(&client, &booking_of(expert, &dates::at(0, "12:00"), 60));
    assert_eq!(again.status, 201, "{}", again.raw);
    app.assert_no_leaks();
}

#[test]
fn an_unpaid_hold_expires_and_frees_the_slot() {
    let app = spawn_app_paying_with(|config| {
        config.slot_policy = SlotPolicy {
            unpaid_hold_ttl: Duration::from_secs(1),
            ..SlotPolicy::default()
        };
        config.hold_sweep_every = Some(Duration::from_millis(200));
    });
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let (_, other) = app.register("olga");
    let held = app.post_booking(&client, &booking_body(expert, &slot()));
    assert_eq!(held.status, 201, "{}", held.raw);
    let id = held.body["id"].as_u64().expect("id");
    let taken = app.post_booking(&other, &booking_body(expert, &slot()));
    assert_eq!(error_code(&taken), "slot_unavailable");
    std::thread::sleep(Duration::from_millis(1100));
    // The lapsed hold blocks nobody, swept or not.
    let rebooked = app.post_booking(&other, &booking_body(expert, &slot()));
    assert_eq!(rebooked.status, 201, "{}", rebooked.raw);
    // And the sweep cancels it.
    let started = Instant::now();
    let lapsed = loop {
        let seen = app.authed("GET", &format!("/v1/bookings/{id}"), &client, None);
        if seen.body["status"] == "cancelled" {
            break seen;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "never swept: {}",
            seen.raw
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(lapsed.body["payment_status"], "failed");
    assert_eq!(
        lapsed.body["cancellation_reason"],
        "payment not received in time"
    );
    app.assert_no_leaks();
}

#[test]
fn a_provider_cannot_confirm_an_unpaid_booking() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = app.post_booking(&client, &booking_body(expert, &slot()));
    let id = created.body["id"].as_u64().expect("id");
    let path = format!("/v1/bookings/{id}/confirm");
    let unpaid = app.authed("POST", &path, &provider, None);
    assert_eq!(
        (unpaid.status, error_code(&unpaid).as_str()),
        (409, "invalid_state"),
        "{}",
        unpaid.raw
    );
    assert!(
        unpaid.body["message"]
            .as_str()
            .is_some_and(|m| m.contains("awaiting payment")),
        "{}",
        unpaid.raw
    );
    // Paying confirms it; the provider's confirm then has nothing left to
    // do and answers the booking as it stands.
    let paid = app.pay_booking(id);
    assert_eq!(paid.status, droply_models::BookingStatus::Confirmed);
    let again = app.authed("POST", &path, &provider, None);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["status"], "confirmed", "{}", again.raw);
}

#[test]
fn a_booking_cannot_be_completed_or_marked_no_show_before_it_starts() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = app.post_booking(&client, &booking_body(expert, &slot()));
    let id = created.body["id"].as_u64().expect("id");
    let paid = app.pay_booking(id);
    assert_eq!(paid.status, droply_models::BookingStatus::Confirmed);
    let path = format!("/v1/bookings/{id}");
    for action in ["complete", "no_show"] {
        let early = app.authed("POST", &format!("{path}/{action}"), &provider, None);
        assert_eq!(
            (early.status, error_code(&early).as_str()),
            (409, "invalid_state"),
            "{action}: {}",
            early.raw
        );
        assert!(
            early.body["message"]
                .as_str()
                .is_some_and(|m| m.contains("not started")),
            "{}",
            early.raw
        );
    }
    // Once the session has started, the provider completes it.
    app.store
        .bookings()
        .modify(BookingId::new(id), |b| {
            b.start_time = droply_models::Timestamp::now().plus_minutes(-90);
            b.end_time = b.start_time.plus_minutes(60);
            Ok(())
        })
        .expect("moved into the past");
    let done = app.authed("POST", &format!("{path}/complete"), &provider, None);
    assert_eq!(done.status, 200, "{}", done.raw);
    assert_eq!(done.body["status"], "completed");
}

/// Regression: a rate that prices a session under what Stripe charges was taken, and
/// so was a booking at it. One minor unit an hour made 15-minute sessions cost
/// nothing: booked and confirmed free from an expert who charges. JPY 60 an hour made
/// 30-minute sessions of JPY 30, under Stripe's JPY 50: booked, then cancelled when
/// Stripe refused the charge, with a 502.
#[test]
fn a_rate_too_low_for_stripe_to_charge_a_session_is_refused() {
    let app = spawn_app_paying();
    let (_, token) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let patch = |body: &str| app.authed("PATCH", "/v1/users/me", &token, Some(body));
    let penny = patch(r#"{"hourly_rate":1,"session_duration":15}"#);
    assert_eq!(
        (penny.status, error_code(&penny).as_str()),
        (400, "invalid_input"),
        "{}",
        penny.raw
    );
    assert!(
        penny.raw.contains("hourly_rate") && penny.raw.contains("15-minute"),
        "{}",
        penny.raw
    );
    let yen = patch(r#"{"currency":"JPY","hourly_rate":60,"session_duration":30}"#);
    assert_eq!(
        (yen.status, error_code(&yen).as_str()),
        (400, "invalid_input"),
        "{}",
        yen.raw
    );
    assert!(yen.raw.contains("JPY 50"), "{}", yen.raw);
    // A session at Stripe's minimum is a price.
    let enough = patch(r#"{"currency":"JPY","hourly_rate":100,"session_duration":30}"#);
    assert_eq!(enough.status, 200, "{}", enough.raw);

    // A rate set before the rule (written straight to the store) books nothing: the
    // request is refused before any slot is held.
    let (legacy, _) = expert_working(&app, "hana", "Europe/Berlin", "09:00", "17:00");
    app.store
        .users()
        .modify(UserId::new(legacy), |user| {
            user.hourly_rate = Some(Money::new(1, user.currency));
            user.session_duration = 15;
            Ok(())
        })
        .expect("an old rate");
    let (_, client) = app.register("carl");
    let refused = app.post_booking(&client, &booking_of(legacy, &slot(), 15));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (400, "invalid_input"),
        "{}",
        refused.raw
    );
    assert!(refused.raw.contains("15-minute"), "{}", refused.raw);
    assert_eq!(
        app.store.iter::<Booking>().count(),
        0,
        "nothing was booked, free or not"
    );
}
