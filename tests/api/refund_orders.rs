//! A refund's own event and its charge's total (`charge.refunded`) beside
//! refunds of ours Stripe has not named: one Stripe refused stays failed
//! and never takes the name of a refund made in Stripe's dashboard since,
//! whatever order the events come in; and a total that counts one of ours
//! still `requested` (our call timed out after Stripe made it) is not taken
//! for another refund.

use droply_engine::payments::{Payment, RefundState, stored_payment_of};
use droply_models::{BookingId, UserId};
use droply_test_support::stripe::{event, post_event};
use serde_json::{Value, json};

use crate::app::{TestApp, WEBHOOK_SECRET, spawn_app_paying};
use crate::payments::{assert_consistent, booked, url, usd};

/// Posts `kind` about `object` as event `event_id`, answered 200.
fn deliver(app: &TestApp, event_id: &str, kind: &str, object: Value) {
    let (status, answer) = post_event(&url(app), WEBHOOK_SECRET, &event(event_id, kind, object));
    assert_eq!(status, 200, "{kind}: {answer}");
}

/// Refund `id` of the whole 90 USD of PaymentIntent `intent`, in `status`,
/// with `metadata` (none for one made in Stripe's dashboard).
fn refund_object(intent: &str, id: &str, status: &str, metadata: Value) -> Value {
    json!({
        "id": id, "object": "refund", "payment_intent": intent, "amount": 9_000,
        "currency": "usd", "status": status, "metadata": metadata,
    })
}

/// The charge of PaymentIntent `intent` with `total` refunded.
fn charge_refunded(intent: &str, total: i64) -> Value {
    json!({
        "id": "ch_1", "object": "charge", "payment_intent": intent, "amount": 9_000,
        "amount_refunded": total, "currency": "usd", "metadata": {},
    })
}

fn payment_of(app: &TestApp, booking: u64) -> Payment {
    stored_payment_of(&app.store, BookingId::new(booking))
        .expect("read")
        .expect("payment")
}

fn earned(app: &TestApp, expert: u64) -> i64 {
    app.store
        .users()
        .get(UserId::new(expert))
        .expect("expert")
        .total_earnings
        .amount_minor
}

/// Writes a refund of the whole payment of `booking` as `send_refund`
/// leaves one Stripe refused for good: failed, with no Stripe id.
fn refund_refused_by_stripe(app: &TestApp, booking: u64) {
    let id = payment_of(app, booking).id;
    app.store
        .write(|txn| {
            let mut payment: Payment = txn.require(id)?;
            let number = payment.push_refund(usd(9_000), "cancelled by the expert", txn.now());
            for refund in payment.refunds.iter_mut().filter(|r| r.number == number) {
                refund.state = RefundState::Failed;
            }
            txn.update(payment).map(drop)
        })
        .expect("write");
}

/// Regression: a refund of 9,000 made by hand in Stripe's dashboard, after
/// one of ours of 9,000 was refused, was matched by its amount to the
/// refused one: it could not move from failed, only its id was written, no
/// ledger row, and the charge's total then counted it as known. The client
/// had 9,000 back while the expert kept the 7,650 earning. In either order
/// of the refund's event and the charge's total, the dashboard's refund now
/// counts once and the refused one stays failed and unnamed.
#[test]
fn a_dashboard_refund_beside_a_refused_one_of_the_same_amount_counts_in_either_order() {
    for refund_first in [true, false] {
        let app = spawn_app_paying();
        let (expert, _, _, id) = booked(&app);
        let intent = app
            .pay_booking(id)
            .stripe_payment_intent_id
            .expect("intent");
        refund_refused_by_stripe(&app, id);
        let refund = (
            "evt_refund_created",
            "refund.created",
            refund_object(&intent, "re_dashboard", "succeeded", json!({})),
        );
        let charge = (
            "evt_charge_refunded",
            "charge.refunded",
            charge_refunded(&intent, 9_000),
        );
        let order = if refund_first {
            [refund, charge]
        } else {
            [charge, refund]
        };
        for (event_id, kind, object) in order {
            deliver(&app, event_id, kind, object);
        }

        let payment = payment_of(&app, id);
        assert_eq!(
            payment.refunded().expect("sum"),
            usd(9_000),
            "refund first: {refund_first}: {payment:?}"
        );
        let refused = &payment.refunds[0];
        assert_eq!(
            (refused.state, refused.stripe_id.as_deref()),
            (RefundState::Failed, None),
            "refund first: {refund_first}: {payment:?}"
        );
        assert!(
            payment
                .refunds
                .iter()
                .any(|r| r.stripe_id.as_deref() == Some("re_dashboard")
                    && r.state == RefundState::Succeeded),
            "refund first: {refund_first}: {payment:?}"
        );
        assert_eq!(earned(&app, expert), 0, "refund first: {refund_first}");
        assert_consistent(&app);
    }
}

/// Regression: a charge's total counting a refund of ours that was still
/// `requested` (our call timed out after Stripe made it) was taken for a
/// new refund beside it, which the payment could not hold: every delivery
/// failed until the refund's own event came. The total is now acknowledged
/// as that refund, which its own event settles.
#[test]
fn a_charge_total_counting_a_requested_refund_of_ours_is_not_another_refund() {
    let mut app = spawn_app_paying();
    let (expert, provider, _, id) = booked(&app);
    let intent = app
        .pay_booking(id)
        .stripe_payment_intent_id
        .expect("intent");
    // localstripe stops: the expert's cancel leaves its refund requested.
    let stripe = app.stripe.take().expect("stripe");
    let fake = stripe.fake;
    drop(stripe.local);
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        &provider,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert_eq!(
        payment_of(&app, id).refunds[0].state,
        RefundState::Requested
    );

    deliver(
        &app,
        "evt_charge_refunded",
        "charge.refunded",
        charge_refunded(&intent, 9_000),
    );
    let payment = payment_of(&app, id);
    assert_eq!(payment.refunds.len(), 1, "{payment:?}");

    deliver(
        &app,
        "evt_refund_succeeded",
        "refund.updated",
        refund_object(
            &intent,
            "re_ours",
            "succeeded",
            json!({"droply_refund": "1"}),
        ),
    );
    let payment = payment_of(&app, id);
    assert_eq!(payment.refunds.len(), 1, "{payment:?}");
    assert_eq!(
        (
            payment.refunds[0].state,
            payment.refunds[0].stripe_id.as_deref()
        ),
        (RefundState::Succeeded, Some("re_ours")),
        "{payment:?}"
    );
    assert_eq!(payment.refunded().expect("sum"), usd(9_000));
    assert_eq!(earned(&app, expert), 0);
    assert_consistent(&app);
    drop(fake);
}
