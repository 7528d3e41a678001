//! Refunds: deciding one (a cancellation under the [`RefundPolicy`], or a
//! payment that arrived for a booking no longer held) records it as
//! `requested` in the transaction that made the decision; [`send_refund`]
//! then asks Stripe with the refund's own idempotency key and records the
//! answer, writing the ledger rows once Stripe accepted it. A refund still
//! `requested` after a crash or a failed call is sent again by the sweep;
//! one decided longer ago than
//! [`KEYS_TRUSTED_HOURS`](super::payouts::KEYS_TRUSTED_HOURS) (Stripe keeps
//! keys 24 hours) first looks for itself among its charge's refunds at
//! Stripe and adopts the one tagged with its number, rather than refund
//! twice under a key Stripe may have forgotten.

use droply_models::{Booking, Money, Timestamp};

use super::payouts::key_may_be_forgotten;
use super::subject::mirror_onto;
use super::{
    AmountUse, Gateway, GatewayError, META_PAYMENT, META_REFUND, Payment, PaymentId, Payments,
    RefundPolicy, RefundState, ledger, payment_of, to_stripe,
};
use crate::booking::BookingRole;
use crate::store::{Store, Txn};
use crate::{Error, Result};

/// A refund recorded as requested, to be sent once its transaction commits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefundOrder {
    /// The payment refunded.
    pub payment: PaymentId,
    /// The refund's number within it.
    pub number: u32,
}

/// The reason of the refund an expert's cancellation makes: chosen here by
/// the canceller's role, never typed by anyone, so it tells the expert's
/// cancellation of a paid booking from its client's.
pub(crate) const CANCELLED_BY_EXPERT: &str = "cancelled by the expert";

/// What a cancellation by `role` at `now` gives back of what was paid: the
/// expert cancelling always refunds in full; the client in full up to the
/// policy's hours before the start, nothing later.
pub fn refund_due(
    policy: &RefundPolicy,
    booking: &Booking,
    role: BookingRole,
    paid: Money,
    now: Timestamp,
) -> Money {
    let deadline = policy.full_refund_until(booking);
    match role {
        BookingRole::Provider => paid,
        BookingRole::Client if now <= deadline => paid,
        BookingRole::Client => Money::zero(paid.currency),
    }
}

/// Inside the transaction cancelling `booking` (by `role`): records the
/// refund the policy grants, if the booking was paid and anything is due.
pub fn refund_on_cancel(
    txn: &mut Txn<'_>,
    policy: &RefundPolicy,
    booking: &Booking,
    role: BookingRole,
) -> Result<Option<RefundOrder>> {
    let Some(payment) = payment_of(txn, booking.id)? else {
        return Ok(None);
    };
    if !payment.status.is_paid() {
        return Ok(None);
    }
    let left = payment.amount.checked_sub(payment.committed_refunds()?)?;
    let due = refund_due(policy, booking, role, left, txn.now());
    if !due.is_positive() {
        return Ok(None);
    }
    let reason = match role {
        BookingRole::Provider => CANCELLED_BY_EXPERT,
        BookingRole::Client => "cancelled in time for a refund",
    };
    request_refund(txn, payment, due, reason).map(Some)
}

/// Records a refund of `amount` of `payment` as requested.
pub(crate) fn request_refund(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    amount: Money,
    reason: &str,
) -> Result<RefundOrder> {
    let number = payment.push_refund(amount, reason, txn.now());
    let payment = txn.update(payment)?;
    Ok(RefundOrder {
        payment: payment.id,
        number,
    })
}

/// Moves refund `number` of `payment` to `state` (with Stripe's id when
/// known), writing or undoing its ledger rows and the payment's and
/// booking's statuses to match. Nothing changes but the id if it is there
/// already or the move goes back ([`RefundState::may_become`]: a late
/// `pending` after `succeeded`, from an event or our own call's answer,
/// is older news). A refund that fails frees its part of the payment: a
/// chargeback that took less than Stripe withdrew, since that refund held
/// it, takes it up ([`take_up_for_dispute`]).
pub(crate) fn settle_refund(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    number: u32,
    state: RefundState,
    stripe_id: Option<&str>,
) -> Result<Payment> {
    let refund = payment
        .refunds
        .iter_mut()
        .find(|refund| refund.number == number)
        .ok_or_else(|| Error::Invalid(format!("payment {} has no refund {number}", payment.id)))?;
    if stripe_id.is_some() && refund.stripe_id.is_none() {
        refund.stripe_id = stripe_id.map(str::to_owned);
    }
    let before = refund.state;
    let amount = refund.amount;
    let chargeback = refund.disputed.is_some();
    if !before.may_become(state) {
        return txn.update(payment);
    }
    refund.state = state;
    if before.counts() != state.counts() && amount.is_positive() {
        ledger::record_refund(txn, &payment, amount, state.counts())?;
    }
    if state == RefundState::Failed && !chargeback {
        take_up_for_dispute(txn, &mut payment)?;
    }
    mirror_status(txn, &mut payment)?;
    txn.update(payment)
}

