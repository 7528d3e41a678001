//! A refund sent again by the sweep after Stripe may have forgotten its
//! idempotency key (it keeps them 24 hours), against a temporary store and a
//! small stand-in for Stripe's refunds API: the Connect fake forwards
//! refunds to localstripe, which the engine's unit tests do not start.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use droply_models::{BookingStatus, Currency, PaymentStatus, User};
use droply_test_support::stripe::SECRET_KEY;
use serde_json::{Value, json};

use super::*;
use crate::payments::{
    IntentCancel, META_INSTANCE, PaymentFor, PaymentRefund, PaymentsConfig, StripeConfig,
    payout_sweep,
};
use crate::test_rows;

/// What the stand-in was asked, as `METHOD /path?query` lines.
type Seen = Arc<Mutex<Vec<String>>>;

/// A stand-in for Stripe's refunds on loopback: `GET /v1/refunds` answers
/// the list `listed` holds then; `POST /v1/refunds` makes `re_sent_again`.
/// Its base URL, and what it was asked.
fn refunds_api(listed: Arc<Mutex<Value>>) -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("listener");
    let base = format!("http://{}/", listener.local_addr().expect("address"));
    let seen: Seen = Arc::default();
    let asked = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            answer(stream, &listed, &asked);
        }
    });
    (base, seen)
}

/// Reads one request from `stream` and answers it (then closes it).
fn answer(mut stream: TcpStream, listed: &Mutex<Value>, seen: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() || request_line.is_empty() {
        return;
    }
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut words = request_line.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let target = words.next().unwrap_or_default().to_owned();
    seen.lock()
        .expect("seen")
        .push(format!("{method} {target}"));
    let reply = match (method.as_str(), target.split('?').next()) {
        ("GET", Some("/v1/refunds")) => listed.lock().expect("listed").clone(),
        ("POST", Some("/v1/refunds")) => json!({
            "id": "re_sent_again",
            "object": "refund",
            "amount": 4_000,
            "currency": "eur",
            "status": "succeeded",
            "metadata": {},
        }),
        _ => json!({"error": {"type": "invalid_request_error", "message": "Not Found"}}),
    };
    let status = if reply.get("error").is_some() {
        "404 Not Found"
    } else {
        "200 OK"
    };
    let body = reply.to_string();
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

/// `bob`'s paid booking with `ann`, cancelled, its payment of 100 EUR
/// through `pi_old` with refund 1 of 40 EUR requested at `requested_at`.
fn payment_with_a_refund_requested(
    store: &Store,
    ann: &User,
    bob: &User,
    requested_at: Timestamp,
) -> Payment {
    let (ann, bob) = (ann.id, bob.id);
    let mut booking = test_rows::booking(bob, ann);
    booking.status = BookingStatus::Cancelled;
    booking.payment_status = PaymentStatus::Succeeded;
    let booking = store.bookings().create(booking).expect("booking");
    let eur = |minor| Money::new(minor, Currency::EUR);
    store
        .write(|txn| {
            let payment = txn.create(Payment {
                id: PaymentId::new(0),
                pays_for: PaymentFor::Booking(booking.id),
                payer: bob,
                payee: ann,
                amount: eur(10_000),
                fee: eur(1_500),
                status: PaymentStatus::Succeeded,
                intent_id: Some("pi_old".to_owned()),
                refunds: vec![PaymentRefund {
                    number: 1,
                    amount: eur(4_000),
                    state: RefundState::Requested,
                    stripe_id: None,
                    reason: CANCELLED_BY_EXPERT.to_owned(),
                    requested_at,
                    disputed: None,
                }],
                earning_available_at: requested_at,
                created_at: requested_at,
                intent_cancel: IntentCancel::Wanted,
            })?;
            // Paid: its charge, fee and earning are in the ledger.
            crate::payments::ledger::record_charge(txn, &payment)?;
            Ok(payment)
        })
        .expect("payment")
}

/// Regression: a refund whose first call timed out after Stripe made it,
/// and which could not be sent for more than a day after, was sent again
/// by the sweep under a key Stripe had forgotten: a second refund gave the
/// client the money back twice.
#[test]
fn a_refund_retried_after_stripe_forgot_its_key_adopts_the_refund_made_instead_of_a_second() {
    let (store, ann, bob) = test_rows::ann_and_bob();
    let now = Timestamp::now();
    let payment = payment_with_a_refund_requested(&store, &ann, &bob, now.plus_minutes(-25 * 60));
    let listed = Arc::new(Mutex::new(json!({"object": "list", "data": []})));
    let (base, seen) = refunds_api(Arc::clone(&listed));
    let payments = Payments::new(
        &store,
        PaymentsConfig {
            stripe: Some(StripeConfig {
                api_base: base,
                ..StripeConfig::new(SECRET_KEY.into(), "whsec_droply_tests".into())
            }),
            ..PaymentsConfig::default()
        },
    )
    .expect("payments");
    // Stripe made it (re_made) under the refund's key, forgotten since.
    *listed.lock().expect("listed") = json!({
        "object": "list",
        "has_more": false,
        "url": "/v1/refunds",
        "data": [{
            "id": "re_made",
            "object": "refund",
            "amount": 4_000,
            "currency": "eur",
            "status": "succeeded",
            "payment_intent": "pi_old",
            "metadata": {
                META_INSTANCE: payments.instance(),
                META_PAYMENT: payment.id.to_string(),
                META_REFUND: "1",
            },
        }],
    });

    assert_eq!(payout_sweep(&payments, &store, now).expect("sweep"), 1);
    let asked = seen.lock().expect("seen").clone();
    assert!(
        !asked.iter().any(|line| line.starts_with("POST")),
        "not sent again: {asked:?}"
    );
    assert!(
        asked
            .iter()
            .any(|line| line.starts_with("GET /v1/refunds?") && line.contains("pi_old")),
        "{asked:?}"
    );
    let row: Payment = store.require(payment.id).expect("payment");
    assert_eq!(row.refunds.len(), 1);
    assert_eq!(row.refunds[0].stripe_id.as_deref(), Some("re_made"));
    assert_eq!(row.refunds[0].state, RefundState::Succeeded);
}
