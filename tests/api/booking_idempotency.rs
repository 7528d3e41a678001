//! Booking requests that arrive more than once: one winner among 50
//! concurrent requests for a slot, and `Idempotency-Key` (the same request
//! answered again, a retry after a failure booking again, a key reused with
//! another request refused, a retry while the first request still waits
//! for Stripe cancelling nothing, and a booking cancelled meanwhile getting
//! no client secret).

use droply_engine::payments::{IntentCancel, stored_payment_of};
use droply_models::{Booking, BookingStatus, PaymentStatus};
use droply_test_support::stripe::IntentFake;

use crate::app::{at_once, error_code, spawn_app_paying, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::bookings::{booking_body, slot};
use crate::dates;
use crate::held_intents::{
    assert_refused_without_a_secret, assert_the_sweep_cancels, spawn_app_on_intent_fake,
    the_intent_given_up, the_only, while_stripe_makes_the_intent,
};

#[test]
fn fifty_concurrent_bookings_of_one_slot_make_exactly_one() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let clients: Vec<String> = (0..50)
        .map(|i| app.register(&format!("client{i}")).1)
        .collect();
    let body = booking_body(expert, &slot());
    let statuses: Vec<(u16, String)> = at_once(clients.len(), |i| {
        let r = app.post_booking(&clients[i], &body);
        let code = r.body["code"].as_str().unwrap_or_default().to_owned();
        (r.status, code)
    });
    let created = statuses.iter().filter(|(s, _)| *s == 201).count();
    let refused = statuses
        .iter()
        .filter(|(s, c)| *s == 409 && c == "slot_unavailable")
        .count();
    assert_eq!((created, refused), (1, 49), "{statuses:?}");
    assert_eq!(app.store.bookings().count(), 1);
    app.assert_no_leaks();
}

#[test]
fn the_same_idempotency_key_returns_the_same_booking() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let body = booking_body(expert, &slot());
    let headers = [("Idempotency-Key", "order-42")];
    let first = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
    assert_eq!(first.status, 201, "{}", first.raw);
    let again = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], first.body["id"]);
    // Without the key the slot is taken.
    let plain = app.post_booking(&client, &body);
    assert_eq!(
        (plain.status, error_code(&plain).as_str()),
        (409, "slot_unavailable")
    );
    // Another booker's identical key is their own.
    let (_, dora) = app.register("dora");
    let other = app.send("POST", "/v1/bookings", Some(&body), Some(&dora), &headers);
    assert_eq!(error_code(&other), "slot_unavailable");
    assert_eq!(app.store.bookings().count(), 1);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// Regression: when Stripe could not be reached the booking answered 502
