//! Bookings over HTTP: who sees and moves what, rescheduling, a move or a
//! reschedule sent again (its answer lost) answered as the first was, clear
//! errors for bad requests, and the iCalendar export. The booking rules (the slot
//! grid, the horizon, unpaid holds, confirming, completing, a chargeable
//! price) are in `booking_rules.rs`.

use droply_models::{BookingId, Timestamp};

use crate::app::{TestApp, error_code, spawn_app_paying};
use crate::availability::expert_working;
use crate::dates;

/// The hour most booking tests book: [`dates::winter_monday`] 09:00Z, which
/// is 10:00 in Berlin.
pub(crate) fn slot() -> String {
    dates::at(0, "09:00")
}

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

#[test]
fn only_the_booker_and_provider_see_and_move_a_booking() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let (_, stranger) = app.register("mallory");
    let created = app.post_booking(&client, &booking_body(expert, &slot()));
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
    let first = app.post_booking(&client, &booking_body(expert, &slot()));
    let old_id = first.body["id"].as_u64().expect("id");
    let path = format!("/v1/bookings/{old_id}/reschedule");
    let stranger = app.authed(
        "POST",
        &path,
        &other,
        Some(&format!(r#"{{"start_time":"{}"}}"#, dates::at(0, "11:00"))),
    );
    assert_eq!(stranger.status, 404);
    let closed = app.authed(
        "POST",
        &path,
        &client,
        Some(&format!(r#"{{"start_time":"{}"}}"#, dates::at(0, "20:00"))),
    );
    assert_eq!(error_code(&closed), "slot_unavailable");
    let bad = app.authed("POST", &path, &client, Some(r#"{"start_time":42}"#));
    assert_eq!(error_code(&bad), "invalid_input");
    let moved = app.authed(
        "POST",
        &path,
        &client,
        Some(&format!(r#"{{"start_time":"{}"}}"#, dates::at(0, "11:00"))),
    );
    assert_eq!(moved.status, 201, "{}", moved.raw);
    assert_eq!(moved.body["rescheduled_from"], old_id);
    let old = app.authed("GET", &format!("/v1/bookings/{old_id}"), &provider, None);
    assert_eq!(old.body["status"], "cancelled");
    // The old time is open again.
    let rebook = app.post_booking(&other, &booking_body(expert, &slot()));
    assert_eq!(rebook.status, 201, "{}", rebook.raw);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// Regression: a cancel sent again (the answer to the first lost) answered
/// 409 `invalid_state` ("a cancelled booking cannot become cancelled"); it
/// now answers the cancelled booking, and Stripe refunds once.
#[test]
fn a_cancel_sent_twice_answers_the_cancelled_booking_and_refunds_once() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = app.post_booking(&client, &booking_body(expert, &slot()));
    assert_eq!(created.status, 201, "{}", created.raw);
    let id = created.body["id"].as_u64().expect("id");
    let intent = app
        .pay_booking(id)
        .stripe_payment_intent_id
        .expect("a PaymentIntent");
    // The expert cancels: a full refund.
    let cancel = || {
        app.authed(
            "POST",
            &format!("/v1/bookings/{id}/cancel"),
            &provider,
            Some(r#"{"reason":"ill"}"#),
        )
    };
    let first = cancel();
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["status"], "cancelled");
    assert_eq!(first.body["payment_status"], "refunded", "{}", first.raw);
    let again = cancel();
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["status"], "cancelled");
    assert_eq!(again.body["cancellation_reason"], "ill");
    assert_eq!(again.body["payment_status"], "refunded");
    // A refund left to send would go now: still one at Stripe.
    app.engine.run_payment_sweep().expect("sweep");
    let stripe = app.stripe.as_ref().expect("stripe");
    let refunds = stripe
        .local
        .get(&format!("v1/refunds?payment_intent={intent}"));
    assert_eq!(
        refunds["data"].as_array().map(Vec::len),
        Some(1),
        "{refunds}"
    );
    assert!(app.store.verify_integrity().expect("check").is_consistent());
    app.assert_no_leaks();
}

/// Regression: the expert's confirm of a booking already confirmed (by its
/// payment, or by the same confirm whose answer was lost) answered 409
/// `invalid_state`; it now answers the confirmed booking each time. The
/// client still may not confirm.
#[test]
fn a_confirm_sent_twice_answers_200_both_times() {
    let app = spawn_app_paying();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = app.post_booking(&client, &booking_body(expert, &slot()));
    assert_eq!(created.status, 201, "{}", created.raw);
    let id = created.body["id"].as_u64().expect("id");
    app.pay_booking(id);
    let path = format!("/v1/bookings/{id}/confirm");
    let first = app.authed("POST", &path, &provider, None);
    assert_eq!(first.status, 200, "{}", first.raw);
    assert_eq!(first.body["status"], "confirmed");
    let again = app.authed("POST", &path, &provider, None);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["status"], "confirmed");
    assert_eq!(again.body["payment_status"], "succeeded");
    let by_client = app.authed("POST", &path, &client, None);
    assert_eq!(
        (by_client.status, error_code(&by_client).as_str()),
        (403, "forbidden")
    );
}

/// Regression: a reschedule sent again (the answer to the first lost) was
/// refused with 409 `invalid_state`, the first having cancelled the old
/// booking; the same move now answers the booking the first made (200, not
/// 201), while a move of the old booking to another start stays refused.
#[test]
fn a_reschedule_sent_twice_answers_the_same_new_booking() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let first = app.post_booking(&client, &booking_body(expert, &slot()));
    assert_eq!(first.status, 201, "{}", first.raw);
    let old_id = first.body["id"].as_u64().expect("id");
    let path = format!("/v1/bookings/{old_id}/reschedule");
    let to = |time: &str| format!(r#"{{"start_time":"{}"}}"#, dates::at(0, time));
    let moved = app.authed("POST", &path, &client, Some(&to("11:00")));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    let again = app.authed("POST", &path, &client, Some(&to("11:00")));
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], moved.body["id"]);
    assert_eq!(again.body["rescheduled_from"], old_id);
    let elsewhere = app.authed("POST", &path, &client, Some(&to("13:00")));
    assert_eq!(
        (elsewhere.status, error_code(&elsewhere).as_str()),
        (409, "invalid_state"),
        "{}",
        elsewhere.raw
    );
    // The moved booking is not cancelled again as a repeat: its session goes
    // on as the new booking, which a stale cancel must not seem to call off.
    let stale_cancel = app.authed(
        "POST",
        &format!("/v1/bookings/{old_id}/cancel"),
        &client,
        Some(r#"{"reason":"cannot come"}"#),
    );
    assert_eq!(
        (stale_cancel.status, error_code(&stale_cancel).as_str()),
        (409, "invalid_state"),
        "{}",
        stale_cancel.raw
    );
    let mine = app.authed("GET", "/v1/bookings?role=client", &client, None);
    assert_eq!(
        mine.body["bookings"].as_array().map(Vec::len),
        Some(2),
        "{}",
        mine.raw
    );
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

#[test]
fn bad_booking_requests_get_clear_errors() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (me, client) = app.register("carl");
    let slot = slot();
    let cases = [
        (
            booking_body(expert, &dates::at(0, "20:00")),
            409,
            "slot_unavailable",
        ),
        (
            booking_body(expert, "2020-01-06T09:00:00Z"),
            409,
            "slot_unavailable",
        ),
        (booking_body(999_999, &slot), 404, "not_found"),
        (booking_body(me, &slot), 400, "invalid_input"),
        (
            format!(r#"{{"provider_id":"{expert}","start_time":"{slot}","duration":60}}"#),
            400,
            "invalid_input",
        ),
        (
            format!(r#"{{"provider_id":{expert},"start_time":"soon","duration":60}}"#),
            400,
            "invalid_input",
        ),
        (
            format!(r#"{{"provider_id":{expert},"start_time":"{slot}","duration":-5}}"#),
            400,
            "invalid_input",
        ),
        (
            format!(r#"{{"provider_id":{expert},"start_time":"{slot}"}}"#),
            400,
            "invalid_input",
        ),
        (format!(r#"{{"provider_id":{expert},"#), 400, "invalid_json"),
        (
            format!(
                r#"{{"provider_id":{expert},"start_time":"{slot}","duration":60,"client_message":"{}"}}"#,
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
    let no_token = app.request("POST", "/v1/bookings", Some(&booking_body(expert, &slot)));
    assert_eq!(no_token.status, 401);
    let bad_key = app.send(
        "POST",
        "/v1/bookings",
        Some(&booking_body(expert, &slot)),
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
    let created = app.post_booking(&client, &booking_body(expert, &slot()));
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
    let monday = dates::day(0).replace('-', "");
    assert!(
        text.contains(&format!("\r\nDTSTART:{monday}T090000Z\r\n")),
        "{text}"
    );
    assert!(
        text.contains(&format!("\r\nDTEND:{monday}T100000Z\r\n")),
        "{text}"
    );
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
