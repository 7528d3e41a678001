//! The engine's booking use cases: book an expert (idempotently, starting
//! the payment of a priced session), read and
//! list one's bookings, move them through their lifecycle (a cancellation
//! refunds what the refund policy grants), reschedule, and
//! export one as iCalendar (one event through its reschedules), and cancel
//! lapsed unpaid holds. The rules live in
//! [`crate::booking`]; the slot policy (which also holds the booking rules'
//! numbers) is the engine's.

use droply_models::{Booking, BookingId, Timestamp, UserId};

use super::Engine;
use crate::booking::{
    self, BookingAction, BookingRequest, BookingRole, IdempotencyKey, Rescheduled, book_idempotent,
};
use crate::payments::{Attempt, PaymentStart, send_refund, start_payment};
use crate::{Error, Page, PageRequest, Result};

/// A booking as its creation answers it.
#[derive(Debug, Clone, PartialEq)]
pub struct BookingCreated {
    /// The booking.
    pub booking: Booking,
    /// False when an `Idempotency-Key` repeat returned an earlier booking.
    pub created: bool,
    /// What the booker needs to pay (a priced session not yet paid).
    pub payment: Option<PaymentStart>,
}

impl Engine {
    /// Books a session if the slot is open (re-checked in the transaction
    /// that writes it). With a key, the same booker's repeat of the same
    /// request returns the first booking (`created: false`), and a
    /// different request is `IdempotencyKeyReused`. A priced session gets
    /// a PaymentIntent after the booking commits (`payment`); if Stripe
    /// cannot make one for the request that made the booking, the booking
    /// is cancelled and the error returned. A repeat that comes while the
    /// first request is still waiting for Stripe is `InvalidState` and
    /// leaves the booking pending for that request to finish (a later
    /// repeat answers its intent); a repeat that finds no intent and meets
    /// a failure Stripe may get over (unreachable, a 5xx) is
    /// `PaymentProvider` and cancels nothing either; a booking
    /// cancelled while Stripe made its intent is `InvalidState` too, its
    /// intent left to be cancelled at Stripe. A free one is confirmed at
    /// once.
    pub fn create_booking(
        &self,
        request: &BookingRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<BookingCreated> {
        let terms = self.payments().terms();
        let (booking, created) =
            book_idempotent(self.store(), request, key, self.slot_policy(), &terms)?;
        let attempt = if created {
            Attempt::First
        } else {
            Attempt::Repeat
        };
        let payment = start_payment(
            self.payments(),
            self.store(),
            self.slot_policy(),
            &booking,
            attempt,
        )?;
        Ok(BookingCreated {
            booking,
            created,
            payment,
        })
    }

    /// Booking `id` as `viewer` sees it; `NotFound` unless they are on it.
    pub fn booking(&self, id: BookingId, viewer: UserId) -> Result<Booking> {
        booking::booking_for(self.store(), id, viewer)
    }

    /// Booking `id`'s payment for its client, over its open PaymentIntent
    /// (the pay page again): `None` when it owes nothing (paid, cancelled,
    /// lapsed); `Forbidden` to its provider, `NotFound` to anyone else.
    /// Always a repeated start: Stripe failing for now (`PaymentProvider`)
    /// leaves the booking waiting for payment.
    pub fn booking_payment(&self, id: BookingId, viewer: UserId) -> Result<Option<PaymentStart>> {
        let booking = self.booking(id, viewer)?;
        if booking.user_id != viewer {
            return Err(Error::Forbidden(
                "only the person who booked the session pays for it".to_owned(),
            ));
        }
        start_payment(
            self.payments(),
            self.store(),
            self.slot_policy(),
            &booking,
            Attempt::Repeat,
        )
    }

    /// Booking `id` as an iCalendar event, for its booker or provider: one
    /// event through the session's reschedules (the first booking's `UID`,
    /// the number of moves as `SEQUENCE`). Its summary names the other
    /// party: the client for the provider, the provider for the client.
    pub fn booking_ics(&self, id: BookingId, viewer: UserId) -> Result<String> {
        let booking = self.booking(id, viewer)?;
        let other = if viewer == booking.provider_id && viewer != booking.user_id {
            booking.client_name.clone()
        } else {
            self.store().users().get(booking.provider_id)?.full_name
        };
        let history = booking::move_history(self.store(), &booking)?;
        Ok(booking::to_ics(
            &booking,
            &history,
            &format!("Droply session with {other}"),
            Timestamp::now(),
        ))
    }

    /// One page of the bookings `user` made or received, by start time.
    pub fn bookings_of(
        &self,
        user: UserId,
        role: BookingRole,
        page: &PageRequest,
    ) -> Result<Page<Booking>> {
        booking::bookings_of(self.store(), user, role, page)
    }

    /// `actor` moves booking `id` along its lifecycle. A repeat of the move
    /// the booking already made answers it unchanged, refunding nothing
    /// again (see [`booking::act`]).
    pub fn act_on_booking(
        &self,
        id: BookingId,
        actor: UserId,
        action: BookingAction,
        reason: Option<String>,
    ) -> Result<Booking> {
        self.move_booking(id, actor, action, reason)
            .map(|(booking, _)| booking)
    }

    /// [`Self::act_on_booking`], and whether this call made the move (false:
    /// the booking had made it already, and nothing was done or refunded).
    pub(crate) fn move_booking(
        &self,
        id: BookingId,
        actor: UserId,
        action: BookingAction,
        reason: Option<String>,
    ) -> Result<(Booking, bool)> {
        let money = self.payments().config();
        let acted = booking::apply_action(self.store(), id, actor, action, reason, money)?;
        let Some(order) = acted.refund else {
            return Ok((acted.booking, acted.moved));
        };
        if let Err(err) = send_refund(self.payments(), self.store(), order) {
            // Recorded as requested: the payment sweep sends it again.
            tracing::warn!(booking = %acted.booking.id, %err, "refund not sent yet");
        }
        Ok((self.store().bookings().get(acted.booking.id)?, acted.moved))
    }

    /// Cancels the bookings whose unpaid hold lapsed before now; how many.
    pub fn expire_unpaid_holds(&self) -> Result<usize> {
        booking::expire_unpaid_holds(self.store(), Timestamp::now(), self.slot_policy())
    }

    /// `actor` moves booking `id` to `new_start`; the new booking, or
    /// (`created: false`) the one an earlier move to `new_start` made.
    pub fn reschedule_booking(
        &self,
        id: BookingId,
        actor: UserId,
        new_start: Timestamp,
    ) -> Result<Rescheduled> {
        let terms = self.payments().terms();
        booking::reschedule(
            self.store(),
            id,
            actor,
            new_start,
            self.slot_policy(),
            &terms,
            &self.payments().config().refund_policy,
        )
    }
}
