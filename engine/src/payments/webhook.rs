//! Stripe webhooks: the signature is checked first (nothing is read from
//! an unverified body; one URL may serve both the account's endpoint and the
//! Connect one, so a signature valid under either secret passes), then the
//! event is applied in one store transaction together with a [`StripeEvent`]
//! row keyed by its id, so a redelivery changes nothing. Handlers are written for any order of arrival: each
//! event carries enough to apply what it implies (a `charge.refunded` for a
//! payment whose `succeeded` has not arrived first records the payment,
//! then the refund; a late `payment_failed` never undoes a success), so
//! every order of a payment's events ends in the same state and ledger.
//!
//! A connected account's state is read from Stripe rather than taken from the
//! event, and read again after it is written until the store agrees with a read
//! made after the write (`money_out::settle_account`): two deliveries at once
//! could otherwise leave the older read written last.
//!
//! Objects we created carry our ids and the store's tag in their metadata.
//! An object tagged by another store, or not tagged and unknown, is
//! acknowledged and ignored (other integrations share Stripe accounts); an
//! object tagged as ours that names a row we do not have is an error.
//!
//! The events of payments are handled here; those of refunds in `refund_events`, those
//! of money going out (connected accounts, transfers, payouts) in `money_out`, and
//! chargebacks (`charge.dispute.*`, written as refunds of their payments) in `disputes`.
//! What an event needs from Stripe (an account's state, a disputed charge's
//! PaymentIntent) is read before the store transaction, never inside it.

mod disputes;
mod money_out;
mod refund_events;
#[cfg(test)]
mod tests;

use droply_models::{
    Booking, BookingId, BookingStatus, ContentPurchase, ContentPurchaseId, PaymentStatus,
    Timestamp, User,
};
use serde_json::Value;

use super::refunds::request_refund;
use super::subject::{grants_access, mirror_onto, set_purchase};
use super::{
    IntentCancel, META_INSTANCE, META_PAYMENT, Payment, PaymentFor, PaymentId, Payments,
    RefundOrder, StripeEvent, StripeEventRowId, currency_from_stripe, from_stripe, ledger,
    send_refund, signature,
};
use crate::availability::SlotPolicy;
use crate::booking::EXPIRED_HOLD_REASON;
use crate::store::{RecordId, Store, Txn, UniqueName};
use crate::{Error, Result};

/// What a webhook delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookReceipt {
    /// Stripe's event id.
    pub event_id: String,
    /// False when the event had been applied before (a redelivery).
    pub applied: bool,
    /// What it did, in words.
    pub outcome: String,
}

/// The reason on a refund of money that came for a booking no longer held.
pub const LATE_PAYMENT_REASON: &str = "paid after the booking was released";

/// Why a payment that arrived in a currency its payee is no longer paid in
/// was given back.
pub const FOREIGN_PAYMENT_REASON: &str = "paid in a currency the seller no longer takes";

/// Verifies and applies one delivery: `payload` is the raw body,
/// `signature` the `Stripe-Signature` header.
pub fn handle_webhook(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    payload: &[u8],
    signature_header: Option<&str>,
) -> Result<WebhookReceipt> {
    let stripe = payments
        .config()
        .stripe
        .as_ref()
        .ok_or(Error::PaymentsNotConfigured)?;
    signature::verify(
        payload,
        signature_header,
        &stripe.webhook_secrets(),
        Timestamp::now().as_micros() / 1_000_000,
    )?;
    let event: Value = serde_json::from_slice(payload)
        .map_err(|err| Error::Invalid(format!("the event is not JSON: {err}")))?;
    let event_id = text(&event, "id")?.to_owned();
    let kind = text(&event, "type")?.to_owned();
    // The connected account an event of a Connect endpoint is about.
    let account = event
        .get("account")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let object = event
        .pointer("/data/object")
        .filter(|object| object.is_object())
        .ok_or_else(|| Error::Invalid("the event has no data.object".to_owned()))?;
    // What the event needs from Stripe, read now: no network call runs inside
    // the transaction.
    let fresh = money_out::fresh_account(payments, &kind, object)?;
    let resolved = disputes::with_charge_intent(payments, &kind, object)?;
    let object = fresh.as_ref().or(resolved.as_ref()).unwrap_or(object);
    let mut orders = Vec::new();
    let receipt = store.write(|txn| {
        if txn
            .lookup_unique(UniqueName::StripeEventId, event_id.as_bytes())?
            .is_some()
        {
            return Ok(WebhookReceipt {
                event_id: event_id.clone(),
                applied: false,
                outcome: "already applied".to_owned(),
            });
        }
        let context = Context {
            payments,
            policy,
            account: account.as_deref(),
        };
        let (outcome, order) = context.apply(txn, &kind, object)?;
        orders.extend(order);
        txn.create(StripeEvent {
            id: StripeEventRowId::new(0),
            event_id: event_id.clone(),
            kind: kind.clone(),
            outcome: outcome.clone(),
            received_at: txn.now(),
        })?;
        Ok(WebhookReceipt {
            event_id: event_id.clone(),
            applied: true,
            outcome,
        })
    })?;
    tracing::info!(event = %receipt.event_id, kind = %kind, applied = receipt.applied, outcome = %receipt.outcome, "stripe event");
    for order in orders {
        if let Err(err) = send_refund(payments, store, order) {
            tracing::warn!(%err, "refund after a webhook failed; the sweep retries it");
        }
    }
    if fresh.is_some() {
        // A connected account's state, read before the write: another delivery's
        // older read may have been written after it (redeliveries settle too).
        money_out::settle_account(payments, store, object)?;
    }
    Ok(receipt)
}

