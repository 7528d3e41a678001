//! Stripe webhooks: the signature is checked first (nothing is read from
//! an unverified body), then the event is applied in one store transaction
//! together with a [`StripeEvent`] row keyed by its id, so a redelivery
//! changes nothing. Handlers are written for any order of arrival: each
//! event carries enough to apply what it implies (a `charge.refunded` for a
//! payment whose `succeeded` has not arrived first records the payment,
//! then the refund; a late `payment_failed` never undoes a success), so
//! every order of a payment's events ends in the same state and ledger.
//!
//! Objects we created carry our ids and the store's tag in their metadata.
//! An object tagged by another store, or not tagged and unknown, is
//! acknowledged and ignored (other integrations share Stripe accounts); an
//! object tagged as ours that names a row we do not have is an error.

use droply_models::{
    Booking, BookingId, BookingStatus, ContentPurchase, ContentPurchaseId, PaymentStatus, Payout,
    PayoutId, PayoutStatus, StripeAccountStatus, Timestamp, User, UserId,
};
use secrecy::SecretString;
use serde_json::Value;

use super::refunds::{mirror_status, refund_state, request_refund, settle_refund};
use super::subject::{grants_access, mirror_onto, set_purchase};
use super::{
    META_INSTANCE, META_PAYMENT, META_PAYOUT, META_REFUND, META_USER, Payment, PaymentFor,
    PaymentId, Payments, RefundOrder, RefundState, StripeEvent, StripeEventRowId,
    account_status_from, currency_from_stripe, from_stripe, ledger, send_refund, signature,
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

/// Verifies and applies one delivery: `payload` is the raw body,
/// `signature` the `Stripe-Signature` header.
pub fn handle_webhook(
    payments: &Payments,
    store: &Store,
    policy: &SlotPolicy,
    payload: &[u8],
    signature_header: Option<&str>,
) -> Result<WebhookReceipt> {
    let secret: &SecretString = &payments
        .config()
        .stripe
        .as_ref()
        .ok_or(Error::PaymentsNotConfigured)?
        .webhook_secret;
    signature::verify(
        payload,
        signature_header,
        secret,
        Timestamp::now().as_micros() / 1_000_000,
    )?;
    let event: Value = serde_json::from_slice(payload)
        .map_err(|err| Error::Invalid(format!("the event is not JSON: {err}")))?;
    let event_id = text(&event, "id")?.to_owned();
    let kind = text(&event, "type")?.to_owned();
    let object = event
        .pointer("/data/object")
        .filter(|object| object.is_object())
        .ok_or_else(|| Error::Invalid("the event has no data.object".to_owned()))?;
    let fresh = fresh_account(payments, &kind, object)?;
    let object = fresh.as_ref().unwrap_or(object);
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
        let context = Context { payments, policy };
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
    Ok(receipt)
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

/// For an `account.updated` of ours, the account with its state as Stripe has it now,
/// read before the transaction (no network call runs inside one). Stripe sends events
/// in any order: an older snapshot ("restricted") arriving after a newer one ("active")
/// would otherwise undo it.
fn fresh_account(payments: &Payments, kind: &str, object: &Value) -> Result<Option<Value>> {
    if kind != "account.updated" || tag_of(payments, object) != Tag::Ours {
        return Ok(None);
    }
    let id = text(object, "id")?;
    let now = payments.gateway()?.account(id).map_err(Error::from)?;
    if now.id != id {
        return Err(Error::PaymentProvider(format!(
            "Stripe answered account {} for {id}",
            now.id
        )));
    }
    let mut fresh = object.clone();
    fresh["charges_enabled"] = Value::Bool(now.charges_enabled.unwrap_or(false));
    fresh["payouts_enabled"] = Value::Bool(now.payouts_enabled.unwrap_or(false));
    fresh["details_submitted"] = Value::Bool(now.details_submitted.unwrap_or(false));
    fresh["requirements"] = serde_json::json!({
        "disabled_reason": now.requirements.and_then(|r| r.disabled_reason),
    });
    Ok(Some(fresh))
}

struct Context<'a> {
    payments: &'a Payments,
    policy: &'a SlotPolicy,
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
            "account.updated" => self.account_updated(txn, object),
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
    /// requested.
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

    fn charge_refunded(&self, txn: &mut Txn<'_>, charge: &Value) -> Result<Applied> {
        let Some(intent_id) = charge.get("payment_intent").and_then(Value::as_str) else {
            return Ok(("ignored: the charge has no PaymentIntent".to_owned(), None));
        };
        let Some(payment) = self.find_payment(txn, charge, intent_id)? else {
            return Ok(not_ours());
        };
        check_amount(&payment, charge, "amount")?;
        let (payment, order) = self.mark_paid(txn, payment, intent_id)?;
        // The charge's total is a snapshot: delivered late, it still counts a refund
        // that has failed since. Only what no refund we know of can explain is new (a new
        // refund Stripe names comes through `refund.created` as well).
        let total = amount_of(&payment, charge, "amount_refunded")?;
        let known = payment.refunded_or_named()?;
        let payment = if total.amount_minor > known.amount_minor {
            let extra = total.checked_sub(known)?;
            add_settled_refund(txn, payment, extra, None, RefundState::Succeeded)?
        } else {
            payment
        };
        Ok((
            format!(
                "payment {}: {} refunded in all",
                payment.id,
                payment.refunded()?
            ),
            order,
        ))
    }

    fn refund_changed(&self, txn: &mut Txn<'_>, refund: &Value) -> Result<Applied> {
        let refund_id = text(refund, "id")?;
        let Some(intent_id) = refund.get("payment_intent").and_then(Value::as_str) else {
            return Ok(("ignored: the refund has no PaymentIntent".to_owned(), None));
        };
        let Some(payment) = self.find_payment(txn, refund, intent_id)? else {
            return Ok(not_ours());
        };
        let state = refund_state(refund.get("status").and_then(Value::as_str));
        let amount = amount_of(&payment, refund, "amount")?;
        let (payment, order) = if state.counts() {
            self.mark_paid(txn, payment, intent_id)?
        } else {
            (payment, None)
        };
        let number = payment
            .refunds
            .iter()
            .find(|known| known.stripe_id.as_deref() == Some(refund_id))
            .or_else(|| {
                let ours = refund
                    .pointer(&format!("/metadata/{META_REFUND}"))
                    .and_then(Value::as_str)
                    .and_then(|n| n.parse::<u32>().ok());
                payment
                    .refunds
                    .iter()
                    .find(|known| Some(known.number) == ours)
            })
            .or_else(|| {
                payment
                    .refunds
                    .iter()
                    .find(|known| known.stripe_id.is_none() && known.amount == amount)
            })
            .map(|known| known.number);
        let payment = match number {
            Some(number) => settle_refund(txn, payment, number, state, Some(refund_id))?,
            None => add_settled_refund(txn, payment, amount, Some(refund_id), state)?,
        };
        Ok((
            format!("payment {}: refund {refund_id} is {state:?}", payment.id),
            order,
        ))
    }

    fn account_updated(&self, txn: &mut Txn<'_>, account: &Value) -> Result<Applied> {
        let account_id = text(account, "id")?;
        if self.tag(account) != Tag::Ours {
            return Ok(not_ours());
        }
        let user_id = metadata_id(account, META_USER)?;
        let mut user: User = txn.get(UserId::new(user_id))?.ok_or(Error::NotFound {
            entity: "user",
            id: user_id,
        })?;
        if user.stripe_account_id.as_deref() != Some(account_id) {
            return Err(Error::Invalid(format!(
                "account {account_id} is not user {user_id}'s connected account"
            )));
        }
        let flag = |name: &str| account.get(name).and_then(Value::as_bool).unwrap_or(false);
        let status = account_status_from(
            flag("charges_enabled"),
            flag("payouts_enabled"),
            flag("details_submitted"),
            account
                .pointer("/requirements/disabled_reason")
                .and_then(Value::as_str),
        );
        user.stripe_account_status = status;
        user.payout_enabled = flag("payouts_enabled") && status == StripeAccountStatus::Active;
        txn.update(user)?;
        Ok((
            format!("user {user_id}'s account is {}", status.as_str()),
            None,
        ))
    }

    fn payout_for(&self, txn: &Txn<'_>, object: &Value) -> Result<Option<Payout>> {
        if self.tag(object) != Tag::Ours {
            return Ok(None);
        }
        let id = metadata_id(object, META_PAYOUT)?;
        txn.get(PayoutId::new(id))?
            .ok_or(Error::NotFound {
                entity: "payout",
                id,
            })
            .map(Some)
    }

    fn transfer_reversed(&self, txn: &mut Txn<'_>, transfer: &Value) -> Result<Applied> {
        let Some(mut payout) = self.payout_for(txn, transfer)? else {
            return Ok(not_ours());
        };
        let transfer_id = text(transfer, "id")?;
        if payout
            .stripe_transfer_id
            .as_deref()
            .is_some_and(|known| known != transfer_id)
        {
            return Err(Error::Invalid(format!(
                "transfer {transfer_id} is not payout {}'s",
                payout.id
            )));
        }
        // Stripe sends this for partial reversals too, and the transfer carries how much
        // has come back in all: only what the ledger does not hold yet is given back (a
        // redelivered or late event adds nothing), and only a reversal of the whole
        // transfer fails the payout. What the ledger holds counts whatever the payout's
        // status says (a failed bank payout moves no money in the ledger).
        let reversed = match transfer.get("amount_reversed").and_then(Value::as_i64) {
            Some(raw) => {
                let currency = currency_from_stripe(text(transfer, "currency")?)?;
                if currency != payout.amount.currency {
                    return Err(Error::Invalid(format!(
                        "transfer {transfer_id} is in {currency}, payout {} in {}",
                        payout.id, payout.amount.currency
                    )));
                }
                let reversed = from_stripe(raw, currency)?;
                if reversed.amount_minor > payout.amount.amount_minor {
                    payout.amount
                } else {
                    reversed
                }
            }
            None => payout.amount,
        };
        let returned = ledger::returned_of_payout(txn, &payout)?;
        let extra = reversed.checked_sub(returned)?;
        if reversed.amount_minor >= payout.amount.amount_minor
            && !matches!(
                payout.status,
                PayoutStatus::Failed | PayoutStatus::Cancelled
            )
        {
            payout.status = PayoutStatus::Failed;
        }
        payout.stripe_transfer_id = Some(transfer_id.to_owned());
        let payout = txn.update(payout)?;
        if !extra.is_positive() {
            return Ok((
                format!("payout {}: {returned} was given back already", payout.id),
                None,
            ));
        }
        ledger::record_payout(txn, payout.user_id, payout.id, extra, false)?;
        Ok((
            format!("payout {}: {extra} reversed, {reversed} in all", payout.id),
            None,
        ))
    }

    fn payout_settled(&self, txn: &mut Txn<'_>, object: &Value, kind: &str) -> Result<Applied> {
        let Some(mut payout) = self.payout_for(txn, object)? else {
            return Ok(not_ours());
        };
        if matches!(
            payout.status,
            PayoutStatus::Failed | PayoutStatus::Cancelled
        ) {
            return Ok((format!("payout {} is over", payout.id), None));
        }
        payout.stripe_payout_id = Some(text(object, "id")?.to_owned());
        if kind == "payout.paid" {
            payout.status = PayoutStatus::Paid;
            payout.paid_at.get_or_insert(txn.now());
        } else if payout.status != PayoutStatus::Paid {
            // The money reached the expert's Stripe balance and stays there;
            // only the bank payout failed, so the ledger does not change.
            payout.status = PayoutStatus::Failed;
        }
        let payout = txn.update(payout)?;
        Ok((
            format!("payout {} is {}", payout.id, payout.status.as_str()),
            None,
        ))
    }
}

/// Grants purchase `id` paid by `payment`; true when the buyer already
/// held the content through another purchase (this one is then refunded
/// in full, which takes the extra right back).
fn grant_purchase(
    txn: &mut Txn<'_>,
    payment: &Payment,
    id: ContentPurchaseId,
    rules: &super::ReferralRules,
) -> Result<bool> {
    let purchase: ContentPurchase = txn.require(id)?;
    let held =
        crate::content::ContentReads::purchases_of(txn, purchase.buyer_id, purchase.content_id)?
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

/// A refund Stripe knows of that we did not ask for (made elsewhere, or
/// first seen through an event): appended and settled in `state`.
fn add_settled_refund(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    amount: droply_models::Money,
    stripe_id: Option<&str>,
    state: RefundState,
) -> Result<Payment> {
    let number = payment.push_refund(amount, "refunded at Stripe", txn.now());
    let mut payment = txn.update(payment)?;
    if state == RefundState::Requested {
        mirror_status(txn, &mut payment)?;
        return txn.update(payment);
    }
    settle_refund(txn, payment, number, state, stripe_id)
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
    let currency = currency_from_stripe(text(object, "currency")?)?;
    if currency != payment.amount.currency {
        return Err(Error::Invalid(format!(
            "the event is in {currency}, payment {} in {}",
            payment.id, payment.amount.currency
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
