//! Opening the ledger for imported balances (the demo marketplace,
//! `droply import`): users who arrive with earnings and payouts but no rows.

use droply_models::{Money, Payout, PayoutId, PayoutStatus, User, UserId};

use super::{Balances, record_opening_balance, record_payout, write_referral_rows};
use crate::store::{IndexName, Store};
use crate::{Error, Result};

/// Gives users imported with balances but no ledger rows (the demo
/// marketplace, `droply import`) the rows behind them: their
/// `total_referral_earnings` as referral rewards, an opening balance of the
/// rest of their `total_earnings` and, for their `total_payouts`, a paid
/// [`Payout`] with its ledger row, so the caches equal the ledger again.
/// Users with ledger rows are left alone. Returns how many were opened.
pub fn open_imported_balances(store: &Store) -> Result<usize> {
    let mut opened = 0;
    let mut batch = Vec::new();
    for item in store.iter::<User>() {
        let user = item?;
        if Balances::of_user(&user).is_zero() && user.total_referral_earnings.is_zero() {
            continue;
        }
        batch.push(user.id);
        if batch.len() == 500 {
            opened += open_batch(store, std::mem::take(&mut batch))?;
        }
    }
    opened += open_batch(store, batch)?;
    Ok(opened)
}

/// Refuses imported totals the ledger cannot open, naming the user and the
/// field: referral earnings above the earnings that include them (the
/// opening balance would be negative). Payouts above the earnings are a real
/// state (a refund after a payout, owed back) and open as such. The import
/// checks each user row with it, so its line is named too.
pub(crate) fn check_imported_totals(user: &User) -> Result<()> {
    let (earned, referred) = (user.total_earnings, user.total_referral_earnings);
    if referred.currency == earned.currency && referred.amount_minor > earned.amount_minor {
        return Err(Error::Invalid(format!(
            "user {}: total_referral_earnings {referred} is more than total_earnings {earned}, \
             which include the referral earnings",
            user.id.get()
        )));
    }
    Ok(())
}

fn open_batch(store: &Store, users: Vec<UserId>) -> Result<usize> {
    store.write(|txn| {
        let mut opened = 0;
        for id in users {
            let mut user: User = txn.require(id)?;
            if txn.count_index(IndexName::LedgerByUser, &id.to_be_bytes())? > 0 {
                continue;
            }
            check_imported_totals(&user)?;
            let earned = user.total_earnings;
            let paid = user.total_payouts;
            let referred = user.total_referral_earnings;
            Balances::zero(earned.currency).write_to(&mut user);
            user.total_referral_earnings = Money::zero(referred.currency);
            txn.update(user)?;
            let now = txn.now();
            // The referral rewards among the earnings, as rewards.
            let opening = earned.checked_sub(referred)?;
            if !opening.is_zero() {
                record_opening_balance(txn, id, opening, now)?;
            }
            if !referred.is_zero() {
                write_referral_rows(txn, id, None, referred, now)?;
            }
            if paid.is_positive() {
                let payout = txn.create(Payout {
                    id: PayoutId::new(0),
                    user_id: id,
                    amount: paid,
                    stripe_transfer_id: None,
                    stripe_payout_id: None,
                    status: PayoutStatus::Paid,
                    created_at: now,
                    paid_at: Some(now),
                })?;
                record_payout(txn, id, payout.id, paid, true)?;
            }
            opened += 1;
        }
        Ok(opened)
    })
}
