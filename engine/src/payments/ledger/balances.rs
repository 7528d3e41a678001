//! An expert's balance caches on `User` as the ledger keeps them: adding
//! a row to them, what can be paid out now and what is still held (one
//! rule, `split_of`, that nets each payment's rows before they count),
//! recounting the referral earnings, and the check that recomputes every
//! cache and every payment's split from the rows.

use std::collections::BTreeMap;

use droply_models::{Money, Timestamp, User, UserId};

use super::{LedgerEntry, LedgerKind};
use crate::Result;
use crate::payments::payment::PaymentId;
use crate::store::{IndexName, IntegrityReport, MAX_PAGE_SIZE, PageRequest, Store, Txn};

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
    pub(super) fn write_to(self, user: &mut User) {
        user.total_earnings = self.total_earnings;
        user.total_payouts = self.total_payouts;
        user.pending_balance = self.pending_balance;
    }

    /// After a row of `kind` and `amount`. Balances still at zero take the
    /// row's currency (an expert's first earning decides it); a row in
    /// another currency than non-zero balances is refused.
    pub(super) fn add(self, kind: LedgerKind, amount: Money) -> Result<Balances> {
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

/// What of an expert's balance can be paid out at an instant, and what is
/// still held; the two sum to the pending balance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Split {
    /// What a payout may take: earnings past their hold, minus payouts and
    /// what is owed back.
    pub available: Money,
    /// Earnings still within their hold (never negative).
    pub held: Money,
}

/// What `user` can be paid out at `now`: earnings (and opening balances)
/// whose hold is over, minus payouts, in the balances' currency. Read
/// inside the transaction that reserves a payout, so concurrent requests
/// cannot both spend it.
pub fn available_in(txn: &Txn<'_>, user: &User, now: Timestamp) -> Result<Money> {
    let rows: Vec<LedgerEntry> = txn.list_index(IndexName::LedgerByUser, &user.id.to_be_bytes())?;
    Ok(split_of(user, &rows, now)?.available)
}

/// [`available_in`] for showing, read outside any transaction (no writer
/// lock), page by page.
pub fn available_now(store: &Store, user: &User, now: Timestamp) -> Result<Money> {
    Ok(split_now(store, user, now)?.available)
}

/// What of `user`'s balance is available and what is held at `now`, read
/// outside any transaction, page by page.
pub fn split_now(store: &Store, user: &User, now: Timestamp) -> Result<Split> {
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
    split_of(user, &rows, now)
}

/// The one rule for what of `rows` is available at `now` and what is held.
/// A payment's earning rows are netted before they count: its negative
/// rows (the `earning_reversal` of a refund or a dispute, the `earning` a
/// reschedule takes back) cancel its positive rows in the order these come
/// free, and what is left of each positive row counts from its
/// `available_at`. So a refund of an earning still held takes it back from
/// the hold and leaves what is available as it was (a negative row used to
/// count at once while the earning it cancels waited: a cancelled session
/// a year ahead blocked the expert's payouts for a year); a reschedule's
/// `-earned` cancels the earning at the old date, not the one at the new;
/// a failed refund's `+amount`, written now, cancels its reversal instead
/// of freeing the earning before its hold is over; and what no positive row
/// covers (money refunded after it was paid out) is owed at once. Rows of
/// no payment (opening balances, referral rewards, payouts and their
/// reversals) count at once when negative or past their `available_at`.
fn split_of(user: &User, rows: &[LedgerEntry], now: Timestamp) -> Result<Split> {
    let currency = user.pending_balance.currency;
    let mut split = Split {
        available: Money::zero(currency),
        held: Money::zero(currency),
    };
    let mut per_payment: BTreeMap<PaymentId, Vec<&LedgerEntry>> = BTreeMap::new();
    let counted = rows.iter().filter(|row| {
        row.amount.currency == currency && (row.kind.is_earning() || row.kind.is_payout())
    });
    for row in counted {
        match row.payment_id {
            Some(payment) if row.kind.is_earning() => {
                per_payment.entry(payment).or_default().push(row);
            }
            _ if row.kind.is_payout() || row.available_at <= now || row.amount.is_negative() => {
                split.available = split.available.checked_add(row.amount)?;
            }
            _ => split.held = split.held.checked_add(row.amount)?,
        }
    }
    for rows in per_payment.values_mut() {
        add_payment(&mut split, rows, now)?;
    }
    Ok(split)
}

/// Adds one payment's earning rows to `split`, netted as [`split_of`] says.
fn add_payment(split: &mut Split, rows: &mut [&LedgerEntry], now: Timestamp) -> Result<()> {
    rows.sort_by_key(|row| (row.available_at, row.created_at));
    let mut owed = Money::zero(split.available.currency);
    for row in rows.iter().filter(|row| row.amount.is_negative()) {
        owed = owed.checked_sub(row.amount)?;
    }
    for row in rows.iter().filter(|row| row.amount.is_positive()) {
        let cancelled = Money::new(
            owed.amount_minor.min(row.amount.amount_minor),
            owed.currency,
        );
        owed = owed.checked_sub(cancelled)?;
        let left = row.amount.checked_sub(cancelled)?;
        if row.available_at <= now {
            split.available = split.available.checked_add(left)?;
        } else {
            split.held = split.held.checked_add(left)?;
        }
    }
    split.available = split.available.checked_sub(owed)?;
    Ok(())
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
