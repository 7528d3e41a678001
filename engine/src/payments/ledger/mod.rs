//! The ledger: one append-only row for every movement of money, written in
//! the same store transaction as the change that moved it. The expert's
//! balance fields on `User` (`total_earnings`, `total_payouts`,
//! `pending_balance`, `total_referral_earnings`) are caches of it, updated
//! only here (`balances` holds them and the check), and
//! [`check_ledger`] recomputes them from the rows (run by
//! `verify_integrity`, so every crash test checks money too). `opening`
//! gives imported balances the rows behind them.
//!
//! Signs: a row adds its amount to its account. A paid booking writes
//! `charge` (client, +amount), `platform_fee` (platform, +fee) and
//! `earning` (expert, +amount-fee, available after the hold); a refund
//! writes the opposite rows (`refund`, `fee_reversal`, `earning_reversal`),
//! split between platform and expert in the fee's proportion; a payout
//! writes `payout` (expert, -amount) when it is reserved and
//! `payout_reversal` (+amount) if the money comes back. A chargeback is
//! written as a refund (the webhook's `disputes`). A content purchase
//! writes the same rows as a booking. A referral reward credited writes
//! `referral_reward` (referrer, +amount) and `referral_cost` (platform,
//! -amount), and the opposite when it is taken back. Per payment, fee
//! and earning rows always sum to the charge and refund rows. What can be
//! paid out nets each payment's rows first (`balances`): a refund of an
//! earning still held takes it back from the hold, not from what is
//! available.

mod balances;
mod opening;
#[cfg(test)]
mod tests;

use droply_models::{BookingId, Money, Payout, PayoutId, Timestamp, User, UserId};
use serde::{Deserialize, Serialize};

pub use balances::{
    Balances, Split, available_in, available_now, check_ledger, recount_referral_earnings,
    split_now,
};
pub(crate) use opening::check_imported_totals;
pub use opening::open_imported_balances;

use super::payment::{Payment, PaymentId};
use super::subject;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, Record, Txn};

engine_record_id! {
    /// Identifies a [`LedgerEntry`].
    pub struct LedgerEntryId;
}

/// What moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    /// A client paid (client account).
    Charge,
    /// The platform's share of a payment.
    PlatformFee,
    /// The expert's share of a payment.
    Earning,
    /// Money given back to a client.
    Refund,
    /// The platform's share of a refund.
    FeeReversal,
    /// The expert's share of a refund.
    EarningReversal,
    /// Money sent to an expert.
    Payout,
    /// A payout that came back.
    PayoutReversal,
    /// Earnings carried over from before the ledger (imports, the demo).
    OpeningBalance,
    /// A referral reward credited to its referrer (negative: taken back).
    ReferralReward,
    /// The platform's side of a referral reward (negative: paid out).
    ReferralCost,
}

impl LedgerKind {
    /// Counts towards an expert's `total_earnings`.
    fn is_earning(self) -> bool {
        matches!(
            self,
            LedgerKind::Earning
                | LedgerKind::EarningReversal
                | LedgerKind::OpeningBalance
                | LedgerKind::ReferralReward
        )
    }

    /// Counts towards an expert's `total_payouts` (negated).
    fn is_payout(self) -> bool {
        matches!(self, LedgerKind::Payout | LedgerKind::PayoutReversal)
    }
}

/// One movement of money.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Primary key.
    pub id: LedgerEntryId,
    /// Whose money: a client or an expert; `None` for the platform.
    pub account: Option<UserId>,
    /// What moved.
    pub kind: LedgerKind,
    /// Signed: added to the account.
    pub amount: Money,
    /// The payment it belongs to, if any.
    pub payment_id: Option<PaymentId>,
    /// The booking it belongs to, if any.
    pub booking_id: Option<BookingId>,
    /// The payout it belongs to, if any.
    pub payout_id: Option<PayoutId>,
    /// When an earning can be paid out (for other rows: when written).
    pub available_at: Timestamp,
    /// When it was written.
    pub created_at: Timestamp,
}

impl Record for LedgerEntry {
    type Id = LedgerEntryId;
    const KIND: EntityKind = EntityKind::LedgerEntry;

    fn id(&self) -> LedgerEntryId {
        self.id
    }
    fn set_id(&mut self, id: LedgerEntryId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        self.account.map(UserId::get)
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        self.account
            .map(|account| {
                IndexEntry::owner_at(IndexName::LedgerByUser, account.get(), self.created_at)
            })
            .into_iter()
            .collect()
    }
}

/// A row about to be written.
struct Row {
    account: Option<UserId>,
    kind: LedgerKind,
    amount: Money,
    available_at: Option<Timestamp>,
}

