//! Starting a booking's payment: after the booking and its [`Payment`] are
//! committed, a PaymentIntent is created for it (idempotency key: the
//! store's instance key and the payment id, so a retry makes no second
//! intent) and recorded on both rows; the booker gets its client secret.
//! If Stripe cannot be reached or refuses the request that made the
//! booking ([`Attempt::First`]), the booking is cancelled (its slot freed)
//! and the caller learns why: nobody is left holding a slot that cannot be
//! paid for. A payment asked for again ([`Attempt::Repeat`]: pay now, an
//! `Idempotency-Key` retry of a booking) reuses its recorded intent:
//! failing to read it gives nothing up, the caller gets Stripe's error and
//! may ask again. A repeat that finds no intent recorded yet (the first
//! request is still waiting for Stripe, or died after saving the booking)
//! makes it with the same key; if Stripe fails for now (unreachable, a
//! 5xx, ...) that gives nothing up either: the caller gets Stripe's error
//! (`PaymentProvider`, 502), the booking keeps waiting for payment, and
//! the hold sweep lapses it if nobody pays in time. Only a refusal that
//! can never pass (Stripe refusing the request itself, an amount it cannot
//! charge) gives the booking up on a repeat: the same request would be
//! refused again, so the booking can never be paid; and only the booking
//! the request was made for (a payment moved to a rescheduled booking
//! meanwhile gives nothing up). Stripe refusing the payment's key because
//! it was first used with other parameters (400 `idempotency_error`) gives
//! nothing up either: the intent's request holds only stable values (the
//! payment id and the store's tag), so that refusal says nothing of the
//! payment. Before that the request also named the booking or purchase:
//! on that refusal the request is sent again in that earlier form under
//! the same key, so a payment started before the change gets the intent
//! its key made (Stripe keeps a key's answer for 24 hours). A content
//! purchase is started the same way: a Buy that made the purchase is a
//! first start (if Stripe fails it is marked failed and can be bought
//! again), a Buy repeated on the open purchase a repeat.
//!
//! A recorded intent's secret is answered only while the booking or
//! purchase still waits for it (not cancelled, its hold not lapsed, read
//! after Stripe answered) and Stripe still takes payment on it (not
//! `canceled`, not `succeeded`): otherwise `InvalidState`, so no client
//! pays for what is no longer sold. A booking's or purchase's intent
//! Stripe reports `succeeded` before its `payment_intent.succeeded` event
//! was applied is recorded paid now by the event's own rule (as the
//! intent-cancel sweep does), in a write after the read: the booking is
//! confirmed or the purchase granted, nothing is owed (`None`), and the
//! event arriving later changes nothing.
//!
//! Two requests may start one payment at once (an `Idempotency-Key` retry
//! of a booking, a double click on Buy). While the first is still waiting
//! for Stripe, Stripe answers the second's call (same key) with 409
//! `idempotency_key_in_use`: that answer gives nothing up, it is
//! [`Error::InvalidState`] and the first request completes the payment's
//! start (a later retry answers its intent). And whatever gave the booking
//! or purchase up while Stripe was making the intent (a cancellation, a
//! lapsed hold, content taken off sale or repriced) wins: the write that
//! records the intent finds it given up, records the intent to be
//! cancelled at Stripe by the payments sweep, and answers `InvalidState`
//! instead of a secret that could still pay for it.

use droply_models::{Booking, BookingStatus, ContentPurchase, Money, PaymentStatus, Timestamp};

use super::gateway::{Gateway, GatewayError, Intent, IntentRequest};
use super::intent_cancel::paid_event_object;
use super::subject::mirror_onto;
use super::webhook::apply_paid_intent;
use super::{
    AmountUse, IntentCancel, META_BOOKING, META_PAYMENT, META_PURCHASE, Payment, PaymentFor,
    PaymentId, Payments, payment_of, send_refund, stored_payment_for, stored_payment_of,
    stripe_currency, to_stripe,
};
use crate::availability::SlotPolicy;
use crate::store::{Store, Txn};
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

/// Which start of a booking's payment a request is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The request that made the booking: if its PaymentIntent cannot be
    /// made, the booking is given up (cancelled, its slot freed).
    First,
    /// A later request for the same booking (pay now, an `Idempotency-Key`
    /// retry that found the booking): a failure Stripe may get over
    /// (unreachable, a 5xx) gives nothing up, the caller gets Stripe's
    /// error and the booking keeps waiting for payment.
    Repeat,
}

