//! Starting a booking's payment when Stripe fails for now: the request that
//! made the booking gives it up, a repeat (pay now, an `Idempotency-Key`
//! retry) gives nothing up, whether the first request died after saving the
//! booking or is still waiting for Stripe, and a later repeat makes the
//! intent. What answers a recorded intent (one paid at Stripe before its
//! event included), a reschedule, a key first used before intent metadata
//! held only stable values and a repeated Buy are in `answers` (the
//! helpers here serve it and the intent cancels' tests).

use std::time::Duration;

use droply_test_support::stripe::{IntentFake, SECRET_KEY, StripeFake};

use super::*;
use crate::payments::{PaymentsConfig, StripeConfig, create_payment};
use crate::test_rows;

mod answers;

/// The webhook secret of [`paying_through`]'s payments.
const WEBHOOK_SECRET: &str = "whsec_droply_tests";

/// Payments over the Stripe at `api_base`.
pub(crate) fn paying_through(store: &Store, api_base: String) -> Payments {
    Payments::new(
        store,
        PaymentsConfig {
            stripe: Some(StripeConfig {
                api_base,
                ..StripeConfig::new(SECRET_KEY.into(), WEBHOOK_SECRET.into())
            }),
            ..PaymentsConfig::default()
        },
    )
    .expect("payments")
}

/// A Stripe whose every PaymentIntent call fails for now: the fake forwards
/// it to an upstream nobody listens on and answers 502 `api_error`.
fn failing_stripe() -> StripeFake {
    StripeFake::start(Some("http://127.0.0.1:1/".to_owned()))
}

/// The default slot policy: its unpaid hold runs 15 minutes from the
/// booking's making, and the test bookings are made now
/// ([`test_rows::booking_ahead`]: starting reads the real clock), so their
/// holds have not lapsed while a test runs.
pub(crate) fn policy() -> SlotPolicy {
    SlotPolicy::default()
}

/// Bob's booking of ann awaiting payment, made now (its hold open), its
/// payment saved without a PaymentIntent (as the request that made it
/// leaves it before calling Stripe): the store and the booking.
pub(crate) fn booking_awaiting_its_intent() -> (Store, Booking) {
    let (store, ann, bob) = test_rows::ann_and_bob();
    let terms = PaymentsConfig::default().terms();
    let booking = store
        .write(|txn| {
            let booking = txn.create(test_rows::booking_ahead(bob.id, ann.id))?;
            create_payment(txn, Payment::for_booking(&booking, &terms)?)?;
            Ok(booking)
        })
        .expect("booking");
    assert_eq!(booking.status, BookingStatus::PendingPayment);
    (store, booking)
}

/// Booking `booking` as stored now, with its payment.
pub(crate) fn stored(store: &Store, booking: &Booking) -> (Booking, Payment) {
    let row = store.bookings().get(booking.id).expect("booking");
    let payment = stored_payment_of(store, booking.id)
        .expect("read")
        .expect("payment");
    (row, payment)
}

/// `booking` still waits for payment, its payment untouched: unpaid, no
/// intent, nothing to cancel at Stripe.
fn assert_nothing_given_up(store: &Store, booking: &Booking) {
    let (row, payment) = stored(store, booking);
    assert_eq!(row.status, BookingStatus::PendingPayment);
    assert_eq!(row.cancellation_reason, None);
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.intent_id, None);
    assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
}

/// Stripe's `PaymentProvider` error, or a panic naming what came instead.
fn assert_provider_error(answer: Result<Option<PaymentStart>>) {
    match answer {
        Err(Error::PaymentProvider(_)) => {}
        other => panic!("expected Stripe's error, got {other:?}"),
    }
}

/// Regression: a repeat (pay now, an `Idempotency-Key` retry) of a booking
/// whose first request died after saving it met Stripe's 5xx on creating
/// the PaymentIntent and gave the booking up (cancelled, payment failed),
/// though the next repeat could have made the intent.
#[test]
fn a_repeat_start_stripe_fails_for_now_gives_nothing_up_and_a_later_repeat_makes_the_intent() {
    let (store, booking) = booking_awaiting_its_intent();
    let stripe_down = failing_stripe();
    let failing = paying_through(&store, stripe_down.base_url());

    assert_provider_error(start_payment(
        &failing,
        &store,
        &policy(),
        &booking,
        Attempt::Repeat,
    ));
    assert_nothing_given_up(&store, &booking);
    let (_, payment) = stored(&store, &booking);
    let calls: Vec<_> = stripe_down
        .requests()
        .into_iter()
        .filter(|seen| seen.path == "/v1/payment_intents")
        .collect();
    assert_eq!(calls.len(), 1, "Stripe was asked for the intent");
    assert_eq!(
        calls[0].idempotency_key.as_deref(),
        Some(payment.intent_key(failing.instance()).as_str()),
        "with the payment's own key"
    );

    let intents = IntentFake::start();
    let working = paying_through(&store, intents.base_url());
    let started = start_payment(&working, &store, &policy(), &booking, Attempt::Repeat)
        .expect("the next repeat starts it")
        .expect("owed");
    let (row, payment) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::PendingPayment);
    assert_eq!(payment.status, PaymentStatus::Pending);
    let intent = payment.intent_id.expect("the intent is recorded");
    assert!(
        started.client_secret.starts_with(&intent),
        "{} is {intent}'s",
        started.client_secret
    );
    assert_eq!(started.amount, booking.payment_amount);
    assert_eq!(intents.intent_count(), 1);
}

/// Regression: a repeat that came while the first request was still
/// waiting for Stripe, and met Stripe's 5xx, cancelled the booking, so the
/// first request's intent was recorded only to be cancelled and it
/// answered no client secret.
#[test]
fn a_repeat_stripe_fails_while_the_first_request_waits_for_stripe_leaves_the_first_its_intent() {
    let (store, booking) = booking_awaiting_its_intent();
    let stripe_down = failing_stripe();
    let failing = paying_through(&store, stripe_down.base_url());
    let intents = IntentFake::start();
    let working = paying_through(&store, intents.base_url());
    intents.hold_creates();

    let (repeat, first) = std::thread::scope(|scope| {
        let first =
            scope.spawn(|| start_payment(&working, &store, &policy(), &booking, Attempt::First));
        let held = intents.wait_for_held(1, Duration::from_secs(10));
        let repeat =
            held.then(|| start_payment(&failing, &store, &policy(), &booking, Attempt::Repeat));
        intents.release_creates();
        (repeat, first.join().expect("the first request"))
    });
    assert_provider_error(repeat.expect("the first request waited for Stripe"));

    let started = first
        .expect("the first request starts the payment")
        .expect("owed");
    let (row, payment) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::PendingPayment);
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
    let intent = payment.intent_id.expect("the intent is recorded");
    assert!(started.client_secret.starts_with(&intent));
    assert_eq!(intents.intent_count(), 1);
}

/// The request that made the booking gives it up when Stripe cannot make
/// its PaymentIntent: the slot is freed, the payment failed.
#[test]
fn the_first_start_stripe_fails_cancels_the_booking() {
    let (store, booking) = booking_awaiting_its_intent();
    let stripe_down = failing_stripe();
    let failing = paying_through(&store, stripe_down.base_url());

    assert_provider_error(start_payment(
        &failing,
        &store,
        &policy(),
        &booking,
        Attempt::First,
    ));
    let (row, payment) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::Cancelled);
    assert_eq!(
        row.cancellation_reason.as_deref(),
        Some(PAYMENT_NOT_STARTED)
    );
    assert_eq!(payment.status, PaymentStatus::Failed);
    assert_eq!(payment.intent_id, None);
}
