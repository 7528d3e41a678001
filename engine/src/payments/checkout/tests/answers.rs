//! What a start answers once its booking or purchase moved on: a recorded
//! PaymentIntent's secret only while the booking still waits for it (not
//! cancelled, its hold not lapsed) and Stripe still takes payment on it; an
//! intent Stripe reports paid before its event is recorded paid by the
//! event's rule (nothing owed), and the event changes nothing after (a
//! booking whose hold lapsed stays released and is refunded in full); a
//! repeat after a reschedule moved the payment answers its intent, Stripe
//! seeing the same request under the same key, and so does a repeat whose
//! key was first used with the metadata of before (naming the booking);
//! and a repeated Buy is a repeat, so Stripe failing for it gives the
//! purchase up no more than a repeated booking, and one whose intent Stripe
//! reports paid before its event records it paid as a booking's does.

use std::time::Duration;

use droply_models::{Content, ContentPurchaseId, ContentType, Currency, Timestamp};
use droply_test_support::stripe::{IntentFake, StripeFake, event, signature_header};

use super::*;
use crate::content::{NewContent, create};
use crate::payments::{LedgerEntry, handle_webhook};
use crate::store::{IndexName, PageRequest};

/// [`booking_awaiting_its_intent`] whose payment was started (its intent
/// recorded) through `intents`: the store, the booking as read then, the
/// payments, and the intent's id.
fn booking_with_its_intent(intents: &IntentFake) -> (Store, Booking, Payments, String) {
    let (store, booking) = booking_awaiting_its_intent();
    let payments = paying_through(&store, intents.base_url());
    start_payment(&payments, &store, &policy(), &booking, Attempt::First)
        .expect("started")
        .expect("owed");
    let (_, payment) = stored(&store, &booking);
    let intent = payment.intent_id.expect("recorded");
    (store, booking, payments, intent)
}

/// `InvalidState` whose message holds `says`, or a panic naming what came.
fn assert_refused(answer: Result<Option<PaymentStart>>, says: &str) {
    match answer {
        Err(Error::InvalidState(why)) => assert!(why.contains(says), "{why}"),
        other => panic!("expected InvalidState ({says}), got {other:?}"),
    }
}

/// Regression: the pay page, holding the booking as read before a party
/// cancelled it, was answered the recorded intent's client secret: the
/// client paid, the webhook refunded, and the platform lost Stripe's fee.
#[test]
fn a_recorded_intent_of_a_booking_cancelled_since_it_was_read_answers_no_secret() {
    let intents = IntentFake::start();
    let (store, booking, payments, _) = booking_with_its_intent(&intents);
    store
        .write(|txn| {
            let mut row: Booking = txn.require(booking.id)?;
            row.status = BookingStatus::Cancelled;
            txn.update(row)?;
            Ok(())
        })
        .expect("cancelled");

    assert_refused(
        start_payment(&payments, &store, &policy(), &booking, Attempt::Repeat),
        "cancelled",
    );
}

/// Regression: a booking whose unpaid hold had lapsed, the hold sweep not
/// having run yet, was still answered its intent's client secret.
#[test]
fn a_recorded_intent_of_a_lapsed_hold_not_swept_yet_answers_no_secret() {
    let intents = IntentFake::start();
    let (store, booking, payments, _) = booking_with_its_intent(&intents);
    store
        .write(|txn| {
            let mut row: Booking = txn.require(booking.id)?;
            row.created_at = Timestamp::parse_rfc3339("2020-01-01T00:00:00Z").expect("instant");
            txn.update(row)?;
            Ok(())
        })
        .expect("made long ago");
    let (row, _) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::PendingPayment, "not swept");

    assert_refused(
        start_payment(&payments, &store, &policy(), &row, Attempt::Repeat),
        "lapsed",
    );
}