/// Makes sure `booking`'s payment has a PaymentIntent and returns what the
/// booker needs to pay it; `None` when nothing is owed (free, or paid,
/// including a recorded intent Stripe reports paid before its event: it is
/// recorded paid now).
/// `InvalidState` while another request is still starting it, or when the
/// booking was given up while Stripe made its intent. When Stripe cannot
/// make the intent, the first start ([`Attempt::First`]) gives the booking
/// up; a repeat ([`Attempt::Repeat`]) does so only when Stripe's refusal is
/// final, and otherwise returns Stripe's error having written nothing.
/// `policy` says when an unpaid hold lapses: a lapsed one is not paid for,
/// whether or not the hold sweep has cancelled it yet.
pub fn start_payment(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    booking: &Booking,
    attempt: Attempt,
) -> Result<Option<PaymentStart>> {
    let Some(payment) = stored_payment_of(store, booking.id)? else {
        return Ok(None);
    };
    if payment.status.is_paid() || booking.status != BookingStatus::PendingPayment {
        return Ok(None);
    }
    start(payments, store, payment, attempt, policy)
}

/// Makes sure content `purchase`'s payment has a PaymentIntent and returns
/// what the buyer needs to pay it; `None` when nothing is owed (free,
/// given up, or paid, including a recorded intent Stripe reports paid
/// before its event: it is recorded paid now, as the event would).
/// `InvalidState` while another request is still starting it, or when the
/// purchase was given up while Stripe made its intent.
/// `attempt`: [`Attempt::First`] for the Buy that made the purchase,
/// [`Attempt::Repeat`] for one that found it open. `policy` is the
/// engine's, which the webhook's rule of a paid intent takes (it reads it
/// only for bookings).
pub fn start_purchase_payment(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    purchase: &ContentPurchase,
    attempt: Attempt,
) -> Result<Option<PaymentStart>> {
    let Some(payment) = stored_payment_for(store, PaymentFor::Purchase(purchase.id))? else {
        return Ok(None);
    };
    if payment.status.is_paid() || payment.status == PaymentStatus::Failed {
        return Ok(None);
    }
    start(payments, store, payment, attempt, policy)
}

/// Why no PaymentIntent came back from Stripe.
enum NoIntent {
    /// Another request for the same payment is still making it (Stripe's
    /// 409 `idempotency_key_in_use`): nothing is to be given up.
    InFlight,
    /// Stripe could not be reached or refused, or the amount cannot be
    /// charged.
    Failed(Error),
    /// The payment's open PaymentIntent could not be read (Stripe
    /// unreachable, a 5xx, ...): nothing is given up, the booking or
    /// purchase keeps waiting for payment with its intent, and the caller
    /// gets Stripe's error (`PaymentProvider`, 502) to ask again.
    Unread(Error),
    /// A repeat's creation failed for now (Stripe unreachable, a 5xx, ...),
    /// or Stripe refused the payment's key as first used with other
    /// parameters (which says nothing of the payment itself): nothing is
    /// given up (the first request may still be making the
    /// intent, or a later repeat will), and the caller gets Stripe's error
    /// (`PaymentProvider`, 502) to ask again.
    Unmade(Error),
}

