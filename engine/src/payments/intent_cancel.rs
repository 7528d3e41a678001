//! Cancelling PaymentIntents no longer wanted. A booking or purchase given
//! up unpaid (its hold lapsed, a party cancelled it, its price changed)
//! still had a PaymentIntent the client could pay with the secret they
//! hold: the money was then taken and refunded as a late payment, and the
//! platform paid Stripe's fee on it. [`give_up_intent`] marks the payment's
//! intent `Requested` in the transaction that gives the booking or purchase
//! up; [`cancel_given_up_intents`] (run by the payments sweep) cancels each
//! at Stripe outside any transaction, with the payment's own idempotency
//! key, and records the answer. A failure worth retrying leaves it
//! requested for the next sweep.
//!
//! Stripe refusing the cancel for good is not taken as settled: the intent
//! is read back from Stripe (before any write) and what it is now decides.
//! `canceled`: recorded `Cancelled`. `succeeded`: the client paid; what
//! the `payment_intent.succeeded` webhook applies is applied now, by the
//! webhook's own rule (the payment recorded, a late refund requested for
//! what was given up), since that event may never be delivered, and the
//! cancel is recorded `Refused`. `requires_*` (a payment attempt failed
//! after the refusal, and the intent can be paid again): cancelled again
//! at once, with a key of its own (Stripe answers the payment's cancel key
//! with its first answer, the refusal, for a day). `processing` (a payment
//! is under way), or the intent unreadable for now: left `Requested`, so
//! the next sweep (the sweep's period is the backoff) tries again.

use droply_models::Timestamp;
use serde_json::{Value, json};

use super::due_calls::intents_to_cancel;
use super::gateway::{Gateway, Intent};
use super::webhook::apply_paid_intent;
use super::{IntentCancel, META_PAYMENT, Payment, PaymentFor, Payments, payment_for, send_refund};
use crate::Result;
use crate::availability::SlotPolicy;
use crate::store::{Store, Txn};

/// Inside the transaction giving `subject` up unpaid: asks for its payment's
/// PaymentIntent, if it has one, to be cancelled at Stripe.
pub(crate) fn give_up_intent(txn: &mut Txn<'_>, subject: PaymentFor) -> Result<()> {
    let Some(mut payment) = payment_for(txn, subject)? else {
        return Ok(());
    };
    if payment.status.is_paid()
        || payment.intent_id.is_none()
        || payment.intent_cancel != IntentCancel::Wanted
    {
        return Ok(());
    }
    payment.intent_cancel = IntentCancel::Requested;
    txn.update(payment)?;
    Ok(())
}

/// What the sweep learnt of one given-up PaymentIntent.
enum Found {
    /// Settled: record this.
    Settled(IntentCancel),
    /// Paid at Stripe: apply the payment (the intent as read now).
    Paid(Intent),
    /// Still payable but not cancellable now (`processing`), or Stripe
    /// failed for now: left requested for the next sweep.
    Later,
}

/// Cancels at Stripe every PaymentIntent given up and not cancelled yet;
/// how many Stripe cancelled. Nothing without Stripe configured. Only the
/// payments listed as owing a cancel are read (`due_calls`). `policy` says
/// when a booking's hold lapses, for a given-up intent found paid.
pub fn cancel_given_up_intents(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
) -> Result<usize> {
    let Ok(gateway) = payments.gateway() else {
        return Ok(0);
    };
    let mut cancelled = 0;
    for id in intents_to_cancel(store)? {
        let payment: Payment = store.require(id)?;
        let Some(intent) = payment.intent_id.as_deref() else {
            continue;
        };
        // Paid before the sweep came: the webhook refunded it as a late payment.
        let found = if payment.status.is_paid() {
            Found::Settled(IntentCancel::Refused)
        } else {
            cancel_at_stripe(payments, gateway, &payment, intent)
        };
        let outcome = match found {
            Found::Later => continue,
            Found::Settled(outcome) => outcome,
            Found::Paid(paid) => {
                apply_payment(payments, store, policy, &payment, &paid);
                continue;
            }
        };
        store.write(|txn| {
            let mut payment: Payment = txn.require(id)?;
            if payment.intent_cancel == IntentCancel::Requested {
                payment.intent_cancel = outcome;
                txn.update(payment)?;
            }
            Ok(())
        })?;
        if outcome == IntentCancel::Cancelled {
            cancelled += 1;
        }
    }
    Ok(cancelled)
}

