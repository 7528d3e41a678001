//! The ledger: one append-only row for every movement of money, written in
//! the same store transaction as the change that moved it. The expert's
//! balance fields on `User` (`total_earnings`, `total_payouts`,
//! `pending_balance`, `total_referral_earnings`) are caches of it, updated
//! only here, and
//! [`check_ledger`] recomputes them from the rows (run by
//! `verify_integrity`, so every crash test checks money too).
//!
//! Signs: a row adds its amount to its account. A paid booking writes
//! `charge` (client, +amount), `platform_fee` (platform, +fee) and
//! `earning` (expert, +amount-fee, available after the hold); a refund
//! writes the opposite rows (`refund`, `fee_reversal`, `earning_reversal`),
//! split between platform and expert in the fee's proportion; a payout
//! writes `payout` (expert, -amount) when it is reserved and
//! `payout_reversal` (+amount) if the money comes back. A content purchase
//! writes the same rows as a booking. A referral reward credited writes
//! `referral_reward` (referrer, +amount) and `referral_cost` (platform,
//! -amount), and the opposite when it is taken back. Per payment, fee
//! and earning rows always sum to the charge and refund rows.

use std::collections::BTreeMap;

use droply_models::{BookingId, Money, Payout, PayoutId, PayoutStatus, Timestamp, User, UserId};
use serde::{Deserialize, Serialize};

