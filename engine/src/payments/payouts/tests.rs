//! Payouts against a temporary store and the Stripe fake: calendar months
//! and schedules, the overlap guard, scheduled payouts after a refused
//! or unsent transfer, and a payout sent again after Stripe forgot its key.

use droply_models::Currency;

use droply_test_support::stripe::{SECRET_KEY, StripeFake};

use crate::payments::ledger::record_opening_balance;
use crate::payments::{PaymentsConfig, StripeConfig};
use crate::store::Store;
use crate::test_rows;

use super::*;

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).expect("instant")
}

#[test]
fn a_month_is_a_calendar_month_ending_on_the_last_day_of_a_short_one() {
    let month = |from: &str| plus_calendar_months(at(from), 1);
    assert_eq!(month("2027-01-31T10:00:00Z"), at("2027-02-28T10:00:00Z"));
    assert_eq!(month("2028-01-31T10:00:00Z"), at("2028-02-29T10:00:00Z"));
    assert_eq!(month("2027-05-01T00:00:00Z"), at("2027-06-01T00:00:00Z"));
    assert_eq!(month("2027-12-15T23:59:00Z"), at("2028-01-15T23:59:00Z"));
    assert_eq!(
        plus_calendar_months(at("2027-03-31T08:00:00Z"), 12),
        at("2028-03-31T08:00:00Z")
    );
    assert_eq!(
        plus_calendar_months(at("9999-12-01T00:00:00Z"), u32::MAX),
        Timestamp::from_datetime(chrono::DateTime::<chrono::Utc>::MAX_UTC)
    );
}

#[test]
fn schedules_pay_out_a_day_a_week_or_a_calendar_month_later() {
    let last = at("2027-01-31T10:00:00Z");
    assert_eq!(
        next_due(PayoutSchedule::Daily, last),
        Some(at("2027-02-01T10:00:00Z"))
    );
    assert_eq!(
        next_due(PayoutSchedule::Weekly, last),
        Some(at("2027-02-07T10:00:00Z"))
    );
    assert_eq!(
        next_due(PayoutSchedule::Monthly, last),
        Some(at("2027-02-28T10:00:00Z"))
    );
    assert_eq!(next_due(PayoutSchedule::Manual, last), None);
}

/// An expert whose payouts are enabled, with `minor` EUR available.
fn expert_with_balance(store: &Store, minor: i64) -> UserId {
    let mut row = test_rows::user("ann", "Tax Advisor");
    row.payout_enabled = true;
    row.stripe_account_id = Some("acct_ann".to_owned());
    let expert = store.users().create(row).expect("ann").id;
    top_up(store, expert, minor);
    expert
}

fn top_up(store: &Store, expert: UserId, minor: i64) {
    store
        .write(|txn| {
            let yesterday = txn.now().plus_days(-1);
            record_opening_balance(txn, expert, Money::new(minor, Currency::EUR), yesterday)
        })
        .expect("balance");
}

/// Regression: a scheduled run read the schedule due outside its write,
/// so two runs overlapping at a lease handover both paid: the second
/// took whatever had come available since the first, a second payout
/// in one period.
#[test]
fn a_run_that_read_the_schedule_due_before_another_paid_pays_nothing() {
    let store = Store::open_temporary().expect("store");
    let expert = expert_with_balance(&store, 5_000);
    // Both runs read no payout yet: both find the schedule due.
    let first = store
        .write(|txn| reserve_unless_paid_since(txn, expert, None, None))
        .expect("first run")
        .expect("the first run pays");
    assert_eq!(first.amount.amount_minor, 5_000);
    top_up(&store, expert, 1_200);
    let second = store
        .write(|txn| reserve_unless_paid_since(txn, expert, None, None))
        .expect("second run");
    assert_eq!(second, None, "the second run pays nothing this period");
    let payouts = store
        .payouts()
        .by_user(expert, &PageRequest::first(10))
        .expect("payouts");
    assert_eq!(payouts.items.len(), 1);
    // A run that saw the first payout is the next period's: it pays.
    let next = store
        .write(|txn| reserve_unless_paid_since(txn, expert, None, Some(first.created_at)))
        .expect("next period");
    assert_eq!(next.map(|p| p.amount.amount_minor), Some(1_200));
}

/// Regression: the period ran from the newest payout of any status, so
/// a payout Stripe refused (its money given back to the balance) made
/// the expert wait a whole period before being paid again.
#[test]
fn the_period_runs_from_the_newest_payout_stripe_did_not_refuse() {
    let paid = at("2027-03-01T10:00:00Z");
    let refused = at("2027-03-02T10:30:00Z");
    let after_a_refusal = PayoutHistory {
        newest: Some(refused),
        paid: Some(paid),
        refused: Some(refused),
    };
    // A day after the paid one, but no sooner than an hour after the refusal.
    assert_eq!(
        due_after(PayoutSchedule::Daily, after_a_refusal),
        Some(at("2027-03-02T11:30:00Z"))
    );
    assert_eq!(
        due_after(PayoutSchedule::Weekly, after_a_refusal),
        Some(at("2027-03-08T10:00:00Z"))
    );
    let only_refused = PayoutHistory {
        newest: Some(refused),
        paid: None,
        refused: Some(refused),
    };
    assert_eq!(
        due_after(PayoutSchedule::Monthly, only_refused),
        Some(at("2027-03-02T11:30:00Z"))
    );
    let paid_last = PayoutHistory {
        newest: Some(paid),
        paid: Some(paid),
        refused: None,
    };
    assert_eq!(
        due_after(PayoutSchedule::Daily, paid_last),
        Some(at("2027-03-02T10:00:00Z"))
    );
    assert_eq!(
        due_after(PayoutSchedule::Daily, PayoutHistory::default()),
        None
    );
}

