//! Webhook deliveries against a temporary store: events of connected accounts
//! signed with the Connect endpoint's secret, the bank payouts Stripe makes from
//! an expert's connected account (untagged `payout.paid` / `payout.failed`), and
//! an `account.updated` for an account its user no longer holds.

use droply_models::{Money, Payout, PayoutId, PayoutStatus, Timestamp, User, UserId};
use droply_test_support::stripe::{SECRET_KEY, StripeFake, event, signature_header};
use serde_json::{Value, json};

use super::{WebhookReceipt, handle_webhook};
use crate::availability::SlotPolicy;
use crate::payments::{META_INSTANCE, META_USER, Payments, PaymentsConfig, StripeConfig};
use crate::store::Store;
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
