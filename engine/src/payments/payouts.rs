//! Payouts: an expert asks for an amount (or everything available); the
//! payout row and its ledger row are written in one transaction that reads
//! the available balance first (the single writer makes concurrent
//! requests queue, so together they never take more than is there). Then a
//! Stripe transfer moves the money to the expert's connected account with
//! the payout's idempotency key; its answer moves the payout to
//! `in_transit` (or, refused, to `failed` with the money given back in the
//! ledger). A payout left `pending` by a crash or a failed call is sent
//! again by [`payout_sweep`] with the same key, so Stripe transfers it
//! once, while Stripe still keeps the key (24 hours): a payout older than
//! [`KEYS_TRUSTED_HOURS`] first asks Stripe for the transfers of its
//! transfer group and adopts the one made for it, if any, rather than send
//! again under a key Stripe may have forgotten. [`scheduled_payouts`]
//! pays out experts on a daily, weekly or monthly schedule, counted from
//! their newest payout Stripe did not refuse (a refused one paid nothing,
//! so it does not start a period).

use droply_models::{
    Money, Payout, PayoutId, PayoutSchedule, PayoutStatus, Timestamp, User, UserId,
};

use super::due_calls::{payouts_to_send, refunds_to_send};
use super::refunds::send_refund_at;
use super::{
    AmountUse, Gateway, GatewayError, META_PAYOUT, Payments, ledger, round_down_for,
    stripe_currency, to_stripe,
};
use crate::idempotency_key::IdempotencyKey;
use crate::store::{IndexName, KeyBuilder, PageRequest, Store, Txn};
use crate::{Error, Result};

mod idempotency;

pub use idempotency::{PayoutIdempotency, PayoutIdempotencyId};

/// Reserves a payout of `amount` (everything available when `None`) for
/// `user` and sends it. `PayoutsNotEnabled` before onboarding finished,
/// `InsufficientBalance` above what is available. With a `key`, a repeat
/// of the same request returns the payout the first one made (its
/// transfer sent again under the payout's Stripe key if still pending)
/// rather than paying out twice, and the same key with another amount is
/// `IdempotencyKeyReused` ([`idempotency`]). The flag is true when this
/// call made the payout.
pub fn request_payout(
    payments: &Payments,
    store: &Store,
    user: UserId,
    amount: Option<Money>,
    key: Option<&IdempotencyKey>,
) -> Result<(Payout, bool)> {
    payments.gateway()?;
    let fingerprint = idempotency::request_fingerprint(amount);
    let (payout, made) = store.write(|txn| {
        if let Some(key) = key
            && let Some(first) = idempotency::earlier_payout(txn, user, key, &fingerprint)?
        {
            return Ok((first, false));
        }
        let payout = reserve(txn, user, amount)?;
        if let Some(key) = key {
            idempotency::remember(txn, user, key, fingerprint.clone(), payout.id)?;
        }
        Ok((payout, true))
    })?;
    Ok((send_transfer(payments, store, payout.id)?, made))
}

/// Like [`request_payout`], for a request made from a form shown when
/// `user`'s newest payout was made at `seen` (`None`: they had none): when
/// a payout was made after it (the same form sent twice, by a double click
/// or after going back), `None` and nothing asked, so one form pays out
/// once. The check is the scheduled payouts' overlap guard
/// ([`reserve_unless_paid_since`]), in the same write as the payout.
pub fn request_payout_unless_paid_since(
    payments: &Payments,
    store: &Store,
    user: UserId,
    amount: Option<Money>,
    seen: Option<Timestamp>,
) -> Result<Option<Payout>> {
    payments.gateway()?;
    let payout = store.write(|txn| reserve_unless_paid_since(txn, user, amount, seen))?;
    payout
        .map(|payout| send_transfer(payments, store, payout.id))
        .transpose()
}

