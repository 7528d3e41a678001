//! Webhook deliveries against a temporary store: events of connected accounts
//! signed with the Connect endpoint's secret, the bank payouts Stripe makes from
//! an expert's connected account (untagged `payout.paid` / `payout.failed`), and
//! an `account.updated` for an account its user no longer holds, a
//! `transfer.created` of a payout still `pending`, and a second Stripe refund
//! carrying the number of one of ours.

use droply_models::{Money, Payout, PayoutId, PayoutStatus, Timestamp, User, UserId};
use droply_test_support::stripe::{SECRET_KEY, StripeFake, event, signature_header};
use serde_json::{Value, json};

use super::{WebhookReceipt, handle_webhook};
use crate::availability::SlotPolicy;
use crate::payments::{
    IntentCancel, LedgerEntry, LedgerKind, META_INSTANCE, META_PAYMENT, META_PAYOUT, META_REFUND,
    META_USER, Payment, PaymentFor, PaymentId, PaymentRefund, Payments, PaymentsConfig,
    RefundState, StripeConfig,
};
use crate::store::{IndexName, PageRequest, Store};
use crate::{Error, Result, test_rows};

const ACCOUNT_SECRET: &str = "whsec_droply_tests";
const CONNECT_SECRET: &str = "whsec_droply_connect_tests";

/// Payments with both endpoints' secrets, Stripe's API at `api_base` when given.
fn payments(store: &Store, api_base: Option<String>) -> Payments {
    let mut stripe = StripeConfig::new(SECRET_KEY.into(), ACCOUNT_SECRET.into());
    stripe.connect_webhook_secret = Some(CONNECT_SECRET.into());
    if let Some(base) = api_base {
        stripe.api_base = base;
    }
    Payments::new(
        store,
        PaymentsConfig {
            stripe: Some(stripe),
            ..PaymentsConfig::default()
        },
    )
    .expect("payments")
}

fn now_secs() -> i64 {
    Timestamp::now().as_micros() / 1_000_000
}

fn at_secs(secs: i64) -> Timestamp {
    Timestamp::from_micros(secs * 1_000_000).expect("instant")
}

/// Delivers `event` with a `Stripe-Signature` made with `secret` (none: no header).
fn deliver(
    payments: &Payments,
    store: &Store,
    event: &Value,
    secret: Option<&str>,
) -> Result<WebhookReceipt> {
    let payload = serde_json::to_vec(event).expect("json");
    let header = secret.map(|secret| signature_header(secret, now_secs(), &payload));
    handle_webhook(
        payments,
        store,
        &SlotPolicy::default(),
        &payload,
        header.as_deref(),
    )
}

/// An event of connected account `account`, as a Connect endpoint gets it.
fn connect_event(id: &str, kind: &str, account: &str, object: Value) -> Value {
    let mut event = event(id, kind, object);
    event["account"] = json!(account);
    event
}

/// An expert called `name` whose connected account is `account`.
fn expert(store: &Store, name: &str, account: &str) -> UserId {
    let mut row = test_rows::user(name, "Tax Advisor");
    row.stripe_account_id = Some(account.to_owned());
    store.users().create(row).expect("expert").id
}

/// A payout of `user` made at `made` in `status` (sent: with a transfer).
fn payout(store: &Store, user: UserId, made: Timestamp, status: PayoutStatus) -> PayoutId {
    store
        .write(|txn| {
            txn.create(Payout {
                id: PayoutId::new(0),
                user_id: user,
                amount: Money::new(2_500, droply_models::Currency::EUR),
                stripe_transfer_id: (status != PayoutStatus::Pending)
                    .then(|| format!("tr_{}", made.as_micros())),
                stripe_payout_id: None,
                status,
                created_at: made,
                paid_at: None,
            })
        })
        .expect("payout")
        .id
}

/// A bank payout Stripe made by itself at `created`: none of our metadata.
fn bank_payout(id: &str, created: i64, status: &str) -> Value {
    let failure_code = if status == "failed" {
        json!("account_closed")
    } else {
        Value::Null
    };
    json!({
        "id": id,
        "object": "payout",
        "amount": 7_500,
        "currency": "eur",
        "created": created,
        "automatic": true,
        "status": status,
        "failure_code": failure_code,
        "metadata": {},
    })
}

