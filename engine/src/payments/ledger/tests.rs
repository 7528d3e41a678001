//! The ledger's unit tests: refund splits, imported balances, and what is
//! available and held when a payment is refunded, disputed or moved.

use droply_models::{Currency, PaymentStatus};

use super::*;
use crate::payments::payment::RefundState;
use crate::payments::subject::PaymentFor;
use crate::store::{IntegrityReport, Store};
use crate::test_rows;

fn eur(minor: i64) -> Money {
    Money::new(minor, Currency::EUR)
}

/// The sum of `payment`'s rows of `kind`.
fn sum_of(store: &Store, payment: PaymentId, kind: LedgerKind) -> i64 {
    store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.payment_id == Some(payment) && row.kind == kind)
        .map(|row| row.amount.amount_minor)
        .sum()
}

/// Regression: each partial refund's fee share was rounded on its own,
/// so three refunds of 0.33, 0.33 and 0.34 of a 1.00 payment with a
/// 0.15 fee gave back 0.13 of fee and 0.87 of a 0.85 earning.
#[test]
fn partial_refunds_that_add_up_to_the_whole_give_back_exactly_the_fee() {
    let store = Store::open_temporary().expect("store");
    let client = store
        .users()
        .create(test_rows::user("carl", ""))
        .expect("carl");
    let expert = store
        .users()
        .create(test_rows::user("ann", "Tax Advisor"))
        .expect("ann");
    let now = Timestamp::now();
    let mut payment = Payment {
        id: PaymentId::new(1),
        pays_for: PaymentFor::Booking(BookingId::new(1)),
        payer: client.id,
        payee: expert.id,
        amount: eur(100),
        fee: eur(15),
        status: PaymentStatus::Succeeded,
        intent_id: None,
        refunds: Vec::new(),
        earning_available_at: now,
        created_at: now,
        intent_cancel: crate::payments::IntentCancel::Wanted,
    };
    store
        .write(|txn| record_charge(txn, &payment))
        .expect("charge");
    let settle = |payment: &mut Payment, number: u32, state: RefundState| {
        let refund = payment
            .refunds
            .iter_mut()
            .find(|refund| refund.number == number)
            .expect("refund");
        let returned = state.counts();
        refund.state = state;
        let amount = refund.amount;
        store
            .write(|txn| record_refund(txn, payment, amount, returned))
            .expect("refund");
    };
    for part in [33, 33, 34] {
        let number = payment.push_refund(eur(part), "dashboard", now);
        settle(&mut payment, number, RefundState::Succeeded);
    }
    let fee_back = sum_of(&store, payment.id, LedgerKind::FeeReversal);
    let earning_back = sum_of(&store, payment.id, LedgerKind::EarningReversal);
    assert_eq!((fee_back, earning_back), (-15, -85));
    // The second one fails after all: 0.67 stays refunded, its fee
    // share rounded once (0.10).
    settle(&mut payment, 2, RefundState::Failed);
    let fee_back = sum_of(&store, payment.id, LedgerKind::FeeReversal);
    let earning_back = sum_of(&store, payment.id, LedgerKind::EarningReversal);
    assert_eq!((fee_back, earning_back), (-10, -57));
    let user: User = store.require(expert.id).expect("ann");
    assert_eq!(user.total_earnings, eur(85 - 57));
    let mut report = IntegrityReport::default();
    check_ledger(&store, &mut report).expect("check");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

#[test]
fn imported_balances_open_with_their_referral_rewards_as_rewards() {
    let store = Store::open_temporary().expect("store");
    let mut rita = test_rows::user("rita", "Tax Advisor");
    rita.total_earnings = eur(1_000);
    rita.total_payouts = eur(300);
    rita.pending_balance = eur(700);
    rita.total_referral_earnings = eur(200);
    let rita = store.users().create(rita).expect("rita");
    assert_eq!(open_imported_balances(&store).expect("open"), 1);
    let row: User = store.require(rita.id).expect("rita");
    assert_eq!(
        (
            row.total_earnings,
            row.total_payouts,
            row.pending_balance,
            row.total_referral_earnings
        ),
        (eur(1_000), eur(300), eur(700), eur(200))
    );
    let mut kinds: Vec<(LedgerKind, i64)> = store
        .iter::<LedgerEntry>()
        .map(|row| row.expect("row"))
        .filter(|row| row.account == Some(rita.id))
        .map(|row| (row.kind, row.amount.amount_minor))
        .collect();
    kinds.sort_by_key(|(kind, _)| format!("{kind:?}"));
    assert_eq!(
        kinds,
        [
            (LedgerKind::OpeningBalance, 800),
            (LedgerKind::Payout, -300),
            (LedgerKind::ReferralReward, 200),
        ]
    );
    let mut report = IntegrityReport::default();
    check_ledger(&store, &mut report).expect("check");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(open_imported_balances(&store).expect("again"), 0);
}

/// A client, an expert with 5,000 EUR available since yesterday, and a
/// paid EUR 90 payment from one to the other (fee 13.50, earning 76.50)
/// whose earning comes free at `available_at`.
fn paid_with_balance(store: &Store, now: Timestamp, available_at: Timestamp) -> (User, Payment) {
    let client = store
        .users()
        .create(test_rows::user("carl", ""))
        .expect("carl");
    let expert = store
        .users()
        .create(test_rows::user("ann", "Tax Advisor"))
        .expect("ann");
    let payment = Payment {
        id: PaymentId::new(1),
        pays_for: PaymentFor::Booking(BookingId::new(1)),
        payer: client.id,
        payee: expert.id,
        amount: eur(9_000),
        fee: eur(1_350),
        status: PaymentStatus::Succeeded,
        intent_id: None,
        refunds: Vec::new(),
        earning_available_at: available_at,
        created_at: now,
        intent_cancel: crate::payments::IntentCancel::Wanted,
    };
    store
        .write(|txn| {
            record_opening_balance(txn, expert.id, eur(5_000), now.plus_days(-1))?;
            record_charge(txn, &payment)
        })
        .expect("charge");
    (expert, payment)
}

/// Refunds `amount` of `payment` (settled, so its rows are written).
fn refund(store: &Store, payment: &mut Payment, amount: Money, now: Timestamp) {
    let number = payment.push_refund(amount, "cancelled", now);
    if let Some(refund) = payment.refunds.iter_mut().find(|r| r.number == number) {
        refund.state = RefundState::Succeeded;
    }
    store
        .write(|txn| record_refund(txn, payment, amount, true))
        .expect("refund");
}

/// The expert's (available, held) at `at`, which sum to their pending balance.
fn split_at(store: &Store, expert: UserId, at: Timestamp) -> (i64, i64) {
    let user: User = store.require(expert).expect("expert");
    let split = split_now(store, &user, at).expect("split");
    assert_eq!(
        split.available.amount_minor + split.held.amount_minor,
        user.pending_balance.amount_minor,
        "available and held sum to the pending balance"
    );
    let mut report = IntegrityReport::default();
    check_ledger(store, &mut report).expect("check");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    (split.available.amount_minor, split.held.amount_minor)
}

/// Regression: the reversal of a refunded earning counted at once while the
/// earning it cancelled waited for its hold, so a paid session cancelled far
/// ahead took its earning out of what the expert had available: 50.00 became
/// -26.50, and payouts were refused until the session's old date.
#[test]
fn a_refunded_earning_still_held_leaves_what_is_available_alone() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let (expert, mut payment) = paid_with_balance(&store, now, now.plus_days(30));
    assert_eq!(split_at(&store, expert.id, now), (5_000, 7_650));
    refund(&store, &mut payment, eur(9_000), now);
    assert_eq!(split_at(&store, expert.id, now), (5_000, 0));
    assert_eq!(
        split_at(&store, expert.id, now.plus_days(31)),
        (5_000, 0),
        "nothing comes free at the old date either"
    );
    let user: User = store.require(expert.id).expect("ann");
    assert_eq!(
        available_now(&store, &user, now).expect("available"),
        eur(5_000)
    );
}

