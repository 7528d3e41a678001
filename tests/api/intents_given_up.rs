//! PaymentIntents given up are cancelled at Stripe (localstripe here): a
//! booking cancelled unpaid or whose hold lapsed, and a purchase given up
//! for a new price, can no longer be paid with the secret the client holds;
//! one paid before the sweep came is refunded as a late payment and left
//! alone, also when its event arrives only after the sweep.

use std::time::Duration;

use droply_engine::availability::SlotPolicy;
use droply_engine::booking::expire_unpaid_holds;
use droply_engine::payments::{
    IntentCancel, cancel_given_up_intents, stored_payment_of, stored_payment_of_purchase,
};
use droply_models::{BookingId, BookingStatus, ContentPurchaseId, PaymentStatus, Timestamp};
use droply_test_support::stripe::{event, post_event};

use crate::app::{TestApp, WEBHOOK_SECRET, spawn_app_paying, spawn_app_paying_with};
use crate::content_purchases::wait_for_purchase;
use crate::dates;
use crate::payments::{assert_consistent, book, booked, url};

fn sweep(app: &TestApp) -> usize {
    cancel_given_up_intents(app.engine.payments(), &app.store, app.engine.slot_policy())
        .expect("sweep")
}

/// Stripe's status of PaymentIntent `intent`.
fn stripe_status(app: &TestApp, intent: &str) -> String {
    let stripe = app.stripe.as_ref().expect("stripe");
    stripe.local.get(&format!("v1/payment_intents/{intent}"))["status"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

fn booking_intent(app: &TestApp, id: u64) -> String {
    stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment")
        .intent_id
        .expect("intent")
}

/// Regression: a booking cancelled unpaid, or whose hold lapsed, kept a PaymentIntent
/// the client could still pay: the money was taken, then refunded, and the platform
/// paid Stripe's fee on it.
#[test]
fn an_unpaid_booking_cancelled_or_lapsed_can_no_longer_be_paid() {
    let policy = SlotPolicy {
        unpaid_hold_ttl: Duration::from_secs(1),
        ..SlotPolicy::default()
    };
    let app = spawn_app_paying_with(|config| config.slot_policy = policy);
    let (expert, _, client, cancelled) = booked(&app);
    let lapsing = book(&app, &client, expert, &dates::at(0, "11:00"));
    assert_eq!(lapsing.status, 201, "{}", lapsing.raw);
    let lapsing = lapsing.body["id"].as_u64().expect("id");
    let cancel = app.authed(
        "POST",
        &format!("/v1/bookings/{cancelled}/cancel"),
        &client,
        Some(r#"{"reason":"found another time"}"#),
    );
    assert_eq!(cancel.status, 200, "{}", cancel.raw);
    std::thread::sleep(Duration::from_millis(1_200));
    assert_eq!(
        expire_unpaid_holds(&app.store, Timestamp::now(), &policy).expect("holds"),
        1
    );
    let intents = [
        booking_intent(&app, cancelled),
        booking_intent(&app, lapsing),
    ];
    for intent in &intents {
        assert_ne!(
            stripe_status(&app, intent),
            "canceled",
            "not before the sweep"
        );
    }

    assert_eq!(sweep(&app), 2);
    for (id, intent) in [cancelled, lapsing].iter().zip(&intents) {
        assert_eq!(stripe_status(&app, intent), "canceled");
        let payment = stored_payment_of(&app.store, BookingId::new(*id))
            .expect("read")
            .expect("payment");
        assert_eq!(payment.intent_cancel, IntentCancel::Cancelled);
    }
    let stripe = app.stripe.as_ref().expect("stripe");
    let (status, answer) = stripe
        .local
        .post(&format!("v1/payment_intents/{}/confirm", intents[0]), &[]);
    assert_ne!(status, 200, "a cancelled intent cannot be paid: {answer}");
    assert_eq!(sweep(&app), 0, "each intent is cancelled once");
    assert_consistent(&app);
}

/// Regression: a purchase given up for a new price kept its PaymentIntent payable at
/// the old one.
#[test]
fn a_purchase_given_up_for_a_new_price_can_no_longer_be_paid() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = crate::content::published_guide(&app, &ann, "Repriced guide", 1_900);
    let first = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(first.status, 201, "{}", first.raw);
    let first = first.body["id"].as_u64().expect("id");
    let old_intent = wait_for_purchase(&app, first, |p| p.stripe_payment_intent_id.is_some())
        .stripe_payment_intent_id
        .expect("intent");
    let repriced = app.authed(
        "PATCH",
        &format!("/v1/content/{id}"),
        &ann,
        Some(r#"{"price":{"amount_minor":2500,"currency":"USD"}}"#),
    );
    assert_eq!(repriced.status, 200, "{}", repriced.raw);
    let second = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(second.status, 201, "{}", second.raw);

    assert_eq!(sweep(&app), 1);
    assert_eq!(stripe_status(&app, &old_intent), "canceled");
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(first))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.intent_cancel, IntentCancel::Cancelled);
    let new_intent = wait_for_purchase(&app, second.body["id"].as_u64().expect("id"), |p| {
        p.stripe_payment_intent_id.is_some()
    })
    .stripe_payment_intent_id
    .expect("intent");
    assert_ne!(
        stripe_status(&app, &new_intent),
        "canceled",
        "the new one stands"
    );
}

/// A given-up intent the client paid before the sweep came: the payment is refunded
/// as a late one, and the sweep leaves the intent alone.
#[test]
fn an_intent_paid_before_its_cancel_is_refunded_and_left_alone() {
    let app = spawn_app_paying();
    let (_, _, client, id) = booked(&app);
    let cancel = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        &client,
        Some(r#"{"reason":"changed my mind"}"#),
    );
    assert_eq!(cancel.status, 200, "{}", cancel.raw);
    let intent = booking_intent(&app, id);
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    let refunded = app.wait_for_booking(id, |b| b.payment_status == PaymentStatus::Refunded);
    assert_eq!(refunded.status, BookingStatus::Cancelled);

    assert_eq!(sweep(&app), 0);
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.intent_cancel, IntentCancel::Refused);
    assert_eq!(stripe_status(&app, &intent), "succeeded");
    assert_consistent(&app);
}