/// Inside a write: the payout row and its ledger row for `amount` of
/// `user`'s available balance (all of it when `None`), refused as
/// [`request_payout`] says.
fn reserve(txn: &mut Txn<'_>, user: UserId, amount: Option<Money>) -> Result<Payout> {
    let row: User = txn.require(user)?;
    if row.stripe_account_id.is_none() || !row.payout_enabled {
        return Err(Error::PayoutsNotEnabled(
            "finish payout onboarding first (POST /v1/payouts/onboarding)".to_owned(),
        ));
    }
    let available = ledger::available_in(txn, &row, txn.now())?;
    let wanted = match amount {
        Some(amount) => amount,
        None => round_down_for(available, AmountUse::Payout),
    };
    if wanted.currency != available.currency {
        return Err(Error::Invalid(format!(
            "payouts are made in {}, not {}",
            available.currency, wanted.currency
        )));
    }
    if !wanted.is_positive() {
        return Err(Error::InsufficientBalance { available });
    }
    to_stripe(wanted, AmountUse::Payout)?;
    if wanted.amount_minor > available.amount_minor {
        return Err(Error::InsufficientBalance { available });
    }
    let payout = txn.create(Payout {
        id: PayoutId::new(0),
        user_id: user,
        amount: wanted,
        stripe_transfer_id: None,
        stripe_payout_id: None,
        status: PayoutStatus::Pending,
        created_at: txn.now(),
        paid_at: None,
    })?;
    ledger::record_payout(txn, user, payout.id, wanted, true)?;
    Ok(payout)
}

/// How long after a call that creates something was first made its
/// idempotency key is trusted to make nothing twice. Stripe keeps keys 24
/// hours, then takes the same key for a new request; the 4 hours less
/// leave room for clocks apart and the call's own time. A payout or refund
/// older than this is looked for at Stripe before it is sent again.
pub(crate) const KEYS_TRUSTED_HOURS: i64 = 20;

/// Whether a call first made at `made` may, sent again at `now`, find its
/// idempotency key forgotten by Stripe ([`KEYS_TRUSTED_HOURS`]).
pub(crate) fn key_may_be_forgotten(made: Timestamp, now: Timestamp) -> bool {
    made < now.plus_minutes(-KEYS_TRUSTED_HOURS * 60)
}

/// Sends payout `id`'s transfer if it is still pending, and records the answer.
pub fn send_transfer(payments: &Payments, store: &Store, id: PayoutId) -> Result<Payout> {
    send_transfer_at(payments, store, id, Timestamp::now())
}

/// [`send_transfer`] at `now`: a payout made longer ago than
/// [`KEYS_TRUSTED_HOURS`] adopts the transfer Stripe made for it (its
/// first call timed out after Stripe made it) rather than send again under
/// a key Stripe may have forgotten, which would pay the expert twice.
/// While Stripe cannot be asked (a failure worth retrying) nothing is sent.
fn send_transfer_at(
    payments: &Payments,
    store: &Store,
    id: PayoutId,
    now: Timestamp,
) -> Result<Payout> {
    let payout: Payout = store.require(id)?;
    if payout.status != PayoutStatus::Pending {
        return Ok(payout);
    }
    let user: User = store.require(payout.user_id)?;
    let account = user.stripe_account_id.clone().ok_or_else(|| {
        Error::PayoutsNotEnabled(format!("user {} has no connected account", user.id))
    })?;
    let gateway = payments.gateway()?;
    let group = format!("payout-{}", payout.id);
    let ids = [(META_PAYOUT, payout.id.to_string())];
    if key_may_be_forgotten(payout.created_at, now) {
        match transfer_made_for(payments, gateway, &group, &ids) {
            Ok(Some(transfer)) => {
                tracing::info!(payout = %id, transfer = %transfer, "payout's transfer found at Stripe; adopted, not sent again");
                return record_transfer(store, id, &transfer);
            }
            Ok(None) => {}
            Err(err) if err.retryable => {
                tracing::warn!(payout = %id, error = %err.message, "payout's transfers could not be listed; it will be retried");
                return Ok(payout);
            }
            // Stripe refused the list itself: the transfer's own call gets
            // its own answer.
            Err(err) => {
                tracing::warn!(payout = %id, error = %err.message, "payout's transfers could not be listed; sent");
            }
        }
    }
    let answer = gateway.transfer(
        to_stripe(payout.amount, AmountUse::Payout)?,
        &stripe_currency(payout.amount.currency),
        &account,
        &group,
        payments.metadata(&ids),
        &format!("droply-{}-payout-{}", payments.instance(), payout.id),
    );
    match answer {
        Ok(transfer) => record_transfer(store, id, &transfer.id),
        Err(err) if err.retryable => {
            tracing::warn!(payout = %id, error = %err.message, "payout transfer will be retried");
            Ok(payout)
        }
        Err(err) => {
            tracing::warn!(payout = %id, error = %err.message, "payout transfer refused");
            store.write(|txn| {
                let mut payout: Payout = txn.require(id)?;
                if payout.status == PayoutStatus::Pending {
                    payout.status = PayoutStatus::Failed;
                    payout = txn.update(payout)?;
                    ledger::record_payout(txn, payout.user_id, payout.id, payout.amount, false)?;
                }
                Ok(payout)
            })?;
            Err(err.into())
        }
    }
}

