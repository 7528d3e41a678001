//! Whether an account can close as far as money goes: nothing on its way
//! to or from the user, and no balance left to pay out, counting the
//! refunds of the bookings a closing of theirs cancelled as settled.
//!
//! A closing knows its own cancellations without trusting any text a user
//! can type: those of the run in progress by their ids (collected as it
//! cancels them), and those of an earlier run that stopped at its last
//! write ([`refunded_by_closing`]) by the reason the closing gives *and*
//! the refund only the expert's own cancellation makes, which the other
//! side of a booking cannot cause whatever reason they type.

use super::*;

/// How long after it was sent a payout still in transit holds a closing:
/// the bank payout lands within days, and a reversal of its transfer would
/// credit the balance back. Past this it no longer holds it (with no
/// Connect webhook nothing ever marks it paid).
const IN_TRANSIT_HOLD_DAYS: i64 = 14;

/// `InvalidState` while money is on its way to or from `user` (a booking
/// awaiting its client's payment, a referral reward awaiting its hold, a
/// refund of a payment to them that Stripe has not settled), leaving out
/// the refunds of `cancelled` (the bookings this closing cancelled) and of
/// those an earlier closing of theirs cancelled ([`refunded_by_closing`]):
/// [`check_money_settled`] takes those off the balance, so a closing
/// stopped after its cancellations runs again.
pub(super) fn check_nothing_underway(
    txn: &Txn<'_>,
    user: UserId,
    cancelled: &[BookingId],
) -> Result<()> {
    let underway = has_money_underway_besides(txn, user, |txn, payment| {
        Ok(pays_for_one_of(payment, cancelled) || refunded_by_closing(txn, user, payment)?)
    })?;
    if underway {
        return Err(Error::InvalidState(
            "money is still on its way to or from you (a booking awaiting its client's \
             payment, a referral reward awaiting its hold, or a refund Stripe has not \
             settled); close the account once it has arrived"
                .to_owned(),
        ));
    }
    Ok(())
}

/// Whether `payment` pays for one of `bookings`.
fn pays_for_one_of(payment: &Payment, bookings: &[BookingId]) -> bool {
    matches!(payment.pays_for, PaymentFor::Booking(id) if bookings.contains(&id))
}

/// Whether `payment` is of a booking `user` gave that an earlier closing of
/// their account cancelled: cancelled with [`CLOSING_REASON`] *by its
/// expert*, which the payment's refunds show (the expert's cancellation,
/// and only theirs, asks for a [`CANCELLED_BY_EXPERT`] refund, in full).
/// The reason alone is not enough: the client may type the same words when
/// they cancel, and their cancellation refunds by the policy (perhaps
/// nothing), so its money must count as any other's. The expert could
/// type them too, but their own cancellation refunds in full just as the
/// closing's does.
pub(super) fn refunded_by_closing(txn: &Txn<'_>, user: UserId, payment: &Payment) -> Result<bool> {
    let PaymentFor::Booking(id) = payment.pays_for else {
        return Ok(false);
    };
    if payment.payee != user {
        return Ok(false);
    }
    let Some(booking) = txn.get::<Booking>(id)? else {
        return Ok(false);
    };
    Ok(booking.provider_id == user
        && booking.status == BookingStatus::Cancelled
        && booking.cancellation_reason.as_deref() == Some(CLOSING_REASON)
        && payment
            .refunds
            .iter()
            .any(|refund| refund.reason == CANCELLED_BY_EXPERT))
}

/// `InvalidState` unless `user`'s balance is zero once the refunds of
/// `refunded` are out: the bookings the closing cancels (or cancelled) as
/// their provider, whose payments it refunds in full, taking their earning
/// off the balance with the refund (however far Stripe has got with it);
/// so are those an earlier closing of theirs cancelled
/// ([`refunded_by_closing`]), should that one have stopped at its last
/// write. Whatever else is owed to them (available to pay out, or still held
/// after the sessions and sales it came from), owed by them (refunds after
/// a payout), or on its way (a payout reserved but not sent yet, or sent
/// and not arrived: a transfer reversed on the way credits the balance
/// back) would be lost with the account.
pub(super) fn check_money_settled(
    txn: &Txn<'_>,
    user: &User,
    refunded: &[BookingId],
) -> Result<()> {
    let mut payments: BTreeSet<PaymentId> = BTreeSet::new();
    for booking in refunded {
        if let Some(payment) = payment_of(txn, *booking)?
            && payment.payee == user.id
        {
            payments.insert(payment.id);
        }
    }
    let currency = user.pending_balance.currency;
    let rows: Vec<LedgerEntry> = txn.list_index(IndexName::LedgerByUser, &user.id.to_be_bytes())?;
    let earned_from: BTreeSet<PaymentId> = rows
        .iter()
        .filter(|row| row.kind == LedgerKind::Earning)
        .filter_map(|row| row.payment_id)
        .collect();
    for id in earned_from {
        if !payments.contains(&id) {
            let payment: Payment = txn.require(id)?;
            if refunded_by_closing(txn, user.id, &payment)? {
                payments.insert(id);
            }
        }
    }
    let mut refunded_earnings = Money::zero(currency);
    for row in &rows {
        let of_refunded = row.payment_id.is_some_and(|id| payments.contains(&id));
        if of_refunded
            && row.amount.currency == currency
            && matches!(row.kind, LedgerKind::Earning | LedgerKind::EarningReversal)
        {
            refunded_earnings = refunded_earnings.checked_add(row.amount)?;
        }
    }
    let left = user.pending_balance.checked_sub(refunded_earnings)?;
    let available = available_in(txn, user, txn.now())?;
    if available.is_positive() {
        return Err(Error::InvalidState(format!(
            "pay out your balance of {available} first (POST /v1/payouts); an account is closed \
             only once nothing is owed to or by it"
        )));
    }
    if left.is_negative() {
        return Err(Error::InvalidState(format!(
            "your balance is {left}: refunds made after a payout are owed back from later \
             earnings; the account can be closed once this is settled"
        )));
    }
    if left.is_positive() {
        return Err(Error::InvalidState(format!(
            "{left} of your earnings is still held after the sessions and sales it came from; \
             the account can be closed once it has been paid out"
        )));
    }
    let payouts: Vec<Payout> = txn.list_index(IndexName::PayoutsByUser, &user.id.to_be_bytes())?;
    for payout in &payouts {
        match payout.status {
            PayoutStatus::Pending => {
                return Err(Error::InvalidState(format!(
                    "a payout of {} is still being sent to your Stripe account; close the \
                     account once it has arrived",
                    payout.amount
                )));
            }
            // A transfer reversed on the way would credit the balance back.
            // Bounded: without the Connect webhook nothing marks it paid, and
            // an account must not stay unclosable for good.
            PayoutStatus::InTransit
                if payout.created_at > txn.now().plus_days(-IN_TRANSIT_HOLD_DAYS) =>
            {
                return Err(Error::InvalidState(format!(
                    "a payout of {} is on its way to you; wait until it arrives, then close \
                     the account",
                    payout.amount
                )));
            }
            PayoutStatus::InTransit
            | PayoutStatus::Paid
            | PayoutStatus::Failed
            | PayoutStatus::Cancelled => {}
        }
    }
    Ok(())
}
