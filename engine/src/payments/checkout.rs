//! Starting a booking's payment: after the booking and its [`Payment`] are
//! committed, a PaymentIntent is created for it (idempotency key: the
//! store's instance key and the payment id, so a retry makes no second
//! intent) and recorded on both rows; the booker gets its client secret.
//! If Stripe cannot be reached or refuses, the booking is cancelled (its
//! slot freed) and the caller learns why: nobody is left holding a slot
//! that cannot be paid for. A content purchase is started the same way; if
//! Stripe fails it is marked failed and can be bought again.

use droply_models::{Booking, BookingStatus, ContentPurchase, Money, PaymentStatus};

use super::gateway::IntentRequest;
use super::subject::mirror_onto;
use super::{
    AmountUse, META_PAYMENT, Payment, PaymentFor, Payments, payment_of, stored_payment_for,
    stored_payment_of, stripe_currency, to_stripe,
};
use crate::store::Store;
use crate::{Error, Result};

/// What the booker needs to pay: the intent's client secret and the amount.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaymentStart {
    /// Stripe's `client_secret` of the PaymentIntent (for the booker only).
    pub client_secret: String,
    /// What will be charged.
    pub amount: Money,
}

/// The cancellation reason when a payment could not be started.
pub const PAYMENT_NOT_STARTED: &str = "the payment could not be started";

/// Makes sure `booking`'s payment has a PaymentIntent and returns what the
/// booker needs to pay it; `None` when nothing is owed (free, or paid).
pub fn start_payment(
    payments: &Payments,
    store: &Store,
    booking: &Booking,
) -> Result<Option<PaymentStart>> {
    let Some(payment) = stored_payment_of(store, booking.id)? else {
        return Ok(None);
    };
    if payment.status.is_paid() || booking.status != BookingStatus::PendingPayment {
        return Ok(None);
    }
    start(payments, store, payment).map(Some)
}

/// Makes sure content `purchase`'s payment has a PaymentIntent and returns
/// what the buyer needs to pay it; `None` when nothing is owed (free, paid,
/// or given up).
pub fn start_purchase_payment(
    payments: &Payments,
    store: &Store,
    purchase: &ContentPurchase,
) -> Result<Option<PaymentStart>> {
    let Some(payment) = stored_payment_for(store, PaymentFor::Purchase(purchase.id))? else {
        return Ok(None);
    };
    if payment.status.is_paid() || payment.status == PaymentStatus::Failed {
        return Ok(None);
    }
    start(payments, store, payment).map(Some)
}

fn start(payments: &Payments, store: &Store, payment: Payment) -> Result<PaymentStart> {
    let gateway = payments.gateway()?;
    // An amount Stripe cannot take fails like a refusal from Stripe: the payment is
    // given up, so the booking's slot is freed and the content can be bought again.
    let intent = match &payment.intent_id {
        Some(id) => gateway.intent(id).map_err(Error::from),
        None => intent_request(payments, &payment).and_then(|request| {
            gateway
                .create_intent(&request, &payment.intent_key(payments.instance()))
                .map_err(Error::from)
        }),
    };
    let intent = match intent {
        Ok(intent) => intent,
        Err(err) => {
            tracing::warn!(paying_for = %payment.pays_for, error = %err, "payment could not be started");
            give_up(store, &payment)?;
            return Err(err);
        }
    };
    let stored = store.write(|txn| {
        let mut payment: Payment = txn.require(payment.id)?;
        if payment.intent_id.is_none() {
            payment.intent_id = Some(intent.id.clone());
            payment = txn.update(payment)?;
            mirror_onto(txn, &payment)?;
        }
        Ok(payment)
    })?;
    if stored.intent_id.as_deref() != Some(intent.id.as_str()) {
        // Two concurrent first requests each made an intent (only possible
        // where idempotency keys are not honoured): answer the recorded one.
        let id = stored.intent_id.as_deref().unwrap_or_default();
        return start_with(gateway.intent(id).map_err(Error::from)?, &stored);
    }
    start_with(intent, &stored)
}

fn start_with(intent: super::gateway::Intent, payment: &Payment) -> Result<PaymentStart> {
    let client_secret = intent.client_secret.ok_or_else(|| {
        Error::PaymentProvider("Stripe returned a PaymentIntent without a client secret".to_owned())
    })?;
    Ok(PaymentStart {
        client_secret,
        amount: payment.amount,
    })
}

fn intent_request(payments: &Payments, payment: &Payment) -> Result<IntentRequest> {
    Ok(IntentRequest {
        amount: to_stripe(payment.amount, AmountUse::Charge)?,
        currency: stripe_currency(payment.amount.currency),
        metadata: payments.metadata(&[
            (META_PAYMENT, payment.id.to_string()),
            payment.pays_for.metadata(),
        ]),
    })
}

/// Gives up a payment that could not be started, unless it got an intent
/// or was paid meanwhile: a booking is cancelled (its slot freed), a
/// purchase marked failed (the buyer may try again).
fn give_up(store: &Store, payment: &Payment) -> Result<()> {
    store.write(|txn| {
        let mut payment: Payment = txn.require(payment.id)?;
        if payment.intent_id.is_some() || payment.status.is_paid() {
            return Ok(());
        }
        if let PaymentFor::Booking(id) = payment.pays_for {
            let mut booking: Booking = txn.require(id)?;
            if payment_of(txn, booking.id)?.map(|p| p.id) != Some(payment.id) {
                return Ok(());
            }
            if booking.status == BookingStatus::PendingPayment {
                booking.status = BookingStatus::Cancelled;
                booking.cancellation_reason = Some(PAYMENT_NOT_STARTED.to_owned());
                txn.update(booking)?;
            }
        }
        payment.status = PaymentStatus::Failed;
        let payment = txn.update(payment)?;
        mirror_onto(txn, &payment)
    })
}
