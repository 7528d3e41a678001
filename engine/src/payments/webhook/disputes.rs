//! The webhook events of chargebacks (`charge.dispute.*`). Our charges are
//! the platform's own (separate charges and transfers), so Stripe takes a
//! disputed amount from the platform when the dispute opens
//! (`charge.dispute.funds_withdrawn`) and gives it back if the platform wins
//! (`charge.dispute.funds_reinstated`). Money taken is written as a refund
//! of the payment, reason [`DISPUTE_REASON`], named by the dispute's id and
//! settled at once: the same ledger rows as a refund (the seller's share
//! taken back), the same state on what the payment paid for (a purchase
//! disputed in full no longer grants its download; a booking's payment reads
//! `refunded`), the same referral rewards cancelled. Refunds decided before
//! keep their part, so a dispute may take less than Stripe withdrew; the
//! refund remembers the disputed amount and takes up, to it, what such a
//! refund frees when it fails (Stripe refuses to refund a disputed charge),
//! in `refunds::settle_refund`. Money given back undoes
//! it as a refund that failed: the earning, the download right and the
//! rewards come back. Each dispute counts once whatever the event ids and
//! the order its events come in, since the refund named after it is looked
//! for first: a second withdrawal finds it, and a reinstatement that comes
//! before its withdrawal leaves it failed, so the late withdrawal takes
//! nothing. `charge.dispute.closed` applies its outcome as well (`lost`:
//! taken, `won`: given back), in case a funds event never arrives; the other
//! dispute events move no money and are acknowledged.
//!
//! A dispute names its payment through the PaymentIntent of the disputed
//! charge. Older API versions send a dispute with its `charge` alone: the
//! charge's PaymentIntent is then read from Stripe before the store
//! transaction ([`with_charge_intent`]), and a Stripe that cannot be reached
//! fails the delivery, so Stripe sends it again.

use droply_models::Money;
use serde_json::Value;

use super::{Applied, Context, amount_of, not_ours, text};
use crate::payments::refunds::settle_refund;
use crate::payments::{Payment, PaymentRefund, Payments, RefundOrder, RefundState};
use crate::store::Txn;
use crate::{Error, Result};

/// The reason on the refund that stands for a chargeback.
pub const DISPUTE_REASON: &str = "dispute";

impl Context<'_> {
    /// Applies `charge.dispute.*` event `kind` about `dispute`.
    pub(super) fn dispute_changed(
        &self,
        txn: &mut Txn<'_>,
        kind: &str,
        dispute: &Value,
    ) -> Result<Applied> {
        match movement(kind, dispute) {
            Some(Movement::Taken) => self.dispute_taken(txn, dispute),
            Some(Movement::GivenBack) => self.dispute_given_back(txn, dispute),
            None => Ok((
                format!(
                    "dispute {} is {}: no money moved",
                    text(dispute, "id")?,
                    status_of(dispute)
                ),
                None,
            )),
        }
    }

    /// The dispute's amount taken from the platform: written as a settled
    /// refund of its payment, once.
    fn dispute_taken(&self, txn: &mut Txn<'_>, dispute: &Value) -> Result<Applied> {
        let dispute_id = text(dispute, "id")?;
        let Some(intent_id) = disputed_intent(dispute) else {
            return Ok(without_intent(dispute_id));
        };
        let Some(payment) = self.find_payment(txn, dispute, intent_id)? else {
            return Ok(not_ours());
        };
        let disputed = amount_of(&payment, dispute, "amount")?;
        if let Some(known) = of_dispute(&payment, dispute_id) {
            return Ok((
                format!(
                    "payment {}: dispute {dispute_id} was applied already ({:?})",
                    payment.id, known.state
                ),
                None,
            ));
        }
        // A dispute can come before the payment's own success: that is
        // recorded first, as a `charge.refunded` would.
        let (payment, order) = self.mark_paid(txn, payment, intent_id)?;
        let (payment, order) = yield_to_dispute(txn, payment, order, disputed)?;
        // Refunds decided before keep their part (the payment's refunds
        // never exceed it). Stripe refuses a refund of a disputed charge: one
        // of those that fails frees its part, and the dispute, which
        // remembers what Stripe withdrew, takes it up then
        // (`refunds::settle_refund`).
        let left = payment.amount.checked_sub(payment.committed_refunds()?)?;
        let taken = if disputed.amount_minor > left.amount_minor {
            tracing::warn!(
                payment = %payment.id,
                dispute = dispute_id,
                %disputed,
                %left,
                "a dispute for more than is left of its payment takes what is left"
            );
            left
        } else {
            disputed
        };
        let payment = write_dispute(txn, payment, taken, disputed, dispute_id)?;
        if !taken.is_positive() {
            return Ok((
                format!(
                    "payment {}: dispute {dispute_id}: nothing is left to take back yet",
                    payment.id
                ),
                order,
            ));
        }
        Ok((
            format!(
                "payment {}: {taken} taken back by dispute {dispute_id}",
                payment.id
            ),
            order,
        ))
    }

    /// The dispute's amount given back to the platform (it won): its
    /// refund failed, once. Given back before its withdrawal was seen, the
    /// dispute is written as a failed refund, so the withdrawal takes nothing.
    fn dispute_given_back(&self, txn: &mut Txn<'_>, dispute: &Value) -> Result<Applied> {
        let dispute_id = text(dispute, "id")?;
        let Some(intent_id) = disputed_intent(dispute) else {
            return Ok(without_intent(dispute_id));
        };
        let Some(mut payment) = self.find_payment(txn, dispute, intent_id)? else {
            return Ok(not_ours());
        };
        let disputed = amount_of(&payment, dispute, "amount")?;
        let known = of_dispute(&payment, dispute_id).map(|known| known.number);
        let payment = match known {
            Some(number) => settle_refund(txn, payment, number, RefundState::Failed, None)?,
            None => {
                let number = payment.push_refund(disputed, DISPUTE_REASON, txn.now());
                if let Some(written) = payment.refunds.iter_mut().find(|r| r.number == number) {
                    written.state = RefundState::Failed;
                    written.stripe_id = Some(dispute_id.to_owned());
                }
                txn.update(payment)?
            }
        };
        Ok((
            format!(
                "payment {}: dispute {dispute_id} given back; {} refunded in all",
                payment.id,
                payment.refunded()?
            ),
            None,
        ))
    }
}