/// Regression: an intent Stripe had cancelled, or that was paid (its event
/// not applied yet), was answered to the client as one to pay.
#[test]
fn a_recorded_intent_stripe_cancelled_or_saw_paid_answers_no_secret() {
    let intents = IntentFake::start();
    let (store, booking, payments, intent) = booking_with_its_intent(&intents);

    intents.set_status(&intent, "canceled");
    assert_refused(
        start_payment(&payments, &store, &policy(), &booking, Attempt::Repeat),
        "cancelled",
    );
    intents.set_status(&intent, "requires_payment_method");
    let started = start_payment(&payments, &store, &policy(), &booking, Attempt::Repeat)
        .expect("payable again")
        .expect("owed");
    assert!(started.client_secret.starts_with(&intent));
    intents.set_status(&intent, "succeeded");
    assert_eq!(
        start_payment(&payments, &store, &policy(), &booking, Attempt::Repeat).expect("paid"),
        None
    );
}

/// How many ledger rows name `user`.
fn ledger_rows_of(store: &Store, user: droply_models::UserId) -> usize {
    store
        .list_index::<LedgerEntry>(
            IndexName::LedgerByUser,
            &user.to_be_bytes(),
            &PageRequest::first(100),
        )
        .expect("ledger")
        .items
        .len()
}

/// Delivers, signed, the `payment_intent.succeeded` event of `intent` as
/// the fake Stripe has it now: whether it was applied (not a redelivery).
fn deliver_paid_event(
    store: &Store,
    payments: &Payments,
    intents: &IntentFake,
    intent: &str,
) -> bool {
    let paid = intents.intent(intent).expect("at Stripe");
    let payload = serde_json::to_vec(&event("evt_paid_late", "payment_intent.succeeded", paid))
        .expect("json");
    let header = signature_header(
        WEBHOOK_SECRET,
        Timestamp::now().as_micros() / 1_000_000,
        &payload,
    );
    handle_webhook(payments, store, &policy(), &payload, Some(header.as_str()))
        .expect("delivered")
        .applied
}

/// Regression: the pay page repeated the start of a booking whose intent
/// Stripe already reported `succeeded`, its `payment_intent.succeeded`
/// webhook not arrived yet: the repeat answered 409 (`InvalidState`, "paid
/// already") and the booking stayed awaiting payment until the event came.
/// Now the event's rule records it paid (booking confirmed, the charge in
/// the ledger), nothing is owed, and the event arriving later is applied
/// as a no-op.
#[test]
fn a_repeat_of_a_payment_stripe_reports_paid_before_its_webhook_records_it_paid() {
    let intents = IntentFake::start();
    let (store, booking, payments, intent) = booking_with_its_intent(&intents);
    intents.set_status(&intent, "succeeded");

    let answer = start_payment(&payments, &store, &policy(), &booking, Attempt::Repeat)
        .expect("a paid booking is not an error");
    assert_eq!(answer, None, "nothing is owed");
    let (row, payment) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::Confirmed);
    assert_eq!(row.payment_status, PaymentStatus::Succeeded);
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert_eq!(payment.intent_id.as_deref(), Some(intent.as_str()));
    assert!(payment.refunds.is_empty(), "{:?}", payment.refunds);
    let ledger = ledger_rows_of(&store, payment.payer);
    assert!(ledger > 0, "the charge is in the ledger");

    // The webhook arrives after: applied, and it changes nothing.
    assert!(deliver_paid_event(&store, &payments, &intents, &intent));
    let (after, paid_after) = stored(&store, &booking);
    assert_eq!(after.status, BookingStatus::Confirmed);
    assert_eq!(paid_after.status, PaymentStatus::Succeeded);
    assert!(paid_after.refunds.is_empty());
    assert_eq!(
        ledger_rows_of(&store, payment.payer),
        ledger,
        "charged once"
    );
    assert_eq!(
        start_payment(&payments, &store, &policy(), &after, Attempt::Repeat).expect("paid"),
        None
    );
}