fn row(store: &Store, id: PayoutId) -> Payout {
    store.require(id).expect("payout")
}

/// Regression: Stripe sends the events of connected accounts to a Connect
/// endpoint, which signs with its own secret; only the account endpoint's
/// secret was tried, so they were refused (400 `invalid_signature`).
#[test]
fn a_delivery_signed_with_the_connect_secret_is_accepted_and_an_unsigned_or_wrongly_signed_one_refused()
 {
    let store = Store::open_temporary().expect("store");
    let payments = payments(&store, None);
    let po = bank_payout("po_nobody", now_secs(), "paid");
    let connect = connect_event("evt_connect", "payout.paid", "acct_nobody", po.clone());
    let receipt = deliver(&payments, &store, &connect, Some(CONNECT_SECRET)).expect("accepted");
    assert!(receipt.applied, "{receipt:?}");
    let account = connect_event("evt_account", "payout.paid", "acct_nobody", po.clone());
    let receipt = deliver(&payments, &store, &account, Some(ACCOUNT_SECRET)).expect("accepted");
    assert!(receipt.applied, "{receipt:?}");
    for (id, secret) in [
        ("evt_wrong", Some("whsec_someone_else")),
        ("evt_unsigned", None),
    ] {
        let refused = connect_event(id, "payout.paid", "acct_nobody", po.clone());
        assert!(
            matches!(
                deliver(&payments, &store, &refused, secret),
                Err(Error::InvalidSignature(_))
            ),
            "{id} must be refused"
        );
    }
}

/// Regression: Stripe's own bank payouts carry none of our metadata, so their
/// `payout.paid` was ignored and our payouts stayed `in_transit` for ever.
#[test]
fn an_untagged_bank_payout_paid_marks_the_experts_earlier_in_transit_payouts_paid_and_leaves_later_ones()
 {
    let store = Store::open_temporary().expect("store");
    let payments = payments(&store, None);
    let ann = expert(&store, "ann", "acct_ann");
    let bob = expert(&store, "bob", "acct_bob");
    let made = now_secs() - 7_200;
    let first = payout(
        &store,
        ann,
        at_secs(made - 3 * 3_600),
        PayoutStatus::InTransit,
    );
    let second = payout(&store, ann, at_secs(made - 600), PayoutStatus::InTransit);
    let pending = payout(&store, ann, at_secs(made - 300), PayoutStatus::Pending);
    let refused = payout(&store, ann, at_secs(made - 200), PayoutStatus::Failed);
    let later = payout(&store, ann, at_secs(made + 1_800), PayoutStatus::InTransit);
    let bobs = payout(&store, bob, at_secs(made - 600), PayoutStatus::InTransit);

    let paid = connect_event(
        "evt_po_paid",
        "payout.paid",
        "acct_ann",
        bank_payout("po_ann_1", made, "paid"),
    );
    let receipt = deliver(&payments, &store, &paid, Some(CONNECT_SECRET)).expect("applied");
    assert!(receipt.applied, "{receipt:?}");
    for id in [first, second] {
        let payout = row(&store, id);
        assert_eq!(payout.status, PayoutStatus::Paid, "{payout:?}");
        assert_eq!(payout.stripe_payout_id.as_deref(), Some("po_ann_1"));
        assert!(payout.paid_at.is_some());
    }
    assert_eq!(row(&store, pending).status, PayoutStatus::Pending);
    assert_eq!(row(&store, refused).status, PayoutStatus::Failed);
    let later_row = row(&store, later);
    assert_eq!(
        later_row.status,
        PayoutStatus::InTransit,
        "made after the bank payout"
    );
    assert_eq!(later_row.stripe_payout_id, None);
    assert_eq!(
        row(&store, bobs).status,
        PayoutStatus::InTransit,
        "another account's"
    );

    // A redelivery changes nothing.
    let before: Vec<Payout> = [first, second, pending, refused, later, bobs]
        .iter()
        .map(|id| row(&store, *id))
        .collect();
    let again = deliver(&payments, &store, &paid, Some(CONNECT_SECRET)).expect("redelivered");
    assert!(!again.applied, "{again:?}");
    let after: Vec<Payout> = [first, second, pending, refused, later, bobs]
        .iter()
        .map(|id| row(&store, *id))
        .collect();
    assert_eq!(before, after);
}

