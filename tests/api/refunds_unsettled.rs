//! Refunds Stripe has not settled, against what their expert or referrer
//! does meanwhile: a refund still pending at Stripe holds its expert's
//! currency, and a late `pending` never takes a settled one back there; a
//! refund that fails after its expert moved to another currency
//! is kept by the platform instead of failing every webhook delivery; and a
//! referral reward a failed refund would revive stays cancelled once its
//! referrer is paid in another currency.

use droply_engine::payments::{LedgerEntry, LedgerKind, RefundState, stored_payment_of};
use droply_models::{BookingId, Currency, Money, PaymentStatus, UserId};
use droply_test_support::stripe::{event, post_event};
use serde_json::{Value, json};

use crate::app::{TestApp, WEBHOOK_SECRET, error_code, spawn_app_paying};
use crate::payments::{assert_consistent, booked, url};

const TO_EUROS: &str = r#"{"currency":"EUR","hourly_rate":8000}"#;

/// Posts Stripe's `refund.updated` for refund `refund_id` of the booking's
/// PaymentIntent; the answer's status and body.
fn refund_event(app: &TestApp, event_id: &str, object: Value) -> (u16, String) {
    post_event(
        &url(app),
        WEBHOOK_SECRET,
        &event(event_id, "refund.updated", object),
    )
}

fn refund_object(intent: &str, refund_id: &str, status: &str) -> Value {
    json!({
        "id": refund_id, "object": "refund", "payment_intent": intent, "amount": 9_000,
        "currency": "usd", "status": status, "metadata": {},
    })
}

fn cancel_as_expert(app: &TestApp, provider: &str, id: u64) {
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        provider,
        Some(r#"{"reason":"ill"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
}

/// Regression: a refund Stripe accepted as pending took the expert's earning back at
/// once, so their totals were zero and they could move to another currency; when the
/// refund then failed, its share came back in the old one and every delivery of the
/// event answered 400.
#[test]
fn a_refund_pending_at_stripe_holds_its_experts_currency() {
    let mut app = spawn_app_paying();
    let (expert, provider, _, id) = booked(&app);
    let booking = app.pay_booking(id);
    let intent = booking.stripe_payment_intent_id.expect("intent");
    // localstripe stops: the expert's cancel leaves its refund requested.
    let stripe = app.stripe.take().expect("stripe");
    let fake = stripe.fake;
    drop(stripe.local);
    cancel_as_expert(&app, &provider, id);
    // Stripe's word comes: the refund is pending.
    let (status, answer) = refund_event(
        &app,
        "evt_pending",
        refund_object(&intent, "re_slow", "pending"),
    );
    assert_eq!(status, 200, "{answer}");
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert_eq!(
        payment.refunds[0].state,
        RefundState::Pending,
        "{payment:?}"
    );
    let expert_row = app.store.users().get(UserId::new(expert)).expect("expert");
    assert!(expert_row.total_earnings.is_zero(), "{expert_row:?}");

    let refused = app.authed("PATCH", "/v1/users/me", &provider, Some(TO_EUROS));
    assert_eq!(
        (refused.status, error_code(&refused).as_str()),
        (400, "invalid_input"),
        "{}",
        refused.raw
    );
    assert!(refused.raw.contains("refund"), "{}", refused.raw);

    // The refund fails: the earning is the expert's again, in their currency.
    let (status, answer) = refund_event(
        &app,
        "evt_failed",
        refund_object(&intent, "re_slow", "failed"),
    );
    assert_eq!(status, 200, "{answer}");
    let expert_row = app.store.users().get(UserId::new(expert)).expect("expert");
    assert_eq!(
        expert_row.total_earnings,
        Money::new(7_650, Currency::USD),
        "{expert_row:?}"
    );
    assert_consistent(&app);
    drop(fake);
}

/// Regression: `refund.created` (pending) delivered after `refund.updated` (succeeded)
/// moved the refund back to pending for good: it stayed unsettled, and its expert could
/// never change currency again.
#[test]
fn a_pending_report_after_a_succeeded_one_leaves_the_refund_settled() {
    let app = spawn_app_paying();
    let (_, provider, _, id) = booked(&app);
    let booking = app.pay_booking(id);
    let intent = booking.stripe_payment_intent_id.expect("intent");
    cancel_as_expert(&app, &provider, id);
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    let refund_id = payment.refunds[0].stripe_id.clone().expect("stripe id");

    let (status, answer) = refund_event(
        &app,
        "evt_refund_succeeded",
        refund_object(&intent, &refund_id, "succeeded"),
    );
    assert_eq!(status, 200, "{answer}");
    let (status, answer) = post_event(
        &url(&app),
        WEBHOOK_SECRET,
        &event(
            "evt_refund_created",
            "refund.created",
            refund_object(&intent, &refund_id, "pending"),
        ),
    );
    assert_eq!(status, 200, "{answer}");
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.refunds.len(), 1, "{:?}", payment.refunds);
    assert_eq!(
        payment.refunds[0].state,
        RefundState::Succeeded,
        "{payment:?}"
    );
    assert_eq!(payment.status, PaymentStatus::Refunded);
    // Nothing is underway: the expert may move to euros.
    let moved = app.authed("PATCH", "/v1/users/me", &provider, Some(TO_EUROS));
    assert_eq!(moved.status, 200, "{}", moved.raw);
    assert_consistent(&app);
}

