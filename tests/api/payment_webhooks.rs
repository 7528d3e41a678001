//! Stripe's webhooks over HTTP, against Stripe on loopback (localstripe for
//! PaymentIntents and its events): the seven kinds of webhook signature, a body
//! over the 1 MiB limit, every event of a paid and partly refunded booking
//! redelivered in shuffled orders, a failed refund and refunds counted in a
//! charge's total first whatever order their events come in, and two
//! `account.updated` deliveries racing. The paid bookings they work on come
//! from the helpers in `payments`.

use std::time::Duration;

use droply_engine::payments::ledger;
use droply_models::{BookingId, BookingStatus, PaymentStatus, Timestamp, UserId};
use droply_test_support::stripe::webhook_sender::{post_payload, signature};
use droply_test_support::stripe::{event, post_event, signature_header};
use serde_json::{Value, json};

use crate::app::{TestApp, WEBHOOK_SECRET, error_code, spawn_app, spawn_app_paying};
use crate::availability::expert_working;
use crate::payments::{assert_consistent, book, booked, intent_of, slot, url, usd};
use crate::payouts::not_onboarded;

#[test]
fn webhook_signatures_seven_ways() {
    let app = spawn_app_paying();
    let target = url(&app);
    let body = |id: &str| {
        serde_json::to_vec(&event(id, "customer.created", json!({"id": "cus_1"}))).expect("json")
    };
    let now = Timestamp::now().as_micros() / 1_000_000;
    let events = || {
        app.store
            .iter::<droply_engine::payments::StripeEvent>()
            .count()
    };
    let cases: Vec<(&str, String, Vec<u8>, u16)> = vec![
        (
            "valid",
            signature_header(WEBHOOK_SECRET, now, &body("evt_ok")),
            body("evt_ok"),
            200,
        ),
        (
            "wrong secret",
            signature_header("whsec_other", now, &body("evt_w")),
            body("evt_w"),
            400,
        ),
        (
            "tampered body",
            signature_header(WEBHOOK_SECRET, now, &body("evt_t")),
            body("evt_t2"),
            400,
        ),
        (
            "stale",
            signature_header(WEBHOOK_SECRET, now - 301, &body("evt_s")),
            body("evt_s"),
            400,
        ),
        ("missing header", String::new(), body("evt_m"), 400),
        (
            "several v1, one valid",
            format!(
                "{},v1={}",
                signature_header("whsec_old", now, &body("evt_v")),
                signature(WEBHOOK_SECRET, now, &body("evt_v"))
            ),
            body("evt_v"),
            200,
        ),
        ("malformed", "t=yesterday;v1".to_owned(), body("evt_x"), 400),
    ];
    for (name, header, payload, expected) in cases {
        let before = events();
        let (status, answer) = if header.is_empty() {
            let raw = app.send(
                "POST",
                "/v1/webhooks/stripe",
                Some(std::str::from_utf8(&payload).expect("utf8")),
                None,
                &[],
            );
            (raw.status, raw.raw)
        } else {
            post_payload(&target, &header, &payload)
        };
        assert_eq!(status, expected, "{name}: {answer}");
        if expected == 400 {
            assert!(answer.contains("invalid_signature"), "{name}: {answer}");
            assert_eq!(events(), before, "{name} changed something");
        } else {
            assert_eq!(events(), before + 1, "{name} is recorded");
        }
    }
}

/// Regression: a webhook body over the webhooks' 1 MiB limit got axum's
/// plain-text 413, not the one error format.
#[test]
fn a_stripe_webhook_over_one_mebibyte_is_payload_too_large() {
    let app = spawn_app();
    let huge = "x".repeat(1024 * 1024 + 1);
    let response = app.send(
        "POST",
        "/v1/webhooks/stripe",
        Some(&huge),
        None,
        &[("Stripe-Signature", "t=1,v1=00")],
    );
    assert_eq!(
        (response.status, error_code(&response).as_str()),
        (413, "payload_too_large"),
        "{}",
        response.head
    );
}

/// Every event of one paid, partly refunded booking, as Stripe would send them.
fn life_of(app: &TestApp, id: u64) -> Vec<Value> {
    let intent = intent_of(app, id);
    let payment_id = droply_engine::payments::stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment")
        .id;
    let instance = app.store.instance_key().expect("instance");
    let metadata = json!({"droply_payment": payment_id.to_string(), "droply_booking": id.to_string(), "droply_instance": instance});
    vec![
        event(
            "evt_paid",
            "payment_intent.succeeded",
            json!({
                "id": intent, "object": "payment_intent", "amount": 9_000, "currency": "usd",
                "status": "succeeded", "metadata": metadata,
            }),
        ),
        event(
            "evt_refunded",
            "charge.refunded",
            json!({
                "id": "ch_1", "object": "charge", "payment_intent": intent, "amount": 9_000,
                "amount_refunded": 2_000, "currency": "usd", "metadata": {},
            }),
        ),
        event(
            "evt_refund",
            "refund.updated",
            json!({
                "id": "re_1", "object": "refund", "payment_intent": intent, "amount": 2_000,
                "currency": "usd", "status": "succeeded", "metadata": {},
            }),
        ),
    ]
}

