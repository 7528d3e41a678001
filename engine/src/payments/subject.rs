//! What a payment pays for ([`PaymentFor`]): a booking or a content
//! purchase, and the one place a payment's state is mirrored onto it. A
//! booking mirrors the status and the PaymentIntent; a purchase also holds
//! the buyer's download right (granted while paid and not fully refunded),
//! so the content's `purchases` counter moves exactly when that right does.

use droply_models::{
    Booking, BookingId, Content, ContentPurchase, ContentPurchaseId, PaymentStatus,
};
use serde::{Deserialize, Serialize};

use super::payment::Payment;
use crate::Result;
use crate::store::{IndexEntry, IndexName, KeyBuilder, Txn};

/// What a payment pays for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PaymentFor {
    /// A booked session.
    Booking(BookingId),
    /// A content purchase.
    Purchase(ContentPurchaseId),
}

impl PaymentFor {
    /// The booking, when it pays for one.
    pub fn booking(self) -> Option<BookingId> {
        match self {
            PaymentFor::Booking(id) => Some(id),
            PaymentFor::Purchase(_) => None,
        }
    }

    /// The purchase, when it pays for one.
    pub fn purchase(self) -> Option<ContentPurchaseId> {
        match self {
            PaymentFor::Purchase(id) => Some(id),
            PaymentFor::Booking(_) => None,
        }
    }

    /// The index entry that finds the payment from what it pays for.
    pub(crate) fn index_entry(self) -> IndexEntry {
        let (index, id) = match self {
            PaymentFor::Booking(id) => (IndexName::PaymentsByBooking, id.get()),
            PaymentFor::Purchase(id) => (IndexName::PaymentsByPurchase, id.get()),
        };
        IndexEntry {
            index,
            prefix: KeyBuilder::new().u64(id).build(),
        }
    }
}

impl std::fmt::Display for PaymentFor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PaymentFor::Booking(id) => write!(f, "booking {id}"),
            PaymentFor::Purchase(id) => write!(f, "purchase {id}"),
        }
    }
}

/// Whether a purchase in `status` gives its buyer the download right.
pub fn grants_access(status: PaymentStatus) -> bool {
    matches!(
        status,
        PaymentStatus::Succeeded | PaymentStatus::PartiallyRefunded
    )
}

/// A payment's rewards follow a full refund of it: cancelled when the
/// refund lands, pending again should it fail after all.
fn rewards_follow(txn: &mut Txn<'_>, was: PaymentStatus, payment: &Payment) -> Result<()> {
    let refunded = |status| status == PaymentStatus::Refunded;
    match (refunded(was), refunded(payment.status)) {
        (false, true) => super::referral_rewards::on_refunded(txn, payment),
        (true, false) if payment.status.is_paid() => {
            super::referral_rewards::on_refund_undone(txn, payment)
        }
        _ => Ok(()),
    }
}

/// Writes `payment`'s status (and PaymentIntent, once known) onto what it
/// pays for; a purchase's content counts the purchase while it grants access.
pub(crate) fn mirror_onto(txn: &mut Txn<'_>, payment: &Payment) -> Result<()> {
    match payment.pays_for {
        PaymentFor::Booking(id) => {
            let mut booking: Booking = txn.require(id)?;
            rewards_follow(txn, booking.payment_status, payment)?;
            if booking.payment_status == payment.status
                && (payment.intent_id.is_none()
                    || booking.stripe_payment_intent_id == payment.intent_id)
            {
                return Ok(());
            }
            booking.payment_status = payment.status;
            if payment.intent_id.is_some() {
                booking.stripe_payment_intent_id = payment.intent_id.clone();
            }
            txn.update(booking)?;
        }
        PaymentFor::Purchase(id) => {
            let purchase: ContentPurchase = txn.require(id)?;
            rewards_follow(txn, purchase.payment_status, payment)?;
            let mut next = purchase.clone();
            next.payment_status = payment.status;
            if payment.intent_id.is_some() {
                next.stripe_payment_intent_id = payment.intent_id.clone();
            }
            set_purchase(txn, &purchase, next)?;
        }
    }
    Ok(())
}

/// Replaces `before` with `after` and moves the content's `purchases`
/// counter when the download right came or went.
pub(crate) fn set_purchase(
    txn: &mut Txn<'_>,
    before: &ContentPurchase,
    after: ContentPurchase,
) -> Result<ContentPurchase> {
    if *before == after {
        return Ok(after);
    }
    let had = grants_access(before.payment_status);
    let has = grants_access(after.payment_status);
    let after = txn.update(after)?;
    if had != has {
        count_purchase(txn, &after, has)?;
    }
    Ok(after)
}

/// Counts (`granted`) or uncounts a purchase on its content.
pub(crate) fn count_purchase(
    txn: &mut Txn<'_>,
    purchase: &ContentPurchase,
    granted: bool,
) -> Result<()> {
    let mut content: Content = txn.require(purchase.content_id)?;
    content.purchases = if granted {
        content.purchases.saturating_add(1)
    } else {
        content.purchases.saturating_sub(1)
    };
    txn.update(content)?;
    Ok(())
}

/// Adds the creator's `earning` (negative for a reversal) from `payment`
/// to its content's `earnings`; nothing for a booking's payment.
pub(crate) fn add_content_earning(
    txn: &mut Txn<'_>,
    payment: &Payment,
    earning: droply_models::Money,
) -> Result<()> {
    let PaymentFor::Purchase(id) = payment.pays_for else {
        return Ok(());
    };
    let purchase: ContentPurchase = txn.require(id)?;
    let mut content: Content = txn.require(purchase.content_id)?;
    content.earnings = content.earnings.checked_add(earning)?;
    txn.update(content)?;
    Ok(())
}