use super::payment::{Payment, PaymentId};
use super::subject;
use crate::Result;
use crate::store::{
    EntityKind, IndexEntry, IndexName, IntegrityReport, MAX_PAGE_SIZE, PageRequest, Record, Store,
    Txn,
};

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
        txn.create(LedgerEntry {
            id: LedgerEntryId::new(0),
            account: row.account,
            kind: row.kind,
            amount: row.amount,
            payment_id: Some(payment.id),
            booking_id: payment.pays_for.booking(),
            payout_id: None,
            available_at: row.available_at.unwrap_or(now),
            created_at: now,
        })?;
        if row.account == Some(payment.payee) && row.kind.is_earning() {
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

/// Sets every user's `total_referral_earnings` to the sum of their
/// referral reward rows in their currency (stores written before the cache
/// was kept left it at zero); how many users changed.
pub fn recount_referral_earnings(store: &Store) -> Result<usize> {
    let sums = referral_sums(store)?;
    let mut changed = 0;
    for chunk in sums.into_iter().collect::<Vec<_>>().chunks(500) {
        changed += store.write(|txn| {
            let mut changed = 0;
            for (user, total) in chunk {
                let Some(mut row) = txn.get::<User>(*user)? else {
                    continue;
                };
                let total = Money::new(*total, row.currency);
                if row.total_referral_earnings != total {
                    row.total_referral_earnings = total;
                    txn.update(row)?;
                    changed += 1;
                }
            }
            Ok(changed)
        })?;
    }
    Ok(changed)
}

/// Each account's referral reward rows summed, in minor units of the
/// currency they were credited in (an account's only one: its balances
/// refuse a second).
fn referral_sums(store: &Store) -> Result<BTreeMap<UserId, i64>> {
    let mut sums = BTreeMap::new();
    for item in store.iter::<LedgerEntry>() {
        let row = item?;
        if let (Some(account), LedgerKind::ReferralReward) = (row.account, row.kind) {
            *sums.entry(account).or_insert(0i64) += row.amount.amount_minor;
        }
    }
    Ok(sums)
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

fn open_batch(store: &Store, users: Vec<UserId>) -> Result<usize> {
    store.write(|txn| {
        let mut opened = 0;
        for id in users {
            let mut user: User = txn.require(id)?;
            if txn.count_index(IndexName::LedgerByUser, &id.to_be_bytes())? > 0 {
                continue;
            }
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

/// An expert's balances, as the caches on `User` hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Balances {
    /// Everything earned, net of refunds.
    pub total_earnings: Money,
    /// Everything sent out, net of payouts that came back.
    pub total_payouts: Money,
    /// Owed to the expert: earnings minus payouts.
    pub pending_balance: Money,
}

impl Balances {
    /// The caches on `user`.
    pub fn of_user(user: &User) -> Balances {
        Balances {
            total_earnings: user.total_earnings,
            total_payouts: user.total_payouts,
            pending_balance: user.pending_balance,
        }
    }

    /// Zero in `currency`.
    pub fn zero(currency: droply_models::Currency) -> Balances {
        Balances {
            total_earnings: Money::zero(currency),
            total_payouts: Money::zero(currency),
            pending_balance: Money::zero(currency),
        }
    }

    /// Writes them into `user`'s caches.
    fn write_to(self, user: &mut User) {
        user.total_earnings = self.total_earnings;
        user.total_payouts = self.total_payouts;
        user.pending_balance = self.pending_balance;
    }

    /// After a row of `kind` and `amount`. Balances still at zero take the
    /// row's currency (an expert's first earning decides it); a row in
    /// another currency than non-zero balances is refused.
    fn add(self, kind: LedgerKind, amount: Money) -> Result<Balances> {
        let mut next = if self.is_zero() && self.total_earnings.currency != amount.currency {
            Balances::zero(amount.currency)
        } else {
            self
        };
        if kind.is_earning() {
            next.total_earnings = next.total_earnings.checked_add(amount)?;
            next.pending_balance = next.pending_balance.checked_add(amount)?;
        } else if kind.is_payout() {
            next.total_payouts = next.total_payouts.checked_sub(amount)?;
            next.pending_balance = next.pending_balance.checked_add(amount)?;
        }
        Ok(next)
    }

    /// Whether all three are zero (a new account, whose first row decides
    /// its currency).
    pub fn is_zero(self) -> bool {
        self.total_earnings.is_zero()
            && self.total_payouts.is_zero()
            && self.pending_balance.is_zero()
    }
}

/// What `user` can be paid out at `now`: earnings (and opening balances)
/// whose hold is over, minus payouts, in the balances' currency. Read
/// inside the transaction that reserves a payout, so concurrent requests
/// cannot both spend it.
pub fn available_in(txn: &Txn<'_>, user: &User, now: Timestamp) -> Result<Money> {
    let rows: Vec<LedgerEntry> = txn.list_index(IndexName::LedgerByUser, &user.id.to_be_bytes())?;
    available_of(user, &rows, now)
}

/// [`available_in`] for showing, read outside any transaction (no writer
/// lock), page by page.
pub fn available_now(store: &Store, user: &User, now: Timestamp) -> Result<Money> {
    let prefix = user.id.to_be_bytes();
    let mut rows = Vec::new();
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let got = store.list_index::<LedgerEntry>(IndexName::LedgerByUser, &prefix, &page)?;
        rows.extend(got.items);
        match got.next {
            Some(cursor) => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            None => break,
        }
    }
    available_of(user, &rows, now)
}

/// The sum of `rows` that can be paid out at `now`.
fn available_of(user: &User, rows: &[LedgerEntry], now: Timestamp) -> Result<Money> {
    let currency = user.pending_balance.currency;
    let mut available = Money::zero(currency);
    for row in rows.iter().filter(|row| row.amount.currency == currency) {
        let counts = (row.kind.is_earning()
            && (row.available_at <= now || row.amount.is_negative()))
            || row.kind.is_payout();
        if counts {
            available = available.checked_add(row.amount)?;
        }
    }
    Ok(available)
}

/// Recomputes every expert's caches and every payment's split from the
/// ledger and adds each disagreement to `report`.
pub fn check_ledger(store: &Store, report: &mut IntegrityReport) -> Result<()> {
    let mut per_user: BTreeMap<UserId, Balances> = BTreeMap::new();
    let mut per_payment: BTreeMap<PaymentId, (i64, i64)> = BTreeMap::new();
    for item in store.iter::<LedgerEntry>() {
        let row = item?;
        report.rows += 1;
        if let Some(account) = row.account
            && (row.kind.is_earning() || row.kind.is_payout())
        {
            let balances = per_user
                .entry(account)
                .or_insert_with(|| Balances::zero(row.amount.currency));
            match balances.add(row.kind, row.amount) {
                Ok(next) => *balances = next,
                Err(err) => report
                    .problems
                    .push(format!("ledger of user {account}: {err}")),
            }
        }
        if let Some(payment) = row.payment_id {
            let sums = per_payment.entry(payment).or_default();
            match row.kind {
                LedgerKind::Charge | LedgerKind::Refund => sums.0 += row.amount.amount_minor,
                _ => sums.1 += row.amount.amount_minor,
            }
        }
    }
    for (payment, (paid, split)) in per_payment {
        if paid != split {
            report.problems.push(format!(
                "payment {payment}: the client paid {paid} net but fee and earning rows sum to {split}"
            ));
        }
    }
    let mut referrals = referral_sums(store)?;
    for item in store.iter::<User>() {
        let user = item?;
        let rewarded = referrals.remove(&user.id).unwrap_or(0);
        if user.total_referral_earnings.amount_minor != rewarded {
            report.problems.push(format!(
                "user {}: referral earnings {} but the ledger's rewards sum to {rewarded}",
                user.id, user.total_referral_earnings
            ));
        }
        let cached = Balances::of_user(&user);
        let expected = per_user
            .remove(&user.id)
            .unwrap_or_else(|| Balances::zero(cached.total_earnings.currency));
        let same = |a: Money, b: Money| {
            a.amount_minor == b.amount_minor && (a.is_zero() || a.currency == b.currency)
        };
        if !(same(cached.total_earnings, expected.total_earnings)
            && same(cached.total_payouts, expected.total_payouts)
            && same(cached.pending_balance, expected.pending_balance))
        {
            report.problems.push(format!(
                "user {}: balances {} / {} / {} (earned / paid out / pending) but the ledger says {} / {} / {}",
                user.id,
                cached.total_earnings,
                cached.total_payouts,
                cached.pending_balance,
                expected.total_earnings,
                expected.total_payouts,
                expected.pending_balance
            ));
        }
    }
    for user in per_user.keys() {
        report
            .problems
            .push(format!("ledger rows for user {user}, who does not exist"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use droply_models::{Currency, PaymentStatus};

    use super::*;
    use crate::payments::payment::RefundState;
    use crate::payments::subject::PaymentFor;
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
}
