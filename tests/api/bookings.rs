//! Bookings over HTTP: who sees and moves what, rescheduling and the
//! iCalendar export; and the
//! booking rules, each test named after what a review found: whole sessions
//! on the slot grid, within the booking horizon, few and short unpaid holds,
//! confirmed only once paid, completed or marked a no-show only once started,
//! and a session price Stripe can charge (checked on the rate and the booking).

use std::time::{Duration, Instant};

use droply_engine::availability::SlotPolicy;
use droply_models::{Booking, BookingId, Money, Timestamp, UserId};

use crate::app::{TestApp, error_code, spawn_app_paying, spawn_app_paying_with};
use crate::availability::expert_working;

/// Monday 2027-01-04 10:00 in Berlin.
pub(crate) const SLOT: &str = "2027-01-04T09:00:00Z";

pub(crate) fn booking_body(expert: u64, start: &str) -> String {
    format!(
        r#"{{"provider_id":{expert},"start_time":"{start}","duration":60,"client_message":"Hi, VAT; please"}}"#
    )
}

/// Moves booking `id` to the hour that began at `start`, then has its
/// expert, signed in with `provider`, mark it completed.
pub(crate) fn held_then_completed(app: &TestApp, id: u64, start: Timestamp, provider: &str) {
    app.store
        .bookings()
        .modify(BookingId::new(id), |b| {
            b.start_time = start;
            b.end_time = b.start_time.plus_minutes(60);
            Ok(())
        })
        .expect("in the past");
    let done = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/complete"),
        provider,
        None,
    );
    assert_eq!(done.status, 200, "{}", done.raw);
}

