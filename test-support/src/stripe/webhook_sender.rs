//! Signing and sending webhook events the way Stripe does: the
//! `Stripe-Signature: t=<unix secs>,v1=<hex HMAC-SHA256>` header over
//! `"{t}.{raw body}"` keyed with the endpoint's secret, an event envelope
//! shaped like Stripe's, and a blocking POST of one event to a receiver
//! (the server under test), for tests that need events localstripe does
//! not emit (transfers, accounts, refunds) or need to forge, replay or
//! delay one.

use std::time::{SystemTime, UNIX_EPOCH};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use super::http;

/// The API version the envelopes from [`event`] carry: the one the
/// workspace's Stripe client (async-stripe 1.0.0-rc.10) is pinned to.
pub const API_VERSION: &str = "2026-09-30.endive";

/// The current time in Unix seconds.
pub(crate) fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// The hex HMAC-SHA256 of `"{timestamp}.{payload}"` keyed with `secret`:
/// the `v1` part of a `Stripe-Signature` header.
pub fn signature(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC-SHA256 takes a key of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// The `Stripe-Signature` header value Stripe sends with `payload` at
/// `timestamp`: `"t={timestamp},v1={hex hmac_sha256(secret, "{timestamp}.{payload}")}"`.
pub fn signature_header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!("t={timestamp},v1={}", signature(secret, timestamp, payload))
}

/// Checks a `Stripe-Signature` header against `payload` as a receiver
/// would: true when one of its `v1` signatures matches (the timestamp's age
/// is not checked). For tests that receive localstripe's webhooks.
pub fn verify_signature_header(secret: &str, header: &str, payload: &[u8]) -> bool {
    let mut timestamp = None;
    let mut signatures = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", s)) => signatures.push(s),
            _ => {}
        }
    }
    let Some(timestamp) = timestamp else {
        return false;
    };
    let expected = signature(secret, timestamp, payload);
    signatures.iter().any(|s| *s == expected)
}

/// A Stripe event envelope around `object`: `{"id": id, "object": "event",
/// "type": kind, "created": now, "livemode": false, "api_version":
/// API_VERSION, "pending_webhooks": 1, "request": {"id": null,
/// "idempotency_key": null}, "data": {"object": object}}`.
pub fn event(id: &str, kind: &str, object: Value) -> Value {
    json!({
        "id": id,
        "object": "event",
        "type": kind,
        "created": now(),
        "livemode": false,
        "api_version": API_VERSION,
        "pending_webhooks": 1,
        "request": {"id": null, "idempotency_key": null},
        "data": {"object": object},
    })
}

/// POSTs `event` (serialized compactly) to `url` (like
/// `http://127.0.0.1:PORT/v1/webhooks/stripe`) with `Content-Type:
/// application/json` and a `Stripe-Signature` made with `secret` at the
/// current time; returns the response's status and body.
///
/// # Panics
/// When the receiver cannot be reached or answers garbage.
pub fn post_event(url: &str, secret: &str, event: &Value) -> (u16, String) {
    let payload = serde_json::to_vec(event).expect("a JSON value serializes");
    post_payload(url, &signature_header(secret, now(), &payload), &payload)
}

/// POSTs `payload` as is to `url` with the given `Stripe-Signature` header
/// value (for tests of forged, stale or tampered deliveries); returns the
/// response's status and body.
///
/// # Panics
/// When the receiver cannot be reached or answers garbage.
pub fn post_payload(url: &str, signature_header: &str, payload: &[u8]) -> (u16, String) {
    let response = http::request(
        "POST",
        url,
        &[
            ("Content-Type", "application/json; charset=utf-8"),
            ("Stripe-Signature", signature_header),
            (
                "User-Agent",
                "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            ),
        ],
        payload,
    )
    .unwrap_or_else(|e| panic!("posting a webhook event to {url} failed: {e}"));
    (response.status, response.text())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Computed with Python:
    /// `hmac.new(b'whsec_test_secret', b'1700000000.{"id":"evt_1","object":"event"}', hashlib.sha256).hexdigest()`.
    #[test]
    fn matches_a_known_vector() {
        let payload = br#"{"id":"evt_1","object":"event"}"#;
        assert_eq!(
            signature_header("whsec_test_secret", 1_700_000_000, payload),
            "t=1700000000,v1=0c8670ed117751cc551a20e35839447075c42800ea3cf3e8a2fbda99cd1e6edd"
        );
    }

    #[test]
    fn verifies_what_it_signs() {
        let header = signature_header("whsec_a", 42, b"body");
        assert!(verify_signature_header("whsec_a", &header, b"body"));
        assert!(!verify_signature_header("whsec_b", &header, b"body"));
        assert!(!verify_signature_header("whsec_a", &header, b"other"));
        assert!(!verify_signature_header("whsec_a", "v1=00", b"body"));
    }

    #[test]
    fn event_has_stripes_envelope() {
        let e = event("evt_1", "transfer.created", json!({"id": "tr_1"}));
        assert_eq!(e["object"], "event");
        assert_eq!(e["type"], "transfer.created");
        assert_eq!(e["livemode"], false);
        assert_eq!(e["data"]["object"]["id"], "tr_1");
        assert!(e["created"].as_i64().is_some_and(|t| t > 1_700_000_000));
    }
}