/// Asks Stripe to cancel `payment`'s PaymentIntent `intent`; on a final
/// refusal, reads the intent back and acts on what it is now.
fn cancel_at_stripe(
    payments: &Payments,
    gateway: &Gateway,
    payment: &Payment,
    intent: &str,
) -> Found {
    let id = payment.id;
    let key = payment.cancel_key(payments.instance());
    match gateway.cancel_intent(intent, &key) {
        Ok(_) => return Found::Settled(IntentCancel::Cancelled),
        Err(err) if err.retryable => {
            tracing::warn!(payment = %id, error = %err.message, "cancelling a PaymentIntent will be retried");
            return Found::Later;
        }
        Err(err) => {
            tracing::info!(payment = %id, error = %err.message, "Stripe would not cancel a PaymentIntent given up; reading it");
        }
    }
    let now = match gateway.intent(intent) {
        Ok(now) => now,
        Err(err) if err.retryable => {
            tracing::warn!(payment = %id, error = %err.message, "a PaymentIntent Stripe would not cancel could not be read; retried next sweep");
            return Found::Later;
        }
        Err(err) => {
            tracing::warn!(payment = %id, error = %err.message, "a PaymentIntent Stripe would not cancel cannot be read; left as refused");
            return Found::Settled(IntentCancel::Refused);
        }
    };
    match now.status.as_str() {
        "canceled" => Found::Settled(IntentCancel::Cancelled),
        "succeeded" => Found::Paid(now),
        "processing" => {
            tracing::info!(payment = %id, "a given-up PaymentIntent is being paid; its cancel is retried next sweep");
            Found::Later
        }
        status if status.starts_with("requires_") => {
            // The payment's cancel key answers its first refusal again: this
            // cancel, of an intent payable again, is a request of its own.
            let again = format!("{key}-after-{}", Timestamp::now().as_micros());
            match gateway.cancel_intent(intent, &again) {
                Ok(_) => Found::Settled(IntentCancel::Cancelled),
                Err(err) => {
                    tracing::warn!(payment = %id, %status, error = %err.message, "a given-up PaymentIntent payable again was not cancelled; retried next sweep");
                    Found::Later
                }
            }
        }
        status => {
            tracing::warn!(payment = %id, %status, "a given-up PaymentIntent Stripe would not cancel is in a state not known here; left as refused");
            Found::Settled(IntentCancel::Refused)
        }
    }
}

/// Records `payment`, whose given-up PaymentIntent Stripe says was `paid`,
/// as the `payment_intent.succeeded` webhook would (by its rule: a booking
/// or purchase given up gets a late refund), and its cancel as refused;
/// then sends the refund it requested. An error applying it (say, Stripe's
/// amount is not the payment's) is logged and leaves the cancel requested:
/// it takes no other payment's cancel down with it.
fn apply_payment(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    payment: &Payment,
    paid: &Intent,
) {
    let id = payment.id;
    let object = paid_event_object(payments, payment, paid);
    let applied = store.write(|txn| {
        let current: Payment = txn.require(id)?;
        if current.intent_cancel != IntentCancel::Requested {
            return Ok(None);
        }
        let order = apply_paid_intent(txn, payments, policy, &object)?;
        let mut current: Payment = txn.require(id)?;
        current.intent_cancel = IntentCancel::Refused;
        txn.update(current)?;
        Ok(order)
    });
    match applied {
        Ok(Some(order)) => {
            tracing::info!(payment = %id, "a given-up PaymentIntent was paid, its event not applied: recorded, refund requested");
            if let Err(err) = send_refund(payments, store, order) {
                tracing::warn!(payment = %id, %err, "the late payment's refund failed; the sweep retries it");
            }
        }
        Ok(None) => {}
        Err(err) => {
            tracing::warn!(payment = %id, %err, "a given-up PaymentIntent found paid could not be recorded; retried next sweep");
        }
    }
}

/// PaymentIntent `paid` of `payment`, read from Stripe, shaped as a
/// `payment_intent.succeeded` event carries it (our tag and the payment's
/// id in its metadata), for the webhook's rule (`apply_paid_intent`).
pub(super) fn paid_event_object(payments: &Payments, payment: &Payment, paid: &Intent) -> Value {
    json!({
        "id": paid.id,
        "object": "payment_intent",
        "status": paid.status,
        "amount": paid.amount,
        "currency": paid.currency,
        "metadata": payments.metadata(&[(META_PAYMENT, payment.id.to_string())]),
    })
}

#[cfg(test)]
mod tests;