/// Posts `deliveries` in an order fixed by `seed` (Fisher-Yates over a small LCG), each
/// answered 200.
fn deliver_shuffled(app: &TestApp, mut deliveries: Vec<&Value>, seed: u64) {
    let mut state = seed
        .wrapping_mul(6_364_136_223_846_793_005)
        .wrapping_add(1_442_695_040_888_963_407);
    for i in (1..deliveries.len()).rev() {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        let j = (state >> 33) as usize % (i + 1);
        deliveries.swap(i, j);
    }
    for delivery in deliveries {
        let (status, answer) = post_event(&url(app), WEBHOOK_SECRET, delivery);
        assert_eq!(status, 200, "{answer}");
    }
}

#[test]
fn every_event_delivered_three_times_in_shuffled_orders_yields_one_state() {
    let mut outcomes = Vec::new();
    for seed in 0..3_u64 {
        let app = spawn_app_paying();
        let (expert, _, _, id) = booked(&app);
        let life = life_of(&app, id);
        let deliveries: Vec<&Value> = life.iter().chain(&life).chain(&life).collect();
        deliver_shuffled(&app, deliveries, seed);
        let booking = app
            .store
            .bookings()
            .get(BookingId::new(id))
            .expect("booking");
        let mut ledger: Vec<(String, i64)> = app
            .store
            .iter::<ledger::LedgerEntry>()
            .map(|row| row.expect("row"))
            .map(|row| (format!("{:?}", row.kind), row.amount.amount_minor))
            .collect();
        ledger.sort();
        let earned = app
            .store
            .users()
            .get(UserId::new(expert))
            .expect("expert")
            .total_earnings;
        assert_consistent(&app);
        outcomes.push((booking.status, booking.payment_status, ledger, earned));
    }
    assert_eq!(outcomes[0].1, PaymentStatus::PartiallyRefunded);
    assert_eq!(outcomes[0].0, BookingStatus::Confirmed);
    assert_eq!(
        outcomes[0].2.len(),
        6,
        "charge, fee, earning and their refund rows"
    );
    assert_eq!(outcomes[0].3, usd(7_650 - 1_700));
    assert!(outcomes.iter().all(|o| *o == outcomes[0]), "{outcomes:?}");
}

/// Regression: a `charge.refunded` delivered late, its charge still counting a refund
/// that has failed since, brought that refund back as a new one: the expert lost the
/// earning, the client got nothing back. Every order of the events ends with nothing
/// refunded.
#[test]
fn a_failed_refund_stays_failed_whatever_order_its_events_come_in() {
    let mut outcomes = Vec::new();
    for seed in 0..4_u64 {
        let app = spawn_app_paying();
        let (expert, _, _, id) = booked(&app);
        let life = life_of(&app, id);
        let (paid, refund) = (&life[0], &life[2]["data"]["object"]);
        let mut failed = refund.clone();
        failed["status"] = json!("failed");
        let events = [
            paid.clone(),
            event("evt_refund_ok", "refund.updated", refund.clone()),
            event("evt_refund_failed", "charge.refund.updated", failed),
            // The charge as it was while the refund stood.
            life[1].clone(),
        ];
        deliver_shuffled(&app, events.iter().chain(&events).collect(), seed);
        let booking = app
            .store
            .bookings()
            .get(BookingId::new(id))
            .expect("booking");
        let earned = app
            .store
            .users()
            .get(UserId::new(expert))
            .expect("expert")
            .total_earnings;
        assert_consistent(&app);
        outcomes.push((booking.payment_status, earned));
    }
    assert!(
        outcomes
            .iter()
            .all(|o| *o == (PaymentStatus::Succeeded, usd(7_650))),
        "{outcomes:?}"
    );
}

