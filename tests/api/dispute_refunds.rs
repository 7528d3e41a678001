//! A chargeback beside a refund of ours decided before it: the dispute
//! takes what the refund leaves of the payment, remembers what Stripe
//! withdrew, and takes up the rest when the refund fails (Stripe refuses to
//! refund a disputed charge), whether Stripe had accepted the refund first
//! or never heard of it.

use droply_engine::payments::{Payment, RefundState, stored_payment_of};
use droply_models::{BookingId, PaymentStatus, UserId};
use droply_test_support::stripe::{event, post_event};
use serde_json::{Value, json};

use crate::app::{TestApp, WEBHOOK_SECRET, spawn_app_paying};
use crate::payments::{assert_consistent, booked, url, usd};

/// Posts `kind` about `object` as event `event_id`, answered 200.
fn deliver(app: &TestApp, event_id: &str, kind: &str, object: Value) {
    let (status, answer) = post_event(&url(app), WEBHOOK_SECRET, &event(event_id, kind, object));
    assert_eq!(status, 200, "{kind}: {answer}");
}

/// Our refund 1 of the whole 90 USD of PaymentIntent `intent`, as Stripe
/// tells of it, in `status`.
fn our_refund(intent: &str, status: &str) -> Value {
    json!({
        "id": "re_ours", "object": "refund", "payment_intent": intent, "amount": 9_000,
        "currency": "usd", "status": status, "metadata": {"droply_refund": "1"},
    })
}

/// A dispute of the whole 90 USD of PaymentIntent `intent`, in `status`.
fn dispute(intent: &str, status: &str) -> Value {
    json!({
        "id": "dp_r", "object": "dispute", "amount": 9_000, "currency": "usd",
        "charge": "ch_disputed", "payment_intent": intent, "status": status,
        "reason": "fraudulent", "metadata": {},
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

/// Regression: a dispute withdrawn while a refund of ours of the whole
/// payment was still requested (or pending) took nothing, the refund's part
/// being spoken for; Stripe then refused that refund, and its ledger rows
/// were undone: Stripe had taken 9,000 from the platform while the expert
/// kept, and could be paid, the 7,650 earning. The dispute now takes up
/// what the failed refund frees, to what Stripe withdrew.
#[test]
fn a_dispute_takes_up_what_a_refund_decided_before_it_frees_when_that_refund_fails() {
    for accepted_first in [false, true] {
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
        if accepted_first {
            deliver(
                &app,
                "evt_refund_pending",
                "refund.updated",
                our_refund(&intent, "pending"),
            );
            assert_eq!(payment_of(&app, id).refunds[0].state, RefundState::Pending);
        }

        deliver(
            &app,
            "evt_dp_withdrawn",
            "charge.dispute.funds_withdrawn",
            dispute(&intent, "needs_response"),
        );
        assert_consistent(&app);

        // Stripe refuses the refund of a disputed charge.
        deliver(
            &app,
            "evt_refund_failed",
            "refund.updated",
            our_refund(&intent, "failed"),
        );
        let payment = payment_of(&app, id);
        assert_eq!(
            payment.refunds[0].state,
            RefundState::Failed,
            "accepted first: {accepted_first}: {payment:?}"
        );
        let taken: Vec<_> = payment
            .refunds
            .iter()
            .filter(|r| r.stripe_id.as_deref() == Some("dp_r"))
            .map(|r| (r.amount.amount_minor, r.state))
            .collect();
        assert_eq!(
            taken,
            [(9_000, RefundState::Succeeded)],
            "accepted first: {accepted_first}: {payment:?}"
        );
        assert_eq!(
            payment.refunded().expect("sum"),
            usd(9_000),
            "accepted first: {accepted_first}: {payment:?}"
        );
        assert_eq!(payment.status, PaymentStatus::Refunded, "{payment:?}");
        assert_eq!(
            earned(&app, expert),
            0,
            "accepted first: {accepted_first}: {payment:?}"
        );
        // The dispute's own events told again take nothing more.
        deliver(
            &app,
            "evt_dp_lost",
            "charge.dispute.closed",
            dispute(&intent, "lost"),
        );
        assert_eq!(payment_of(&app, id).refunded().expect("sum"), usd(9_000));
        assert_eq!(earned(&app, expert), 0);
        assert_consistent(&app);
        drop(fake);
    }
}
