//! The sweep's work lists: every kind of Stripe call still owed is listed
//! and sent by the sweep, what is not due yet waits, and no settled
//! payment or payout is listed, so a sweep never reads one. The rows
//! written here also serve the schema migrations' tests (sled schema 9,
//! PostgreSQL version 10), which fill these lists for older stores.

use droply_models::{BookingId, Currency, Money, PaymentStatus, User};
use droply_test_support::stripe::{SECRET_KEY, StripeFake};

use super::*;
use crate::payments::{
    PaymentFor, Payments, PaymentsConfig, StripeConfig, cancel_given_up_intents, payout_sweep,
};
use crate::test_rows;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

/// When the rows owing a call were made.
pub(crate) fn owed_since() -> Timestamp {
    Timestamp::parse_rfc3339("2026-03-02T10:00:00Z").expect("instant")
}

/// The sweep's `now` in these tests: a day after [`owed_since`]. Rows made
/// then are not due yet (younger than any `retry_after`).
pub(crate) fn sweep_at() -> Timestamp {
    owed_since().plus_days(1)
}

/// What [`write_owing_rows`] wrote besides the settled rows: one row of
/// each kind owing a call, and one of each kind owing one not due yet.
pub(crate) struct OwingRows {
    /// Given up unpaid: its PaymentIntent `pi_1` is to be cancelled.
    pub(crate) given_up: Payment,
    /// Refund 1 succeeded, refund 2 requested at [`owed_since`].
    pub(crate) refunding: Payment,
    /// A refund requested at [`sweep_at`]: not due yet.
    pub(crate) young_refund: Payment,
    /// A payout unsent since [`owed_since`].
    pub(crate) payout: Payout,
    /// A payout made at [`sweep_at`]: not due yet.
    pub(crate) young_payout: Payout,
}

impl OwingRows {
    /// How many payments are listed as owing a call (due or not).
    pub(crate) const PAYMENTS_LISTED: usize = 3;
    /// How many payouts are listed as unsent (due or not).
    pub(crate) const PAYOUTS_LISTED: usize = 2;

    /// `store` lists as many payments owing a call and unsent payouts as
    /// [`write_owing_rows`] wrote (the migrations' tests: nothing settled is
    /// listed).
    pub(crate) fn assert_listed(store: &Store) {
        assert_eq!(
            store
                .count_index(IndexName::PaymentCallsDue, &[])
                .expect("count"),
            OwingRows::PAYMENTS_LISTED
        );
        assert_eq!(
            store
                .count_index(IndexName::PendingPayouts, &[])
                .expect("count"),
            OwingRows::PAYOUTS_LISTED
        );
    }
}

/// A paid payment of `payer` to `payee` for booking `booking` (its intent
/// `pi_<booking>`), made at `at`.
fn payment(payer: &User, payee: &User, booking: u64, at: Timestamp) -> Payment {
    Payment {
        id: PaymentId::new(0),
        pays_for: PaymentFor::Booking(BookingId::new(booking)),
        payer: payer.id,
        payee: payee.id,
        amount: eur(10_000),
        fee: eur(1_500),
        status: PaymentStatus::Succeeded,
        intent_id: Some(format!("pi_{booking}")),
        refunds: Vec::new(),
        earning_available_at: at,
        created_at: at,
        intent_cancel: IntentCancel::Wanted,
    }
}

/// Refund `number` of `minor` cents, in `state`, decided at `at`.
fn refund(number: u32, minor: i64, state: RefundState, at: Timestamp) -> PaymentRefund {
    PaymentRefund {
        number,
        amount: eur(minor),
        state,
        stripe_id: (state != RefundState::Requested).then(|| format!("re_{number}")),
        reason: "cancelled by the expert".to_owned(),
        requested_at: at,
        disputed: None,
    }
}

/// A payout of 50 EUR to `user` in `status`, made at `at`.
fn payout(user: &User, status: PayoutStatus, at: Timestamp) -> Payout {
    Payout {
        id: PayoutId::new(0),
        user_id: user.id,
        amount: eur(5_000),
        stripe_transfer_id: (status != PayoutStatus::Pending).then(|| "tr_1".to_owned()),
        stripe_payout_id: None,
        status,
        created_at: at,
        paid_at: (status == PayoutStatus::Paid).then_some(at),
    }
}