/// Regression: two refunds made in Stripe's dashboard, whose charge total
/// (`charge.refunded`) came before their own events: each refund was then
/// counted again beside the total, so 1,500 refunded showed as 3,000 (the
/// expert lost earnings that were theirs; a second pair of 4,500 refunds
/// broke the payment's bounds and every delivery answered 400).
#[test]
fn refunds_counted_in_a_charges_total_first_are_not_counted_again() {
    for (parts, total) in [([1_000, 500], 1_500), ([4_500, 4_500], 9_000)] {
        for seed in 0..3_u64 {
            let app = spawn_app_paying();
            let (expert, _, _, id) = booked(&app);
            let life = life_of(&app, id);
            let (paid, charge) = (&life[0], &life[1]);
            let mut charge = charge.clone();
            charge["data"]["object"]["amount_refunded"] = json!(total);
            let refund_of = |n: usize, amount: i64| {
                let mut refund = life[2].clone();
                refund["id"] = json!(format!("evt_refund_{n}"));
                refund["type"] = json!("refund.created");
                refund["data"]["object"]["id"] = json!(format!("re_{n}"));
                refund["data"]["object"]["amount"] = json!(amount);
                refund
            };
            let refunds = [refund_of(1, parts[0]), refund_of(2, parts[1])];
            post_event(&url(&app), WEBHOOK_SECRET, paid);
            let (status, answer) = post_event(&url(&app), WEBHOOK_SECRET, &charge);
            assert_eq!(status, 200, "{answer}");
            // The refunds' own events, in either order, each twice.
            deliver_shuffled(&app, refunds.iter().chain(&refunds).collect(), seed);
            let payment =
                droply_engine::payments::stored_payment_of(&app.store, BookingId::new(id))
                    .expect("read")
                    .expect("payment");
            assert_eq!(payment.refunded().expect("sum"), usd(total), "{payment:?}");
            let mut names: Vec<_> = payment
                .refunds
                .iter()
                .filter_map(|r| r.stripe_id.clone())
                .collect();
            names.sort();
            assert_eq!(names, ["re_1", "re_2"], "{payment:?}");
            let earned = app
                .store
                .users()
                .get(UserId::new(expert))
                .expect("expert")
                .total_earnings;
            assert_eq!(earned, usd(7_650 - total * 7_650 / 9_000), "{payment:?}");
            assert_consistent(&app);
        }
    }
}

/// Regression: two `account.updated` deliveries at once each read the account from
/// Stripe and wrote what they read, and the older read could be written last: Stripe
/// had the expert active again while the store kept them `restricted`, and nobody
/// could book their paid sessions.
#[test]
fn racing_account_updates_keep_the_accounts_latest_state() {
    let app = spawn_app_paying();
    let (expert, token) = expert_working(&app, "olga", "Europe/Berlin", "09:00", "17:00");
    not_onboarded(&app, expert);
    let onboarding = app.authed("POST", "/v1/payouts/onboarding", &token, None);
    assert_eq!(onboarding.status, 200, "{}", onboarding.raw);
    let stripe = app.stripe.as_ref().expect("stripe");
    let account = stripe.fake.accounts()[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let deliver = |event_id: &str| {
        let object = stripe.fake.account(&account).expect("account");
        post_event(
            &url(&app),
            WEBHOOK_SECRET,
            &event(event_id, "account.updated", object),
        )
    };
    let status_now = || {
        let seen = app.authed("GET", "/v1/payouts/account", &token, None);
        assert_eq!(seen.status, 200, "{}", seen.raw);
        (
            seen.body["status"].clone(),
            seen.body["payouts_enabled"].clone(),
        )
    };
    stripe.fake.activate(&account);
    let (status, answer) = deliver("evt_active");
    assert_eq!(status, 200, "{answer}");
    assert_eq!(status_now(), (json!("active"), json!(true)));

    // Stripe restricts the account; the read its delivery makes is held...
    stripe.fake.restrict(&account);
    let gate = stripe.fake.hold_account_reads(1);
    let (held, newer, between, older) = std::thread::scope(|scope| {
        let older = scope.spawn(|| deliver("evt_restricted"));
        let held = gate.wait_for(1, Duration::from_secs(15));
        // ... while the expert provides what was due, Stripe activates the account
        // again, and that delivery reads and writes the newer state first.
        stripe.fake.activate(&account);
        let newer = deliver("evt_active_again");
        let between = app.authed("GET", "/v1/payouts/account", &token, None);
        // The older read comes back last (released before anything is asserted, so
        // that a failure cannot leave the older delivery waiting).
        stripe.fake.release_account_reads();
        (
            held,
            newer,
            between,
            older.join().expect("the older delivery"),
        )
    });
    assert!(held, "the restricted read was held");
    assert_eq!(newer.0, 200, "{}", newer.1);
    assert_eq!(between.body["status"], "active", "{}", between.raw);
    assert_eq!(older.0, 200, "{}", older.1);
    assert_eq!(
        status_now(),
        (json!("active"), json!(true)),
        "the newest state at Stripe stands"
    );
    let (_, client) = app.register("carl");
    let booked = book(&app, &client, expert, &slot());
    assert_eq!(booked.status, 201, "{}", booked.raw);
}