/// `policy`: when a booking's unpaid hold lapses (a purchase has no hold).
/// `None` when the recorded intent was found paid at Stripe and recorded
/// paid here (see [`record_paid_at_stripe`]): nothing is owed.
fn start(
    payments: &Payments,
    store: &Store,
    payment: Payment,
    attempt: Attempt,
    policy: &SlotPolicy,
) -> Result<Option<PaymentStart>> {
    let gateway = payments.gateway()?;
    // An amount Stripe cannot take fails like a refusal from Stripe: the payment is
    // given up, so the booking's slot is freed and the content can be bought again.
    let intent = match &payment.intent_id {
        Some(id) => gateway
            .intent(id)
            .map_err(|err| NoIntent::Unread(err.into())),
        None => match intent_request(payments, &payment) {
            Ok(request) => create_intent(payments, gateway, &payment, &request).map_err(|err| {
                if err.in_flight {
                    NoIntent::InFlight
                } else if err.key_reused() || (err.retryable && attempt == Attempt::Repeat) {
                    NoIntent::Unmade(err.into())
                } else {
                    NoIntent::Failed(err.into())
                }
            }),
            Err(err) => Err(NoIntent::Failed(err)),
        },
    };
    let reused = payment.intent_id.is_some();
    let intent = match intent {
        Ok(intent) => intent,
        Err(NoIntent::InFlight) => {
            tracing::info!(paying_for = %payment.pays_for, "payment still being started by another request");
            return Err(Error::InvalidState(format!(
                "the payment of this {} is still being started by another request; try again in a moment",
                subject_noun(payment.pays_for)
            )));
        }
        Err(NoIntent::Unread(err)) => {
            tracing::warn!(paying_for = %payment.pays_for, error = %err, "the payment's PaymentIntent could not be read; nothing given up");
            return Err(err);
        }
        Err(NoIntent::Unmade(err)) => {
            tracing::warn!(paying_for = %payment.pays_for, error = %err, "a repeated start could not make the PaymentIntent for now; nothing given up");
            return Err(err);
        }
        Err(NoIntent::Failed(err)) => {
            tracing::warn!(paying_for = %payment.pays_for, error = %err, "payment could not be started");
            give_up(store, &payment)?;
            return Err(err);
        }
    };
    if reused {
        // Nothing to record: check, after Stripe answered, that the intent
        // may still be paid and its booking or purchase still wants it.
        let stored: Payment = store.require(payment.id)?;
        if intent.status == PAID && record_paid_at_stripe(payments, store, policy, &stored, &intent)
        {
            return Ok(None);
        }
        let subject = Subject::read(store, stored.pays_for)?;
        if let Some(why) = given_up_while_starting(&stored, &subject, policy, Timestamp::now())
            .or_else(|| intent_closed(&intent, stored.pays_for))
        {
            tracing::info!(paying_for = %stored.pays_for, "a recorded PaymentIntent is no longer to be paid; no secret answered");
            return Err(Error::InvalidState(why));
        }
        return start_with(intent, &stored).map(Some);
    }
    let stored = match store.write(|txn| record_intent(txn, payment.id, &intent.id, policy))? {
        Recorded::Wanted(stored) => stored,
        Recorded::GivenUp(why) => {
            tracing::info!(paying_for = %payment.pays_for, "given up while its PaymentIntent was made; the intent is to be cancelled");
            return Err(Error::InvalidState(why));
        }
    };
    if stored.intent_id.as_deref() != Some(intent.id.as_str()) {
        // Two concurrent first requests each made an intent (only possible
        // where idempotency keys are not honoured): answer the recorded one.
        let id = stored.intent_id.as_deref().unwrap_or_default();
        return start_with(gateway.intent(id).map_err(Error::from)?, &stored).map(Some);
    }
    start_with(intent, &stored).map(Some)
}

/// Stripe's status of a PaymentIntent that was paid.
const PAID: &str = "succeeded";

/// Records payment `payment` paid, its recorded PaymentIntent `paid`
/// having been read from Stripe as `succeeded` before its
/// `payment_intent.succeeded` event was applied: the event's own rule
/// ([`apply_paid_intent`], as the intent-cancel sweep applies an intent it
/// finds paid) runs now, in a write with no call to Stripe inside (the
/// payment recorded, its booking confirmed or its purchase granted, or a
/// late refund requested for one given up meanwhile, sent after the
/// write). The event arriving
/// later finds the payment paid and changes nothing. False when it could
/// not be applied (say, Stripe's amount is not the payment's): logged, and
/// the caller answers as before the event.
fn record_paid_at_stripe(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    payment: &Payment,
    paid: &Intent,
) -> bool {
    let object = paid_event_object(payments, payment, paid);
    match store.write(|txn| apply_paid_intent(txn, payments, policy, &object)) {
        Ok(order) => {
            tracing::info!(paying_for = %payment.pays_for, "a recorded PaymentIntent was paid at Stripe before its event: recorded paid");
            if let Some(order) = order
                && let Err(err) = send_refund(payments, store, order)
            {
                tracing::warn!(paying_for = %payment.pays_for, %err, "the late payment's refund failed; the sweep retries it");
            }
            true
        }
        Err(err) => {
            tracing::warn!(paying_for = %payment.pays_for, %err, "a PaymentIntent paid at Stripe could not be recorded; its event will");
            false
        }
    }
}