/// Regression: a bank payout's holder was looked for among the experts only
/// (every one of them read, in the webhook's write), so once the account's
/// holder cleared their profession the event was ignored and their payouts
/// stayed `in_transit` for ever.
#[test]
fn an_untagged_bank_payout_paid_of_a_holder_no_longer_an_expert_still_marks_their_in_transit_payouts_paid()
 {
    let store = Store::open_temporary().expect("store");
    let payments = payments(&store, None);
    let ann = expert(&store, "ann", "acct_ann");
    let made = now_secs() - 7_200;
    let sent = payout(&store, ann, at_secs(made - 600), PayoutStatus::InTransit);
    store
        .users()
        .modify(ann, |user| {
            user.profession = String::new();
            Ok(())
        })
        .expect("ann is no longer an expert");
    let former: User = store.require(ann).expect("ann");
    assert!(!former.is_expert());
    let paid = connect_event(
        "evt_po_paid_former",
        "payout.paid",
        "acct_ann",
        bank_payout("po_ann_3", made, "paid"),
    );
    let receipt = deliver(&payments, &store, &paid, Some(CONNECT_SECRET)).expect("applied");
    assert!(receipt.applied, "{receipt:?}");
    assert!(receipt.outcome.contains("paid 1"), "{}", receipt.outcome);
    let payout = row(&store, sent);
    assert_eq!(payout.status, PayoutStatus::Paid, "{payout:?}");
    assert_eq!(payout.stripe_payout_id.as_deref(), Some("po_ann_3"));
}

/// An untagged `payout.failed` of a connected account: the money stays in the
/// expert's Stripe balance and Stripe tries again, so none of our payouts moves.
#[test]
fn an_untagged_bank_payout_failed_changes_none_of_the_experts_payouts() {
    let store = Store::open_temporary().expect("store");
    let payments = payments(&store, None);
    let ann = expert(&store, "ann", "acct_ann");
    let made = now_secs() - 7_200;
    let sent = payout(&store, ann, at_secs(made - 600), PayoutStatus::InTransit);
    let before = row(&store, sent);
    let failed = connect_event(
        "evt_po_failed",
        "payout.failed",
        "acct_ann",
        bank_payout("po_ann_2", made, "failed"),
    );
    let receipt = deliver(&payments, &store, &failed, Some(CONNECT_SECRET)).expect("acknowledged");
    assert!(receipt.applied, "{receipt:?}");
    assert_eq!(row(&store, sent), before);
    assert_eq!(before.status, PayoutStatus::InTransit);
}

/// Regression: an `account.updated` of an account the user no longer holds
/// answered 400, so Stripe retried it for three days, while the settling read
/// after it quietly ignored the same case.
#[test]
fn account_updated_for_an_account_the_user_no_longer_holds_is_acknowledged_not_an_error() {
    let fake = StripeFake::start(None);
    let store = Store::open_temporary().expect("store");
    let payments = payments(&store, Some(fake.base_url()));
    let old = fake.add_account("ann@example.com", true);
    let old_id = old["id"].as_str().expect("account id").to_owned();
    let ann = expert(&store, "ann", "acct_replacement");
    let mut object = fake.account(&old_id).expect("account");
    let mut metadata = serde_json::Map::new();
    metadata.insert(META_INSTANCE.to_owned(), json!(payments.instance()));
    metadata.insert(META_USER.to_owned(), json!(ann.to_string()));
    object["metadata"] = Value::Object(metadata);
    let updated = connect_event("evt_acct_old", "account.updated", &old_id, object);
    let receipt = deliver(&payments, &store, &updated, Some(CONNECT_SECRET))
        .expect("acknowledged, not refused");
    assert!(receipt.outcome.contains("no longer"), "{}", receipt.outcome);
    let user: User = store.require(ann).expect("ann");
    assert_eq!(user.stripe_account_id.as_deref(), Some("acct_replacement"));
    assert!(
        !user.payout_enabled,
        "the old account's state is not written"
    );
    let again = deliver(&payments, &store, &updated, Some(CONNECT_SECRET)).expect("redelivered");
    assert!(!again.applied);
}