/// Regression: archiving content left a purchase still awaiting payment payable: the
/// buyer could no longer start one, but paid the one they had, and content off sale
/// for good was sold. Archiving now gives up the open purchase (its intent is
/// cancelled); one paid before the sweep came is refunded in full.
#[test]
fn content_taken_off_sale_gives_up_its_open_purchases() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let (_, cy) = app.register("cyd");
    let id = crate::content::published_guide(&app, &ann, "Archived guide", 1_900);
    let mut intents = Vec::new();
    let mut purchases = Vec::new();
    for buyer in [&bob, &cy] {
        let started = app.authed("POST", &format!("/v1/content/{id}/purchase"), buyer, None);
        assert_eq!(started.status, 201, "{}", started.raw);
        let purchase = started.body["id"].as_u64().expect("id");
        purchases.push(purchase);
        intents.push(
            wait_for_purchase(&app, purchase, |p| p.stripe_payment_intent_id.is_some())
                .stripe_payment_intent_id
                .expect("intent"),
        );
    }
    let archived = app.authed("POST", &format!("/v1/content/{id}/archive"), &ann, None);
    assert_eq!(archived.status, 200, "{}", archived.raw);
    for purchase in &purchases {
        let row: droply_models::ContentPurchase = app
            .store
            .require(ContentPurchaseId::new(*purchase))
            .expect("purchase");
        assert_eq!(row.payment_status, PaymentStatus::Failed);
    }
    // Cy pays before the sweep: refunded in full, no right kept.
    let stripe = app.stripe.as_ref().expect("stripe");
    assert_eq!(stripe.local.pay(&intents[1])["status"], "succeeded");
    let refunded = wait_for_purchase(&app, purchases[1], |p| {
        p.payment_status == PaymentStatus::Refunded
    });
    assert_eq!(refunded.payment_status, PaymentStatus::Refunded);
    let download = app.authed("GET", &format!("/v1/content/{id}/download"), &cy, None);
    assert_eq!(download.status, 404, "{}", download.raw);
    // Bob's is cancelled at Stripe.
    assert_eq!(sweep(&app), 1);
    assert_eq!(stripe_status(&app, &intents[0]), "canceled");
    assert_consistent(&app);
}

/// Regression: the sweep came between the payment and its event. Stripe would not
/// cancel the paid intent (`Refused`), and the `payment_intent.succeeded` that came
/// after granted the purchase given up (its content archived) instead of refunding
/// it: only an intent still `Requested` counted as given up. (The sweep now reads
/// the refused intent back and records the payment itself; the late event then
/// changes nothing.)
#[test]
fn a_given_up_purchase_whose_payment_is_reported_after_the_sweep_is_refunded() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let id = crate::content::published_guide(&app, &ann, "Late guide", 1_900);
    let started = app.authed("POST", &format!("/v1/content/{id}/purchase"), &bob, None);
    assert_eq!(started.status, 201, "{}", started.raw);
    let purchase = started.body["id"].as_u64().expect("id");
    let intent = wait_for_purchase(&app, purchase, |p| p.stripe_payment_intent_id.is_some())
        .stripe_payment_intent_id
        .expect("intent");
    // Stripe's event is held back: localstripe sends its webhooks to nobody.
    let stripe = app.stripe.as_ref().expect("stripe");
    stripe
        .local
        .register_webhook("http://127.0.0.1:9/held-back", WEBHOOK_SECRET);
    assert_eq!(stripe.local.pay(&intent)["status"], "succeeded");
    let archived = app.authed("POST", &format!("/v1/content/{id}/archive"), &ann, None);
    assert_eq!(archived.status, 200, "{}", archived.raw);
    // The sweep: Stripe will not cancel an intent that was paid.
    assert_eq!(sweep(&app), 0);
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.intent_cancel, IntentCancel::Refused);
    // The sweep read the refused intent back and found it paid: the payment
    // is recorded by the webhook's own rule at once (its event may never
    // come), and the purchase given up refunded in full.
    assert!(payment.status.is_paid(), "{payment:?}");
    assert_eq!(payment.refunds.len(), 1, "{:?}", payment.refunds);
    assert_eq!(stripe_status(&app, &intent), "succeeded");

    // Now the payment's event comes: already applied, nothing more.
    let paid = stripe.local.get(&format!("v1/payment_intents/{intent}"));
    let (status, answer) = post_event(
        &url(&app),
        WEBHOOK_SECRET,
        &event("evt_paid_after_the_sweep", "payment_intent.succeeded", paid),
    );
    assert_eq!(status, 200, "{answer}");
    let refunded = wait_for_purchase(&app, purchase, |p| {
        p.payment_status == PaymentStatus::Refunded
    });
    assert_eq!(refunded.payment_status, PaymentStatus::Refunded);
    let download = app.authed("GET", &format!("/v1/content/{id}/download"), &bob, None);
    assert_eq!(download.status, 404, "{}", download.raw);
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.refunds.len(), 1, "{:?}", payment.refunds);
    assert_eq!(
        payment.refunds[0].amount, payment.amount,
        "refunded in full"
    );
    let refunds = stripe
        .local
        .get(&format!("v1/refunds?payment_intent={intent}"));
    assert_eq!(refunds["data"][0]["amount"], 1_900, "{refunds}");
    assert_consistent(&app);
}
