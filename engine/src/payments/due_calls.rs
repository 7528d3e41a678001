//! The payments sweep's work lists, kept as store indexes so that a sweep
//! reads only the rows that owe Stripe a call, never every payment or
//! payout ever made. A payment is listed in [`IndexName::PaymentCallsDue`]
//! while its PaymentIntent, given up, waits to be cancelled (key: the
//! cancel tag, then the row id) and while a refund of it is requested and
//! not yet answered by Stripe (key: the refund tag, then when its oldest
//! such refund was decided, then the row id); a payout is listed in
//! [`IndexName::PendingPayouts`] while its transfer is unsent (key: when it
//! was made, then the row id). A settled row has no entry: the write that
//! settles it drops the entry in the same transaction, so each sweep costs
//! what is due, not what was ever sold. Stores written before these indexes
//! fill them when opened (sled schema 9, PostgreSQL version 10).

use droply_models::{Payout, PayoutId, PayoutStatus, Timestamp};

use super::{IntentCancel, Payment, PaymentId, PaymentRefund, RefundOrder, RefundState};
use crate::Result;
use crate::store::{IndexEntry, IndexName, KeyBuilder, MAX_PAGE_SIZE, PageRequest, Record, Store};

/// First byte of the entry of a payment whose PaymentIntent is to be cancelled.
const CANCEL_INTENT: u8 = 1;
/// First byte of the entry of a payment with a refund to send.
const SEND_REFUND: u8 = 2;

/// The [`IndexName::PaymentCallsDue`] entries of a payment whose intent
/// stands at `intent_cancel` (`has_intent`: whether one was created at
/// Stripe) and whose refunds are `refunds`: none once nothing is owed.
pub(crate) fn payment_call_entries(
    intent_cancel: IntentCancel,
    has_intent: bool,
    refunds: &[PaymentRefund],
) -> Vec<IndexEntry> {
    let mut entries = Vec::new();
    if intent_cancel == IntentCancel::Requested && has_intent {
        entries.push(IndexEntry {
            index: IndexName::PaymentCallsDue,
            prefix: vec![CANCEL_INTENT],
        });
    }
    if let Some(oldest) = oldest_requested(refunds) {
        entries.push(IndexEntry {
            index: IndexName::PaymentCallsDue,
            prefix: KeyBuilder::new().bytes(&[SEND_REFUND]).time(oldest).build(),
        });
    }
    entries
}

/// The [`IndexName::PendingPayouts`] entry of a payout at `status` made at
/// `created_at`: one while its transfer is not sent.
pub(crate) fn payout_call_entry(status: PayoutStatus, created_at: Timestamp) -> Option<IndexEntry> {
    (status == PayoutStatus::Pending).then(|| IndexEntry {
        index: IndexName::PendingPayouts,
        prefix: KeyBuilder::new().time(created_at).build(),
    })
}

/// When the oldest refund still `requested` was decided, if any is.
fn oldest_requested(refunds: &[PaymentRefund]) -> Option<Timestamp> {
    refunds
        .iter()
        .filter(|refund| refund.state == RefundState::Requested)
        .map(|refund| refund.requested_at)
        .min()
}

/// The payments whose given-up PaymentIntent is still to be cancelled.
pub(crate) fn intents_to_cancel(store: &Store) -> Result<Vec<PaymentId>> {
    let mut ids = Vec::new();
    walk::<Payment>(
        store,
        IndexName::PaymentCallsDue,
        &[CANCEL_INTENT],
        |payment| {
            if payment.intent_cancel == IntentCancel::Requested {
                ids.push(payment.id);
            }
            true
        },
    )?;
    Ok(ids)
}

/// The refunds decided at or before `cutoff` that Stripe has not been told
/// of (or did not answer), the payments whose oldest one is oldest first.
/// The walk stops at the first payment whose oldest is past `cutoff`: the
/// ones listed after it are younger still.
pub(crate) fn refunds_to_send(store: &Store, cutoff: Timestamp) -> Result<Vec<RefundOrder>> {
    let mut orders = Vec::new();
    walk::<Payment>(
        store,
        IndexName::PaymentCallsDue,
        &[SEND_REFUND],
        |payment| {
            match oldest_requested(&payment.refunds) {
                // Answered between the index read and the row read.
                None => true,
                Some(oldest) if oldest > cutoff => false,
                Some(_) => {
                    orders.extend(
                        payment
                            .refunds
                            .iter()
                            .filter(|refund| {
                                refund.state == RefundState::Requested
                                    && refund.requested_at <= cutoff
                            })
                            .map(|refund| RefundOrder {
                                payment: payment.id,
                                number: refund.number,
                            }),
                    );
                    true
                }
            }
        },
    )?;
    Ok(orders)
}

/// The payouts made at or before `cutoff` whose transfer is not sent,
/// oldest first; the walk stops at the first younger one.
pub(crate) fn payouts_to_send(store: &Store, cutoff: Timestamp) -> Result<Vec<PayoutId>> {
    let mut ids = Vec::new();
    walk::<Payout>(store, IndexName::PendingPayouts, &[], |payout| {
        if payout.status != PayoutStatus::Pending {
            // Sent between the index read and the row read.
            return true;
        }
        if payout.created_at > cutoff {
            return false;
        }
        ids.push(payout.id);
        true
    })?;
    Ok(ids)
}

/// Hands `visit` the rows `index` lists under `prefix`, in key order, a
/// page at a time, until it answers `false` (what follows is not due yet)
/// or the list ends.
fn walk<R: Record>(
    store: &Store,
    index: IndexName,
    prefix: &[u8],
    mut visit: impl FnMut(R) -> bool,
) -> Result<()> {
    let mut page = PageRequest::first(MAX_PAGE_SIZE);
    loop {
        let got = store.list_index::<R>(index, prefix, &page)?;
        for row in got.items {
            if !visit(row) {
                return Ok(());
            }
        }
        match got.next {
            Some(cursor) => page = PageRequest::first(MAX_PAGE_SIZE).after(Some(cursor)),
            None => return Ok(()),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests;