/// Regression guard: a repeat (the pay page) of a booking whose unpaid hold
/// lapsed, the hold sweep not having run yet, whose recorded intent Stripe
/// reports `succeeded`, its event not arrived. The repeat applies the
/// webhook's rule for a late payment: the payment is recorded paid, the
/// booking is not confirmed but released (cancelled as its hold lapsed),
/// a full refund is requested and sent to Stripe once, and nothing is owed.
#[test]
fn a_repeat_of_a_lapsed_booking_whose_intent_stripe_reports_paid_records_it_and_refunds_it() {
    let (store, booking) = booking_awaiting_its_intent();
    let intents = IntentFake::start();
    // Stripe as the engine sees it: the intents, and every call recorded.
    let stripe = StripeFake::start(Some(intents.base_url()));
    let payments = paying_through(&store, stripe.base_url());
    start_payment(&payments, &store, &policy(), &booking, Attempt::First)
        .expect("started")
        .expect("owed");
    let (_, payment) = stored(&store, &booking);
    let intent = payment.intent_id.expect("recorded");
    store
        .write(|txn| {
            let mut row: Booking = txn.require(booking.id)?;
            row.created_at = Timestamp::parse_rfc3339("2020-01-01T00:00:00Z").expect("instant");
            txn.update(row)?;
            Ok(())
        })
        .expect("made long ago");
    let (row, _) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::PendingPayment, "not swept");
    intents.set_status(&intent, "succeeded");

    let answer = start_payment(&payments, &store, &policy(), &row, Attempt::Repeat)
        .expect("a late payment is not an error");
    assert_eq!(answer, None, "nothing is owed");

    let (after, payment) = stored(&store, &booking);
    assert_eq!(
        after.status,
        BookingStatus::Cancelled,
        "released, not confirmed"
    );
    assert_eq!(
        after.cancellation_reason.as_deref(),
        Some(crate::booking::EXPIRED_HOLD_REASON)
    );
    assert_eq!(
        after.stripe_payment_intent_id.as_deref(),
        Some(intent.as_str())
    );
    assert!(payment.status.is_paid(), "{:?}", payment.status);
    assert_eq!(payment.intent_id.as_deref(), Some(intent.as_str()));
    assert_eq!(payment.refunds.len(), 1, "{:?}", payment.refunds);
    let refund = &payment.refunds[0];
    assert_eq!(refund.amount, payment.amount, "refunded in full");
    assert_eq!(refund.reason, crate::payments::webhook::LATE_PAYMENT_REASON);
    let sent: Vec<_> = stripe
        .requests()
        .into_iter()
        .filter(|seen| seen.method == "POST" && seen.path == "/v1/refunds")
        .collect();
    assert_eq!(sent.len(), 1, "the refund is sent once: {sent:?}");
    assert_eq!(
        sent[0].idempotency_key.as_deref(),
        Some(
            payment
                .refund_key(payments.instance(), refund.number)
                .as_str()
        )
    );
    assert_eq!(sent[0].params()["payment_intent"], intent.as_str());
    assert!(
        ledger_rows_of(&store, payment.payer) > 0,
        "the charge is in the ledger"
    );
}

/// Regression: the intent's request named the booking, which a reschedule
/// changes: a repeat after the payment moved sent its key with other
/// parameters, Stripe answered 400 `idempotency_error`, taken as final, and
/// the new booking was cancelled.
#[test]
fn a_repeat_after_a_reschedule_moved_the_payment_answers_its_intent_and_cancels_nothing() {
    let (store, booking) = booking_awaiting_its_intent();
    let intents = IntentFake::start();
    let payments = paying_through(&store, intents.base_url());
    let (_, payment) = stored(&store, &booking);
    // The first request made the intent at Stripe and died before recording it.
    let made = payments
        .gateway()
        .expect("gateway")
        .create_intent(
            &intent_request(&payments, &payment).expect("request"),
            &payment.intent_key(payments.instance()),
        )
        .expect("made");
    // Rescheduled: the old booking is let go, its payment moves to the new one.
    let moved = store
        .write(|txn| {
            let mut old: Booking = txn.require(booking.id)?;
            old.status = BookingStatus::Cancelled;
            txn.update(old)?;
            let mut new = test_rows::booking_ahead(booking.user_id, booking.provider_id);
            new.start_time = booking.start_time.plus_days(7);
            new.end_time = booking.end_time.plus_days(7);
            let new = txn.create(new)?;
            let mut payment: Payment = txn.require(payment.id)?;
            payment.pays_for = PaymentFor::Booking(new.id);
            txn.update(payment)?;
            Ok(new)
        })
        .expect("rescheduled");

    let started = start_payment(&payments, &store, &policy(), &moved, Attempt::Repeat)
        .expect("the repeat answers the intent")
        .expect("owed");
    assert!(started.client_secret.starts_with(&made.id));
    assert_eq!(intents.intent_count(), 1, "no second intent");
    let (row, payment) = stored(&store, &moved);
    assert_eq!(
        row.status,
        BookingStatus::PendingPayment,
        "nothing cancelled"
    );
    assert_eq!(row.cancellation_reason, None);
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.intent_id.as_deref(), Some(made.id.as_str()));
    assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
}

