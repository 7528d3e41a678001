//! Chargebacks over HTTP: signed `charge.dispute.*` events (localstripe sends
//! none) take a disputed payment back as a refund would, once per dispute
//! whatever the event ids, and give it back when the platform wins. A
//! dispute naming only its charge (older API versions) is followed to the
//! charge's PaymentIntent at Stripe, and fails to be retried when Stripe
//! cannot be reached.

use droply_engine::payments::ledger::{LedgerEntry, LedgerKind};
use droply_engine::payments::{
    RefundState, StripeEvent, stored_payment_of, stored_payment_of_purchase,
};
use droply_models::{
    BookingId, BookingStatus, ContentPurchase, ContentPurchaseId, PaymentStatus, UserId,
};
use droply_test_support::stripe::{event, post_event};
use serde_json::{Value, json};

use crate::app::{TestApp, WEBHOOK_SECRET, spawn_app_paying};
use crate::content::published_guide;
use crate::content_purchases::paid_purchase;
use crate::payments::{assert_consistent, booked, url, usd};

/// A dispute `id` of `amount` US cents against PaymentIntent `intent`, as
/// Stripe sends it: no metadata of ours, the charge by id.
fn dispute(id: &str, intent: &str, amount: i64, status: &str) -> Value {
    json!({
        "id": id, "object": "dispute", "amount": amount, "currency": "usd",
        "charge": "ch_disputed", "payment_intent": intent, "status": status,
        "reason": "fraudulent", "metadata": {},
    })
}

