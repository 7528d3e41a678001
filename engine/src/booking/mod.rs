//! Booking an expert: the slot is re-checked inside the same store
//! transaction that writes the booking, so of many concurrent requests for one
//! slot exactly one wins and the rest get `SlotUnavailable`. Also: who may see
//! and move a booking ([`booking_for`], [`act`]), rescheduling, idempotent
//! booking requests and the iCalendar export.

mod access;
mod ics;
mod idempotency;
mod reschedule;

pub use access::{BookingAction, BookingRole, act, booking_for, bookings_of};
pub use ics::to_ics;
pub use idempotency::{
    BookingIdempotency, BookingIdempotencyId, IdempotencyKey, MAX_KEY_LEN, book_idempotent,
};
pub use reschedule::reschedule;

use droply_models::{Booking, BookingId, BookingStatus, NewBooking, Timestamp, User, UserId};

use crate::availability::{ExpertCalendar, SlotPolicy, fits_open_hours};
use crate::store::{IndexName, Store, Txn};
use crate::{Error, Result};

/// What a client asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingRequest {
    /// Who books.
    pub booker: UserId,
    /// Whom they book.
    pub provider: UserId,
    /// When the session starts.
    pub start: Timestamp,
    /// Its length in minutes.
    pub duration_minutes: u16,
    /// A note for the expert.
    pub client_message: Option<String>,
}

/// Books a session if the slot is open now; the new booking awaits payment.
pub fn book(store: &Store, request: &BookingRequest, policy: &SlotPolicy) -> Result<Booking> {
    store.write(|txn| book_in(txn, request, policy, None))
}

/// Books inside an open transaction, so callers can check and write more in
/// the same commit; `rescheduled_from` links a replacement to its original.
pub(crate) fn book_in(
    txn: &mut Txn<'_>,
    request: &BookingRequest,
    policy: &SlotPolicy,
    rescheduled_from: Option<BookingId>,
) -> Result<Booking> {
    {
        let provider: User = txn.require(request.provider)?;
        let booker: User = txn.require(request.booker)?;
        if !provider.is_expert() || !provider.is_available {
            return Err(Error::Invalid(format!(
                "user {} takes no bookings",
                provider.id
            )));
        }
        let calendar = calendar_in(txn, &provider)?;
        let end = request
            .start
            .plus_minutes(i64::from(request.duration_minutes));
        let booker_busy = txn
            .list_index::<Booking>(IndexName::BookingsByBooker, &booker.id.to_be_bytes())?
            .iter()
            .any(|b| b.status.blocks_slot() && b.overlaps(request.start, end));
        if booker_busy
            || !fits_open_hours(
                &calendar,
                request.start,
                request.duration_minutes,
                txn.now(),
                policy,
            )
        {
            return Err(Error::SlotUnavailable);
        }
        let price = provider
            .hourly_rate
            .ok_or_else(|| Error::Invalid(format!("user {} has no rate", provider.id)))?
            .checked_mul_ratio(i64::from(request.duration_minutes), 60)?;
        let mut booking = Booking::new(NewBooking {
            user_id: booker.id,
            provider_id: provider.id,
            start_time: request.start,
            duration: request.duration_minutes,
            payment_amount: price,
            client_name: booker.full_name.clone(),
            client_email: booker.email.clone(),
            client_message: request.client_message.clone(),
            created_at: txn.now(),
        });
        booking.rescheduled_from = rescheduled_from;
        txn.create(booking)
    }
}

/// Moves a booking to `next`, refusing transitions the lifecycle forbids.
pub fn transition(
    store: &Store,
    id: BookingId,
    next: BookingStatus,
    reason: Option<String>,
) -> Result<Booking> {
    store.bookings().modify(id, |booking| {
        if !booking.status.can_transition_to(next) {
            return Err(Error::Invalid(format!(
                "a {} booking cannot become {}",
                booking.status.as_str(),
                next.as_str()
            )));
        }
        booking.status = next;
        if next == BookingStatus::Cancelled {
            booking.cancellation_reason = reason;
        }
        Ok(())
    })
}

/// The expert's rules, exceptions and bookings as seen inside `txn`.
pub fn calendar_in(txn: &Txn<'_>, expert: &User) -> Result<ExpertCalendar> {
    let owner = expert.id.to_be_bytes();
    Ok(ExpertCalendar {
        timezone: expert.timezone,
        rules: txn.list_index(IndexName::RulesByUser, &owner)?,
        exceptions: txn.list_index(IndexName::ExceptionsByUser, &owner)?,
        bookings: txn.list_index(IndexName::BookingsByProvider, &owner)?,
    })
}
