//! The calendar outbox: what Google must be told about bookings, written in
//! the same store transaction as the booking change that calls for it, and
//! sent later by the sync (never inside a write transaction), with retries
//! and backoff. An `Upsert` makes the booking's event exist with its times
//! (created, or patched when the booking already has one or replaces one
//! that had, as a reschedule does); a `Remove` deletes it. Only confirmed
//! bookings (and the completed or no-show ones they become) have events,
//! and only experts with a connection get operations. `CalendarEvent`
//! remembers Google's event id per booking (keyed by the booking's id).

use droply_models::{Booking, BookingId, BookingStatus, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::connection::CalendarConnection;
use crate::Result;
use crate::store::{EntityKind, Record, Txn};

engine_record_id! {
    /// Identifies a [`CalendarOp`].
    pub struct CalendarOpId;
}

/// What to do to a booking's event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CalendarOpKind {
    /// Create the event, or move the existing one to the booking's times.
    Upsert,
    /// Delete the event, if any.
    Remove,
}

/// One pending operation on an expert's Google calendar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarOp {
    /// Primary key; operations are sent in id order.
    pub id: CalendarOpId,
    /// The booking whose event this is.
    pub booking_id: BookingId,
    /// The expert whose calendar it is in.
    pub expert_id: UserId,
    /// What to do.
    pub kind: CalendarOpKind,
    /// The booking this one replaced (a reschedule): its event is moved.
    pub replaces: Option<BookingId>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not tried again before this instant.
    pub not_before: Timestamp,
    /// The last failure, in words (never a token).
    pub last_error: Option<String>,
}

impl Record for CalendarOp {
    type Id = CalendarOpId;
    const KIND: EntityKind = EntityKind::CalendarOp;

    fn id(&self) -> CalendarOpId {
        self.id
    }
    fn set_id(&mut self, id: CalendarOpId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.expert_id.get())
    }
}

/// Google's event for one booking; the row's id is the booking's id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalendarEvent {
    /// The booking (and the row's key).
    pub booking_id: BookingId,
    /// The expert whose calendar holds it.
    pub expert_id: UserId,
    /// Google's event id.
    pub event_id: String,
}

impl Record for CalendarEvent {
    type Id = BookingId;
    const KIND: EntityKind = EntityKind::CalendarEvent;

    fn id(&self) -> BookingId {
        self.booking_id
    }
    fn set_id(&mut self, id: BookingId) {
        self.booking_id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.expert_id.get())
    }
}

/// Whether a booking in `status` has an event in its expert's calendar.
pub fn has_event(status: BookingStatus) -> bool {
    matches!(
        status,
        BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow
    )
}

fn enqueue(
    txn: &mut Txn<'_>,
    booking: &Booking,
    kind: CalendarOpKind,
    replaces: Option<BookingId>,
) -> Result<()> {
    if txn
        .get::<CalendarConnection>(booking.provider_id)?
        .is_none()
    {
        return Ok(());
    }
    let now = txn.now();
    txn.create(CalendarOp {
        id: CalendarOpId::new(0),
        booking_id: booking.id,
        expert_id: booking.provider_id,
        kind,
        replaces,
        attempts: 0,
        not_before: now,
        last_error: None,
    })
    .map(drop)
}

/// Queues what booking `after` (`before`: as it was, `None` for a new
/// one) means for its expert's calendar: an event once confirmed, moved
/// when its times change, deleted once cancelled.
pub(crate) fn booking_changed(
    txn: &mut Txn<'_>,
    before: Option<&Booking>,
    after: &Booking,
) -> Result<()> {
    let had = before.is_some_and(|b| has_event(b.status));
    let has = has_event(after.status);
    let moved =
        before.is_some_and(|b| b.start_time != after.start_time || b.end_time != after.end_time);
    match (had, has) {
        (false, true) => enqueue(txn, after, CalendarOpKind::Upsert, None),
        (true, true) if moved => enqueue(txn, after, CalendarOpKind::Upsert, None),
        (true, false) => enqueue(txn, after, CalendarOpKind::Remove, None),
        _ => Ok(()),
    }
}

/// Queues a reschedule: `old` (as it was before it was cancelled) is
/// replaced by `new`: `old`'s event moves to `new`'s times, or goes when
/// `new` has none (yet).
pub(crate) fn booking_rescheduled(txn: &mut Txn<'_>, old: &Booking, new: &Booking) -> Result<()> {
    if has_event(new.status) {
        enqueue(txn, new, CalendarOpKind::Upsert, Some(old.id))
    } else if has_event(old.status) {
        enqueue(txn, old, CalendarOpKind::Remove, None)
    } else {
        Ok(())
    }
}