/// Regression: a refund that failed after Stripe had reported it succeeded, once its
/// expert had moved to another currency, could never be recorded: every delivery
/// answered 400, the booking showed refunded and the client had neither the session
/// nor the money.
#[test]
fn a_refund_failing_after_its_expert_moved_currency_is_kept_by_the_platform() {
    let app = spawn_app_paying();
    let (expert, provider, _, id) = booked(&app);
    let booking = app.pay_booking(id);
    let intent = booking.stripe_payment_intent_id.expect("intent");
    cancel_as_expert(&app, &provider, id);
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.refunds[0].state, RefundState::Succeeded);
    let refund_id = payment.refunds[0].stripe_id.clone().expect("stripe id");
    // Nothing is underway any more: the expert moves to euros.
    let moved = app.authed("PATCH", "/v1/users/me", &provider, Some(TO_EUROS));
    assert_eq!(moved.status, 200, "{}", moved.raw);

    let failed = refund_object(&intent, &refund_id, "failed");
    for _ in 0..2 {
        let (status, answer) = refund_event(&app, "evt_failed_late", failed.clone());
        assert_eq!(status, 200, "{answer}");
    }
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.refunds[0].state, RefundState::Failed);
    assert_eq!(payment.status, PaymentStatus::Succeeded);
    let expert_row = app.store.users().get(UserId::new(expert)).expect("expert");
    assert_eq!(
        expert_row.total_earnings,
        Money::zero(Currency::EUR),
        "{expert_row:?}"
    );
    // The expert's USD share sits with the platform, beside its fee.
    let platform_rows: Vec<LedgerEntry> = app
        .store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.payment_id == Some(payment.id) && row.account.is_none())
        .collect();
    assert!(
        platform_rows
            .iter()
            .any(|row| row.kind == LedgerKind::EarningReversal
                && row.amount == Money::new(7_650, Currency::USD)),
        "{platform_rows:?}"
    );
    assert_consistent(&app);
}

/// Regression: a referral reward cancelled by a full refund came back pending when
/// the refund failed, whatever its referrer's currency had become meanwhile: it could
/// never be credited, and pending it refused every later currency change, back to
/// its own included.
#[test]
fn a_reward_a_failed_refund_revives_stays_cancelled_in_a_currency_its_referrer_left() {
    use crate::referral_rewards::{rewards, sign_up_with};
    use droply_engine::payments::stored_payment_of_purchase;
    use droply_models::ContentPurchaseId;

    let app = spawn_app_paying();
    let (_, rita) = app.register("rita");
    let code = app.authed("GET", "/v1/users/me", &rita, None).body["referral_code"]
        .as_str()
        .expect("code")
        .to_owned();
    let (_, carl) = sign_up_with(&app, "carl", &code);
    let (_, ruth) =
        crate::availability::expert_working(&app, "ruth", "Europe/Berlin", "09:00", "17:00");
    let guide = crate::content::published_guide(&app, &ruth, "Ruth's guide", 1_900);
    let purchase = crate::content_purchases::paid_purchase(&app, &carl, guide);
    let status = || rewards(&app, &rita)["rewards"][0]["status"].clone();
    assert_eq!(status(), "pending");
    let intent = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment")
        .intent_id
        .expect("intent");
    let refund = |event_id: &str, state: &str| {
        let mut object = refund_object(&intent, "re_full", state);
        object["amount"] = json!(1_900);
        let (status, answer) = refund_event(&app, event_id, object);
        assert_eq!(status, 200, "{answer}");
    };
    refund("evt_full", "succeeded");
    assert_eq!(status(), "cancelled");
    let to_euros = r#"{"currency":"EUR"}"#;
    let moved = app.authed("PATCH", "/v1/users/me", &rita, Some(to_euros));
    assert_eq!(moved.status, 200, "{}", moved.raw);

    refund("evt_full_failed", "failed");
    assert_eq!(status(), "cancelled", "it could never be credited in euros");
    let back = app.authed(
        "PATCH",
        "/v1/users/me",
        &rita,
        Some(r#"{"currency":"USD"}"#),
    );
    assert_eq!(back.status, 200, "{}", back.raw);
    assert_consistent(&app);
}