/// Inside a write: applies what a `payment_intent.succeeded` event applies,
/// for `intent` (Stripe's PaymentIntent object) read from Stripe rather
/// than delivered (the sweep found a given-up intent paid, and its event
/// may never come): the one rule of a payment made, a late one refunded.
/// The refund to send after the write, if one was requested.
pub(super) fn apply_paid_intent(
    txn: &mut Txn<'_>,
    payments: &Payments,
    policy: &SlotPolicy,
    intent: &Value,
) -> Result<Option<RefundOrder>> {
    let context = Context {
        payments,
        policy,
        account: None,
    };
    context
        .intent_succeeded(txn, intent)
        .map(|(_, order)| order)
}

/// Whose object this is: ours, another store's, or untagged.
fn tag_of(payments: &Payments, object: &Value) -> Tag {
    match object
        .pointer(&format!("/metadata/{META_INSTANCE}"))
        .and_then(Value::as_str)
    {
        Some(tag) if tag == payments.instance() => Tag::Ours,
        Some(_) => Tag::Foreign,
        None => Tag::Untagged,
    }
}

struct Context<'a> {
    payments: &'a Payments,
    policy: &'a SlotPolicy,
    /// The event's connected account (its top-level `account`), when it came
    /// from a Connect endpoint about one.
    account: Option<&'a str>,
}

type Applied = (String, Option<RefundOrder>);