/// Creates `payment`'s PaymentIntent from `request` under the payment's
/// key. Stripe refusing the key as first used with other parameters may
/// mean the request that used it was made before intent metadata held only
/// stable values (it also named the booking or purchase, see
/// [`earlier_intent_request`]): the request is sent again in that form,
/// under the same key, and Stripe answers the intent the key made (only
/// that intent: the key is this store's and this payment's). If the resend
/// fails too, its own error is returned (say, another request still holds
/// the key: in flight), unless it is itself a key reuse, when the first
/// refusal is returned. This resend only matters for payments started
/// before the metadata change (Stripe keeps a key 24 hours), so it can be
/// removed once none of those is open.
fn create_intent(
    payments: &Payments,
    gateway: &Gateway,
    payment: &Payment,
    request: &IntentRequest,
) -> Result<Intent, GatewayError> {
    let key = payment.intent_key(payments.instance());
    match gateway.create_intent(request, &key) {
        Err(err) if err.key_reused() => {
            let Ok(earlier) = earlier_intent_request(payments, payment) else {
                return Err(err);
            };
            let made = gateway
                .create_intent(&earlier, &key)
                .map_err(|again| if again.key_reused() { err } else { again })?;
            tracing::info!(paying_for = %payment.pays_for, "the payment's key answered an intent made in the earlier metadata form");
            Ok(made)
        }
        made => made,
    }
}

/// What recording a PaymentIntent found.
enum Recorded {
    /// The payment still waits for it: as stored now.
    Wanted(Payment),
    /// Its booking or purchase was given up meanwhile (why, for the caller).
    GivenUp(String),
}

/// Inside a write: records PaymentIntent `intent` on payment `id` unless it
/// has one already. When the payment no longer waits for its intent (see
/// [`given_up_while_starting`]), the intent is recorded all the same, as
/// one to cancel at Stripe (`IntentCancel::Requested`, listed for the
/// payments sweep), so the secret Stripe made can never pay for what was
/// given up.
fn record_intent(
    txn: &mut Txn<'_>,
    id: PaymentId,
    intent: &str,
    policy: &SlotPolicy,
) -> Result<Recorded> {
    let mut payment: Payment = txn.require(id)?;
    let subject = Subject::read_in(txn, payment.pays_for)?;
    let given_up = given_up_while_starting(&payment, &subject, policy, txn.now());
    if payment.intent_id.is_none() {
        payment.intent_id = Some(intent.to_owned());
        if given_up.is_some() {
            payment.intent_cancel = IntentCancel::Requested;
        }
        payment = txn.update(payment)?;
        mirror_onto(txn, &payment)?;
    }
    Ok(match given_up {
        Some(why) => Recorded::GivenUp(why),
        None => Recorded::Wanted(payment),
    })
}

/// What a payment pays for, as read now.
enum Subject {
    Booking(Box<Booking>),
    Purchase(ContentPurchase),
}

impl Subject {
    /// `subject` read outside a transaction.
    fn read(store: &Store, subject: PaymentFor) -> Result<Subject> {
        Ok(match subject {
            PaymentFor::Booking(id) => Subject::Booking(Box::new(store.require(id)?)),
            PaymentFor::Purchase(id) => Subject::Purchase(store.require(id)?),
        })
    }

    /// `subject` read inside a transaction.
    fn read_in(txn: &Txn<'_>, subject: PaymentFor) -> Result<Subject> {
        Ok(match subject {
            PaymentFor::Booking(id) => Subject::Booking(Box::new(txn.require(id)?)),
            PaymentFor::Purchase(id) => Subject::Purchase(txn.require(id)?),
        })
    }
}

/// Why `payment`, unpaid, no longer waits for its PaymentIntent, if it does
/// not: its booking (`subject`, as read now) is no longer awaiting payment
/// (cancelled by a party, or its payment could not start) or its hold
/// lapsed at `now` under `policy` (before the hold sweep cancels it), its
/// purchase was given up (content taken off sale or repriced), it failed,
/// or its intent was asked to be cancelled. `None` for a paid payment:
/// nothing was given up.
fn given_up_while_starting(
    payment: &Payment,
    subject: &Subject,
    policy: &SlotPolicy,
    now: Timestamp,
) -> Option<String> {
    if payment.status.is_paid() {
        return None;
    }
    match subject {
        Subject::Booking(booking) => {
            if booking.status != BookingStatus::PendingPayment {
                return Some(format!(
                    "the booking is {} and can no longer be paid for",
                    booking.status.as_str()
                ));
            }
            if policy.hold_lapsed(booking, now) {
                return Some(
                    "the booking's hold has lapsed and it can no longer be paid for".to_owned(),
                );
            }
        }
        Subject::Purchase(purchase) => {
            if !matches!(
                purchase.payment_status,
                PaymentStatus::Pending | PaymentStatus::RequiresAction
            ) {
                return Some(given_up_purchase());
            }
        }
    }
    if payment.status == PaymentStatus::Failed || payment.intent_cancel != IntentCancel::Wanted {
        return Some(match payment.pays_for {
            PaymentFor::Booking(_) => {
                "the booking's payment was given up while it was being started".to_owned()
            }
            PaymentFor::Purchase(_) => given_up_purchase(),
        });
    }
    None
}