/// After a refund of `payment` failed: its chargeback's refund, if it took
/// less than Stripe withdrew (other refunds, decided before and not yet
/// failed, held the rest of the payment), takes up what is free of the
/// payment now, to the disputed amount, with the same ledger rows as a
/// refund. Stripe withdrew the money from the platform whatever became of
/// those refunds: without this the expert would keep, and could be paid,
/// an earning the platform has lost.
fn take_up_for_dispute(txn: &mut Txn<'_>, payment: &mut Payment) -> Result<()> {
    let Some(at) = payment.refunds.iter().position(|refund| {
        refund.state.counts()
            && refund
                .disputed
                .is_some_and(|disputed| disputed.amount_minor > refund.amount.amount_minor)
    }) else {
        return Ok(());
    };
    let Some(disputed) = payment.refunds[at].disputed else {
        return Ok(());
    };
    let owed = disputed.checked_sub(payment.refunds[at].amount)?;
    let free = payment.amount.checked_sub(payment.committed_refunds()?)?;
    let extra = if owed.amount_minor > free.amount_minor {
        free
    } else {
        owed
    };
    if !extra.is_positive() {
        return Ok(());
    }
    payment.refunds[at].amount = payment.refunds[at].amount.checked_add(extra)?;
    tracing::info!(
        payment = %payment.id,
        %extra,
        "a chargeback takes up what a failed refund freed"
    );
    ledger::record_refund(txn, payment, extra, true)
}

/// Sets the payment's status, and that of what it pays for, from its refunds.
pub(crate) fn mirror_status(txn: &mut Txn<'_>, payment: &mut Payment) -> Result<()> {
    if !payment.status.is_paid() {
        return Ok(());
    }
    payment.status = payment.paid_status()?;
    mirror_onto(txn, payment)
}

/// Sends refund `order` to Stripe and records the answer. A failure worth
/// retrying leaves it requested (the sweep sends it again); a refusal marks
/// it failed.
pub fn send_refund(payments: &Payments, store: &Store, order: RefundOrder) -> Result<()> {
    send_refund_at(payments, store, order, Timestamp::now())
}

/// [`send_refund`] at `now`: a refund decided longer ago than
/// [`KEYS_TRUSTED_HOURS`](super::payouts::KEYS_TRUSTED_HOURS) adopts the
/// refund Stripe made for it (its first call timed out after Stripe made
/// it) rather than send again under a key Stripe may have forgotten, which
/// would refund the client twice. While Stripe cannot be asked (a failure
/// worth retrying) nothing is sent.
pub(crate) fn send_refund_at(
    payments: &Payments,
    store: &Store,
    order: RefundOrder,
    now: Timestamp,
) -> Result<()> {
    let payment: Payment = store.require(order.payment)?;
    let Some(refund) = payment.refunds.iter().find(|r| r.number == order.number) else {
        return Ok(());
    };
    if refund.state != RefundState::Requested {
        return Ok(());
    }
    let intent = payment.intent_id.clone().ok_or_else(|| {
        Error::InvalidState(format!(
            "payment {} has no PaymentIntent to refund",
            payment.id
        ))
    })?;
    let gateway = payments.gateway()?;
    let ids = [
        (META_PAYMENT, payment.id.to_string()),
        (META_REFUND, order.number.to_string()),
    ];
    if key_may_be_forgotten(refund.requested_at, now) {
        match refund_made_for(payments, gateway, &intent, &ids) {
            Ok(Some((id, state))) => {
                store.write(|txn| {
                    let payment: Payment = txn.require(order.payment)?;
                    settle_refund(txn, payment, order.number, state, Some(&id)).map(drop)
                })?;
                tracing::info!(payment = %payment.id, refund = order.number, stripe_refund = %id, "refund found at Stripe; adopted, not sent again");
                return Ok(());
            }
            Ok(None) => {}
            Err(err) if err.retryable => {
                tracing::warn!(payment = %payment.id, refund = order.number, error = %err.message, "refunds could not be listed; the refund will be retried");
                return Ok(());
            }
            // Stripe refused the list itself: the refund's own call gets its
            // own answer.
            Err(err) => {
                tracing::warn!(payment = %payment.id, refund = order.number, error = %err.message, "refunds could not be listed; sent");
            }
        }
    }
    let metadata = payments.metadata(&ids);
    let answer = gateway.refund(
        &intent,
        to_stripe(refund.amount, AmountUse::Charge)?,
        metadata,
        &payment.refund_key(payments.instance(), order.number),
    );
    match answer {
        Ok(reply) => {
            let state = refund_state(reply.status.as_deref());
            store.write(|txn| {
                let payment: Payment = txn.require(order.payment)?;
                settle_refund(txn, payment, order.number, state, Some(&reply.id)).map(drop)
            })?;
            tracing::info!(payment = %payment.id, refund = order.number, "refund sent");
            Ok(())
        }
        Err(err) if err.retryable => {
            tracing::warn!(payment = %payment.id, refund = order.number, error = %err.message, "refund will be retried");
            Ok(())
        }
        Err(err) => {
            tracing::warn!(payment = %payment.id, refund = order.number, error = %err.message, "refund refused");
            store.write(|txn| {
                let payment: Payment = txn.require(order.payment)?;
                settle_refund(txn, payment, order.number, RefundState::Failed, None).map(drop)
            })?;
            Err(err.into())
        }
    }
}

/// The refund of PaymentIntent `intent` Stripe made with our metadata for
/// `ids` (this store's tag, the payment's id and the refund's number), if
/// any, with its state.
fn refund_made_for(
    payments: &Payments,
    gateway: &Gateway,
    intent: &str,
    ids: &[(&str, String)],
) -> std::result::Result<Option<(String, RefundState)>, GatewayError> {
    Ok(gateway
        .refunds_of_intent(intent)?
        .into_iter()
        .find(|refund| payments.made_for(refund.metadata.as_ref(), ids))
        .map(|refund| (refund.id, refund_state(refund.status.as_deref()))))
}

/// Our state for Stripe's refund status.
pub(crate) fn refund_state(status: Option<&str>) -> RefundState {
    match status {
        Some("failed" | "canceled") => RefundState::Failed,
        Some("succeeded") => RefundState::Succeeded,
        _ => RefundState::Pending,
    }
}

#[cfg(test)]
mod tests;
