//! localstripe through its launcher: payments, signed webhooks, declines, and no
//! webhook for refunds.

use std::time::Duration;

use axum::http::StatusCode;
use droply_test_support::stripe::webhook_sender::verify_signature_header;
use droply_test_support::stripe::{LocalStripe, signature_header};
use serde_json::Value;

use crate::support::*;

#[test]
fn localstripe_pays_and_signs_webhooks_and_sends_none_for_refunds() {
    let ls = LocalStripe::start();
    assert!(ls.base_url().starts_with("http://127.0.0.1:") && ls.base_url().ends_with('/'));
    let receiver = Receiver::start(StatusCode::OK);
    let secret = "whsec_droply_test";
    ls.register_webhook(&receiver.url, secret);

    let (status, intent) = ls.post(
        "v1/payment_intents",
        &[
            ("amount", "2000"),
            ("currency", "eur"),
            ("metadata[droply_booking]", "7"),
        ],
    );
    assert_eq!(status, 200, "{intent}");
    assert_eq!(intent["status"], "requires_payment_method");
    let intent_id = intent["id"].as_str().expect("intent id");

    let paid = ls.pay(intent_id);
    assert_eq!(paid["status"], "succeeded", "{paid}");
    assert_eq!(paid["id"], intent_id);
    // localstripe expands latest_charge (Stripe sends an id).
    assert_eq!(paid["latest_charge"]["status"], "succeeded");
    assert_eq!(
        ls.get(&format!("v1/payment_intents/{intent_id}"))["status"],
        "succeeded"
    );

    let (headers, body) = receiver
        .next(Duration::from_secs(10))
        .expect("a payment_intent.succeeded webhook within 10 s");
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .expect("Stripe-Signature header");
    assert!(
        verify_signature_header(secret, signature, &body),
        "{signature}"
    );
    // The same check spelled out: t=<created>,v1=hex(HMAC-SHA256("{t}.{body}")).
    let t: i64 = signature
        .strip_prefix("t=")
        .and_then(|rest| rest.split(',').next())
        .and_then(|t| t.parse().ok())
        .expect("t=");
    assert_eq!(signature, signature_header(secret, t, &body));
    let event: Value = serde_json::from_slice(&body).expect("JSON event");
    assert_eq!(event["type"], "payment_intent.succeeded");
    assert_eq!(event["object"], "event");
    assert_eq!(event["created"], t);
    assert_eq!(event["data"]["object"]["id"], intent_id);
    assert_eq!(event["data"]["object"]["metadata"]["droply_booking"], "7");

    // Refunds: created at once as `succeeded`, but no webhook at all.
    let (status, refund) = ls.post(
        "v1/refunds",
        &[("payment_intent", intent_id), ("amount", "500")],
    );
    assert_eq!(status, 200, "{refund}");
    assert_eq!(refund["status"], "succeeded");
    assert_eq!(refund["amount"], 500);
    let refunds = ls.get(&format!("v1/refunds?payment_intent={intent_id}"));
    assert_eq!(
        refunds["data"].as_array().map(Vec::len),
        Some(1),
        "{refunds}"
    );
    assert!(
        receiver.next(Duration::from_millis(2500)).is_none(),
        "localstripe sent a webhook for a refund"
    );
    let events = ls.get("v1/events");
    let kinds: Vec<&str> = events["data"]
        .as_array()
        .expect("events")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(kinds, ["payment_intent.succeeded"]);
}

#[test]
fn localstripe_declines_and_emits_payment_failed() {
    let ls = LocalStripe::start();
    let (_, intent) = ls.post(
        "v1/payment_intents",
        &[("amount", "1500"), ("currency", "eur")],
    );
    let intent_id = intent["id"].as_str().expect("intent id");
    let declined = ls.pay_declined(intent_id);
    assert_eq!(declined["status"], "requires_payment_method", "{declined}");
    assert_eq!(declined["last_payment_error"]["code"], "card_declined");
    let failed = ls.get("v1/events?type=payment_intent.payment_failed");
    assert_eq!(
        failed["data"][0]["data"]["object"]["id"], intent_id,
        "{failed}"
    );

    // A refund of a failed payment is refused; an unknown intent is a 404.
    let (status, _) = ls.post("v1/refunds", &[("payment_intent", intent_id)]);
    assert_eq!(status, 400);
    let (status, body) = ls.get_status("v1/payment_intents/pi_nope");
    assert_eq!(status, 404, "{body}");
}

// ------------------------------------------------------------ StripeFake