/// and was cancelled, and its retry with the same key answered 200 with
/// that cancelled booking, as if made; the key could never book again.
#[test]
fn a_retry_after_the_payment_could_not_start_books_again() {
    let app = spawn_app_paying_with(|config| {
        if let Some(stripe) = config.payments.stripe.as_mut() {
            stripe.api_base = "http://127.0.0.1:1/".to_owned();
        }
    });
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let body = booking_body(expert, &slot());
    let headers = [("Idempotency-Key", "order-502")];
    for attempt in ["first", "retry"] {
        let answer = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
        assert_eq!(
            (answer.status, error_code(&answer).as_str()),
            (502, "payment_provider_error"),
            "{attempt}: {}",
            answer.raw
        );
    }
    assert_eq!(app.store.bookings().count(), 2, "the retry booked again");
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

#[test]
fn an_idempotency_key_reused_with_a_different_request_is_refused() {
    let app = spawn_app_paying();
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (other_expert, _) = expert_working(&app, "hedy", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let headers = [("Idempotency-Key", "order-7")];
    let body = booking_body(expert, &slot());
    let first = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
    assert_eq!(first.status, 201, "{}", first.raw);

    let changed = [
        booking_body(other_expert, &slot()),
        booking_body(expert, &dates::at(0, "10:00")),
        body.replace(r#""duration":60"#, r#""duration":30"#),
        body.replace("Hi, VAT; please", "Hi, VAT please"),
        format!(
            r#"{{"provider_id":{expert},"start_time":"{}","duration":60}}"#,
            slot()
        ),
    ];
    for other in &changed {
        let reused = app.send("POST", "/v1/bookings", Some(other), Some(&client), &headers);
        assert_eq!(
            (reused.status, error_code(&reused).as_str()),
            (422, "idempotency_key_reused"),
            "{other}: {}",
            reused.raw
        );
    }
    // The same request with the same key still answers the first booking;
    // nothing else was booked.
    let again = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], first.body["id"]);
    // The same request written differently (field order, spacing, the
    // start as Berlin's 10:00) is the same request.
    let start = dates::at_offset(0, "10:00", "+01:00");
    let reordered = format!(
        r#"{{ "duration": 60, "client_message": "Hi, VAT; please", "start_time": "{start}", "provider_id": {expert} }}"#
    );
    let same = app.send(
        "POST",
        "/v1/bookings",
        Some(&reordered),
        Some(&client),
        &headers,
    );
    assert_eq!(same.status, 200, "{}", same.raw);
    assert_eq!(same.body["id"], first.body["id"]);
    assert_eq!(app.store.bookings().count(), 1);
    app.assert_no_leaks();
}

/// Regression: a retry with the same `Idempotency-Key` while the first
/// request was still waiting for Stripe met Stripe's 409
/// `idempotency_key_in_use`, gave the payment up and cancelled the booking,
/// and the first request then answered 201 with a client secret for that
/// cancelled booking.
#[test]
fn a_retry_while_the_first_request_waits_for_stripe_cancels_nothing() {
    let stripe = IntentFake::start();
    let app = spawn_app_on_intent_fake(&stripe);
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let body = booking_body(expert, &slot());
    let headers = [("Idempotency-Key", "order-twice")];
    let ((retry, during), first) = while_stripe_makes_the_intent(
        &stripe,
        || app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers),
        || {
            let retry = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
            let booking = the_only::<Booking>(&app);
            let payment = stored_payment_of(&app.store, booking.id)
                .expect("read")
                .expect("payment");
            (retry, (booking, payment))
        },
    );
    assert_eq!(
        (retry.status, error_code(&retry).as_str()),
        (409, "invalid_state"),
        "{}",
        retry.raw
    );
    assert_eq!(stripe.keys_in_use(), 1, "Stripe answered the retry 409");
    let (booking, payment) = during;
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    assert_eq!(payment.status, PaymentStatus::Pending);

    assert_eq!(first.status, 201, "{}", first.raw);
    let secret = first.body["payment"]["client_secret"]
        .as_str()
        .expect("the first request hands out its client secret")
        .to_owned();
    let booking = the_only::<Booking>(&app);
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    let payment = stored_payment_of(&app.store, booking.id)
        .expect("read")
        .expect("payment");
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
    let intent = payment.intent_id.expect("the intent is recorded");
    assert!(secret.starts_with(&intent), "{secret} is {intent}'s");

    // A later retry answers the booking with the same intent.
    let again = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["payment"]["client_secret"], secret.as_str());
    assert_eq!(stripe.intent_count(), 1, "one intent made");
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}

/// Regression: a booking its client cancelled while Stripe was making its
/// PaymentIntent got the intent recorded as wanted, and the request that
/// made it answered 201 with a client secret that could still pay for the
/// cancelled booking.
#[test]
fn a_booking_cancelled_while_stripe_makes_its_intent_hands_out_no_secret() {
    let stripe = IntentFake::start();
    let app = spawn_app_on_intent_fake(&stripe);
    let (expert, _) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let body = booking_body(expert, &slot());
    let headers = [("Idempotency-Key", "order-cancelled")];
    let (cancel, first) = while_stripe_makes_the_intent(
        &stripe,
        || app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers),
        || {
            let id = the_only::<Booking>(&app).id;
            app.authed(
                "POST",
                &format!("/v1/bookings/{id}/cancel"),
                &client,
                Some(r#"{"reason":"found another time"}"#),
            )
        },
    );
    assert_eq!(cancel.status, 200, "{}", cancel.raw);
    assert_refused_without_a_secret(&first);
    let booking = the_only::<Booking>(&app);
    assert_eq!(booking.status, BookingStatus::Cancelled);
    let payment = stored_payment_of(&app.store, booking.id)
        .expect("read")
        .expect("payment");
    let intent = the_intent_given_up(&payment);
    assert_eq!(
        stripe.intent(&intent).expect("made")["status"],
        "requires_payment_method"
    );

    // The payments sweep cancels it at Stripe: the secret can pay nothing.
    assert_the_sweep_cancels(&app, &stripe, &intent);
    let payment = stored_payment_of(&app.store, booking.id)
        .expect("read")
        .expect("payment");
    assert_eq!(payment.intent_cancel, IntentCancel::Cancelled);
    // A retry with the key answers the cancelled booking, with nothing to pay.
    let again = app.send("POST", "/v1/bookings", Some(&body), Some(&client), &headers);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["status"], "cancelled");
    assert!(again.body.get("payment").is_none(), "{}", again.raw);
    assert!(app.store.verify_integrity().expect("check").is_consistent());
}
