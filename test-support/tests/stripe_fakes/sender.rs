//! The webhook sender posts signed events.

use std::time::Duration;

use axum::http::StatusCode;
use droply_test_support::stripe::webhook_sender::{self, verify_signature_header};
use droply_test_support::stripe::{event, post_event};
use serde_json::{Value, json};

use crate::support::*;

#[test]
fn sender_posts_signed_events() {
    let receiver = Receiver::start(StatusCode::OK);
    let secret = "whsec_sender";
    let sent = event(
        "evt_test_1",
        "account.updated",
        json!({"id": "acct_1", "object": "account", "payouts_enabled": true}),
    );
    let (status, body) = post_event(&receiver.url, secret, &sent);
    assert_eq!((status, body.as_str()), (200, "received"));
    let (headers, payload) = receiver.next(Duration::from_secs(5)).expect("delivery");
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok())
        .expect("signature");
    assert!(verify_signature_header(secret, signature, &payload));
    assert!(!verify_signature_header("whsec_other", signature, &payload));
    assert!(
        headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/json"))
    );
    let received: Value = serde_json::from_slice(&payload).expect("JSON");
    assert_eq!(received, sent);
    assert_eq!(received["api_version"], webhook_sender::API_VERSION);

    let refusing = Receiver::start(StatusCode::BAD_REQUEST);
    let (status, _) = webhook_sender::post_payload(&refusing.url, "t=1,v1=00", b"{}");
    assert_eq!(status, 400);
}