impl Context<'_> {
    fn apply(&self, txn: &mut Txn<'_>, kind: &str, object: &Value) -> Result<Applied> {
        match kind {
            "payment_intent.succeeded" => self.intent_succeeded(txn, object),
            "payment_intent.payment_failed" | "payment_intent.canceled" => {
                self.intent_unpaid(txn, object, PaymentStatus::Failed)
            }
            "payment_intent.requires_action" => {
                self.intent_unpaid(txn, object, PaymentStatus::RequiresAction)
            }
            "charge.refunded" => self.charge_refunded(txn, object),
            "refund.created" | "refund.updated" | "charge.refund.updated" => {
                self.refund_changed(txn, object)
            }
            "charge.dispute.created"
            | "charge.dispute.updated"
            | "charge.dispute.funds_withdrawn"
            | "charge.dispute.funds_reinstated"
            | "charge.dispute.closed" => self.dispute_changed(txn, kind, object),
            "account.updated" => self.account_updated(txn, object),
            "transfer.created" => self.transfer_created(txn, object),
            "transfer.reversed" => self.transfer_reversed(txn, object),
            "payout.paid" | "payout.failed" => self.payout_settled(txn, object, kind),
            other => Ok((format!("ignored: {other} is not handled"), None)),
        }
    }

    /// Whose object this is: ours, another store's, or untagged.
    fn tag(&self, object: &Value) -> Tag {
        tag_of(self.payments, object)
    }

    /// The payment an intent-shaped or charge-shaped object is about.
    fn find_payment(
        &self,
        txn: &Txn<'_>,
        object: &Value,
        intent_id: &str,
    ) -> Result<Option<Payment>> {
        if let Some(raw) = txn.lookup_unique(UniqueName::PaymentIntent, intent_id.as_bytes())? {
            return Ok(Some(txn.require(PaymentId::from_raw(raw))?));
        }
        match self.tag(object) {
            Tag::Ours => {
                let id = metadata_id(object, META_PAYMENT)?;
                let payment: Payment = txn.get(PaymentId::new(id))?.ok_or(Error::NotFound {
                    entity: "payment",
                    id,
                })?;
                if payment
                    .intent_id
                    .as_deref()
                    .is_some_and(|known| known != intent_id)
                {
                    return Err(Error::Invalid(format!(
                        "payment {id} belongs to another PaymentIntent"
                    )));
                }
                Ok(Some(payment))
            }
            Tag::Foreign | Tag::Untagged => Ok(None),
        }
    }

    fn intent_succeeded(&self, txn: &mut Txn<'_>, intent: &Value) -> Result<Applied> {
        let intent_id = text(intent, "id")?;
        let Some(payment) = self.find_payment(txn, intent, intent_id)? else {
            return Ok(not_ours());
        };
        check_amount(&payment, intent, "amount")?;
        let (payment, order) = self.mark_paid(txn, payment, intent_id)?;
        Ok((
            format!("payment {} succeeded ({})", payment.id, payment.pays_for),
            order,
        ))
    }

    /// Records `payment` as paid through `intent_id`, once: ledger rows,
    /// then what it paid for: a booking confirmed, a purchase's download
    /// right granted, or, when the booking is no longer held or the buyer
    /// meanwhile holds the content through another purchase, a full refund
    /// requested. A payment in a currency its payee is no longer paid in is
    /// kept whole by the platform and refunded in full, paying for nothing.
    fn mark_paid(
        &self,
        txn: &mut Txn<'_>,
        mut payment: Payment,
        intent_id: &str,
    ) -> Result<(Payment, Option<RefundOrder>)> {
        if payment.status.is_paid() {
            return Ok((payment, None));
        }
        payment.status = PaymentStatus::Succeeded;
        payment.intent_id = Some(intent_id.to_owned());
        let payee: User = txn.require(payment.payee)?;
        if payee.currency != payment.amount.currency {
            // The payee moved to another currency after this payment was
            // asked (a PaymentIntent can be paid late): nothing can be
            // credited to them. The platform takes it whole, grants and
            // confirms nothing, and gives it all back.
            payment.fee = payment.amount;
            let payment = txn.update(payment)?;
            ledger::record_charge(txn, &payment)?;
            let whole = payment.amount;
            let order = request_refund(txn, payment, whole, FOREIGN_PAYMENT_REASON)?;
            return Ok((txn.require(order.payment)?, Some(order)));
        }
        let payment = txn.update(payment)?;
        ledger::record_charge(txn, &payment)?;
        let released = match payment.pays_for {
            PaymentFor::Booking(id) => self.confirm_booking(txn, id, intent_id)?,
            PaymentFor::Purchase(id) => {
                grant_purchase(txn, &payment, id, &self.payments.config().referrals)?
            }
        };
        if !released {
            return Ok((payment, None));
        }
        let left = payment.amount.checked_sub(payment.committed_refunds()?)?;
        if !left.is_positive() {
            return Ok((payment, None));
        }
        let order = request_refund(txn, payment, left, LATE_PAYMENT_REASON)?;
        Ok((txn.require(order.payment)?, Some(order)))
    }

    /// Marks booking `id` paid and confirms it while it is held (its video
    /// room goes in the outbox in the same transaction); true when
    /// it was released meanwhile (cancelled, or its hold lapsed).
    fn confirm_booking(&self, txn: &mut Txn<'_>, id: BookingId, intent_id: &str) -> Result<bool> {
        let mut booking: Booking = txn.require(id)?;
        let before = booking.clone();
        let lapsed = self.policy.hold_lapsed(&booking, txn.now());
        booking.stripe_payment_intent_id = Some(intent_id.to_owned());
        booking.payment_status = PaymentStatus::Succeeded;
        let released = booking.status == BookingStatus::Cancelled || lapsed;
        if booking.status == BookingStatus::PendingPayment {
            if lapsed {
                booking.status = BookingStatus::Cancelled;
                booking.cancellation_reason = Some(EXPIRED_HOLD_REASON.to_owned());
            } else {
                booking.status = BookingStatus::Confirmed;
            }
        }
        let booking = txn.update(booking)?;
        if booking.status == BookingStatus::Confirmed {
            crate::video::enqueue_room(txn, &booking)?;
        }
        crate::calendar::booking_changed(txn, Some(&before), &booking)?;
        Ok(released)
    }

    fn intent_unpaid(
        &self,
        txn: &mut Txn<'_>,
        intent: &Value,
        next: PaymentStatus,
    ) -> Result<Applied> {
        let intent_id = text(intent, "id")?;
        let Some(mut payment) = self.find_payment(txn, intent, intent_id)? else {
            return Ok(not_ours());
        };
        if !payment.status.can_transition_to(next) {
            return Ok((
                format!(
                    "payment {} is {}; nothing to change",
                    payment.id,
                    payment.status.as_str()
                ),
                None,
            ));
        }
        payment.status = next;
        payment
            .intent_id
            .get_or_insert_with(|| intent_id.to_owned());
        let payment = txn.update(payment)?;
        mirror_onto(txn, &payment)?;
        Ok((format!("payment {} is {}", payment.id, next.as_str()), None))
    }
}