/// Regression: our transfer call may time out after Stripe made the transfer,
/// and `transfer.created` was not handled, so the payout stayed `pending` and
/// was sent again (past Stripe's 24 hours, under a forgotten key: a second
/// transfer).
#[test]
fn transfer_created_with_our_payout_moves_a_pending_payout_in_transit_once() {
    let store = Store::open_temporary().expect("store");
    let payments = payments(&store, None);
    let ann = expert(&store, "ann", "acct_ann");
    let pending = payout(
        &store,
        ann,
        at_secs(now_secs() - 3_600),
        PayoutStatus::Pending,
    );
    let transfer = |id: &str| {
        json!({
            "id": id,
            "object": "transfer",
            "amount": 2_500,
            "currency": "eur",
            "destination": "acct_ann",
            "transfer_group": format!("payout-{pending}"),
            "metadata": {
                META_INSTANCE: payments.instance(),
                META_PAYOUT: pending.to_string(),
            },
        })
    };

    let created = event("evt_tr_created", "transfer.created", transfer("tr_made"));
    let receipt = deliver(&payments, &store, &created, Some(ACCOUNT_SECRET)).expect("applied");
    assert!(receipt.applied, "{receipt:?}");
    let moved = row(&store, pending);
    assert_eq!(moved.status, PayoutStatus::InTransit, "{moved:?}");
    assert_eq!(moved.stripe_transfer_id.as_deref(), Some("tr_made"));

    // A redelivery, the same event under another id, or another transfer
    // of the payout change nothing.
    let again = deliver(&payments, &store, &created, Some(ACCOUNT_SECRET)).expect("redelivered");
    assert!(!again.applied, "{again:?}");
    let others = [
        ("evt_tr_created_2", "tr_made"),
        ("evt_tr_other", "tr_other"),
    ];
    for (event_id, transfer_id) in others {
        let other = event(event_id, "transfer.created", transfer(transfer_id));
        deliver(&payments, &store, &other, Some(ACCOUNT_SECRET)).expect("acknowledged");
        assert_eq!(row(&store, pending), moved, "{event_id}");
    }
}