/// Regression: a payment whose first request made its intent before the
/// last deploy (metadata naming the booking as well as the payment) and
/// died before recording it: a repeat within Stripe's 24 hours sent the
/// payment's key with today's metadata, Stripe refused the key as first
/// used with other parameters, and every repeat answered 502 until the
/// booking's hold lapsed. The repeat now answers the intent the key made.
#[test]
fn a_repeat_whose_key_made_its_intent_with_the_earlier_metadata_answers_that_intent() {
    let (store, booking) = booking_awaiting_its_intent();
    let intents = IntentFake::start();
    let payments = paying_through(&store, intents.base_url());
    let (_, payment) = stored(&store, &booking);
    // The request as made before: the booking named in the metadata too.
    let mut before = intent_request(&payments, &payment).expect("request");
    before
        .metadata
        .insert("droply_booking".to_owned(), booking.id.to_string());
    let made = payments
        .gateway()
        .expect("gateway")
        .create_intent(&before, &payment.intent_key(payments.instance()))
        .expect("made");

    let started = start_payment(&payments, &store, &policy(), &booking, Attempt::Repeat)
        .expect("the repeat answers the intent")
        .expect("owed");
    assert!(started.client_secret.starts_with(&made.id));
    assert_eq!(intents.intent_count(), 1, "no second intent");
    let (row, payment) = stored(&store, &booking);
    assert_eq!(row.status, BookingStatus::PendingPayment);
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.intent_id.as_deref(), Some(made.id.as_str()));
    assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
}

/// Bob's purchase of ann's EUR 9 guide, awaiting payment, its payment saved
/// without a PaymentIntent (as the Buy that made it leaves it before
/// calling Stripe): the store and the purchase.
fn purchase_awaiting_its_intent() -> (Store, ContentPurchase) {
    let (store, ann, bob) = test_rows::ann_and_bob();
    let terms = PaymentsConfig::default().terms();
    let purchase = store
        .write(|txn| {
            let guide = create(
                txn,
                ann.id,
                NewContent {
                    title: "A guide".to_owned(),
                    description: String::new(),
                    content_type: ContentType::Document,
                    price: Money::new(900, Currency::EUR),
                    category_id: None,
                },
            )?;
            let purchase = txn.create(ContentPurchase {
                id: ContentPurchaseId::new(0),
                buyer_id: bob.id,
                content_id: guide.id,
                amount_paid: guide.price,
                payment_status: PaymentStatus::Pending,
                stripe_payment_intent_id: None,
                created_at: txn.now(),
            })?;
            create_payment(txn, Payment::for_purchase(&purchase, ann.id, &terms)?)?;
            Ok(purchase)
        })
        .expect("purchase");
    (store, purchase)
}