/// Writes an expert (with the connected account `account`, if any) and a
/// client, `settled` payments and as many payouts that owe Stripe nothing
/// (every way a payment or payout ends up settled), and the rows of
/// [`OwingRows`].
pub(crate) fn write_owing_rows(store: &Store, account: Option<String>, settled: u64) -> OwingRows {
    let mut ann = test_rows::user("ann", "Tax Advisor");
    ann.stripe_account_id = account;
    let ann = store.users().create(ann).expect("ann");
    let bob = store
        .users()
        .create(test_rows::user("bob", ""))
        .expect("bob");
    let old = owed_since();
    let young = sweep_at();
    store
        .write(|txn| {
            for n in 0..settled {
                let mut row = payment(&bob, &ann, 1_000 + n, old);
                match n % 7 {
                    0 => {}
                    1 => {
                        row.status = PaymentStatus::Refunded;
                        row.refunds
                            .push(refund(1, 10_000, RefundState::Succeeded, old));
                    }
                    2 => {
                        row.status = PaymentStatus::Refunded;
                        row.refunds
                            .push(refund(1, 10_000, RefundState::Pending, old));
                    }
                    3 => row
                        .refunds
                        .push(refund(1, 10_000, RefundState::Failed, old)),
                    4 => {
                        row.status = PaymentStatus::Pending;
                        row.intent_cancel = IntentCancel::Cancelled;
                    }
                    5 => {
                        row.status = PaymentStatus::Pending;
                        row.intent_cancel = IntentCancel::Refused;
                    }
                    // Given up before any PaymentIntent was made: nothing to cancel.
                    _ => {
                        row.status = PaymentStatus::Pending;
                        row.intent_id = None;
                        row.intent_cancel = IntentCancel::Requested;
                    }
                }
                txn.create(row)?;
                let status = match n % 3 {
                    0 => PayoutStatus::InTransit,
                    1 => PayoutStatus::Paid,
                    _ => PayoutStatus::Failed,
                };
                txn.create(payout(&ann, status, old))?;
            }
            let mut given_up = payment(&bob, &ann, 1, old);
            given_up.status = PaymentStatus::Pending;
            given_up.intent_cancel = IntentCancel::Requested;
            let mut refunding = payment(&bob, &ann, 2, old.plus_days(-1));
            refunding.status = PaymentStatus::PartiallyRefunded;
            refunding.refunds = vec![
                refund(1, 4_000, RefundState::Succeeded, old.plus_days(-1)),
                refund(2, 6_000, RefundState::Requested, old),
            ];
            let mut young_refund = payment(&bob, &ann, 3, old);
            young_refund
                .refunds
                .push(refund(1, 10_000, RefundState::Requested, young));
            Ok(OwingRows {
                given_up: txn.create(given_up)?,
                refunding: txn.create(refunding)?,
                young_refund: txn.create(young_refund)?,
                payout: txn.create(payout(&ann, PayoutStatus::Pending, old))?,
                young_payout: txn.create(payout(&ann, PayoutStatus::Pending, young))?,
            })
        })
        .expect("rows")
}

