//! When a booking's meeting is open, and to whom: its two parties only (to
//! anyone else the booking does not exist), once it is confirmed, from a
//! few minutes before the start until the end. The video room and the
//! WebRTC signal relay both ask here.

use droply_models::{Booking, BookingId, BookingStatus, Timestamp, UserId};

use super::access::{BookingRole, booking_for, role_of};
use crate::store::Store;
use crate::{Error, Result};

/// How long before the start the meeting opens, in minutes.
pub const OPENS_MINUTES_BEFORE: i64 = 10;

/// A party's way into a booking's meeting.
#[derive(Debug, Clone, PartialEq)]
pub struct MeetingAccess {
    /// The booking.
    pub booking: Booking,
    /// Which side the caller is on.
    pub role: BookingRole,
    /// When the meeting opens.
    pub opens_at: Timestamp,
    /// When it closes (the session's end).
    pub closes_at: Timestamp,
}

/// `user`'s access to the meeting of booking `id` at `now`. `NotFound`
/// unless `user` is its booker or provider; `InvalidState` unless it is
/// confirmed and `now` lies in its window.
pub fn meeting_access(
    store: &Store,
    id: BookingId,
    user: UserId,
    now: Timestamp,
) -> Result<MeetingAccess> {
    let booking = booking_for(store, id, user)?;
    let role = role_of(&booking, user).ok_or(Error::NotFound {
        entity: "booking",
        id: id.get(),
    })?;
    if booking.status != BookingStatus::Confirmed {
        return Err(Error::InvalidState(format!(
            "the meeting of a {} booking is closed; it opens once the booking is confirmed",
            booking.status.as_str()
        )));
    }
    let opens_at = booking.start_time.plus_minutes(-OPENS_MINUTES_BEFORE);
    let closes_at = booking.end_time;
    if now < opens_at || now >= closes_at {
        return Err(Error::InvalidState(format!(
            "the meeting is open from {OPENS_MINUTES_BEFORE} minutes before the start until the end"
        )));
    }
    Ok(MeetingAccess {
        booking,
        role,
        opens_at,
        closes_at,
    })
}