/// The transfer Stripe made in transfer `group` with our metadata for
/// `ids` (this store's tag and the payout's id), if any.
fn transfer_made_for(
    payments: &Payments,
    gateway: &Gateway,
    group: &str,
    ids: &[(&str, String)],
) -> std::result::Result<Option<String>, GatewayError> {
    Ok(gateway
        .transfers_in_group(group)?
        .into_iter()
        .find(|transfer| payments.made_for(transfer.metadata.as_ref(), ids))
        .map(|transfer| transfer.id))
}

/// Records `transfer` as payout `id`'s, if it is still pending: it is in
/// transit (the write of a transfer Stripe accepted).
pub(crate) fn record_transfer(store: &Store, id: PayoutId, transfer: &str) -> Result<Payout> {
    store.write(|txn| {
        let mut payout: Payout = txn.require(id)?;
        if payout.status == PayoutStatus::Pending {
            payout.status = PayoutStatus::InTransit;
            payout.stripe_transfer_id = Some(transfer.to_owned());
            payout = txn.update(payout)?;
        }
        Ok(payout)
    })
}

/// Repeats every Stripe call left unfinished for longer than the
/// configured `retry_after`: pending payouts' transfers and requested
/// refunds. Returns how many were sent again. Only the rows listed as
/// owing a call are read (`due_calls`), never a settled one.
pub fn payout_sweep(payments: &Payments, store: &Store, now: Timestamp) -> Result<usize> {
    if payments.gateway().is_err() {
        return Ok(0);
    }
    let cutoff = now.saturating_add(
        -chrono::TimeDelta::from_std(payments.config().retry_after).unwrap_or_default(),
    );
    let mut retried = 0;
    for id in payouts_to_send(store, cutoff)? {
        retried += 1;
        if let Err(err) = send_transfer_at(payments, store, id, now) {
            tracing::warn!(payout = %id, %err, "payout retry failed");
        }
    }
    for order in refunds_to_send(store, cutoff)? {
        retried += 1;
        if let Err(err) = send_refund_at(payments, store, order, now) {
            tracing::warn!(payment = %order.payment, %err, "refund retry failed");
        }
    }
    Ok(retried)
}

/// When a schedule pays out again after a payout at `last`: a day or a
/// week (7 × 24 hours, in UTC) later, or a calendar month later
/// ([`plus_calendar_months`]); never on a manual one.
fn next_due(schedule: PayoutSchedule, last: Timestamp) -> Option<Timestamp> {
    match schedule {
        PayoutSchedule::Daily => Some(last.plus_days(1)),
        PayoutSchedule::Weekly => Some(last.plus_days(7)),
        PayoutSchedule::Monthly => Some(plus_calendar_months(last, 1)),
        PayoutSchedule::Manual => None,
    }
}

