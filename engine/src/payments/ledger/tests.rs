//! The ledger's unit tests: refund splits and imported balances.

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