#[test]
fn a_partial_refund_of_a_held_earning_leaves_the_rest_held() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let (expert, mut payment) = paid_with_balance(&store, now, now.plus_days(30));
    // 30.00 of 90.00 back: 4.50 of fee, 25.50 of earning.
    refund(&store, &mut payment, eur(3_000), now);
    assert_eq!(split_at(&store, expert.id, now), (5_000, 7_650 - 2_550));
    assert_eq!(
        split_at(&store, expert.id, now.plus_days(30)),
        (5_000 + 7_650 - 2_550, 0)
    );
}

#[test]
fn a_rescheduled_earning_moves_its_hold_and_nothing_else() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let (old, new) = (now.plus_days(30), now.plus_days(60));
    let (expert, mut payment) = paid_with_balance(&store, now, old);
    store
        .write(|txn| defer_earning(txn, &payment, new))
        .expect("defer");
    payment.earning_available_at = new;
    assert_eq!(
        split_at(&store, expert.id, now),
        (5_000, 7_650),
        "the move changes nothing available now"
    );
    assert_eq!(
        split_at(&store, expert.id, old.plus_days(1)),
        (5_000, 7_650),
        "past the old date the earning still waits for the new one"
    );
    assert_eq!(split_at(&store, expert.id, new), (12_650, 0));
    // Cancelled after the old date: nothing was free, nothing is owed.
    refund(&store, &mut payment, eur(9_000), old.plus_days(1));
    assert_eq!(split_at(&store, expert.id, old.plus_days(1)), (5_000, 0));
    assert_eq!(split_at(&store, expert.id, new), (5_000, 0));
}

#[test]
fn a_refund_that_fails_puts_the_earning_back_on_its_hold() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let (expert, mut payment) = paid_with_balance(&store, now, now.plus_days(30));
    refund(&store, &mut payment, eur(9_000), now);
    if let Some(refund) = payment.refunds.first_mut() {
        refund.state = RefundState::Failed;
    }
    store
        .write(|txn| record_refund(txn, &payment, eur(9_000), false))
        .expect("undone");
    assert_eq!(split_at(&store, expert.id, now), (5_000, 7_650));
    assert_eq!(split_at(&store, expert.id, now.plus_days(30)), (12_650, 0));
}

#[test]
fn a_refund_after_the_earning_was_paid_out_is_owed_at_once() {
    let store = Store::open_temporary().expect("store");
    let now = Timestamp::now();
    let (expert, mut payment) = paid_with_balance(&store, now, now.plus_days(-1));
    assert_eq!(split_at(&store, expert.id, now), (12_650, 0));
    store
        .write(|txn| record_payout(txn, expert.id, PayoutId::new(1), eur(12_650), true))
        .expect("payout");
    refund(&store, &mut payment, eur(9_000), now);
    assert_eq!(split_at(&store, expert.id, now), (-7_650, 0));
}
