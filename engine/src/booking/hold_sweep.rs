//! Sweeping lapsed unpaid holds: a booking still awaiting payment when its
//! hold time ([`SlotPolicy::unpaid_hold_ttl`]) runs out is cancelled, with
//! [`EXPIRED_HOLD_REASON`] and a failed payment whose PaymentIntent is then
//! cancelled at Stripe (`payments::intent_cancel`). A lapsed hold already blocks
//! nobody before this runs (see `availability::holds`); the sweep makes the
//! stored state say so, for the booker, the provider and the ranking. Holds
//! are read from the unpaid-holds index, oldest first, and changed in
//! bounded write transactions, each re-checking the row, so a payment or
//! cancellation that landed in between wins.

use droply_models::{Booking, BookingStatus, PaymentStatus, Timestamp};

use crate::Result;
use crate::availability::SlotPolicy;
use crate::payments::{PaymentFor, give_up_intent, payment_of};
use crate::store::{PageRequest, Store};

/// The most bookings one write transaction cancels.
pub const SWEEP_BATCH: usize = 500;

/// The cancellation reason of a lapsed hold.
pub const EXPIRED_HOLD_REASON: &str = "payment not received in time";

/// Cancels every booking whose unpaid hold lapsed at or before `now`;
/// returns how many were cancelled. Reads the unpaid-holds index oldest
/// first and stops at the first hold still running, so a sweep costs what
/// lapsed, not every booking ever made.
pub fn expire_unpaid_holds(store: &Store, now: Timestamp, policy: &SlotPolicy) -> Result<usize> {
    let mut cancelled = 0;
    loop {
        // Each round reads the oldest holds afresh: the ones it cancels
        // leave the index.
        let page = store
            .bookings()
            .unpaid_holds(&PageRequest::first(SWEEP_BATCH))?;
        let lapsed: Vec<_> = page
            .items
            .iter()
            .take_while(|booking| policy.hold_lapsed(booking, now))
            .map(|booking| booking.id)
            .collect();
        if lapsed.is_empty() {
            break;
        }
        let round = store.write(|txn| {
            let mut changed = 0;
            for id in &lapsed {
                let Some(mut booking) = txn.get::<Booking>(*id)? else {
                    continue;
                };
                if !policy.hold_lapsed(&booking, now) {
                    continue;
                }
                booking.status = BookingStatus::Cancelled;
                booking.payment_status = PaymentStatus::Failed;
                booking.cancellation_reason = Some(EXPIRED_HOLD_REASON.to_owned());
                let booking = txn.update(booking)?;
                if let Some(mut payment) = payment_of(txn, booking.id)?
                    && payment.status.can_transition_to(PaymentStatus::Failed)
                {
                    payment.status = PaymentStatus::Failed;
                    txn.update(payment)?;
                }
                give_up_intent(txn, PaymentFor::Booking(booking.id))?;
                changed += 1;
            }
            Ok(changed)
        })?;
        cancelled += round;
        if round == 0 || lapsed.len() < SWEEP_BATCH {
            break;
        }
    }
    if cancelled > 0 {
        tracing::info!(cancelled, "lapsed unpaid holds cancelled");
    }
    Ok(cancelled)
}