/// Writes `rows` for `payment`, and updates the expert's caches.
fn write_payment_rows(txn: &mut Txn<'_>, payment: &Payment, rows: &[Row]) -> Result<()> {
    let now = txn.now();
    for row in rows {
        let mut account = row.account;
        if account == Some(payment.payee) {
            // The expert's share of a payment the platform keeps whole to give
            // back (one in a currency they are no longer paid in) is nothing: no
            // row, and their balances, in another currency, are left alone.
            if row.amount.is_zero() {
                continue;
            }
            // A share in a currency the expert has left since (a refund that
            // Stripe failed after it had succeeded, once they moved) cannot join
            // their balances, which hold one currency: the platform keeps it, and
            // the payment's rows still sum to what the client paid.
            let payee: User = txn.require(payment.payee)?;
            if payee.currency != row.amount.currency {
                tracing::warn!(
                    payment = %payment.id,
                    payee = %payment.payee,
                    "a share in a currency its payee has left is kept by the platform"
                );
                account = None;
            }
        }
        txn.create(LedgerEntry {
            id: LedgerEntryId::new(0),
            account,
            kind: row.kind,
            amount: row.amount,
            payment_id: Some(payment.id),
            booking_id: payment.pays_for.booking(),
            payout_id: None,
            available_at: row.available_at.unwrap_or(now),
            created_at: now,
        })?;
        if account == Some(payment.payee) && row.kind.is_earning() {
            apply_to_caches(txn, payment.payee, row.kind, row.amount)?;
            subject::add_content_earning(txn, payment, row.amount)?;
        }
    }
    Ok(())
}

/// Adds `amount` of `kind` to `user`'s balance caches (and a referral
/// reward to their `total_referral_earnings`).
fn apply_to_caches(txn: &mut Txn<'_>, user: UserId, kind: LedgerKind, amount: Money) -> Result<()> {
    let mut row: User = txn.require(user)?;
    let balances = Balances::of_user(&row).add(kind, amount)?;
    balances.write_to(&mut row);
    if kind == LedgerKind::ReferralReward {
        row.total_referral_earnings = row.total_referral_earnings.checked_add(amount)?;
    }
    txn.update(row)?;
    Ok(())
}

/// A paid payment: charge, fee and earning.
pub fn record_charge(txn: &mut Txn<'_>, payment: &Payment) -> Result<()> {
    let rows = [
        Row {
            account: Some(payment.payer),
            kind: LedgerKind::Charge,
            amount: payment.amount,
            available_at: None,
        },
        Row {
            account: None,
            kind: LedgerKind::PlatformFee,
            amount: payment.fee,
            available_at: None,
        },
        Row {
            account: Some(payment.payee),
            kind: LedgerKind::Earning,
            amount: payment.earning()?,
            available_at: Some(payment.earning_available_at),
        },
    ];
    write_payment_rows(txn, payment, &rows)
}

/// A paid session moved to a later time: the expert's earning from
/// `payment` (what is left of it after refunds) waits for the new date,
/// `until`. It is taken back now and made again available then, as two
/// `earning` rows that sum to nothing, so the totals stay and only when the
/// earning comes free changes: the `-earned` row cancels the earning at its
/// old date, not what is available now (`balances` nets a payment's rows).
/// (Otherwise a session moved weeks ahead could be paid
/// out at its old date and still be cancelled for a full refund.) Nothing
/// is written for a payment not paid yet: its charge will carry the date.
pub fn defer_earning(txn: &mut Txn<'_>, payment: &Payment, until: Timestamp) -> Result<()> {
    let rows: Vec<LedgerEntry> =
        txn.list_index(IndexName::LedgerByUser, &payment.payee.to_be_bytes())?;
    let earned = rows
        .iter()
        .filter(|row| {
            row.payment_id == Some(payment.id)
                && matches!(row.kind, LedgerKind::Earning | LedgerKind::EarningReversal)
        })
        .try_fold(Money::zero(payment.amount.currency), |sum, row| {
            sum.checked_add(row.amount)
        })?;
    if !earned.is_positive() {
        return Ok(());
    }
    let rows = [
        Row {
            account: Some(payment.payee),
            kind: LedgerKind::Earning,
            amount: earned.checked_mul(-1)?,
            available_at: None,
        },
        Row {
            account: Some(payment.payee),
            kind: LedgerKind::Earning,
            amount: earned,
            available_at: Some(until),
        },
    ];
    write_payment_rows(txn, payment, &rows)
}

/// The part of `payment`'s fee the platform keeps after the refunds that
/// count so far (what a referral reward is a share of).
pub(crate) fn fee_kept(payment: &Payment) -> Result<Money> {
    Ok(payment
        .fee
        .checked_sub(fee_part(payment, payment.refunded()?)?)?)
}

/// The platform's part of `refunded` of `payment` given back in all: the
/// fee's proportion, rounded toward zero (the expert's part is the rest).
fn fee_part(payment: &Payment, refunded: Money) -> Result<Money> {
    Ok(refunded.checked_mul_ratio(payment.fee.amount_minor, payment.amount.amount_minor)?)
}

