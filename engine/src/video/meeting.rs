//! Joining a booking's call ([`meeting_for`]): for its booker and provider
//! only, while it is confirmed, from `open_before` its start until its end.
//! With a Daily room on the booking the answer is the room's URL and a
//! fresh meeting token made at Daily for this person (the provider owns the
//! room), never stored nor logged. Without Daily, or when the room failed
//! or is not made by the time a party asks, the answer is the WebRTC
//! relay's path; asking then marks a pending room `fell_back`, so both
//! parties meet on the same path.

use std::time::Duration;

use droply_models::{Booking, BookingId, BookingStatus, Timestamp, User, UserId};
use secrecy::SecretString;

use super::config::VideoConfig;
use super::daily_client::{DailyClient, TokenRequest};
use super::rooms::{RoomState, room_in};
use crate::booking::booking_for;
use crate::store::Store;
use crate::{Error, Result};

/// Which path a call takes.
#[derive(Debug, Clone)]
pub enum MeetingPath {
    /// A Daily room.
    Daily {
        /// Where the call is joined.
        room_url: String,
        /// This person's meeting token (never stored; `Debug` hides it).
        token: SecretString,
    },
    /// The WebRTC relay between the two parties.
    WebRtc {
        /// The relay's path, `/v1/bookings/{id}/signal`.
        signal_url: String,
    },
}

/// How one party joins a booking's call.
#[derive(Debug, Clone)]
pub struct MeetingAccess {
    /// Daily or WebRTC, and what that needs.
    pub path: MeetingPath,
    /// When the session starts.
    pub starts_at: Timestamp,
    /// When it ends.
    pub ends_at: Timestamp,
}

fn delta(duration: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(duration).unwrap_or(chrono::TimeDelta::MAX)
}

/// The WebRTC relay's path for booking `id`.
pub fn signal_path(id: BookingId) -> String {
    format!("/v1/bookings/{id}/signal")
}

/// A party's place in a booking's WebRTC relay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalParty {
    /// Which side they are on.
    pub role: crate::booking::BookingRole,
    /// When the relay closes (the session's end).
    pub closes_at: Timestamp,
}

/// `viewer`'s place in the WebRTC relay of booking `id` at `now`: its
/// parties only (others `NotFound`), by the same window as the call.
pub fn signal_party(
    store: &Store,
    config: &VideoConfig,
    id: BookingId,
    viewer: UserId,
    now: Timestamp,
) -> Result<SignalParty> {
    let booking = booking_for(store, id, viewer)?;
    let role = crate::booking::role_of(&booking, viewer).ok_or(Error::NotFound {
        entity: "booking",
        id: id.get(),
    })?;
    check_joinable(&booking, config, now)?;
    Ok(SignalParty {
        role,
        closes_at: booking.end_time,
    })
}

/// Checks that `booking` can be joined at `now`: confirmed
/// ([`Error::MeetingNeedsConfirmation`]) and within its window
/// ([`Error::MeetingNotOpen`]).
pub fn check_joinable(booking: &Booking, config: &VideoConfig, now: Timestamp) -> Result<()> {
    if booking.status != BookingStatus::Confirmed {
        return Err(Error::MeetingNeedsConfirmation(
            booking.status.as_str().to_owned(),
        ));
    }
    let opens = booking
        .start_time
        .saturating_add(-delta(config.open_before));
    if now < opens {
        return Err(Error::MeetingNotOpen(format!(
            "the meeting opens at {}",
            opens.to_rfc3339()
        )));
    }
    if now >= booking.end_time {
        return Err(Error::MeetingNotOpen(format!(
            "the session ended at {}",
            booking.end_time.to_rfc3339()
        )));
    }
    Ok(())
}

/// How `viewer` joins booking `id` at `now`; see the module docs.
/// `NotFound` unless they are on it; `VideoProvider` when Daily could not
/// make a token for a room it holds.
pub fn meeting_for(
    store: &Store,
    client: Option<&DailyClient>,
    config: &VideoConfig,
    id: BookingId,
    viewer: UserId,
    now: Timestamp,
) -> Result<MeetingAccess> {
    let booking = booking_for(store, id, viewer)?;
    check_joinable(&booking, config, now)?;
    let room = match client {
        Some(_) if booking.meeting_room_id.is_some() => Some(booking.clone()),
        Some(_) => fall_back_unless_made(store, id)?,
        None => None,
    };
    let path = match (client, room) {
        (Some(client), Some(booking)) => daily_path(store, client, config, &booking, viewer)?,
        _ => MeetingPath::WebRtc {
            signal_url: signal_path(id),
        },
    };
    Ok(MeetingAccess {
        path,
        starts_at: booking.start_time,
        ends_at: booking.end_time,
    })
}

/// In one transaction: the booking when its room was made meanwhile;
/// otherwise its pending room (if any) is marked `fell_back` and `None`.
fn fall_back_unless_made(store: &Store, id: BookingId) -> Result<Option<Booking>> {
    store.write(|txn| {
        let booking: Booking = txn.require(id)?;
        if booking.meeting_room_id.is_some() {
            return Ok(Some(booking));
        }
        if let Some(mut room) = room_in(txn, id)?
            && room.state == RoomState::Pending
        {
            room.state = RoomState::FellBack;
            room.updated_at = txn.now();
            txn.update(room)?;
        }
        Ok(None)
    })
}

fn daily_path(
    store: &Store,
    client: &DailyClient,
    config: &VideoConfig,
    booking: &Booking,
    viewer: UserId,
) -> Result<MeetingPath> {
    let (Some(room_name), Some(url)) = (&booking.meeting_room_id, &booking.meeting_url) else {
        return Ok(MeetingPath::WebRtc {
            signal_url: signal_path(booking.id),
        });
    };
    let person: User = store.require(viewer)?;
    let token = client.meeting_token(&TokenRequest {
        room_name,
        user_name: &person.full_name,
        is_owner: viewer == booking.provider_id,
        expires_at: booking.end_time.saturating_add(delta(config.room_grace)),
    })?;
    Ok(MeetingPath::Daily {
        room_url: url.as_str().to_owned(),
        token,
    })
}