fn booking_of(expert: u64, start: &str, minutes: u16) -> String {
    format!(r#"{{"provider_id":{expert},"start_time":"{start}","duration":{minutes}}}"#)
}

#[test]
fn only_the_booker_and_provider_see_and_move_a_booking() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let (_, stranger) = app.register("mallory");
    let created = app.post_booking(&client, &booking_body(expert, SLOT));
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["status"], "pending_payment");
    let id = created.body["id"].as_u64().expect("id");
    // Stripe ids on the stored row (a real PaymentIntent's) must never show.
    let stored = app
        .store
        .bookings()
        .modify(droply_models::BookingId::new(id), |b| {
            b.stripe_session_id = Some("cs_SECRET".to_owned());
            Ok(())
        })
        .expect("stripe");
    assert!(
        stored
            .stripe_payment_intent_id
            .is_some_and(|intent| intent.starts_with("pi_"))
    );

    let path = format!("/v1/bookings/{id}");
    assert_eq!(app.authed("GET", &path, &client, None).status, 200);
    assert_eq!(app.authed("GET", &path, &provider, None).status, 200);
    let hidden = app.authed("GET", &path, &stranger, None);
    assert_eq!(
        (hidden.status, error_code(&hidden).as_str()),
        (404, "not_found")
    );
    assert_eq!(app.get(&path).status, 401);
    assert_eq!(
        app.authed("GET", "/v1/bookings/424242", &client, None)
            .status,
        404
    );
    assert_eq!(
        error_code(&app.authed("GET", "/v1/bookings/xyz", &client, None)),
        "invalid_parameter"
    );

    let mine = app.authed("GET", "/v1/bookings?role=client", &client, None);
    assert_eq!(mine.body["bookings"].as_array().map(Vec::len), Some(1));
    let theirs = app.authed("GET", "/v1/bookings?role=provider", &provider, None);
    assert_eq!(theirs.body["bookings"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.authed("GET", "/v1/bookings?role=provider", &client, None)
            .body["bookings"]
            .as_array()
            .map(Vec::len),
        Some(0)
    );
    assert_eq!(
        error_code(&app.authed("GET", "/v1/bookings?role=boss", &client, None)),
        "invalid_parameter"
    );

    // The client may not confirm; strangers do not see it.
    let by_client = app.authed("POST", &format!("{path}/confirm"), &client, None);
    assert_eq!(
        (by_client.status, error_code(&by_client).as_str()),
        (403, "forbidden")
    );
    let by_stranger = app.authed("POST", &format!("{path}/confirm"), &stranger, None);
    assert_eq!(by_stranger.status, 404);
    let early = app.authed("POST", &format!("{path}/complete"), &provider, None);
    assert_eq!(
        (early.status, error_code(&early).as_str()),
        (409, "invalid_state")
    );
    // Confirmed once paid, by the payment itself.
    app.pay_booking(id);
    let confirmed = app.authed("GET", &path, &provider, None);
    assert_eq!(confirmed.body["status"], "confirmed", "{}", confirmed.raw);
    assert_eq!(confirmed.body["payment_status"], "succeeded");

    // Cancelling needs a reason.
    let no_reason = app.authed("POST", &format!("{path}/cancel"), &client, Some("{}"));
    assert_eq!(error_code(&no_reason), "invalid_input");
    let blank = app.authed(
        "POST",
        &format!("{path}/cancel"),
        &client,
        Some(r#"{"reason":" "}"#),
    );
    assert_eq!(error_code(&blank), "invalid_input");
    let bad_json = app.authed("POST", &format!("{path}/cancel"), &client, Some("{"));
    assert_eq!(error_code(&bad_json), "invalid_json");
    let cancelled = app.authed(
        "POST",
        &format!("{path}/cancel"),
        &client,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancelled.body["status"], "cancelled", "{}", cancelled.raw);
    assert_eq!(cancelled.body["cancellation_reason"], "ill");
    let twice = app.authed("POST", &format!("{path}/no_show"), &provider, None);
    assert_eq!(error_code(&twice), "invalid_state");
    app.assert_no_leaks();
}

#[test]
fn rescheduling_links_a_new_booking_and_frees_the_old_slot() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let (_, other) = app.register("olga");
    let first = app.post_booking(&client, &booking_body(expert, SLOT));
    let old_id = first.body["id"].as_u64().expect("id");
    let path = format!("/v1/bookings/{old_id}/reschedule");
    let stranger = app.authed(
        "POST",
        &path,
        &other,
        Some(r#"{"start_time":"2027-01-04T11:00:00Z"}"#),
    );
    assert_eq!(stranger.status, 404);
    let closed = app.authed(
        "POST",
        &path,
        &client,
        Some(r#"{"start_time":"2027-01-04T20:00:00Z"}"#),
    );
    assert_eq!(error_code(&closed), "slot_unavailable");
    let bad = app.authed("POST", &path, &client, Some(r#"{"start_time":42}"#));
    assert_eq!(error_code(&bad), "invalid_input");
    let moved = app.authed(
        "POST",
        &path,
        &client,
        Some(r#"{"start_time":"2027-01-04T11:00:00Z"}"#),
    );
    assert_eq!(moved.status, 201, "{}", moved.raw);
    assert_eq!(moved.body["rescheduled_from"], old_id);
    let old = app.authed("GET", &format!("/v1/bookings/{old_id}"), &provider, None);
    assert_eq!(old.body["status"], "cancelled");
    // The old time is open again.
    let rebook = app.post_booking(&other, &booking_body(expert, SLOT));
    assert_eq!(rebook.status, 201, "{}", rebook.raw);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

#[test]
fn bad_booking_requests_get_clear_errors() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (me, client) = app.register("carl");
    let cases = [
        (
            booking_body(expert, "2027-01-04T20:00:00Z"),
            409,
            "slot_unavailable",
        ),
        (
            booking_body(expert, "2020-01-06T09:00:00Z"),
            409,
            "slot_unavailable",
        ),
        (booking_body(999_999, SLOT), 404, "not_found"),
        (booking_body(me, SLOT), 400, "invalid_input"),
        (
            format!(r#"{{"provider_id":"{expert}","start_time":"{SLOT}","duration":60}}"#),
            400,
            "invalid_input",
        ),
        (
            format!(r#"{{"provider_id":{expert},"start_time":"soon","duration":60}}"#),
            400,
            "invalid_input",
        ),
        (
            format!(r#"{{"provider_id":{expert},"start_time":"{SLOT}","duration":-5}}"#),
            400,
            "invalid_input",
        ),
        (
            format!(r#"{{"provider_id":{expert},"start_time":"{SLOT}"}}"#),
            400,
            "invalid_input",
        ),
        (format!(r#"{{"provider_id":{expert},"#), 400, "invalid_json"),
        (
            format!(
                r#"{{"provider_id":{expert},"start_time":"{SLOT}","duration":60,"client_message":"{}"}}"#,
                "x".repeat(70_000)
            ),
            413,
            "payload_too_large",
        ),
    ];
    for (body, status, code) in cases {
        let response = app.post_booking(&client, &body);
        assert_eq!(
            (response.status, error_code(&response).as_str()),
            (status, code),
            "{}: {}",
            &body[..body.len().min(120)],
            response.raw
        );
    }
    let no_token = app.request("POST", "/v1/bookings", Some(&booking_body(expert, SLOT)));
    assert_eq!(no_token.status, 401);
    let bad_key = app.send(
        "POST",
        "/v1/bookings",
        Some(&booking_body(expert, SLOT)),
        Some(&client),
        &[("Idempotency-Key", &"k".repeat(300))],
    );
    assert_eq!(error_code(&bad_key), "invalid_input");
    assert_eq!(app.store.bookings().count(), 0);
}

#[test]
fn a_booking_exports_as_icalendar() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let (_, stranger) = app.register("mallory");
    let created = app.post_booking(&client, &booking_body(expert, SLOT));
    let id = created.body["id"].as_u64().expect("id");
    let ics = app.authed("GET", &format!("/v1/bookings/{id}.ics"), &client, None);
    assert_eq!(ics.status, 200);
    assert!(
        ics.head
            .to_ascii_lowercase()
            .contains("content-type: text/calendar")
    );
    let text = &ics.raw;
    assert!(
        text.starts_with("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n"),
        "{text}"
    );
    assert!(text.ends_with("END:VEVENT\r\nEND:VCALENDAR\r\n"), "{text}");
    assert!(text.contains("\r\nDTSTART:20270104T090000Z\r\n"));
    assert!(text.contains("\r\nDTEND:20270104T100000Z\r\n"));
    assert!(
        text.contains("DESCRIPTION:Hi\\, VAT\\; please\r\n"),
        "{text}"
    );
    assert!(text.contains(&format!("UID:booking-{id}@droply")));
    assert!(text.contains("\r\nSEQUENCE:0\r\n"), "{text}");
    assert!(text.contains("\r\nSTATUS:TENTATIVE\r\n"), "{text}");
    assert!(!text.replace("\r\n", "").contains('\n'));
    let hidden = app.authed("GET", &format!("/v1/bookings/{id}.ics"), &stranger, None);
    assert_eq!(hidden.status, 404);
    app.assert_no_leaks();
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
        ("2027-01-04T09:07:00Z", 1),
        (SLOT, 1),
        (SLOT, 30),
        (SLOT, 90),
        (SLOT, 300),
    ] {
        let r = app.post_booking(&client, &booking_of(expert, start, minutes));
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
    let long = app.post_booking(&client, &booking_of(expert, SLOT, 240));
    assert_eq!(long.status, 201, "{}", long.raw);
    assert_eq!(long.body["payment_amount"]["amount_minor"], 36_000);
}

#[test]
fn a_start_off_the_slot_grid_is_refused() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    for start in [
        "2027-01-04T09:07:00Z",
        "2027-01-04T09:15:00Z",
        "2027-01-04T09:00:30Z",
    ] {
        let r = app.post_booking(&client, &booking_of(expert, start, 60));
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
    let slots = app.get(&format!(
        "/v1/experts/{expert}/slots?from=2027-01-04&to=2027-01-04&tz=Europe/Berlin&duration=60"
    ));
    let offered: Vec<&str> = slots.body["slots"]
        .as_array()
        .expect("slots")
        .iter()
        .filter_map(|slot| slot["start"].as_str())
        .collect();
    assert_eq!(offered.first(), Some(&"2027-01-04T08:00:00Z"));
    assert_eq!(offered.get(1), Some(&"2027-01-04T08:30:00Z"));
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
        "2027-01-04T08:00:00Z",
        "2027-01-04T09:00:00Z",
        "2027-01-04T10:00:00Z",
        "2027-01-04T11:00:00Z",
    ];
    let mut held = Vec::new();
    for start in &starts[..3] {
        let r = app.post_booking(&client, &booking_of(expert, start, 60));
        assert_eq!(r.status, 201, "{}", r.raw);
        held.push(r.body["id"].as_u64().expect("id"));
    }
    let fourth = app.post_booking(&client, &booking_of(expert, starts[3], 60));
    assert_eq!(
        (fourth.status, error_code(&fourth).as_str()),
        (409, "too_many_unpaid_bookings"),
        "{}",
        fourth.raw
    );
    // The limit is the booker's own.
    let theirs = app.post_booking(&other, &booking_of(expert, starts[3], 60));
    assert_eq!(theirs.status, 201, "{}", theirs.raw);
    // Cancelling one hold makes room again.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{}/cancel", held[0]),
        &client,
        Some(r#"{"reason":"wrong day"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    let again = app.post_booking(&client, &booking_of(expert, "2027-01-04T12:00:00Z", 60));
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
    let held = app.post_booking(&client, &booking_body(expert, SLOT));
    assert_eq!(held.status, 201, "{}", held.raw);
    let id = held.body["id"].as_u64().expect("id");
    let taken = app.post_booking(&other, &booking_body(expert, SLOT));
    assert_eq!(error_code(&taken), "slot_unavailable");
    std::thread::sleep(Duration::from_millis(1100));
    // The lapsed hold blocks nobody, swept or not.
    let rebooked = app.post_booking(&other, &booking_body(expert, SLOT));
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
    let created = app.post_booking(&client, &booking_body(expert, SLOT));
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
    // Paying confirms it; the provider has nothing left to confirm.
    let paid = app.pay_booking(id);
    assert_eq!(paid.status, droply_models::BookingStatus::Confirmed);
    let again = app.authed("POST", &path, &provider, None);
    assert_eq!(error_code(&again), "invalid_state", "{}", again.raw);
}

#[test]
fn a_booking_cannot_be_completed_or_marked_no_show_before_it_starts() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = app.post_booking(&client, &booking_body(expert, SLOT));
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
    let refused = app.post_booking(&client, &booking_of(legacy, SLOT, 15));
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
