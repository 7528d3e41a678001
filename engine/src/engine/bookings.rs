//! The engine's booking use cases: book an expert (idempotently), read and
//! list one's bookings, move them through their lifecycle, reschedule, and
//! export one as iCalendar, and cancel lapsed unpaid holds. The rules live in
//! [`crate::booking`]; the slot policy (which also holds the booking rules'
//! numbers) is the engine's.

use droply_models::{Booking, BookingId, Timestamp, UserId};

use super::Engine;
use crate::booking::{
    self, BookingAction, BookingRequest, BookingRole, IdempotencyKey, book_idempotent,
};
use crate::{Page, PageRequest, Result};

impl Engine {
    /// Books a session if the slot is open (re-checked in the transaction
    /// that writes it). With a key, the same booker's repeat of the same
    /// request returns the first booking (`false`: not created now), and a
    /// different request is `IdempotencyKeyReused`.
    pub fn create_booking(
        &self,
        request: &BookingRequest,
        key: Option<&IdempotencyKey>,
    ) -> Result<(Booking, bool)> {
        book_idempotent(self.store(), request, key, self.slot_policy())
    }

    /// Booking `id` as `viewer` sees it; `NotFound` unless they are on it.
    pub fn booking(&self, id: BookingId, viewer: UserId) -> Result<Booking> {
        booking::booking_for(self.store(), id, viewer)
    }

    /// Booking `id` as an iCalendar event, for its booker or provider.
    pub fn booking_ics(&self, id: BookingId, viewer: UserId) -> Result<String> {
        let booking = self.booking(id, viewer)?;
        let provider = self.store().users().get(booking.provider_id)?;
        Ok(booking::to_ics(
            &booking,
            &format!("Droply session with {}", provider.full_name),
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

    /// `actor` moves booking `id` along its lifecycle.
    pub fn act_on_booking(
        &self,
        id: BookingId,
        actor: UserId,
        action: BookingAction,
        reason: Option<String>,
    ) -> Result<Booking> {
        booking::act(self.store(), id, actor, action, reason)
    }

    /// Cancels the bookings whose unpaid hold lapsed before now; how many.
    pub fn expire_unpaid_holds(&self) -> Result<usize> {
        booking::expire_unpaid_holds(self.store(), Timestamp::now(), self.slot_policy())
    }

    /// `actor` moves booking `id` to `new_start`; the new booking.
    pub fn reschedule_booking(
        &self,
        id: BookingId,
        actor: UserId,
        new_start: Timestamp,
    ) -> Result<Booking> {
        booking::reschedule(self.store(), id, actor, new_start, self.slot_policy())
    }
}