/// Posts `kind` about `object` as event `event_id`; whether it was applied
/// (false for a redelivery).
fn deliver(app: &TestApp, event_id: &str, kind: &str, object: Value) -> bool {
    let (status, answer) = post_event(&url(app), WEBHOOK_SECRET, &event(event_id, kind, object));
    assert_eq!(status, 200, "{kind}: {answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    answer["applied"].as_bool().expect("applied")
}

/// The creator's total earnings, as `GET /v1/earnings` shows them.
fn earned(app: &TestApp, token: &str) -> i64 {
    let earnings = app.authed("GET", "/v1/earnings", token, None);
    assert_eq!(earnings.status, 200, "{}", earnings.raw);
    earnings.body["total_earnings"]["amount_minor"]
        .as_i64()
        .expect("earnings")
}

fn ledger_rows(app: &TestApp) -> usize {
    app.store.iter::<LedgerEntry>().count()
}

#[test]
fn a_dispute_takes_a_purchase_back_once_and_a_won_one_gives_it_back() {
    let app = spawn_app_paying();
    let (ann_id, ann) = app.register("ann");
    app.make_expert(ann_id, "Europe/Berlin");
    let (_, bob) = app.register("bob");
    let guide = published_guide(&app, &ann, "Paid guide", 1_900);
    let purchase = paid_purchase(&app, &bob, guide);
    let download = format!("/v1/content/{guide}/download");
    assert_eq!(app.fetch(&download, Some(&bob), &[]).status, 200);
    assert_eq!(earned(&app, &ann), 1_615);
    let row: ContentPurchase = app
        .store
        .require(ContentPurchaseId::new(purchase))
        .expect("purchase");
    let intent = row.stripe_payment_intent_id.expect("intent");
    let content = |field: &str| {
        app.authed("GET", &format!("/v1/content/{guide}"), &ann, None)
            .body[field]
            .clone()
    };
    let status_of_purchase = || {
        app.store
            .require::<ContentPurchase>(ContentPurchaseId::new(purchase))
            .expect("purchase")
            .payment_status
    };

    // Opened: no money has moved yet.
    assert!(deliver(
        &app,
        "evt_dp_created",
        "charge.dispute.created",
        dispute("dp_1", &intent, 1_900, "needs_response"),
    ));
    assert_eq!(earned(&app, &ann), 1_615);
    assert_eq!(app.fetch(&download, Some(&bob), &[]).status, 200);

    // Stripe takes the money: the creator's share goes, and the download with it.
    let rows_before = ledger_rows(&app);
    assert!(deliver(
        &app,
        "evt_dp_withdrawn",
        "charge.dispute.funds_withdrawn",
        dispute("dp_1", &intent, 1_900, "needs_response"),
    ));
    assert_eq!(earned(&app, &ann), 0);
    assert_eq!(content("earnings")["amount_minor"], 0);
    assert_eq!(content("purchases"), 0);
    assert_eq!(status_of_purchase(), PaymentStatus::Refunded);
    assert_eq!(
        app.fetch(&download, Some(&bob), &[]).status,
        404,
        "disputed: no access, as for a refunded purchase"
    );
    let rows_after = ledger_rows(&app);
    assert_eq!(
        rows_after,
        rows_before + 3,
        "refund, fee and earning reversals"
    );
    let payment = stored_payment_of_purchase(&app.store, ContentPurchaseId::new(purchase))
        .expect("read")
        .expect("payment");
    let recorded: Vec<_> = payment
        .refunds
        .iter()
        .map(|r| (r.reason.as_str(), r.stripe_id.as_deref(), r.state))
        .collect();
    assert_eq!(
        recorded,
        [("dispute", Some("dp_1"), RefundState::Succeeded)],
        "{payment:?}"
    );

    // The same withdrawal redelivered, and told again under another event id,
    // and the dispute closed as lost: nothing more is taken.
    assert!(!deliver(
        &app,
        "evt_dp_withdrawn",
        "charge.dispute.funds_withdrawn",
        dispute("dp_1", &intent, 1_900, "needs_response"),
    ));
    assert!(deliver(
        &app,
        "evt_dp_withdrawn_again",
        "charge.dispute.funds_withdrawn",
        dispute("dp_1", &intent, 1_900, "under_review"),
    ));
    assert!(deliver(
        &app,
        "evt_dp_lost_early",
        "charge.dispute.closed",
        dispute("dp_1", &intent, 1_900, "lost"),
    ));
    assert_eq!(earned(&app, &ann), 0);
    assert_eq!(ledger_rows(&app), rows_after);
    let creator = app.store.users().get(UserId::new(ann_id)).expect("ann");
    assert_eq!(creator.pending_balance, usd(0));

    // The platform wins: the money, the share and the download come back.
    assert!(deliver(
        &app,
        "evt_dp_reinstated",
        "charge.dispute.funds_reinstated",
        dispute("dp_1", &intent, 1_900, "won"),
    ));
    assert_eq!(earned(&app, &ann), 1_615);
    assert_eq!(content("earnings")["amount_minor"], 1_615);
    assert_eq!(content("purchases"), 1);
    assert_eq!(status_of_purchase(), PaymentStatus::Succeeded);
    assert_eq!(app.fetch(&download, Some(&bob), &[]).status, 200);
    // Its closing, and a withdrawal told once more, change nothing.
    let rows_won = ledger_rows(&app);
    for (id, kind, status) in [
        ("evt_dp_won", "charge.dispute.closed", "won"),
        (
            "evt_dp_withdrawn_late",
            "charge.dispute.funds_withdrawn",
            "won",
        ),
    ] {
        assert!(deliver(
            &app,
            id,
            kind,
            dispute("dp_1", &intent, 1_900, status)
        ));
    }
    assert_eq!(earned(&app, &ann), 1_615);
    assert_eq!(ledger_rows(&app), rows_won);
    assert_eq!(app.fetch(&download, Some(&bob), &[]).status, 200);
    assert_consistent(&app);
    app.assert_no_leaks();
}

#[test]
fn a_disputed_booking_payment_reads_refunded_and_its_cancel_refunds_nothing_more() {
    let app = spawn_app_paying();
    let (expert, provider, _, id) = booked(&app);
    let paid = app.pay_booking(id);
    let intent = paid.stripe_payment_intent_id.expect("intent");
    assert!(deliver(
        &app,
        "evt_dp_booking",
        "charge.dispute.funds_withdrawn",
        dispute("dp_b", &intent, 9_000, "needs_response"),
    ));
    assert_booking_taken_back(&app, expert, &provider, id, &intent);
}

/// Regression: a dispute as older API versions send it, naming the disputed
/// charge but not its PaymentIntent, was acknowledged and only logged, and
/// the money Stripe took back stayed credited to the expert. Its charge's
/// PaymentIntent is now read from Stripe, and the dispute takes the payment
/// back as one naming its PaymentIntent does; a charge Stripe does not know
/// is still acknowledged and ignored.
#[test]
fn a_dispute_naming_only_its_charge_takes_the_booking_payment_back() {
    let app = spawn_app_paying();
    let (expert, provider, _, id) = booked(&app);
    let paid = app.pay_booking(id);
    let intent = paid.stripe_payment_intent_id.expect("intent");
    let charge = charge_of(&app, &intent);

    let rows = ledger_rows(&app);
    assert!(deliver(
        &app,
        "evt_dp_unknown_charge",
        "charge.dispute.funds_withdrawn",
        dispute_of_charge("dp_x", "ch_unknown", 9_000, "needs_response"),
    ));
    assert_eq!(ledger_rows(&app), rows, "a charge Stripe does not know");

    assert!(deliver(
        &app,
        "evt_dp_charge_only",
        "charge.dispute.funds_withdrawn",
        dispute_of_charge("dp_c", &charge, 9_000, "needs_response"),
    ));
    let stripe = app.stripe.as_ref().expect("stripe");
    let charge_path = format!("/v1/charges/{charge}");
    assert!(
        stripe
            .fake
            .requests()
            .iter()
            .any(|seen| seen.method == "GET" && seen.path == charge_path),
        "the charge was read from Stripe"
    );
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    let recorded: Vec<_> = payment
        .refunds
        .iter()
        .map(|r| (r.reason.as_str(), r.stripe_id.as_deref(), r.state))
        .collect();
    assert_eq!(
        recorded,
        [("dispute", Some("dp_c"), RefundState::Succeeded)],
        "{payment:?}"
    );
    assert_booking_taken_back(&app, expert, &provider, id, &intent);
}

/// A dispute naming only its charge while Stripe cannot be reached: the
/// webhook answers 502 (Stripe delivers the event again later) and writes
/// nothing, neither the dispute nor the event's id (so the redelivery is
/// applied, not taken for one applied before).
#[test]
fn a_dispute_whose_charge_cannot_be_read_answers_502_and_writes_nothing() {
    let mut app = spawn_app_paying();
    let (expert, provider, _, id) = booked(&app);
    let paid = app.pay_booking(id);
    let intent = paid.stripe_payment_intent_id.expect("intent");
    let charge = charge_of(&app, &intent);
    let rows = ledger_rows(&app);
    let events = app.store.iter::<StripeEvent>().count();

    // Stripe goes away: localstripe stops, and the fake in front of it
    // answers 502 to what it cannot forward.
    let stripe = app.stripe.take().expect("stripe");
    drop(stripe.local);
    let (status, answer) = post_event(
        &url(&app),
        WEBHOOK_SECRET,
        &event(
            "evt_dp_unreadable",
            "charge.dispute.funds_withdrawn",
            dispute_of_charge("dp_u", &charge, 9_000, "needs_response"),
        ),
    );
    assert_eq!(status, 502, "{answer}");
    let answer: Value = serde_json::from_str(&answer).expect("json");
    assert_eq!(answer["code"], "payment_provider_error", "{answer}");
    let charge_path = format!("/v1/charges/{charge}");
    assert!(
        stripe
            .fake
            .requests()
            .iter()
            .any(|seen| seen.method == "GET" && seen.path == charge_path),
        "the charge was asked for"
    );

    assert_eq!(ledger_rows(&app), rows);
    assert_eq!(app.store.iter::<StripeEvent>().count(), events);
    let booking = app
        .store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking");
    assert_eq!(
        (booking.status, booking.payment_status),
        (BookingStatus::Confirmed, PaymentStatus::Succeeded)
    );
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert!(payment.refunds.is_empty(), "{payment:?}");
    let earnings = app.authed("GET", "/v1/earnings", &provider, None);
    assert_eq!(
        earnings.body["total_earnings"]["amount_minor"], 7_650,
        "{}",
        earnings.raw
    );
    let credited: Vec<LedgerKind> = app
        .store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.account == Some(UserId::new(expert)))
        .map(|row| row.kind)
        .collect();
    assert_eq!(credited, [LedgerKind::Earning]);
    assert_consistent(&app);
}

