//! Buying content: one purchase row per attempt, found by (buyer, content).
//! Free content is granted at once; content with a price gets a [`Payment`]
//! in the same transaction, and the buyer's right to download comes with
//! the payment's success (the webhook), goes with a full refund. A buyer
//! who holds the content is refused another purchase; one whose payment is
//! still open gets that purchase back, so a retry never makes a second,
//! unless the price changed meanwhile: then the open one is given up and a
//! new one asks the price now shown. Open purchases are given up too when
//! their content goes off sale and when their buyer closes the account. A
//! purchase given up while Stripe is
//! still making its PaymentIntent gets that intent cancelled once it is
//! recorded, and the request that made it answers no client secret
//! (`payments::checkout`).

use droply_models::{
    Content, ContentId, ContentPurchase, ContentPurchaseId, Money, PaymentStatus, UserId,
};

use super::lifecycle::{check_buyable, visible};
use super::reads::ContentReads;
use crate::payments::{
    ChargeTerms, Payment, PaymentFor, RefundOrder, create_payment, grants_access, payment_for,
    request_refund,
};
use crate::store::{IndexName, RecordId, Txn};
use crate::{Error, Result};

/// Whether `buyer` may download `content` through a purchase.
pub fn holds(reads: &impl ContentReads, buyer: UserId, content: ContentId) -> Result<bool> {
    Ok(reads
        .purchases_of(buyer, content)?
        .iter()
        .any(|purchase| grants_access(purchase.payment_status)))
}

/// `buyer` buys content `id`: the purchase and whether it is new. Free
/// content is granted now; priced content needs payments on and waits for
/// its payment.
pub fn begin_purchase(
    txn: &mut Txn<'_>,
    buyer: UserId,
    id: ContentId,
    terms: &ChargeTerms,
) -> Result<(ContentPurchase, bool)> {
    let content = visible(txn, id, Some(buyer))?;
    if content.user_id == buyer {
        return Err(Error::InvalidState(
            "you created this content; it is yours already".to_owned(),
        ));
    }
    let earlier = txn.purchases_of(buyer, id)?;
    if earlier.iter().any(|p| grants_access(p.payment_status)) {
        return Err(Error::AlreadyPurchased);
    }
    if !content.is_published() {
        return Err(Error::InvalidState(
            "the content is not for sale".to_owned(),
        ));
    }
    check_buyable(txn, &content)?;
    if let Some(open) = earlier
        .into_iter()
        .find(|p| awaits_payment(p.payment_status))
    {
        if open.amount_paid == content.price {
            return Ok((open, false));
        }
        give_up_open(txn, &open)?;
    }
    let free = content.price.is_zero();
    if !free && !terms.payments_on {
        return Err(Error::PaymentsNotConfigured);
    }
    let purchase = txn.create(ContentPurchase {
        id: ContentPurchaseId::new(0),
        buyer_id: buyer,
        content_id: id,
        amount_paid: content.price,
        payment_status: if free {
            PaymentStatus::Succeeded
        } else {
            PaymentStatus::Pending
        },
        stripe_payment_intent_id: None,
        created_at: txn.now(),
    })?;
    if free {
        crate::payments::count_purchase(txn, &purchase, true)?;
    } else {
        create_payment(
            txn,
            Payment::for_purchase(&purchase, content.user_id, terms)?,
        )?;
    }
    Ok((purchase, true))
}

/// Gives up `open`, a purchase still awaiting payment (at a price the
/// creator has since changed, of content gone off sale, or of a buyer
/// closing their account): its payment is marked failed, so the buyer is
/// charged the price now asked, and its intent is cancelled at Stripe.
/// Should the old intent be paid before that, the webhook records that
/// payment as it would any late one.
fn give_up_open(txn: &mut Txn<'_>, open: &ContentPurchase) -> Result<()> {
    if let Some(mut payment) = payment_for(txn, PaymentFor::Purchase(open.id))?
        && payment.status.can_transition_to(PaymentStatus::Failed)
    {
        payment.status = PaymentStatus::Failed;
        let payment = txn.update(payment)?;
        crate::payments::mirror_onto(txn, &payment)?;
    }
    crate::payments::give_up_intent(txn, PaymentFor::Purchase(open.id))
}

/// Inside the transaction taking content `id` off sale (unpublished or
/// archived): gives up every purchase of it still awaiting payment, so its
/// PaymentIntent is cancelled and none is sold off sale.
pub(super) fn give_up_open_purchases(txn: &mut Txn<'_>, id: ContentId) -> Result<()> {
    let purchases: Vec<ContentPurchase> =
        txn.list_index(IndexName::PurchasesByContent, &id.to_be_bytes())?;
    give_up_awaiting(txn, &purchases)
}

/// Inside the transaction closing `buyer`'s account: gives up every
/// purchase they started that still awaits payment, so its PaymentIntent
/// is cancelled, and one paid anyway is refunded in full by the webhook
/// (as any given-up purchase's is), never granted to the closed account.
pub(crate) fn give_up_open_purchases_of_buyer(txn: &mut Txn<'_>, buyer: UserId) -> Result<()> {
    let purchases: Vec<ContentPurchase> =
        txn.list_index(IndexName::PurchasesByBuyer, &buyer.to_be_bytes())?;
    give_up_awaiting(txn, &purchases)
}

/// Gives up those of `purchases` still awaiting payment.
fn give_up_awaiting(txn: &mut Txn<'_>, purchases: &[ContentPurchase]) -> Result<()> {
    for open in purchases
        .iter()
        .filter(|purchase| awaits_payment(purchase.payment_status))
    {
        give_up_open(txn, open)?;
    }
    Ok(())
}

/// A payment not yet decided: the buyer may still pay it.
fn awaits_payment(status: PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Pending | PaymentStatus::RequiresAction
    )
}

/// The creator of its content refunds purchase `id` in full; the refund to
/// send once the transaction commits (the right goes when Stripe accepts).
pub fn refund_purchase(
    txn: &mut Txn<'_>,
    id: ContentPurchaseId,
    creator: UserId,
) -> Result<RefundOrder> {
    let purchase: ContentPurchase = txn.get(id)?.ok_or(Error::NotFound {
        entity: "purchase",
        id: id.raw(),
    })?;
    let content: Content = txn.require(purchase.content_id)?;
    if content.user_id != creator {
        return Err(Error::NotFound {
            entity: "purchase",
            id: id.raw(),
        });
    }
    let payment = payment_for(txn, PaymentFor::Purchase(id))?
        .filter(|payment| payment.status.is_paid())
        .ok_or_else(|| Error::InvalidState("nothing was paid for this purchase".to_owned()))?;
    // An imported sale was paid before this store, not through a
    // PaymentIntent here: a refund could never be sent, and would stand as
    // requested for good.
    if payment.intent_id.is_none() {
        return Err(Error::InvalidState(
            "this sale was imported, not paid through Stripe here; refund it where it was paid"
                .to_owned(),
        ));
    }
    let left: Money = payment.amount.checked_sub(payment.committed_refunds()?)?;
    if !left.is_positive() {
        return Err(Error::InvalidState(
            "the purchase was refunded already".to_owned(),
        ));
    }
    request_refund(txn, payment, left, "refunded by the creator")
}