/// `at` plus `months` calendar months, read in UTC: the same day of the
/// month at the same time, or the month's last day where it is shorter
/// (01-31 plus one month is 02-28, or 02-29 in a leap year); the last
/// instant there is past the end of time. The one month rule of payments
/// (monthly payouts, the referral content window).
pub(crate) fn plus_calendar_months(at: Timestamp, months: u32) -> Timestamp {
    at.as_datetime()
        .checked_add_months(chrono::Months::new(months))
        .map_or_else(
            || Timestamp::from_datetime(chrono::DateTime::<chrono::Utc>::MAX_UTC),
            Timestamp::from_datetime,
        )
}

/// How many payouts a page of [`payout_history`] reads.
const HISTORY_PAGE: usize = 20;

/// How many pages [`payout_history`] reads at most: past a hundred refused
/// payouts in a row, the oldest of them starts the period.
const HISTORY_PAGES: usize = 5;

/// How long after a refused payout its schedule tries again at the
/// soonest, so that a Stripe refusing every transfer is not asked at every
/// sweep (a refused payout leaves a `failed` row each time).
const REFUSED_RETRY_MINUTES: i64 = 60;

/// What a scheduled run reads of an expert's payouts before it decides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct PayoutHistory {
    /// When the newest payout, of any status, was made: the overlap guard
    /// ([`reserve_unless_paid_since`]) pays only if none was made after it.
    newest: Option<Timestamp>,
    /// When the newest payout Stripe did not refuse (any status but
    /// `failed`) was made: the schedule's period runs from it.
    paid: Option<Timestamp>,
    /// When the newest payout was made, if Stripe refused it (`failed`):
    /// the schedule tries again [`REFUSED_RETRY_MINUTES`] after it at the
    /// soonest.
    refused: Option<Timestamp>,
}

/// `user`'s payouts read newest first, up to the newest one that was not
/// refused (at most [`HISTORY_PAGES`] pages; when every payout read was
/// refused, the oldest read stands for the last one paid).
fn payout_history(store: &Store, user: UserId) -> Result<PayoutHistory> {
    let mut history = PayoutHistory::default();
    let mut page = PageRequest::first(HISTORY_PAGE).desc();
    let mut oldest_read = None;
    for _ in 0..HISTORY_PAGES {
        let payouts = store.payouts().by_user(user, &page)?;
        for payout in &payouts.items {
            if history.newest.is_none() {
                history.newest = Some(payout.created_at);
                if payout.status == PayoutStatus::Failed {
                    history.refused = Some(payout.created_at);
                }
            }
            if payout.status != PayoutStatus::Failed {
                history.paid = Some(payout.created_at);
                return Ok(history);
            }
            oldest_read = Some(payout.created_at);
        }
        match payouts.next {
            Some(cursor) => page = PageRequest::first(HISTORY_PAGE).desc().after(Some(cursor)),
            None => return Ok(history),
        }
    }
    history.paid = oldest_read;
    Ok(history)
}

/// When `schedule` pays out again after `history`: a period after the
/// newest payout not refused ([`next_due`]), and, when the newest payout
/// was refused, not before [`REFUSED_RETRY_MINUTES`] after it; `None`
/// when nothing holds it back (no payout yet).
fn due_after(schedule: PayoutSchedule, history: PayoutHistory) -> Option<Timestamp> {
    let period = history.paid.and_then(|paid| next_due(schedule, paid));
    let retry = history
        .refused
        .map(|refused| refused.plus_minutes(REFUSED_RETRY_MINUTES));
    // `None` sorts first: the later of the two that hold it back.
    period.max(retry)
}