/// Why `intent` (as Stripe has it now) takes no payment, if it does not:
/// it was cancelled, or it was paid already (its event not applied yet).
fn intent_closed(intent: &Intent, subject: PaymentFor) -> Option<String> {
    let noun = subject_noun(subject);
    match intent.status.as_str() {
        "canceled" => Some(format!(
            "the payment of this {noun} was cancelled and can no longer be paid"
        )),
        "succeeded" => Some(format!(
            "this {noun} is paid already; its confirmation will follow in a moment"
        )),
        _ => None,
    }
}

fn given_up_purchase() -> String {
    "the purchase was given up while its payment was being started (the content was taken off \
     sale or its price changed); buy it again if it is still for sale"
        .to_owned()
}

/// What a payment pays for, in a message.
fn subject_noun(subject: PaymentFor) -> &'static str {
    match subject {
        PaymentFor::Booking(_) => "booking",
        PaymentFor::Purchase(_) => "purchase",
    }
}

fn start_with(intent: Intent, payment: &Payment) -> Result<PaymentStart> {
    let client_secret = intent.client_secret.ok_or_else(|| {
        Error::PaymentProvider("Stripe returned a PaymentIntent without a client secret".to_owned())
    })?;
    Ok(PaymentStart {
        client_secret,
        amount: payment.amount,
    })
}

fn intent_request(payments: &Payments, payment: &Payment) -> Result<IntentRequest> {
    // Only what never changes for the payment: the same key must come
    // back with the same parameters, even after a reschedule moved the
    // payment to another booking (webhooks find it by its id).
    request_with(payments, payment, &[(META_PAYMENT, payment.id.to_string())])
}

/// `payment`'s intent request as it was made before intent metadata held
/// only stable values: it also named what the payment paid for
/// (`droply_booking` or `droply_purchase`). Stripe answers a key with the
/// intent it made for 24 hours, so a repeat of a payment started before
/// that change still meets such a key; this form matches it while the
/// payment pays for what it did then (a reschedule since moved it: the key
/// stays refused, nothing is given up).
fn earlier_intent_request(payments: &Payments, payment: &Payment) -> Result<IntentRequest> {
    let subject = match payment.pays_for {
        PaymentFor::Booking(id) => (META_BOOKING, id.to_string()),
        PaymentFor::Purchase(id) => (META_PURCHASE, id.to_string()),
    };
    request_with(
        payments,
        payment,
        &[(META_PAYMENT, payment.id.to_string()), subject],
    )
}

/// `payment`'s intent request, its metadata `ids` and the store's tag.
fn request_with(
    payments: &Payments,
    payment: &Payment,
    ids: &[(&str, String)],
) -> Result<IntentRequest> {
    Ok(IntentRequest {
        amount: to_stripe(payment.amount, AmountUse::Charge)?,
        currency: stripe_currency(payment.amount.currency),
        metadata: payments.metadata(ids),
    })
}

/// Gives up a payment that could not be started, unless it got an intent
/// or was paid meanwhile: a booking is cancelled (its slot freed), a
/// purchase marked failed (the buyer may try again). Only what the attempt
/// was made for (`payment`'s subject as the attempt read it) is given up:
/// a payment a reschedule moved to another booking meanwhile is left alone.
fn give_up(store: &Store, payment: &Payment) -> Result<()> {
    let attempted_for = payment.pays_for;
    store.write(|txn| {
        let mut payment: Payment = txn.require(payment.id)?;
        if payment.intent_id.is_some()
            || payment.status.is_paid()
            || payment.pays_for != attempted_for
        {
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

#[cfg(test)]
pub(crate) mod tests;