/// A dispute `id` of `amount` US cents as API versions before PaymentIntents
/// send it: the disputed charge `charge` by id, no `payment_intent`.
fn dispute_of_charge(id: &str, charge: &str, amount: i64, status: &str) -> Value {
    json!({
        "id": id, "object": "dispute", "amount": amount, "currency": "usd",
        "charge": charge, "status": status, "reason": "fraudulent", "metadata": {},
    })
}

/// The charge localstripe made when PaymentIntent `intent` was paid (its
/// `latest_charge` comes whole from localstripe, by id from Stripe).
fn charge_of(app: &TestApp, intent: &str) -> String {
    let stripe = app.stripe.as_ref().expect("stripe");
    let paid = stripe.local.get(&format!("v1/payment_intents/{intent}"));
    let charge = &paid["latest_charge"];
    let id = charge["id"].as_str().or_else(|| charge.as_str());
    let id = id.expect("a charge").to_owned();
    let read = stripe.local.get(&format!("v1/charges/{id}"));
    assert_eq!(read["payment_intent"], intent, "{read}");
    id
}

/// What a dispute of booking `id`'s whole payment (PaymentIntent `intent`,
/// 90 USD to `expert`, whose token is `provider`) leaves: the payment reads
/// refunded as after a refund, the session stays booked, the expert's
/// earning is reversed, and cancelling the booking then asks Stripe for no
/// refund.
fn assert_booking_taken_back(app: &TestApp, expert: u64, provider: &str, id: u64, intent: &str) {
    // As a refund does: the payment reads refunded, the session stays booked.
    let booking = app
        .store
        .bookings()
        .get(BookingId::new(id))
        .expect("booking");
    assert_eq!(
        (booking.status, booking.payment_status),
        (BookingStatus::Confirmed, PaymentStatus::Refunded)
    );
    let earnings = app.authed("GET", "/v1/earnings", provider, None);
    let minor = |field: &str| earnings.body[field]["amount_minor"].as_i64();
    assert_eq!(
        [
            minor("total_earnings"),
            minor("pending_balance"),
            minor("available")
        ],
        [Some(0), Some(0), Some(0)],
        "{}",
        earnings.raw
    );
    let rows: Vec<(LedgerKind, i64)> = app
        .store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.account == Some(UserId::new(expert)))
        .map(|row| (row.kind, row.amount.amount_minor))
        .collect();
    assert_eq!(
        rows,
        [
            (LedgerKind::Earning, 7_650),
            (LedgerKind::EarningReversal, -7_650)
        ]
    );
    // Cancelled afterwards: nothing is left to give back, so Stripe is not asked.
    let cancelled = app.authed(
        "POST",
        &format!("/v1/bookings/{id}/cancel"),
        provider,
        Some(r#"{"reason":"chargeback"}"#),
    );
    assert_eq!(cancelled.status, 200, "{}", cancelled.raw);
    assert_eq!(cancelled.body["payment_status"], "refunded");
    app.engine.run_payment_sweep().expect("sweep");
    let stripe = app.stripe.as_ref().expect("stripe");
    let refunds = stripe
        .local
        .get(&format!("v1/refunds?payment_intent={intent}"));
    assert_eq!(
        refunds["data"].as_array().map(Vec::len),
        Some(0),
        "{refunds}"
    );
    let payment = stored_payment_of(&app.store, BookingId::new(id))
        .expect("read")
        .expect("payment");
    assert_eq!(payment.refunds.len(), 1, "{payment:?}");
    assert_consistent(app);
}
