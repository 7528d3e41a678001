//! `VideoRoom`: the outbox row of one confirmed booking's Daily room
//! (engine-internal). It is written in the same transaction that confirms
//! the booking ([`enqueue_room`]: a free booking, a paid one through the
//! payment webhook, a provider's confirmation, a reschedule), and the room
//! job ([`super::room_job`]) works through the rows that are due, oldest
//! first (`idx/video_rooms_due`, by `next_attempt_at`, while pending). When
//! the booking is cancelled or moved, a room made is deleted at Daily the
//! same way ([`retire_room`]: `deleting`, due, then `deleted`), as is one
//! Daily made while that happened (the room job's write finds the row no
//! longer pending). The row shows
//! the retry schedule: attempts made, the next attempt, the last error. One
//! row per booking (unique).

use droply_models::{Booking, BookingId, BookingStatus, Timestamp};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::store::{
    EntityKind, IndexEntry, IndexName, KeyBuilder, Record, Store, Txn, UniqueEntry, UniqueName,
};

engine_record_id! {
    /// Identifies a [`VideoRoom`].
    pub struct VideoRoomId;
}

/// Where a booking's room is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RoomState {
    /// Not made yet; the job tries at `next_attempt_at`.
    Pending,
    /// Made; the booking holds its name and URL.
    Created,
    /// Daily refused it, or every attempt failed: the meeting uses WebRTC.
    Failed,
    /// A party asked for the meeting before the room was made: the
    /// meeting uses WebRTC, for both parties, and no room is made.
    FellBack,
    /// The booking was no longer confirmed, or its session was over, when
    /// its turn came.
    Abandoned,
    /// Made, then its booking was cancelled or moved (or made while that
    /// happened, or while its meeting fell back to WebRTC): the job deletes
    /// it at Daily at `next_attempt_at`, so the room and the tokens already
    /// given out no longer let anyone in.
    Deleting,
    /// Deleted at Daily (or found gone there).
    Deleted,
}

impl RoomState {
    /// The state's name in the API and the logs.
    pub fn as_str(self) -> &'static str {
        match self {
            RoomState::Pending => "pending",
            RoomState::Created => "created",
            RoomState::Failed => "failed",
            RoomState::FellBack => "fell_back",
            RoomState::Abandoned => "abandoned",
            RoomState::Deleting => "deleting",
            RoomState::Deleted => "deleted",
        }
    }
}

/// One booking's room at Daily.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VideoRoom {
    /// Primary key.
    pub id: VideoRoomId,
    /// The booking it is for (unique).
    pub booking_id: BookingId,
    /// Where it is.
    pub state: RoomState,
    /// Calls to Daily made so far.
    pub attempts: u32,
    /// When the job tries next (meaningful while pending).
    pub next_attempt_at: Timestamp,
    /// Why the last attempt failed (never a key).
    pub last_error: Option<String>,
    /// Daily's id of the room, once made.
    pub daily_room_id: Option<String>,
    /// When the booking was confirmed.
    pub created_at: Timestamp,
    /// When the row last changed.
    pub updated_at: Timestamp,
}

impl VideoRoom {
    /// The room's name at Daily: unique per store (its instance key) and
    /// booking, so a retry after a lost answer finds the room it made.
    pub fn name_for(instance_key: &str, booking: BookingId) -> String {
        let tag = instance_key.get(..12).unwrap_or(instance_key);
        format!("droply-{tag}-b{booking}")
    }

    /// The booking a room named by [`VideoRoom::name_for`] with this
    /// instance key is for; `None` for any other name.
    pub fn booking_of(instance_key: &str, name: &str) -> Option<BookingId> {
        let tag = instance_key.get(..12).unwrap_or(instance_key);
        let id = name
            .strip_prefix("droply-")?
            .strip_prefix(tag)?
            .strip_prefix("-b")?;
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        id.parse::<u64>().ok().map(BookingId::new)
    }
}

impl Record for VideoRoom {
    type Id = VideoRoomId;
    const KIND: EntityKind = EntityKind::VideoRoom;