/// Payments over `fake`, and the expert's connected account there.
fn paying_through(fake: &StripeFake, store: &Store, expert: UserId) -> Payments {
    let account = fake.add_account("ann@example.com", true)["id"]
        .as_str()
        .expect("account")
        .to_owned();
    store
        .write(|txn| {
            let mut row: User = txn.require(expert)?;
            row.stripe_account_id = Some(account.clone());
            txn.update(row).map(drop)
        })
        .expect("connected account");
    Payments::new(
        store,
        PaymentsConfig {
            stripe: Some(StripeConfig {
                api_base: fake.base_url(),
                ..StripeConfig::new(SECRET_KEY.into(), "whsec_droply_tests".into())
            }),
            ..PaymentsConfig::default()
        },
    )
    .expect("payments")
}

/// The statuses of `expert`'s payouts, oldest first.
fn statuses(store: &Store, expert: UserId) -> Vec<PayoutStatus> {
    store
        .payouts()
        .by_user(expert, &PageRequest::first(10))
        .expect("payouts")
        .items
        .iter()
        .map(|payout| payout.status)
        .collect()
}

/// Regression: a scheduled payout Stripe refused was counted as made,
/// and, being the newest payout, made the expert wait a whole period
/// (a week here) for the money it gave back to the balance.
#[test]
fn a_scheduled_payout_stripe_refused_is_not_made_and_is_tried_again_within_the_period() {
    let fake = StripeFake::start(None);
    let store = Store::open_temporary().expect("store");
    let expert = expert_with_balance(&store, 5_000);
    let payments = paying_through(&fake, &store, expert);
    let now = Timestamp::now();

    fake.fail_transfers(400, 1);
    assert_eq!(
        scheduled_payouts(&payments, &store, now).expect("refused run"),
        0,
        "a refused payout is not made"
    );
    assert_eq!(statuses(&store, expert), [PayoutStatus::Failed]);
    assert_eq!(
        scheduled_payouts(&payments, &store, now.plus_minutes(10)).expect("early run"),
        0,
        "not again at once"
    );
    assert_eq!(
        scheduled_payouts(&payments, &store, now.plus_minutes(90)).expect("next run"),
        1,
        "the money given back is paid out within the week"
    );
    assert_eq!(
        statuses(&store, expert),
        [PayoutStatus::Failed, PayoutStatus::InTransit]
    );
    assert_eq!(fake.transfers().len(), 1);
    // The payout made starts the week: nothing more before it is over.
    top_up(&store, expert, 700);
    assert_eq!(
        scheduled_payouts(&payments, &store, now.plus_days(6)).expect("within the week"),
        0
    );
}

/// A scheduled payout whose transfer failed for now (Stripe's 5xx) is
/// made: it stays pending and the sweep sends it again.
#[test]
fn a_scheduled_payout_left_pending_for_the_sweep_is_made() {
    let fake = StripeFake::start(None);
    let store = Store::open_temporary().expect("store");
    let expert = expert_with_balance(&store, 5_000);
    let payments = paying_through(&fake, &store, expert);

    fake.fail_transfers(500, 1);
    assert_eq!(
        scheduled_payouts(&payments, &store, Timestamp::now()).expect("run"),
        1
    );
    assert_eq!(statuses(&store, expert), [PayoutStatus::Pending]);
}

/// Regression: a payout whose first transfer call timed out after Stripe
/// made the transfer, and which could not be sent for more than a day after
/// (every retry failing for now, or the jobs leader down), was sent again
/// by the sweep under a key Stripe had forgotten (it keeps them 24 hours):
/// a second transfer paid the expert twice, the ledger held one.
#[test]
fn a_payout_retried_after_stripe_forgot_its_key_adopts_the_transfer_made_instead_of_a_second() {
    let fake = StripeFake::start(None);
    let store = Store::open_temporary().expect("store");
    let expert = expert_with_balance(&store, 5_000);
    let payments = paying_through(&fake, &store, expert);

    // The first call gets no usable answer: the payout stays pending.
    fake.fail_transfers(500, 1);
    let (payout, _) = request_payout(&payments, &store, expert, None, None).expect("requested");
    assert_eq!(payout.status, PayoutStatus::Pending);
    assert!(fake.transfers().is_empty());
    // Yet Stripe made it (tr_1), under the payout's key, which it has
    // forgotten by the next sweep: the fake holds it under another key.
    let account = store
        .require::<User>(expert)
        .expect("expert")
        .stripe_account_id
        .expect("account");
    let made = payments
        .gateway()
        .expect("gateway")
        .transfer(
            payout.amount.amount_minor,
            "eur",
            &account,
            &format!("payout-{}", payout.id),
            payments.metadata(&[(META_PAYOUT, payout.id.to_string())]),
            "a-key-stripe-has-forgotten",
        )
        .expect("the transfer Stripe made");

    let a_day_later = Timestamp::now().plus_minutes(25 * 60);
    assert_eq!(
        payout_sweep(&payments, &store, a_day_later).expect("sweep"),
        1
    );
    assert_eq!(fake.transfers().len(), 1, "no second transfer");
    let row: Payout = store.require(payout.id).expect("payout");
    assert_eq!(row.status, PayoutStatus::InTransit);
    assert_eq!(row.stripe_transfer_id.as_deref(), Some(made.id.as_str()));
    let posted = fake
        .requests()
        .iter()
        .filter(|request| request.method == "POST" && request.path == "/v1/transfers")
        .count();
    assert_eq!(
        posted, 2,
        "the first call and the transfer Stripe made, none since"
    );
}