/// Regression: a Buy repeated on the open purchase was started as a first
/// start: meeting Stripe's 5xx while the first Buy still waited for Stripe,
/// it marked the purchase failed, and the first Buy's intent was recorded
/// only to be cancelled, answering no client secret.
#[test]
fn a_repeated_buy_stripe_fails_while_the_first_waits_for_stripe_leaves_the_purchase_pending() {
    let (store, purchase) = purchase_awaiting_its_intent();
    let stripe_down = StripeFake::start(Some("http://127.0.0.1:1/".to_owned()));
    let failing = paying_through(&store, stripe_down.base_url());
    let intents = IntentFake::start();
    let working = paying_through(&store, intents.base_url());
    intents.hold_creates();

    let (repeat, first) = std::thread::scope(|scope| {
        let first = scope.spawn(|| {
            start_purchase_payment(&working, &store, &policy(), &purchase, Attempt::First)
        });
        let held = intents.wait_for_held(1, Duration::from_secs(10));
        let repeat = held.then(|| {
            start_purchase_payment(&failing, &store, &policy(), &purchase, Attempt::Repeat)
        });
        intents.release_creates();
        (repeat, first.join().expect("the first Buy"))
    });
    match repeat.expect("the first Buy waited for Stripe") {
        Err(Error::PaymentProvider(_)) => {}
        other => panic!("expected Stripe's error, got {other:?}"),
    }

    let started = first
        .expect("the first Buy starts the payment")
        .expect("owed");
    let row: ContentPurchase = store.require(purchase.id).expect("purchase");
    assert_eq!(row.payment_status, PaymentStatus::Pending);
    let payment = stored_payment_for(&store, PaymentFor::Purchase(purchase.id))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.status, PaymentStatus::Pending);
    assert_eq!(payment.intent_cancel, IntentCancel::Wanted);
    let intent = payment.intent_id.expect("the intent is recorded");
    assert!(started.client_secret.starts_with(&intent));
    assert_eq!(intents.intent_count(), 1);
}

/// Regression: a Buy repeated on an open purchase whose intent Stripe
/// already reported `succeeded`, its `payment_intent.succeeded` webhook not
/// arrived yet, answered 409 (`InvalidState`, "paid already") until the
/// event came, where a booking's repeat records it paid: the purchase path
/// had no slot policy to hand the event's rule. Now the event's rule
/// records it paid (the purchase granted and counted, the charge in the
/// ledger), nothing is owed, and the event arriving later changes nothing.
#[test]
fn a_repeated_buy_of_a_purchase_stripe_reports_paid_before_its_webhook_records_it_paid() {
    let (store, purchase) = purchase_awaiting_its_intent();
    let intents = IntentFake::start();
    let payments = paying_through(&store, intents.base_url());
    start_purchase_payment(&payments, &store, &policy(), &purchase, Attempt::First)
        .expect("started")
        .expect("owed");
    let paying_for = PaymentFor::Purchase(purchase.id);
    let payment = stored_payment_for(&store, paying_for)
        .expect("read")
        .expect("payment");
    let intent = payment.intent_id.expect("recorded");
    intents.set_status(&intent, "succeeded");

    let answer = start_purchase_payment(&payments, &store, &policy(), &purchase, Attempt::Repeat)
        .expect("a paid purchase is not an error");
    assert_eq!(answer, None, "nothing is owed");
    let row: ContentPurchase = store.require(purchase.id).expect("purchase");
    assert_eq!(row.payment_status, PaymentStatus::Succeeded);
    assert_eq!(
        row.stripe_payment_intent_id.as_deref(),
        Some(intent.as_str())
    );
    let payment = stored_payment_for(&store, paying_for)
        .expect("read")
        .expect("payment");
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    assert!(payment.refunds.is_empty(), "{:?}", payment.refunds);
    let content: Content = store.require(purchase.content_id).expect("content");
    assert_eq!(content.purchases, 1, "the sale is counted");
    let ledger = ledger_rows_of(&store, payment.payer);
    assert!(ledger > 0, "the charge is in the ledger");

    // The webhook arrives after: applied, and it changes nothing.
    assert!(deliver_paid_event(&store, &payments, &intents, &intent));
    let after: ContentPurchase = store.require(purchase.id).expect("purchase");
    assert_eq!(after.payment_status, PaymentStatus::Succeeded);
    let paid_after = stored_payment_for(&store, paying_for)
        .expect("read")
        .expect("payment");
    assert_eq!(paid_after.status, PaymentStatus::Succeeded);
    assert!(paid_after.refunds.is_empty());
    let content: Content = store.require(purchase.content_id).expect("content");
    assert_eq!(content.purchases, 1, "counted once");
    assert_eq!(
        ledger_rows_of(&store, payment.payer),
        ledger,
        "charged once"
    );
    assert_eq!(
        start_purchase_payment(&payments, &store, &policy(), &after, Attempt::Repeat)
            .expect("paid"),
        None
    );
}