/// Regression: every sweep read every payment and payout ever made, so a
/// sweep grew slower with each sale. Only the rows owing a call are listed
/// now; settling one takes it off the list in the same write.
#[test]
fn settled_payments_and_payouts_are_not_listed_for_the_sweep() {
    let store = Store::open_temporary().expect("store");
    let rows = write_owing_rows(&store, None, 350);
    assert_eq!(store.try_count::<Payment>().expect("count"), 353);
    assert_eq!(
        store
            .count_index(IndexName::PaymentCallsDue, &[])
            .expect("listed"),
        OwingRows::PAYMENTS_LISTED,
        "only the three payments owing a call are listed"
    );
    assert_eq!(
        store
            .count_index(IndexName::PendingPayouts, &[])
            .expect("listed"),
        OwingRows::PAYOUTS_LISTED
    );
    let cutoff = sweep_at().plus_minutes(-1);
    assert_eq!(
        intents_to_cancel(&store).expect("cancels"),
        [rows.given_up.id]
    );
    assert_eq!(
        refunds_to_send(&store, cutoff).expect("refunds"),
        [RefundOrder {
            payment: rows.refunding.id,
            number: 2,
        }]
    );
    assert_eq!(
        payouts_to_send(&store, cutoff).expect("payouts"),
        [rows.payout.id]
    );
    // Later, the young ones are due too, oldest first.
    let later = sweep_at().plus_days(1);
    assert_eq!(
        refunds_to_send(&store, later).expect("refunds"),
        [
            RefundOrder {
                payment: rows.refunding.id,
                number: 2,
            },
            RefundOrder {
                payment: rows.young_refund.id,
                number: 1,
            },
        ]
    );
    assert_eq!(
        payouts_to_send(&store, later).expect("payouts"),
        [rows.payout.id, rows.young_payout.id]
    );

    // Settled, each leaves the lists in the write that settles it.
    store
        .write(|txn| {
            let mut given_up: Payment = txn.require(rows.given_up.id)?;
            given_up.intent_cancel = IntentCancel::Cancelled;
            txn.update(given_up)?;
            for id in [rows.refunding.id, rows.young_refund.id] {
                let mut payment: Payment = txn.require(id)?;
                for refund in &mut payment.refunds {
                    if refund.state == RefundState::Requested {
                        refund.state = RefundState::Pending;
                    }
                }
                txn.update(payment)?;
            }
            for id in [rows.payout.id, rows.young_payout.id] {
                let mut payout: Payout = txn.require(id)?;
                payout.status = PayoutStatus::InTransit;
                txn.update(payout)?;
            }
            Ok(())
        })
        .expect("settle");
    for index in [IndexName::PaymentCallsDue, IndexName::PendingPayouts] {
        assert_eq!(
            store.count_index(index, &[]).expect("listed"),
            0,
            "{index:?}"
        );
    }
    assert!(intents_to_cancel(&store).expect("cancels").is_empty());
    assert!(refunds_to_send(&store, later).expect("refunds").is_empty());
    assert!(payouts_to_send(&store, later).expect("payouts").is_empty());
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}

/// The sweep still makes every call it made when it read every row: the
/// given-up intent's cancel, the requested refund, the unsent payout's
/// transfer, each once with its own idempotency key; nothing for what is
/// not due yet, nor for the settled rows beside them.
#[test]
fn the_sweep_still_sends_every_kind_of_call_owed() {
    let fake = StripeFake::start(None);
    let account = fake.add_account("ann@example.com", true)["id"]
        .as_str()
        .expect("account")
        .to_owned();
    let store = Store::open_temporary().expect("store");
    let rows = write_owing_rows(&store, Some(account), 40);
    let payments = Payments::new(
        &store,
        PaymentsConfig {
            stripe: Some(StripeConfig {
                api_base: fake.base_url(),
                ..StripeConfig::new(SECRET_KEY.into(), "whsec_droply_tests".into())
            }),
            ..PaymentsConfig::default()
        },
    )
    .expect("payments");

    assert_eq!(
        payout_sweep(&payments, &store, sweep_at()).expect("sweep"),
        2,
        "the transfer and the refund"
    );
    cancel_given_up_intents(
        &payments,
        &store,
        &crate::availability::SlotPolicy::default(),
    )
    .expect("cancels");

    // The calls are what is checked: the fake answers the cancel and the
    // refund 404 (it serves transfers only), and these rows pay for no
    // booking, so not every answer can be recorded here.

    let instance = payments.instance();
    let mut sent: Vec<(String, Option<String>)> = fake
        .requests()
        .into_iter()
        .filter(|request| request.method == "POST")
        .map(|request| (request.path, request.idempotency_key))
        .collect();
    sent.sort();
    let mut expected = vec![
        (
            "/v1/payment_intents/pi_1/cancel".to_owned(),
            Some(rows.given_up.cancel_key(instance)),
        ),
        (
            "/v1/refunds".to_owned(),
            Some(rows.refunding.refund_key(instance, 2)),
        ),
        (
            "/v1/transfers".to_owned(),
            Some(format!("droply-{instance}-payout-{}", rows.payout.id)),
        ),
    ];
    expected.sort();
    assert_eq!(sent, expected);

    // The transfer went through: the payout left the list; the young one waits.
    let payout: Payout = store.require(rows.payout.id).expect("payout");
    assert_eq!(payout.status, PayoutStatus::InTransit);
    assert_eq!(
        payouts_to_send(&store, sweep_at().plus_days(1)).expect("payouts"),
        [rows.young_payout.id]
    );
    let young: Payment = store.require(rows.young_refund.id).expect("young");
    assert_eq!(
        young.refunds[0].state,
        RefundState::Requested,
        "not due yet"
    );
    let report = store.verify_integrity().expect("verify");
    assert!(report.is_consistent(), "{:?}", report.problems);
}