/// What a `charge.dispute.*` event does with the disputed money.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Movement {
    /// Taken from the platform (`funds_withdrawn`, or closed as `lost`).
    Taken,
    /// Given back to the platform (`funds_reinstated`, or closed as `won`).
    GivenBack,
}

/// What event `kind` about `dispute` does with money; `None` for the
/// events that move none (opened, updated, closed otherwise).
fn movement(kind: &str, dispute: &Value) -> Option<Movement> {
    match (kind, status_of(dispute)) {
        ("charge.dispute.funds_withdrawn", _) | ("charge.dispute.closed", "lost") => {
            Some(Movement::Taken)
        }
        ("charge.dispute.funds_reinstated", _) | ("charge.dispute.closed", "won") => {
            Some(Movement::GivenBack)
        }
        _ => None,
    }
}

/// The dispute's status, `unknown` when it has none.
fn status_of(dispute: &Value) -> &str {
    dispute
        .get("status")
        .and_then(Value::as_str)
        .unwrap_or("unknown")
}

/// For a `charge.dispute.*` event that moves money, about a dispute that
/// names its charge but not the charge's PaymentIntent (older API versions
/// send it so), the dispute with the PaymentIntent Stripe has on that
/// charge. Read before the store transaction: no network call runs inside
/// one. `None` when there is nothing to read, or the charge has no
/// PaymentIntent, or Stripe refuses the read for good (a charge it does not
/// know): the dispute is then acknowledged as not ours. `PaymentProvider`
/// when Stripe could not answer (unreachable, timed out, its own failure,
/// our key refused): the delivery fails, nothing is written, and Stripe
/// sends the event again.
pub(super) fn with_charge_intent(
    payments: &Payments,
    kind: &str,
    dispute: &Value,
) -> Result<Option<Value>> {
    if movement(kind, dispute).is_none() || disputed_intent(dispute).is_some() {
        return Ok(None);
    }
    let Some(charge_id) = dispute.get("charge").and_then(id_of) else {
        return Ok(None);
    };
    let charge = match payments.gateway()?.charge(charge_id) {
        Ok(charge) => charge,
        Err(err) if err.retryable => return Err(Error::from(err)),
        Err(err) => {
            tracing::warn!(
                charge = charge_id,
                error = %err.message,
                "the disputed charge could not be read at Stripe"
            );
            return Ok(None);
        }
    };
    if charge.id != charge_id {
        return Err(Error::PaymentProvider(format!(
            "Stripe answered charge {} for {charge_id}",
            charge.id
        )));
    }
    let Some(intent_id) = charge.payment_intent else {
        return Ok(None);
    };
    let mut resolved = dispute.clone();
    if let Some(fields) = resolved.as_object_mut() {
        fields.insert("payment_intent".to_owned(), Value::String(intent_id));
    }
    Ok(Some(resolved))
}

