//! A payout request sent again (a retry after a lost answer) with its
//! `Idempotency-Key`: one payout and one transfer, a key reused with
//! another amount refused, a key whose transfer Stripe refused asking again.

use droply_test_support::stripe::{event, post_event};
use serde_json::json;

use crate::app::{TestApp, WEBHOOK_SECRET, error_code, spawn_app_paying};
use crate::payments::{assert_consistent, url};
use crate::payouts::payable_expert;

/// Regression: a payout request sent again after its answer was lost (a
/// mobile client's retry) reserved and transferred the amount a second
/// time: two payouts, two transfers. With the same `Idempotency-Key` the
/// repeat answers the first payout (also once its bank payout failed); the
/// key with another amount is refused; a key whose transfer Stripe refused
/// asks again; without a key each request is a payout of its own.
#[test]
fn a_payout_retried_with_its_idempotency_key_pays_once() {
    let app = spawn_app_paying();
    let (_, token, _) = payable_expert(&app, 5_000);
    let stripe = app.stripe.as_ref().expect("stripe");
    let body = r#"{"amount":{"amount_minor":1000,"currency":"USD"}}"#;
    let key = [("Idempotency-Key", "payout-1")];
    let first = app.send("POST", "/v1/payouts", Some(body), Some(&token), &key);
    assert_eq!(first.status, 201, "{}", first.raw);
    let again = app.send("POST", "/v1/payouts", Some(body), Some(&token), &key);
    assert_eq!(again.status, 200, "{}", again.raw);
    assert_eq!(again.body["id"], first.body["id"]);
    assert_eq!(again.body["status"], "in_transit");
    assert_eq!(stripe.fake.transfers().len(), 1);
    let available = |app: &TestApp| {
        app.authed("GET", "/v1/earnings", &token, None).body["available"]["amount_minor"]
            .as_i64()
            .expect("available")
    };
    assert_eq!(available(&app), 4_000);
    // The bank payout fails after the transfer (the money stays in the
    // expert's Stripe balance): the payout is `failed`, yet its key pays
    // nothing again.
    let mut bank_payout = stripe.fake.transfers()[0].clone();
    bank_payout["id"] = json!("po_1");
    bank_payout["object"] = json!("payout");
    let (status, answer) = post_event(
        &url(&app),
        WEBHOOK_SECRET,
        &event("evt_bank", "payout.failed", bank_payout),
    );
    assert_eq!(status, 200, "{answer}");
    let after_bank = app.send("POST", "/v1/payouts", Some(body), Some(&token), &key);
    assert_eq!(after_bank.status, 200, "{}", after_bank.raw);
    assert_eq!(after_bank.body["id"], first.body["id"]);
    assert_eq!(after_bank.body["status"], "failed");
    assert_eq!(stripe.fake.transfers().len(), 1);
    assert_eq!(available(&app), 4_000);

    // The same key with another amount: refused, nothing reserved.
    let other = app.send(
        "POST",
        "/v1/payouts",
        Some(r#"{"amount":{"amount_minor":2000,"currency":"USD"}}"#),
        Some(&token),
        &key,
    );
    assert_eq!(
        (other.status, error_code(&other).as_str()),
        (422, "idempotency_key_reused"),
        "{}",
        other.raw
    );
    assert_eq!(available(&app), 4_000);

    // Refused by Stripe: the first answer is the error, the repeat asks again.
    stripe.fake.fail_transfers(400, 1);
    let refused_key = [("Idempotency-Key", "payout-2")];
    let refused = app.send(
        "POST",
        "/v1/payouts",
        Some(body),
        Some(&token),
        &refused_key,
    );
    assert_eq!(
        error_code(&refused),
        "payment_provider_error",
        "{}",
        refused.raw
    );
    let retried = app.send(
        "POST",
        "/v1/payouts",
        Some(body),
        Some(&token),
        &refused_key,
    );
    assert_eq!(retried.status, 201, "{}", retried.raw);
    assert_eq!(retried.body["status"], "in_transit");
    assert_eq!(stripe.fake.transfers().len(), 2);
    assert_eq!(available(&app), 3_000);

    // A key that is not one is refused before anything is reserved.
    let bad = app.send(
        "POST",
        "/v1/payouts",
        Some(body),
        Some(&token),
        &[("Idempotency-Key", "has space")],
    );
    assert_eq!(bad.status, 400, "{}", bad.raw);
    // Without a key, two requests are two payouts.
    for _ in 0..2 {
        let r = app.authed("POST", "/v1/payouts", &token, Some(body));
        assert_eq!(r.status, 201, "{}", r.raw);
    }
    assert_eq!(stripe.fake.transfers().len(), 4);
    assert_eq!(available(&app), 1_000);
    assert_consistent(&app);
    app.assert_no_leaks();
}