/// `amount` of `payment` given back (`returned`) or, when a refund failed
/// after it was counted, taken back again (`!returned`). `payment`'s
/// refunds already hold the change. The fee's share is taken on the total
/// refunded before and after, not on `amount` alone, so partial refunds
/// that add up to the whole give back exactly the fee and the earning,
/// with no minor unit lost to rounding each part.
pub fn record_refund(
    txn: &mut Txn<'_>,
    payment: &Payment,
    amount: Money,
    returned: bool,
) -> Result<()> {
    let after = payment.refunded()?;
    let before = if returned {
        after.checked_sub(amount)?
    } else {
        after.checked_add(amount)?
    };
    let (less, more) = if returned {
        (before, after)
    } else {
        (after, before)
    };
    let fee = fee_part(payment, more)?.checked_sub(fee_part(payment, less)?)?;
    let earning = amount.checked_sub(fee)?;
    let sign = if returned { -1 } else { 1 };
    let rows = [
        Row {
            account: Some(payment.payer),
            kind: LedgerKind::Refund,
            amount: amount.checked_mul(sign)?,
            available_at: None,
        },
        Row {
            account: None,
            kind: LedgerKind::FeeReversal,
            amount: fee.checked_mul(sign)?,
            available_at: None,
        },
        Row {
            account: Some(payment.payee),
            kind: LedgerKind::EarningReversal,
            amount: earning.checked_mul(sign)?,
            available_at: None,
        },
    ];
    write_payment_rows(txn, payment, &rows)
}

/// A payout reserved (`sent`) or come back (`!sent`).
pub fn record_payout(
    txn: &mut Txn<'_>,
    user: UserId,
    payout: PayoutId,
    amount: Money,
    sent: bool,
) -> Result<()> {
    let now = txn.now();
    let (kind, signed) = if sent {
        (LedgerKind::Payout, amount.checked_mul(-1)?)
    } else {
        (LedgerKind::PayoutReversal, amount)
    };
    txn.create(LedgerEntry {
        id: LedgerEntryId::new(0),
        account: Some(user),
        kind,
        amount: signed,
        payment_id: None,
        booking_id: None,
        payout_id: Some(payout),
        available_at: now,
        created_at: now,
    })?;
    apply_to_caches(txn, user, kind, signed)
}

/// What of `payout` has come back to its expert's balance: its reversal rows.
pub fn returned_of_payout(txn: &Txn<'_>, payout: &Payout) -> Result<Money> {
    let rows: Vec<LedgerEntry> =
        txn.list_index(IndexName::LedgerByUser, &payout.user_id.to_be_bytes())?;
    rows.iter()
        .filter(|row| row.payout_id == Some(payout.id) && row.kind == LedgerKind::PayoutReversal)
        .try_fold(Money::zero(payout.amount.currency), |sum, row| {
            sum.checked_add(row.amount)
        })
        .map_err(crate::Error::from)
}

/// Referral `reward` credited to its referrer out of the platform's fees
/// (`credit`), or taken back (`!credit`).
pub fn record_referral_reward(
    txn: &mut Txn<'_>,
    reward: &droply_models::ReferralReward,
    credit: bool,
) -> Result<()> {
    let signed = if credit {
        reward.reward_amount
    } else {
        reward.reward_amount.checked_mul(-1)?
    };
    let now = txn.now();
    write_referral_rows(txn, reward.referrer_id, reward.booking_id, signed, now)
}

/// `amount` of referral rewards to `referrer` (negative: taken back) and its
/// opposite on the platform, with the referrer's caches.
fn write_referral_rows(
    txn: &mut Txn<'_>,
    referrer: UserId,
    booking_id: Option<BookingId>,
    amount: Money,
    now: Timestamp,
) -> Result<()> {
    for (account, kind, amount) in [
        (Some(referrer), LedgerKind::ReferralReward, amount),
        (None, LedgerKind::ReferralCost, amount.checked_mul(-1)?),
    ] {
        txn.create(LedgerEntry {
            id: LedgerEntryId::new(0),
            account,
            kind,
            amount,
            payment_id: None,
            booking_id,
            payout_id: None,
            available_at: now,
            created_at: now,
        })?;
    }
    apply_to_caches(txn, referrer, LedgerKind::ReferralReward, amount)
}

/// Earnings from before the ledger (the demo, imports), available at `at`.
pub fn record_opening_balance(
    txn: &mut Txn<'_>,
    user: UserId,
    amount: Money,
    at: Timestamp,
) -> Result<()> {
    txn.create(LedgerEntry {
        id: LedgerEntryId::new(0),
        account: Some(user),
        kind: LedgerKind::OpeningBalance,
        amount,
        payment_id: None,
        booking_id: None,
        payout_id: None,
        available_at: at,
        created_at: at,
    })?;
    apply_to_caches(txn, user, LedgerKind::OpeningBalance, amount)
}
