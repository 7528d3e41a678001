//! Cancelling PaymentIntents no longer wanted. A booking or purchase given
//! up unpaid (its hold lapsed, a party cancelled it, its price changed)
//! still had a PaymentIntent the client could pay with the secret they
//! hold: the money was then taken and refunded as a late payment, and the
//! platform paid Stripe's fee on it. [`give_up_intent`] marks the payment's
//! intent `Requested` in the transaction that gives the booking or purchase
//! up; [`cancel_given_up_intents`] (run by the payments sweep) cancels each
//! at Stripe outside any transaction, with the payment's own idempotency
//! key, and records the answer: `Cancelled`, or `Refused` when Stripe would
//! not (the intent was paid, or is being paid, meanwhile: the webhook
//! refunds that payment as any late one). A failure worth retrying leaves
//! it requested for the next sweep.

use super::due_calls::intents_to_cancel;
use super::{IntentCancel, Payment, PaymentFor, Payments, payment_for};
use crate::Result;
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

/// Cancels at Stripe every PaymentIntent given up and not cancelled yet;
/// how many Stripe cancelled. Nothing without Stripe configured. Only the
/// payments listed as owing a cancel are read (`due_calls`).
pub fn cancel_given_up_intents(payments: &Payments, store: &Store) -> Result<usize> {
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
        let outcome = if payment.status.is_paid() {
            IntentCancel::Refused
        } else {
            match gateway.cancel_intent(intent, &payment.cancel_key(payments.instance())) {
                Ok(_) => IntentCancel::Cancelled,
                Err(err) if err.retryable => {
                    tracing::warn!(payment = %id, error = %err.message, "cancelling a PaymentIntent will be retried");
                    continue;
                }
                Err(err) => {
                    tracing::info!(payment = %id, error = %err.message, "Stripe would not cancel a PaymentIntent given up");
                    IntentCancel::Refused
                }
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