/// A paid booking of bob's with ann, its payment of 100 EUR (15 EUR fee)
/// made through PaymentIntent `intent`, with refund 1 of 40 EUR requested
/// at `requested_at`: the store, bob, and the payment.
fn paid_payment_with_a_refund_requested(
    intent: &str,
    requested_at: Timestamp,
) -> (Store, UserId, Payment) {
    let (store, ann, bob) = test_rows::ann_and_bob();
    let mut booking = test_rows::booking(bob.id, ann.id);
    booking.payment_status = droply_models::PaymentStatus::Succeeded;
    let booking = store.bookings().create(booking).expect("booking");
    let eur = |minor| Money::new(minor, droply_models::Currency::EUR);
    let payment = store
        .write(|txn| {
            let payment = txn.create(Payment {
                id: PaymentId::new(0),
                pays_for: PaymentFor::Booking(booking.id),
                payer: bob.id,
                payee: ann.id,
                amount: eur(10_000),
                fee: eur(1_500),
                status: droply_models::PaymentStatus::Succeeded,
                intent_id: Some(intent.to_owned()),
                refunds: vec![PaymentRefund {
                    number: 1,
                    amount: eur(4_000),
                    state: RefundState::Requested,
                    stripe_id: None,
                    reason: "cancelled by the expert".to_owned(),
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
        .expect("payment");
    (store, bob.id, payment)
}

/// How many refund rows the ledger holds for `payer`.
fn refunds_in_ledger(store: &Store, payer: UserId) -> usize {
    store
        .list_index::<LedgerEntry>(
            IndexName::LedgerByUser,
            &payer.to_be_bytes(),
            &PageRequest::first(100),
        )
        .expect("ledger")
        .items
        .iter()
        .filter(|entry| entry.kind == LedgerKind::Refund)
        .count()
}

/// Regression: a refund sent again after Stripe forgot its key (past its 24
/// hours) is a second Stripe refund with our refund's number; its events were
/// matched to our refund by that number although it had another Stripe id
/// already, and lost: the client got the money back twice, the ledger once,
/// and the expert kept an earning the platform no longer held.
#[test]
fn a_second_stripe_refund_with_the_number_of_one_of_ours_counts_as_another_refund() {
    let (store, payer, payment) =
        paid_payment_with_a_refund_requested("pi_twice", Timestamp::now().plus_days(-2));
    let payments = payments(&store, None);
    let refund = |id: &str| {
        json!({
            "id": id,
            "object": "refund",
            "amount": 4_000,
            "currency": "eur",
            "status": "succeeded",
            "payment_intent": "pi_twice",
            "metadata": {
                META_INSTANCE: payments.instance(),
                META_PAYMENT: payment.id.to_string(),
                META_REFUND: "1",
            },
        })
    };

    let first = event("evt_re_1", "refund.created", refund("re_first"));
    deliver(&payments, &store, &first, Some(ACCOUNT_SECRET)).expect("first");
    let row: Payment = store.require(payment.id).expect("payment");
    assert_eq!(row.refunds.len(), 1);
    assert_eq!(row.refunds[0].stripe_id.as_deref(), Some("re_first"));
    assert_eq!(row.refunds[0].state, RefundState::Succeeded);
    assert_eq!(refunds_in_ledger(&store, payer), 1);

    let second = event("evt_re_2", "refund.created", refund("re_second"));
    deliver(&payments, &store, &second, Some(ACCOUNT_SECRET)).expect("second");
    let updated = event("evt_re_2_updated", "refund.updated", refund("re_second"));
    deliver(&payments, &store, &updated, Some(ACCOUNT_SECRET)).expect("updated");
    let row: Payment = store.require(payment.id).expect("payment");
    assert_eq!(row.refunds.len(), 2, "{:?}", row.refunds);
    assert_eq!(row.refunds[0].stripe_id.as_deref(), Some("re_first"));
    assert_eq!(row.refunds[1].stripe_id.as_deref(), Some("re_second"));
    assert_eq!(row.refunds[1].state, RefundState::Succeeded);
    assert_eq!(
        row.refunded().expect("refunded"),
        Money::new(8_000, droply_models::Currency::EUR)
    );
    assert_eq!(
        refunds_in_ledger(&store, payer),
        2,
        "both refunds are in the ledger, once each"
    );
}

/// Found by the review: with the charge's total delivered between the two
/// Stripe refunds of our refund 1, the total named the second (an unnamed
/// refund of its amount), and the second's own event then added it again:
/// the money went back twice, the ledger said three times.
#[test]
fn a_second_stripe_refund_told_of_by_the_charges_total_first_counts_once() {
    let (store, payer, payment) =
        paid_payment_with_a_refund_requested("pi_total", Timestamp::now().plus_days(-2));
    let payments = payments(&store, None);
    let metadata = json!({
        META_INSTANCE: payments.instance(),
        META_PAYMENT: payment.id.to_string(),
        META_REFUND: "1",
    });
    let refund = |id: &str| {
        json!({
            "id": id,
            "object": "refund",
            "amount": 4_000,
            "currency": "eur",
            "status": "succeeded",
            "payment_intent": "pi_total",
            "metadata": metadata,
        })
    };
    let first = event("evt_t_1", "refund.created", refund("re_first"));
    deliver(&payments, &store, &first, Some(ACCOUNT_SECRET)).expect("first");
    let charge = json!({
        "id": "ch_total",
        "object": "charge",
        "amount": 10_000,
        "amount_refunded": 8_000,
        "currency": "eur",
        "payment_intent": "pi_total",
        "metadata": {
            META_INSTANCE: payments.instance(),
            META_PAYMENT: payment.id.to_string(),
        },
    });
    let total = event("evt_t_charge", "charge.refunded", charge);
    deliver(&payments, &store, &total, Some(ACCOUNT_SECRET)).expect("the total");
    assert_eq!(
        refunds_in_ledger(&store, payer),
        2,
        "the total's unnamed refund"
    );
    let second = event("evt_t_2", "refund.created", refund("re_second"));
    deliver(&payments, &store, &second, Some(ACCOUNT_SECRET)).expect("second");
    let row: Payment = store.require(payment.id).expect("payment");
    assert_eq!(
        row.refunded().expect("refunded"),
        Money::new(8_000, droply_models::Currency::EUR),
        "{:?}",
        row.refunds
    );
    assert_eq!(
        refunds_in_ledger(&store, payer),
        2,
        "the second Stripe refund names the total, it is not counted again"
    );
    assert!(
        row.refunds
            .iter()
            .any(|refund| refund.stripe_id.as_deref() == Some("re_second")),
        "{:?}",
        row.refunds
    );
}