    fn id(&self) -> VideoRoomId {
        self.id
    }
    fn set_id(&mut self, id: VideoRoomId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        if !matches!(self.state, RoomState::Pending | RoomState::Deleting) {
            return Vec::new();
        }
        vec![IndexEntry {
            index: IndexName::VideoRoomsDue,
            prefix: KeyBuilder::new().time(self.next_attempt_at).build(),
        }]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::VideoRoomBooking,
            key: self.booking_id.to_be_bytes().to_vec(),
            shown: self.booking_id.to_string(),
        }]
    }
}

/// The room row of booking `id`, as seen inside `txn`.
pub(crate) fn room_in(txn: &Txn<'_>, id: BookingId) -> Result<Option<VideoRoom>> {
    match txn.lookup_unique(UniqueName::VideoRoomBooking, &id.to_be_bytes())? {
        Some(raw) => txn.get(VideoRoomId::new(raw)),
        None => Ok(None),
    }
}

/// Puts a room for `booking`, just confirmed in `txn`, in the outbox (due
/// now); nothing when it has one already. Called in every transaction that
/// makes a booking `confirmed`; with Daily off the row waits unused.
pub(crate) fn enqueue_room(txn: &mut Txn<'_>, booking: &Booking) -> Result<()> {
    if booking.meeting_room_id.is_some() || room_in(txn, booking.id)?.is_some() {
        return Ok(());
    }
    let now = txn.now();
    txn.create(VideoRoom {
        id: VideoRoomId::new(0),
        booking_id: booking.id,
        state: RoomState::Pending,
        attempts: 0,
        next_attempt_at: now,
        last_error: None,
        daily_room_id: None,
        created_at: now,
        updated_at: now,
    })?;
    Ok(())
}

/// Inside the transaction cancelling booking `id` (by a party, or to move
/// it): its room, if made, is to be deleted at Daily (due now); one not made
/// yet is abandoned. Nothing without a room.
pub(crate) fn retire_room(txn: &mut Txn<'_>, id: BookingId) -> Result<()> {
    let Some(mut room) = room_in(txn, id)? else {
        return Ok(());
    };
    room.state = match room.state {
        RoomState::Created => RoomState::Deleting,
        RoomState::Pending => RoomState::Abandoned,
        _ => return Ok(()),
    };
    let now = txn.now();
    room.attempts = 0;
    room.next_attempt_at = now;
    room.last_error = None;
    room.updated_at = now;
    txn.update(room)?;
    Ok(())
}

/// Schema 6: puts a room in the outbox for every confirmed booking whose
/// session is not over and that has none (bookings confirmed before video
/// rooms existed). Running it twice is harmless.
pub(crate) fn enqueue_rooms_of_confirmed(store: &Store) -> Result<()> {
    let now = Timestamp::now();
    for booking in store.iter::<Booking>() {
        let booking = booking?;
        if wants_room(&booking, now) {
            store.write(|txn| enqueue_room(txn, &booking))?;
        }
    }
    Ok(())
}

/// Whether `booking`, written without going through booking (an older
/// store, an import), needs a room queued at `now`: confirmed, not over,
/// and without a room of its own.
pub(crate) fn wants_room(booking: &Booking, now: Timestamp) -> bool {
    booking.status == BookingStatus::Confirmed
        && booking.end_time > now
        && booking.meeting_room_id.is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_room_name_leads_back_to_its_booking_of_this_store_only() {
        let key = "0123456789abcdef0123456789abcdef";
        let name = VideoRoom::name_for(key, BookingId::new(42));
        assert_eq!(name, "droply-0123456789ab-b42");
        assert_eq!(VideoRoom::booking_of(key, &name), Some(BookingId::new(42)));
        let other = "ffffffffffffffffffffffffffffffff";
        assert_eq!(VideoRoom::booking_of(other, &name), None);
        for bad in ["droply-0123456789ab-b", "droply-0123456789ab-b4x", "room"] {
            assert_eq!(VideoRoom::booking_of(key, bad), None, "{bad}");
        }
    }
}
