//! Rescheduling: the old booking is cancelled and a new one, linked to it by
//! `rescheduled_from`, is booked in the same transaction under the same
//! rules as a new booking; if the new time is not open nothing changes. A
//! paid booking's payment moves to the replacement (which therefore does not
//! lapse); a lapsed unpaid hold cannot be moved (it is booked anew). A
//! session that has started cannot be moved, and a client cannot move a
//! paid one once the refund policy's full-refund deadline has passed (the
//! payment would otherwise reach a later deadline and be refunded in full
//! on a late cancellation); the expert can, but not into that window (the
//! client would lose the full refund the expert's move left no time for).
//! A moved session keeps its price, its length (even once the expert's
//! session length changed) and an unpaid hold its time to pay; a
//! paid one's earning waits for its new end. [`move_history`] follows the
//! links back to the booking first made, so a calendar sees one event move.
//! A repeat of a reschedule (a client resending a request whose answer was
//! lost) to the same start answers the booking the first one made.

use std::collections::HashSet;

use droply_models::{Booking, BookingId, BookingStatus, Timestamp, UserId};

use super::access::{BookingRole, role_of};
use super::{BookingRequest, book_in, bookings_starting_within};
use crate::availability::SlotPolicy;
use crate::payments::{ChargeTerms, RefundPolicy};
use crate::store::{Store, Txn};
use crate::{Error, Result};

/// The `cancellation_reason` of a booking [`reschedule`] moved.
const RESCHEDULED_REASON: &str = "rescheduled";

/// Whether `booking` was cancelled by a [`reschedule`] that moved it (its
/// session goes on as another booking).
pub(crate) fn was_moved(booking: &Booking) -> bool {
    booking.status == BookingStatus::Cancelled
        && booking.cancellation_reason.as_deref() == Some(RESCHEDULED_REASON)
}

/// What a reschedule answers.
#[derive(Debug, Clone, PartialEq)]
pub struct Rescheduled {
    /// The new booking.
    pub booking: Booking,
    /// False when a repeat of an earlier reschedule (same booking, same new
    /// start) returned the booking that one made.
    pub created: bool,
}

/// Moves booking `id` to `new_start` (same length, same people) for `actor`,
/// its booker or provider. Returns the new booking (`created`).
/// The length is the one it was booked for, even if the expert's session
/// length has changed since (see `book_in`).
/// A booking already moved to `new_start` (a repeat of the request that
/// moved it) answers the booking that move made, unchanged and with
/// `created: false`, for either side, whatever has become of it since; one
/// moved to another start, or cancelled, is `InvalidState` as before.
pub fn reschedule(
    store: &Store,
    id: BookingId,
    actor: UserId,
    new_start: Timestamp,
    policy: &SlotPolicy,
    terms: &ChargeTerms,
    refunds: &RefundPolicy,
) -> Result<Rescheduled> {
    let not_found = || Error::NotFound {
        entity: "booking",
        id: id.get(),
    };
    store.write(|txn| {
        let mut old: Booking = txn.get(id)?.ok_or_else(not_found)?;
        let role = role_of(&old, actor).ok_or_else(not_found)?;
        if let Some(earlier) = earlier_move(txn, &old, new_start)? {
            return Ok(Rescheduled {
                booking: earlier,
                created: false,
            });
        }
        if !old.status.blocks_slot() {
            return Err(Error::InvalidState(format!(
                "a {} booking cannot be rescheduled",
                old.status.as_str()
            )));
        }
        let now = txn.now();
        if old.start_time <= now {
            return Err(Error::InvalidState(
                "a session that has started cannot be rescheduled".to_owned(),
            ));
        }
        if role == BookingRole::Client
            && old.payment_status.is_paid()
            && now > refunds.full_refund_until(&old)
        {
            return Err(Error::InvalidState(format!(
                "too late to reschedule: a paid session can be moved up to {} hours before it starts; the expert can still move it",
                refunds.full_refund_hours_before
            )));
        }
        if policy.hold_lapsed(&old, txn.now()) {
            return Err(Error::InvalidState(
                "the unpaid hold has expired; book the session again".to_owned(),
            ));
        }
        let before = old.clone();
        old.status = BookingStatus::Cancelled;
        old.cancellation_reason = Some(RESCHEDULED_REASON.to_owned());
        let old = txn.update(old)?;
        // The new booking gets a room of its own; the old one's goes.
        crate::video::retire_room(txn, old.id)?;
        let request = BookingRequest {
            booker: old.user_id,
            provider: old.provider_id,
            start: new_start,
            duration_minutes: old.duration,
            client_message: old.client_message.clone(),
        };
        let new = book_in(txn, &request, policy, terms, Some(&old))?;
        if role == BookingRole::Provider
            && new.payment_status.is_paid()
            && now <= refunds.full_refund_until(&old)
            && now > refunds.full_refund_until(&new)
        {
            return Err(Error::InvalidState(format!(
                "a paid session can be moved to at least {} hours ahead, so the client can still cancel it for a full refund; cancel it instead (the client is refunded in full)",
                refunds.full_refund_hours_before
            )));
        }
        crate::calendar::booking_rescheduled(txn, &before, &new)?;
        Ok(Rescheduled {
            booking: new,
            created: true,
        })
    })
}

/// The booking an earlier [`reschedule`] of `old` to `new_start` made, if
/// `old` was moved there: among the booker's bookings that start at
/// `new_start` (one key range of their start-ordered index, as seen inside
/// `txn`), the one linked back to `old` with `old`'s length.
fn earlier_move(txn: &Txn<'_>, old: &Booking, new_start: Timestamp) -> Result<Option<Booking>> {
    if !was_moved(old) {
        return Ok(None);
    }
    let starting = bookings_starting_within(
        txn,
        BookingRole::Client,
        old.user_id,
        new_start,
        Some(new_start.plus_minutes(1)),
    )?;
    Ok(starting.into_iter().find(|booking| {
        booking.rescheduled_from == Some(old.id)
            && booking.start_time == new_start
            && booking.duration == old.duration
    }))
}

/// Where a booking stands in its line of reschedules: one session, moved
/// `moves` times, as a calendar should see it (iCalendar's `UID` and
/// `SEQUENCE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MoveHistory {
    /// The booking the line began with (the booking itself when it was
    /// never moved).
    pub first: BookingId,
    /// How many moves led from `first` to the booking (0: none).
    pub moves: u32,
}

/// The [`MoveHistory`] of `booking`: its `rescheduled_from` links followed
/// back to the first booking. A link to a row that is not there, or back
/// into the line already walked, ends the walk there.
pub fn move_history(store: &Store, booking: &Booking) -> Result<MoveHistory> {
    let mut history = MoveHistory {
        first: booking.id,
        moves: 0,
    };
    let mut seen = HashSet::from([booking.id]);
    let mut from = booking.rescheduled_from;
    while let Some(id) = from {
        if !seen.insert(id) {
            break;
        }
        let Some(earlier) = store.get::<Booking>(id)? else {
            break;
        };
        history = MoveHistory {
            first: earlier.id,
            moves: history.moves.saturating_add(1),
        };
        from = earlier.rescheduled_from;
    }
    Ok(history)
}