/// Inside a payout's write: `amount` of what is available to `user` (all
/// of it when `None`), unless a payout was made after `last` (for a
/// scheduled run, the newest payout it saw when it read the schedule due,
/// [`PayoutHistory::newest`], whatever its status; for the payout form,
/// the newest it showed): then `None`, nothing written. A payout made meanwhile counts
/// even if Stripe refused it: another run paid, or tried to, this period.
/// (`last` is never the newest payout not refused, which may be older than
/// a refused one: that would count the refused one and never pay again.)
fn reserve_unless_paid_since(
    txn: &mut Txn<'_>,
    user: UserId,
    amount: Option<Money>,
    last: Option<Timestamp>,
) -> Result<Option<Payout>> {
    if paid_out_since(txn, user, last)? {
        return Ok(None);
    }
    reserve(txn, user, amount).map(Some)
}

/// Whether `user` has a payout made after `last` (any payout when `None`),
/// this transaction's own included.
fn paid_out_since(txn: &Txn<'_>, user: UserId, last: Option<Timestamp>) -> Result<bool> {
    let owner = KeyBuilder::new().u64(user.get());
    let lower = match last {
        // Past every entry made at `last` itself (entries end in their id).
        Some(last) => owner.time(last).u64(u64::MAX).build(),
        None => owner.build(),
    };
    let upper = KeyBuilder::new().u64(user.get().saturating_add(1)).build();
    Ok(txn.count_index_range(IndexName::PayoutsByUser, &lower, &upper)? > 0)
}

/// Pays out everything available to each expert whose schedule is due at
/// `now` (the newest payout Stripe did not refuse is a period old, or there
/// is none; a refused one is tried again an hour after it at the soonest,
/// `due_after`); returns how many payouts were made: sent, or left
/// pending for the sweep to send, never one Stripe refused.
pub fn scheduled_payouts(payments: &Payments, store: &Store, now: Timestamp) -> Result<usize> {
    if payments.gateway().is_err() {
        return Ok(0);
    }
    let mut made = 0;
    let mut page = PageRequest::first(500);
    loop {
        let experts = store.list_index::<User>(IndexName::Experts, &[], &page)?;
        for expert in &experts.items {
            if matches!(expert.payout_schedule, PayoutSchedule::Manual) {
                continue;
            }
            if !expert.payout_enabled || !expert.pending_balance.is_positive() {
                continue;
            }
            let history = payout_history(store, expert.id)?;
            if due_after(expert.payout_schedule, history).is_some_and(|due| due > now) {
                continue;
            }
            // The schedule was read due outside the write: the write pays only
            // if no payout was made since (two runs overlapping at a lease
            // handover both read it due, and the second paid again).
            let reserved =
                store.write(|txn| reserve_unless_paid_since(txn, expert.id, None, history.newest));
            match reserved {
                Ok(Some(payout)) => {
                    if sent_or_pending(payments, store, &payout) {
                        made += 1;
                    }
                }
                Ok(None) | Err(Error::InsufficientBalance { .. }) => {}
                Err(err) => tracing::warn!(user = %expert.id, %err, "scheduled payout failed"),
            }
        }
        match experts.next {
            Some(cursor) => page = PageRequest::first(500).after(Some(cursor)),
            None => break,
        }
    }
    Ok(made)
}

/// Sends a scheduled `payout`'s transfer; whether it counts as made: sent,
/// or left pending for the sweep to send again, and not refused by Stripe
/// (`failed`, its money given back to the balance).
fn sent_or_pending(payments: &Payments, store: &Store, payout: &Payout) -> bool {
    match send_transfer(payments, store, payout.id) {
        Ok(sent) => sent.status != PayoutStatus::Failed,
        Err(err) => {
            tracing::warn!(user = %payout.user_id, payout = %payout.id, %err, "scheduled payout's transfer failed");
            // Refused, it is failed; any other failure left it pending, and
            // the sweep sends it again.
            match store.get::<Payout>(payout.id) {
                Ok(row) => row.is_some_and(|row| row.status != PayoutStatus::Failed),
                Err(err) => {
                    tracing::warn!(payout = %payout.id, %err, "scheduled payout could not be read again");
                    false
                }
            }
        }
    }
}

#[cfg(test)]
mod tests;
