//! The webhook events of refunds: `charge.refunded` (the charge's refunded
//! total, a snapshot) and `refund.created` / `refund.updated` /
//! `charge.refund.updated` (one refund by its id). Either may come first, and
//! a total counted before the refunds' own events is named by them rather
//! than counted again (`name_from_total`). A refund Stripe knows of that we
//! did not ask for (made at Stripe, or a chargeback, see `disputes`) is
//! appended to its payment and settled at once ([`add_settled_refund`]).
//! A refund's event names ours by our number only while ours has no Stripe
//! id yet: one with our number and another id is a second refund Stripe
//! made of it (sent again after Stripe forgot its key), and counts.

use droply_models::Money;
use serde_json::Value;

use super::{Applied, Context, amount_of, check_amount, disputes, not_ours, text};
use crate::payments::refunds::{mirror_status, refund_state, settle_refund};
use crate::payments::{META_REFUND, Payment, PaymentRefund, RefundState, ledger};
use crate::store::Txn;
use crate::{Error, Result};

impl Context<'_> {
    /// Applies `charge.refunded`: the payment recorded as paid if it was not,
    /// then what of the charge's refunded total no known refund explains.
    pub(super) fn charge_refunded(&self, txn: &mut Txn<'_>, charge: &Value) -> Result<Applied> {
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
        // refund Stripe names comes through `refund.created` as well). Disputes are no
        // part of it: Stripe counts them apart from refunds. A refund of ours
        // still `requested` (our call timed out after Stripe made it) may be
        // in it too: its own event names it by its number when it comes, so it
        // is not taken for a new one (which its payment could not hold).
        let total = amount_of(&payment, charge, "amount_refunded")?;
        let in_flight = payment
            .committed_refunds()?
            .checked_sub(payment.refunded()?)?;
        let known = payment
            .refunded_or_named()?
            .checked_add(in_flight)?
            .checked_sub(disputes::disputed_of(&payment)?)?;
        let payment = if total.amount_minor > known.amount_minor {
            let extra = total.checked_sub(known)?;
            add_settled_refund(
                txn,
                payment,
                extra,
                None,
                RefundState::Succeeded,
                REFUNDED_AT_STRIPE,
            )?
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

    /// Applies a refund's own event: the refund found by its Stripe id, our
    /// number in its metadata, or its amount, and settled; or, unknown, taken
    /// as (part of) a total a charge told of, or added.
    pub(super) fn refund_changed(&self, txn: &mut Txn<'_>, refund: &Value) -> Result<Applied> {
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
        let ours = refund
            .pointer(&format!("/metadata/{META_REFUND}"))
            .and_then(Value::as_str)
            .and_then(|n| n.parse::<u32>().ok());
        let named = payment
            .refunds
            .iter()
            .any(|known| known.stripe_id.as_deref() == Some(refund_id));
        if !named
            && payment.refunds.iter().any(|known| {
                Some(known.number) == ours
                    && known.stripe_id.as_deref().is_some_and(|id| id != refund_id)
            })
        {
            // Our refund of that number is another Stripe refund already:
            // this one was made again under a key Stripe had forgotten (past
            // its 24 hours). The money went back twice; the ledger follows,
            // once: a charge's total that told of it already names it.
            let payment = if state.counts() && payment.refunds.iter().any(is_unnamed_total) {
                name_from_total(txn, payment, amount, refund_id, state)?
            } else {
                add_settled_refund(
                    txn,
                    payment,
                    amount,
                    Some(refund_id),
                    state,
                    REFUNDED_AGAIN_AT_STRIPE,
                )?
            };
            tracing::warn!(payment = %payment.id, refund = refund_id, "a refund of ours was made twice at Stripe; both are counted");
            return Ok((
                format!(
                    "payment {}: refund {refund_id} is {state:?}, made again at Stripe",
                    payment.id
                ),
                order,
            ));
        }
        let number = payment
            .refunds
            .iter()
            .find(|known| known.stripe_id.as_deref() == Some(refund_id))
            .or_else(|| {
                // By our number only while that refund has no Stripe id yet
                // (one with this id was found above).
                payment
                    .refunds
                    .iter()
                    .find(|known| Some(known.number) == ours && known.stripe_id.is_none())
            })
            .or_else(|| {
                // By amount, only a refund still to be named: one of ours in
                // flight, or a total a charge told of. Never one that failed
                // unnamed (Stripe refused it): a refund made at Stripe of the
                // same amount since is another, and counts.
                payment.refunds.iter().find(|known| {
                    known.stripe_id.is_none()
                        && known.state != RefundState::Failed
                        && known.amount == amount
                })
            })
            .map(|known| known.number);
        let payment = match number {
            Some(number) => settle_refund(txn, payment, number, state, Some(refund_id))?,
            None if state.counts() && payment.refunds.iter().any(is_unnamed_total) => {
                name_from_total(txn, payment, amount, refund_id, state)?
            }
            None => add_settled_refund(
                txn,
                payment,
                amount,
                Some(refund_id),
                state,
                REFUNDED_AT_STRIPE,
            )?,
        };
        Ok((
            format!("payment {}: refund {refund_id} is {state:?}", payment.id),
            order,
        ))
    }
}

/// Why a refund made at Stripe (not asked for here) is on a payment.
const REFUNDED_AT_STRIPE: &str = "refunded at Stripe";

/// Why a second Stripe refund of one refund of ours (sent again after
/// Stripe forgot its idempotency key) is on a payment.
const REFUNDED_AGAIN_AT_STRIPE: &str = "refunded again at Stripe";

/// Whether `refund` is what a charge's `amount_refunded` told of before the
/// refunds' own events came (`charge_refunded`): counted, with no name.
fn is_unnamed_total(refund: &PaymentRefund) -> bool {
    refund.stripe_id.is_none() && refund.state.counts() && refund.reason == REFUNDED_AT_STRIPE
}

/// Refund `refund_id` of `amount`, unknown by name, while a charge's total
/// stands unnamed on `payment`: it is (part of) that total, not another
/// refund. Stripe delivers events in any order, and a total of two
/// refunds counted before their own events would otherwise be counted
/// again. Less than the total: the total is split, nothing new counts. As
/// much or more: the total was this refund (seen in part); it takes the name,
/// and only what goes beyond counts.
fn name_from_total(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    amount: Money,
    refund_id: &str,
    state: RefundState,
) -> Result<Payment> {
    let at = payment
        .refunds
        .iter()
        .position(is_unnamed_total)
        .ok_or_else(|| Error::Invalid(format!("payment {} has no unnamed refund", payment.id)))?;
    let total = payment.refunds[at].amount;
    // The total counts already (pending or succeeded); what the refund's own
    // event says only moves it forward (a `pending` after the charge said it
    // was refunded is older news).
    let state = payment.refunds[at].state.after(state);
    if total.amount_minor > amount.amount_minor {
        payment.refunds[at].amount = total.checked_sub(amount)?;
        let number = payment.push_refund(amount, REFUNDED_AT_STRIPE, txn.now());
        if let Some(named) = payment.refunds.iter_mut().find(|r| r.number == number) {
            named.state = state;
            named.stripe_id = Some(refund_id.to_owned());
        }
        return txn.update(payment);
    }
    let extra = amount.checked_sub(total)?;
    let named = &mut payment.refunds[at];
    named.amount = amount;
    named.state = state;
    named.stripe_id = Some(refund_id.to_owned());
    if extra.is_positive() {
        ledger::record_refund(txn, &payment, extra, true)?;
    }
    mirror_status(txn, &mut payment)?;
    txn.update(payment)
}

/// A refund Stripe knows of that we did not ask for (made elsewhere, first
/// seen through an event, or a chargeback): appended with `reason` and
/// settled in `state`.
pub(super) fn add_settled_refund(
    txn: &mut Txn<'_>,
    mut payment: Payment,
    amount: Money,
    stripe_id: Option<&str>,
    state: RefundState,
    reason: &str,
) -> Result<Payment> {
    let number = payment.push_refund(amount, reason, txn.now());
    let mut payment = txn.update(payment)?;
    if state == RefundState::Requested {
        mirror_status(txn, &mut payment)?;
        return txn.update(payment);
    }
    settle_refund(txn, payment, number, state, stripe_id)
}
