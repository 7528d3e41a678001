//! The sweep's cancel of a given-up PaymentIntent Stripe refuses: the
//! intent is read back and what it is decides. Paid, its event never
//! delivered: the payment is recorded by the webhook's rule and the late
//! refund requested. Being paid (`processing`): left requested, and
//! cancelled by a later sweep once the attempt failed and it could be paid
//! again.

use droply_models::{Booking, BookingStatus};
use droply_test_support::stripe::IntentFake;

use super::*;
use crate::payments::checkout::tests::{
    booking_awaiting_its_intent, paying_through, policy, stored,
};
use crate::payments::webhook::LATE_PAYMENT_REASON;
use crate::payments::{Attempt, start_payment};

/// Bob's booking of ann with its intent recorded through `intents`, then
/// cancelled by a party (its intent given up, to cancel at Stripe): the
/// store, the booking, the payments and the intent's id.
fn cancelled_booking_with_its_intent(intents: &IntentFake) -> (Store, Booking, Payments, String) {
    let (store, booking) = booking_awaiting_its_intent();
    let payments = paying_through(&store, intents.base_url());
    start_payment(&payments, &store, &policy(), &booking, Attempt::First)
        .expect("started")
        .expect("owed");
    store
        .write(|txn| {
            let mut row: Booking = txn.require(booking.id)?;
            row.status = BookingStatus::Cancelled;
            row.cancellation_reason = Some("cancelled by the client".to_owned());
            txn.update(row)?;
            give_up_intent(txn, PaymentFor::Booking(booking.id))
        })
        .expect("cancelled");
    let (_, payment) = stored(&store, &booking);
    assert_eq!(payment.intent_cancel, IntentCancel::Requested);
    let intent = payment.intent_id.expect("recorded");
    (store, booking, payments, intent)
}

/// Regression: the client paid while the booking was cancelled; Stripe
/// refused the sweep's cancel (the intent had succeeded) and it was
/// recorded `Refused` for good; the `payment_intent.succeeded` webhook
/// never came (a misconfigured endpoint), so the client stayed charged for
/// a cancelled booking and nothing refunded it.
#[test]
fn a_cancel_refused_because_the_intent_was_paid_records_the_payment_and_requests_its_refund() {
    let intents = IntentFake::start();
    let (store, booking, payments, intent) = cancelled_booking_with_its_intent(&intents);
    intents.set_status(&intent, "succeeded");

    assert_eq!(
        cancel_given_up_intents(&payments, &store, &policy()).expect("sweep"),
        0
    );

    let (row, payment) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::Cancelled, "still cancelled");
    assert!(payment.status.is_paid(), "{:?}", payment.status);
    assert_eq!(payment.intent_cancel, IntentCancel::Refused);
    assert_eq!(payment.refunds.len(), 1, "{:?}", payment.refunds);
    assert_eq!(payment.refunds[0].reason, LATE_PAYMENT_REASON);
    assert_eq!(payment.refunds[0].amount, payment.amount);
    assert!(intents_to_cancel(&store).expect("list").is_empty());
}

/// Regression: Stripe refused the cancel while a payment of the intent
/// was under way (`processing`); that attempt then failed and the intent
/// could be paid again, but the cancel was recorded `Refused`, so the
/// client could still pay for the cancelled booking days later.
#[test]
fn a_cancel_refused_while_the_intent_was_processing_is_retried_and_cancels_it_once_payable_again() {
    let intents = IntentFake::start();
    let (store, booking, payments, intent) = cancelled_booking_with_its_intent(&intents);
    intents.set_status(&intent, "processing");

    assert_eq!(
        cancel_given_up_intents(&payments, &store, &policy()).expect("first sweep"),
        0
    );
    let (_, payment) = stored(&store, &booking);
    assert_eq!(
        payment.intent_cancel,
        IntentCancel::Requested,
        "left to retry"
    );
    assert_eq!(intents_to_cancel(&store).expect("list"), [payment.id]);

    // The payment attempt failed: the intent can be paid again.
    intents.set_status(&intent, "requires_payment_method");
    assert_eq!(
        cancel_given_up_intents(&payments, &store, &policy()).expect("later sweep"),
        1
    );
    let (_, payment) = stored(&store, &booking);
    assert_eq!(payment.intent_cancel, IntentCancel::Cancelled);
    assert!(!payment.status.is_paid());
    assert_eq!(
        intents.intent(&intent).expect("intent")["status"],
        "canceled"
    );
    assert!(intents_to_cancel(&store).expect("list").is_empty());
}