/// Grants purchase `id` paid by `payment`; true when the buyer already
/// held the content through another purchase, or the purchase was given up
/// (its price changed, its content went off sale) and its PaymentIntent
/// paid anyway: this one is then refunded in full, which takes the right
/// back. Given up means its intent is no longer `Wanted`, whatever the sweep
/// made of it since: `Requested` (not sent to Stripe yet), `Refused` (Stripe
/// would not cancel it because it was paid: the sweep may come before the
/// payment's event), or `Cancelled` (it cannot be paid, but an event for it
/// is still not a sale).
fn grant_purchase(
    txn: &mut Txn<'_>,
    payment: &Payment,
    id: ContentPurchaseId,
    rules: &super::ReferralRules,
) -> Result<bool> {
    let purchase: ContentPurchase = txn.require(id)?;
    let given_up = payment.intent_cancel != IntentCancel::Wanted;
    let held = given_up
        || crate::content::ContentReads::purchases_of(txn, purchase.buyer_id, purchase.content_id)?
            .iter()
            .any(|other| other.id != id && grants_access(other.payment_status));
    let mut next = purchase.clone();
    next.stripe_payment_intent_id = payment.intent_id.clone();
    next.payment_status = payment.status;
    let granted = set_purchase(txn, &purchase, next)?;
    if !held {
        super::referral_rewards::on_purchase_paid(txn, rules, &granted, payment)?;
    }
    Ok(held)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tag {
    Ours,
    Foreign,
    Untagged,
}

fn not_ours() -> Applied {
    ("ignored: not an object of this store".to_owned(), None)
}

fn text<'v>(value: &'v Value, field: &str) -> Result<&'v str> {
    value
        .get(field)
        .and_then(Value::as_str)
        .ok_or_else(|| Error::Invalid(format!("the event has no {field}")))
}

fn metadata_id(object: &Value, key: &str) -> Result<u64> {
    object
        .pointer(&format!("/metadata/{key}"))
        .and_then(Value::as_str)
        .and_then(|raw| raw.parse::<u64>().ok())
        .ok_or_else(|| Error::Invalid(format!("the object's metadata has no {key}")))
}

/// The object's `field` as `Money` in its currency, which must be the payment's.
fn amount_of(payment: &Payment, object: &Value, field: &str) -> Result<droply_models::Money> {
    let whose = format!("payment {}", payment.id);
    amount_in(payment.amount.currency, &whose, object, field)
}

/// The object's `field` as `Money` in its currency, which must be `expected` (the
/// currency of the row `whose` names).
fn amount_in(
    expected: droply_models::Currency,
    whose: &str,
    object: &Value,
    field: &str,
) -> Result<droply_models::Money> {
    let currency = currency_from_stripe(text(object, "currency")?)?;
    if currency != expected {
        return Err(Error::Invalid(format!(
            "the event is in {currency}, {whose} in {expected}"
        )));
    }
    let raw = object
        .get(field)
        .and_then(Value::as_i64)
        .ok_or_else(|| Error::Invalid(format!("the event has no {field}")))?;
    from_stripe(raw, currency)
}

/// `Invalid` unless the object's `field` is the payment's amount.
fn check_amount(payment: &Payment, object: &Value, field: &str) -> Result<()> {
    let amount = amount_of(payment, object, field)?;
    if amount != payment.amount {
        return Err(Error::Invalid(format!(
            "the event's amount {amount} is not payment {}'s {}",
            payment.id, payment.amount
        )));
    }
    Ok(())
}
