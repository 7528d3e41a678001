//! Money in over HTTP, against Stripe on loopback (localstripe for
//! PaymentIntents and refunds): a paid booking confirmed by its webhook with
//! ledger rows, a declined card, refunds by the cancellation policy, a paid
//! session not moved past the refund deadline, a payment after the hold lapsed
//! refunded, and what answers without Stripe. The webhooks themselves (the
//! seven kinds of signature, redeliveries in shuffled orders, two
//! `account.updated` deliveries racing) are in `payment_webhooks`, over the
//! helpers here; money out (onboarding and payouts) is in `payouts`.

use std::time::Duration;

use droply_engine::availability::SlotPolicy;
use droply_engine::payments::{RefundPolicy, ledger};
use droply_models::{BookingId, BookingStatus, Currency, Money, PaymentStatus, Timestamp, UserId};

use crate::app::{TestApp, error_code, spawn_app, spawn_app_paying, spawn_app_paying_with};
use crate::availability::expert_working;
use crate::dates;

/// The hour the payment tests book: [`dates::winter_monday`] 09:00Z, which
/// is 10:00 in Berlin.
pub(crate) fn slot() -> String {
    dates::at(0, "09:00")
}

pub(crate) fn usd(minor: i64) -> Money {
    Money::new(minor, Currency::USD)
}