/// Writes dispute `dispute_id` of `payment` as a refund of `taken`, settled,
/// remembering the `disputed` amount Stripe withdrew: while refunds decided
/// before hold the rest of the payment, it takes less, and takes up what
/// they free when they fail. With nothing taken yet it is written all the
/// same (with no ledger rows), to take that up, and so that a second
/// withdrawal of the dispute finds it.
fn write_dispute(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    taken: Money,
    disputed: Money,
    dispute_id: &str,
) -> Result<Payment> {
    let number = payment.push_refund(taken, DISPUTE_REASON, txn.now());
    if let Some(written) = payment.refunds.iter_mut().find(|r| r.number == number) {
        written.disputed = Some(disputed);
        if !taken.is_positive() {
            written.state = RefundState::Succeeded;
            written.stripe_id = Some(dispute_id.to_owned());
        }
    }
    let payment = txn.update(payment)?;
    if !taken.is_positive() {
        return Ok(payment);
    }
    settle_refund(
        txn,
        payment,
        number,
        RefundState::Succeeded,
        Some(dispute_id),
    )
}

/// The refund that stands for dispute `dispute_id` on `payment`, if any.
fn of_dispute<'p>(payment: &'p Payment, dispute_id: &str) -> Option<&'p PaymentRefund> {
    payment
        .refunds
        .iter()
        .find(|refund| is_dispute(refund) && refund.stripe_id.as_deref() == Some(dispute_id))
}

/// Whether `refund` stands for a dispute.
fn is_dispute(refund: &PaymentRefund) -> bool {
    refund.reason == DISPUTE_REASON
}

/// What of `payment`'s refunds are disputes, whatever their state: a charge's
/// `amount_refunded` never counts them.
pub(super) fn disputed_of(payment: &Payment) -> Result<Money> {
    payment
        .refunds
        .iter()
        .filter(|refund| is_dispute(refund))
        .try_fold(Money::zero(payment.amount.currency), |sum, refund| {
            sum.checked_add(refund.amount)
        })
        .map_err(Error::from)
}

/// The PaymentIntent of the disputed charge: the dispute's own
/// `payment_intent` (an id, or the object when expanded), else that of its
/// charge when the charge came expanded.
fn disputed_intent(dispute: &Value) -> Option<&str> {
    dispute
        .get("payment_intent")
        .and_then(id_of)
        .or_else(|| dispute.pointer("/charge/payment_intent").and_then(id_of))
}

/// An object's id whether it came as the id or expanded.
fn id_of(value: &Value) -> Option<&str> {
    value
        .as_str()
        .or_else(|| value.get("id").and_then(Value::as_str))
}

/// The answer to a dispute of a charge made without a PaymentIntent (its own,
/// or read from Stripe by [`with_charge_intent`]), or of a charge Stripe does
/// not know: every charge of ours is made through one, so it is not ours.
fn without_intent(dispute_id: &str) -> Applied {
    tracing::warn!(
        dispute = dispute_id,
        "a dispute of a charge without a PaymentIntent is not ours"
    );
    (
        "ignored: the disputed charge has no PaymentIntent".to_owned(),
        None,
    )
}

/// The refund [`Context::mark_paid`] has just decided in this transaction
/// (`order`: a payment come late, or in a currency its seller has left)
/// has not been sent: the dispute takes `disputed` of it back instead, since
/// Stripe refuses to refund a disputed charge. It is cut by that much, and
/// dropped when nothing is left of it.
fn yield_to_dispute(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    order: Option<RefundOrder>,
    disputed: Money,
) -> Result<(Payment, Option<RefundOrder>)> {
    let Some(order) = order else {
        return Ok((payment, None));
    };
    let Some(at) = payment
        .refunds
        .iter()
        .position(|refund| refund.number == order.number && refund.state == RefundState::Requested)
    else {
        return Ok((payment, Some(order)));
    };
    let rest = payment.refunds[at].amount.checked_sub(disputed)?;
    let kept = if rest.is_positive() {
        payment.refunds[at].amount = rest;
        Some(order)
    } else {
        payment.refunds.remove(at);
        None
    };
    Ok((txn.update(payment)?, kept))
}
