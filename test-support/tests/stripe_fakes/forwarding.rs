//! The Connect fake answers what it does not fake with 404 alone, and forwards it
//! to localstripe when it has one.

use droply_test_support::stripe::{LocalStripe, StripeFake};
use serde_json::json;

use crate::support::*;

#[test]
fn fake_without_upstream_answers_unknown_urls_with_404() {
    let fake = StripeFake::start(None);
    let answer = get(&fake.base_url(), "v1/payment_intents");
    assert_eq!(answer.status, 404);
    assert!(
        answer.body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Unrecognized request URL (GET: /v1/payment_intents)")),
        "{:?}",
        answer.body
    );
    assert!(fake.requests()[0].forwarded);
}

#[test]
fn fake_forwards_everything_else_to_localstripe() {
    let ls = LocalStripe::start();
    let fake = StripeFake::start(Some(ls.base_url()));
    assert_eq!(fake.upstream(), Some(ls.base_url().as_str()));
    let base = fake.base_url();

    let created = post_form(
        &base,
        "v1/payment_intents",
        "amount=2000&currency=eur&metadata[droply_booking]=7",
        Some("booking-7"),
    );
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert!(
        created
            .header("content-type")
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let intent_id = created.body["id"].as_str().expect("id");
    assert_eq!(
        ls.get(&format!("v1/payment_intents/{intent_id}"))["metadata"]["droply_booking"],
        "7"
    );
    let fetched = get(&base, &format!("v1/payment_intents/{intent_id}"));
    assert_eq!(fetched.body["id"], intent_id);
    // Upstream errors come back as they are.
    assert_eq!(
        call(&base, "GET", "v1/payment_intents", &[], "").status,
        401
    );
    assert_eq!(get(&base, "v1/payment_intents/pi_nope").status, 404);
    // The Connect part is still served by the fake.
    let id = active_account(&fake);
    let transfer = post_form(
        &base,
        "v1/transfers",
        &format!("amount=5&currency=eur&destination={id}"),
        None,
    );
    assert_eq!(transfer.status, 200);

    // Verbatim by default: localstripe's shape (an expanded latest_charge, no
    // amount_received); with fixups, Stripe's.
    ls.pay(intent_id);
    let verbatim = get(&base, &format!("v1/payment_intents/{intent_id}"));
    assert!(verbatim.body["latest_charge"].is_object());
    assert!(verbatim.body.get("amount_received").is_none());
    fake.set_upstream_fixups(true);
    let fixed = get(&base, &format!("v1/payment_intents/{intent_id}"));
    assert_eq!(fixed.body["amount_received"], 2000);
    assert_eq!(fixed.body["amount_capturable"], 0);
    assert_eq!(fixed.body["payment_method_types"], json!(["card"]));
    assert!(
        fixed.body["latest_charge"]
            .as_str()
            .is_some_and(|c| c.starts_with("ch_"))
    );
    let expanded = get(
        &base,
        &format!("v1/payment_intents/{intent_id}?expand[]=latest_charge"),
    );
    assert_eq!(expanded.body["latest_charge"]["amount_captured"], 2000);
    let events = get(&base, "v1/events?type=payment_intent.succeeded");
    assert_eq!(events.body["data"][0]["pending_webhooks"], 0);
    assert_eq!(
        events.body["data"][0]["data"]["object"]["amount_received"],
        2000
    );
    let (_, other) = ls.post(
        "v1/payment_intents",
        &[("amount", "300"), ("currency", "eur")],
    );
    let other_id = other["id"].as_str().expect("id");
    let method = post_form(
        &base,
        "v1/payment_methods",
        "type=card&card[number]=4000000000000341&card[exp_month]=12&card[exp_year]=2030&card[cvc]=123",
        None,
    );
    let method_id = method.body["id"].as_str().expect("pm id");
    post_form(
        &base,
        &format!("v1/payment_intents/{other_id}"),
        &format!("payment_method={method_id}"),
        None,
    );
    let declined = post_form(
        &base,
        &format!("v1/payment_intents/{other_id}/confirm"),
        "",
        None,
    );
    assert_eq!(declined.status, 402);
    assert_eq!(declined.body["error"]["type"], "card_error");
    let failed = get(&base, &format!("v1/payment_intents/{other_id}"));
    assert_eq!(failed.body["last_payment_error"]["type"], "card_error");

    let seen = fake.requests();
    assert!(seen[0].forwarded);
    assert_eq!(seen[0].idempotency_key.as_deref(), Some("booking-7"));
    assert!(
        seen.iter()
            .any(|r| r.path == "/v1/transfers" && !r.forwarded)
    );
}

// ------------------------------------------------------------ webhook sender