pub(crate) fn book(app: &TestApp, client: &str, expert: u64, start: &str) -> crate::app::Response {
    app.post_booking(
        client,
        &format!(r#"{{"provider_id":{expert},"start_time":"{start}","duration":60}}"#),
    )
}

/// A priced expert (90 USD an hour), a client, and the client's new
/// booking: (expert id, expert token, client token, booking id).
pub(crate) fn booked(app: &TestApp) -> (u64, String, String, u64) {
    let (expert, provider) = expert_working(app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let created = book(app, &client, expert, &slot());
    assert_eq!(created.status, 201, "{}", created.raw);
    assert_eq!(created.body["status"], "pending_payment");
    assert_eq!(created.body["payment"]["amount"]["amount_minor"], 9_000);
    assert_eq!(created.body["payment"]["amount"]["currency"], "USD");
    let secret = created.body["payment"]["client_secret"]
        .as_str()
        .expect("secret");
    assert!(secret.contains("_secret_"), "{secret}");
    (
        expert,
        provider,
        client,
        created.body["id"].as_u64().expect("id"),
    )
}

pub(crate) fn url(app: &TestApp) -> String {
    format!("http://{}/v1/webhooks/stripe", app.addr)
}

/// The Stripe PaymentIntent id of booking `booking`.
pub(crate) fn intent_of(app: &TestApp, booking: u64) -> String {
    app.store
        .bookings()
        .get(BookingId::new(booking))
        .expect("booking")
        .stripe_payment_intent_id
        .expect("intent")
}

pub(crate) fn assert_consistent(app: &TestApp) {
    let report = app.store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

#[test]
fn a_paid_booking_is_confirmed_by_its_webhook_and_credits_the_ledger() {
    let app = spawn_app_paying();
    let (expert, provider, client, id) = booked(&app);
    // The booker's view of the booking never shows Stripe's ids.
    let seen = app.authed("GET", &format!("/v1/bookings/{id}"), &client, None);
    assert!(seen.body.get("payment").is_none(), "{}", seen.raw);
    let paid = app.pay_booking(id);
    assert_eq!(paid.status, BookingStatus::Confirmed);
    assert_eq!(paid.payment_status, PaymentStatus::Succeeded);
    // 15 % to the platform, the rest earned, available after the hold.
    let earnings = app.authed("GET", "/v1/earnings", &provider, None);
    assert_eq!(earnings.status, 200, "{}", earnings.raw);
    assert_eq!(earnings.body["total_earnings"]["amount_minor"], 7_650);
    assert_eq!(earnings.body["pending_balance"]["amount_minor"], 7_650);
    assert_eq!(earnings.body["available"]["amount_minor"], 0);
    let rows = app
        .store
        .iter::<ledger::LedgerEntry>()
        .map(|row| row.expect("row"))
        .map(|row| (row.kind, row.amount.amount_minor))
        .collect::<Vec<_>>();
    assert_eq!(
        rows,
        [
            (ledger::LedgerKind::Charge, 9_000),
            (ledger::LedgerKind::PlatformFee, 1_350),
            (ledger::LedgerKind::Earning, 7_650)
        ]
    );
    let user = app.store.users().get(UserId::new(expert)).expect("expert");
    assert_eq!(user.total_earnings, usd(7_650));
    assert_consistent(&app);
    app.assert_no_leaks();
}

#[test]
fn a_declined_card_is_recorded_and_the_booking_keeps_waiting() {
    let app = spawn_app_paying();
    let (_, _, _, id) = booked(&app);
    let stripe = app.stripe.as_ref().expect("stripe");
    let declined = stripe.local.pay_declined(&intent_of(&app, id));
    assert_ne!(declined["status"], "succeeded", "{declined}");
    let failed = app.wait_for_booking(id, |b| b.payment_status == PaymentStatus::Failed);
    // The hold stays until it lapses: the client may try another card.
    assert_eq!(failed.status, BookingStatus::PendingPayment);
    assert_eq!(
        app.store.iter::<ledger::LedgerEntry>().count(),
        0,
        "no money moved"
    );
    assert_consistent(&app);
}

#[test]
fn cancelling_refunds_by_the_policy() {
    let app = spawn_app_paying();
    let (_, provider, _, id) = booked(&app);
    app.pay_booking(id);
    // The expert cancels: a full refund, at Stripe and in the ledger.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        &provider,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert_eq!(cancelled.body["payment_status"], "refunded");
    let intent = intent_of(&app, id);
    let stripe = app.stripe.as_ref().expect("stripe");
    let refunds = stripe
        .local
        .get(&format!("v1/refunds?payment_intent={intent}"));
    let amounts: Vec<i64> = refunds["data"]
        .as_array()
        .expect("refunds")
        .iter()
        .map(|r| r["amount"].as_i64().expect("amount"))
        .collect();
    assert_eq!(amounts, [9_000]);
    let earnings = app.authed("GET", "/v1/earnings", &provider, None);
    assert_eq!(earnings.body["total_earnings"]["amount_minor"], 0);
    assert_consistent(&app);

    // A client cancelling too late for the policy gets nothing back.
    let late = spawn_app_paying_with(|config| {
        config.payments.refund_policy = RefundPolicy {
            full_refund_hours_before: 24 * 365 * 10,
        };
    });
    let (_, _, client_late, late_id) = booked(&late);
    late.pay_booking(late_id);
    let cancelled = late.authed(
        "POST",
        &format!("/v1/bookings/{late_id}/cancel"),
        &client_late,
        Some(r#"{"reason":"changed my mind"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert_eq!(cancelled.body["payment_status"], "succeeded");
    let stripe = late.stripe.as_ref().expect("stripe");
    let refunds = stripe.local.get(&format!(
        "v1/refunds?payment_intent={}",
        intent_of(&late, late_id)
    ));
    assert_eq!(refunds["data"].as_array().map(Vec::len), Some(0));
    assert_consistent(&late);
    app.assert_no_leaks();
}

/// Regression: a client could move a paid session the day before (or after it
/// took place) to a time more than 24 hours ahead, then cancel the new booking
/// for a full refund: the payment moved with the booking and the deadline with it.
#[test]
fn a_client_cannot_move_a_paid_session_past_the_refund_deadline() {
    let app = spawn_app_paying_with(|config| {
        config.payments.refund_policy = RefundPolicy {
            full_refund_hours_before: 24 * 365 * 10,
        };
    });
    let (_, provider, client, id) = booked(&app);
    app.pay_booking(id);
    let later = dates::at(1, "09:00");
    let body = format!(r#"{{"start_time":"{later}"}}"#);
    let path = format!("/v1/bookings/{id}/reschedule");
    let refused = app.authed("POST", &path, &client, Some(&body));
    assert_eq!(refused.status, 409, "{}", refused.raw);
    assert_eq!(error_code(&refused), "invalid_state");
    let still = app
        .store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking");
    assert_eq!(still.status, BookingStatus::Confirmed);
    // The expert may still move it; the payment goes with it.
    let moved = app.authed("POST", &path, &provider, Some(&body));
    assert_eq!(moved.status, 201, "{}", moved.raw);
    assert_eq!(moved.body["payment_status"], "succeeded", "{}", moved.raw);
    // Once a session has started, nobody moves it.
    let new_id = moved.body["id"].as_u64().expect("id");
    app.store
        .bookings()
        .modify(BookingId::new(new_id), |booking| {
            booking.start_time = Timestamp::now().plus_minutes(-10);
            booking.end_time = booking.start_time.plus_minutes(60);
            Ok(())
        })
        .expect("started");
    let started = app.authed(
        "POST",
        &format!("/v1/bookings/{new_id}/reschedule"),
        &provider,
        Some(&format!(r#"{{"start_time":"{}"}}"#, dates::at(2, "09:00"))),
    );
    assert_eq!(started.status, 409, "{}", started.raw);
    assert_eq!(error_code(&started), "invalid_state");
    assert_consistent(&app);
}

#[test]
fn a_payment_after_the_hold_lapsed_is_refunded() {
    let app = spawn_app_paying_with(|config| {
        config.slot_policy = SlotPolicy {
            unpaid_hold_ttl: Duration::from_secs(1),
            ..SlotPolicy::default()
        };
    });
    let (_, _, _, id) = booked(&app);
    std::thread::sleep(Duration::from_millis(1_200));
    let intent = intent_of(&app, id);
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    let refunded = app.wait_for_booking(id, |b| b.payment_status == PaymentStatus::Refunded);
    assert_eq!(refunded.status, BookingStatus::Cancelled);
    let refunds = stripe
        .local
        .get(&format!("v1/refunds?payment_intent={intent}"));
    assert_eq!(refunds["data"][0]["amount"], 9_000, "{refunds}");
    assert_consistent(&app);
}

#[test]
fn without_stripe_paid_sessions_and_payouts_answer_503_and_free_ones_confirm() {
    let app = spawn_app();
    let (expert, provider) = expert_working(&app, "grace", "Europe/Berlin", "09:00", "17:00");
    let (_, client) = app.register("carl");
    let paid = book(&app, &client, expert, &slot());
    assert_eq!(
        (paid.status, error_code(&paid).as_str()),
        (503, "payments_not_configured")
    );
    assert_eq!(app.store.bookings().count(), 0);
    for (path, body) in [
        ("/v1/payouts", Some("{}")),
        ("/v1/payouts/onboarding", None),
    ] {
        let r = app.authed("POST", path, &provider, body);
        assert_eq!(
            error_code(&r),
            "payments_not_configured",
            "{path}: {}",
            r.raw
        );
    }
    let hook = app.send(
        "POST",
        "/v1/webhooks/stripe",
        Some("{}"),
        None,
        &[("Stripe-Signature", "t=1,v1=00")],
    );
    assert_eq!(error_code(&hook), "payments_not_configured");
    app.make_free(expert);
    let free = book(&app, &client, expert, &slot());
    assert_eq!(free.status, 201, "{}", free.raw);
    assert_eq!(free.body["status"], "confirmed");
    assert!(free.body.get("payment").is_none());
    assert_consistent(&app);
}
