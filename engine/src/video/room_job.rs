//! The room job: one pass over the rooms that are due
//! (`idx/video_rooms_due`, oldest first), each made at Daily outside any
//! store transaction, then the outcome written in one: the room's name and
//! URL on the booking and the row `created`; or, for a failure worth
//! retrying (a 5xx, a timeout, a network error), the next attempt per the
//! [`RetryPolicy`](super::RetryPolicy); or `failed` when Daily refused or
//! the attempts ran out (the meeting then uses WebRTC). A booking that is
//! no longer confirmed, or whose session is over, is abandoned without a
//! call. A room whose booking was cancelled or moved after it was made is
//! deleted at Daily by the same pass, with the same retries. The booking is
//! re-read in the writing transaction, so a room made while a party was
//! told to use WebRTC is not put on the booking; nor is one made while the
//! booking was cancelled or moved: such a room, made by a call already on
//! its way, is marked `deleting` with Daily's id, so the next pass deletes
//! it rather than leave it open at Daily.

use std::time::Duration;

use droply_models::{Booking, BookingStatus, HttpUrl, Timestamp};

use super::config::VideoConfig;
use super::daily_client::{DailyClient, DailyError, DailyRoom};
use super::rooms::{RoomState, VideoRoom};
use crate::Result;
use crate::store::{IndexName, PageRequest, Store};

/// Rooms looked at in one pass at most.
pub const ROOM_BATCH: usize = 100;

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RoomSweep {
    /// Rooms made (or found made) and written on their booking.
    pub created: usize,
    /// Attempts that failed and were scheduled again.
    pub retried: usize,
    /// Rooms given up (Daily refused, or the attempts ran out).
    pub failed: usize,
    /// Rooms no longer needed.
    pub abandoned: usize,
    /// Rooms of cancelled or moved bookings deleted at Daily.
    pub deleted: usize,
}

fn delta(duration: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(duration).unwrap_or(chrono::TimeDelta::MAX)
}

/// Runs one pass at `now`: every room due by then, at most [`ROOM_BATCH`].
pub fn room_sweep(
    store: &Store,
    client: &DailyClient,
    config: &VideoConfig,
    now: Timestamp,
) -> Result<RoomSweep> {
    let due = store.list_index::<VideoRoom>(
        IndexName::VideoRoomsDue,
        &[],
        &PageRequest::first(ROOM_BATCH),
    )?;
    let instance = store.instance_key()?;
    let mut sweep = RoomSweep::default();
    for room in due.items.into_iter().filter(|r| r.next_attempt_at <= now) {
        if room.state == RoomState::Deleting {
            delete_room(store, client, config, &instance, &room, now, &mut sweep)?;
            continue;
        }
        let booking: Booking = store.require(room.booking_id)?;
        if booking.status != BookingStatus::Confirmed || booking.end_time <= now {
            finish(store, &room, RoomState::Abandoned, None, None)?;
            sweep.abandoned += 1;
            continue;
        }
        let name = VideoRoom::name_for(&instance, booking.id);
        let not_before = booking
            .start_time
            .saturating_add(-delta(config.open_before))
            .plus_minutes(-5);
        let expires_at = booking.end_time.saturating_add(delta(config.room_grace));
        match client.create_room(&name, not_before, expires_at) {
            Ok(made) => {
                if finish(store, &room, RoomState::Created, Some(&made), None)? {
                    sweep.created += 1;
                }
            }
            Err(err) => match next_try(config, &room, &err, "created") {
                Some(wait) => {
                    retry_at(store, &room, now.saturating_add(delta(wait)), &err)?;
                    sweep.retried += 1;
                }
                None => {
                    finish(store, &room, RoomState::Failed, None, Some(&err))?;
                    sweep.failed += 1;
                }
            },
        }
    }
    Ok(sweep)
}

/// Deletes the room of `room` (a cancelled or moved booking's) at Daily and
/// records it `deleted`, taking its name and URL off the booking; a failure
/// worth retrying waits for the retry policy, as a creation does, and the
/// attempts running out leave it `failed` (Daily's `exp` still ends it).
fn delete_room(
    store: &Store,
    client: &DailyClient,
    config: &VideoConfig,
    instance: &str,
    room: &VideoRoom,
    now: Timestamp,
    sweep: &mut RoomSweep,
) -> Result<()> {
    let name = VideoRoom::name_for(instance, room.booking_id);
    let err = match client.delete_room(&name) {
        Ok(()) => {
            if settle_deletion(store, room, RoomState::Deleted, None)? {
                sweep.deleted += 1;
            }
            return Ok(());
        }
        Err(err) => err,
    };
    match next_try(config, room, &err, "deleted") {
        Some(wait) => {
            retry_at(store, room, now.saturating_add(delta(wait)), &err)?;
            sweep.retried += 1;
        }
        None => {
            settle_deletion(store, room, RoomState::Failed, Some(&err))?;
            sweep.failed += 1;
        }
    }
    Ok(())
}

/// How long to wait before trying `room` again after `err`, by the retry
/// policy: `None` when Daily refused, or the attempts ran out. Logged as the
/// room not `done`.
fn next_try(
    config: &VideoConfig,
    room: &VideoRoom,
    err: &DailyError,
    done: &str,
) -> Option<Duration> {
    let failed = room.attempts.saturating_add(1);
    let next = err
        .retryable
        .then(|| config.retry.delay_after(failed))
        .flatten();
    tracing::warn!(
        booking = %room.booking_id,
        attempts = failed,
        retry_in_secs = next.map(|d| d.as_secs()),
        error = %err.message,
        "video room not {done}"
    );
    next
}

/// Moves a row being deleted to `state`; once deleted, the booking no
/// longer names the room. True when the row was still being deleted.
fn settle_deletion(
    store: &Store,
    room: &VideoRoom,
    state: RoomState,
    err: Option<&DailyError>,
) -> Result<bool> {
    store.write(|txn| {
        let mut row: VideoRoom = txn.require(room.id)?;
        if row.state != RoomState::Deleting {
            return Ok(false);
        }
        row.state = state;
        row.attempts = row.attempts.saturating_add(1);
        row.last_error = err.map(|err| err.message.clone());
        row.updated_at = txn.now();
        if state == RoomState::Deleted {
            let mut booking: Booking = txn.require(row.booking_id)?;
            booking.meeting_room_id = None;
            booking.meeting_url = None;
            txn.update(booking)?;
        }
        txn.update(row)?;
        Ok(true)
    })
}

/// Records a failed attempt and when the next one is due (if the row is
/// still where it was: pending, or being deleted).
fn retry_at(store: &Store, room: &VideoRoom, next: Timestamp, err: &DailyError) -> Result<()> {
    store.write(|txn| {
        let mut row: VideoRoom = txn.require(room.id)?;
        if row.state != room.state {
            return Ok(());
        }
        row.attempts = row.attempts.saturating_add(1);
        row.next_attempt_at = next;
        row.last_error = Some(err.message.clone());
        row.updated_at = txn.now();
        txn.update(row)?;
        Ok(())
    })
}

/// Moves a pending row to `state`; with a room made, writes its name and
/// URL on the booking in the same transaction (while the booking is still
/// confirmed and the row pending). True when the room went on the booking.
/// A room made for a row no longer pending (its booking cancelled or moved,
/// or its meeting fallen back to WebRTC, during the call), or for a booking
/// no longer confirmed, is marked to be deleted instead.
fn finish(
    store: &Store,
    room: &VideoRoom,
    state: RoomState,
    made: Option<&DailyRoom>,
    err: Option<&DailyError>,
) -> Result<bool> {
    let url = made.map(|made| HttpUrl::parse(&made.url)).transpose();
    store.write(|txn| {
        let mut row: VideoRoom = txn.require(room.id)?;
        if row.state != RoomState::Pending {
            if let Some(made) = made
                && made_in_vain(row.state)
            {
                to_delete(&mut row, made, txn.now());
                txn.update(row)?;
            }
            return Ok(false);
        }
        row.updated_at = txn.now();
        row.state = state;
        if made.is_some() || err.is_some() {
            row.attempts = row.attempts.saturating_add(1);
        }
        if let Some(err) = err {
            row.last_error = Some(err.message.clone());
        }
        let mut on_booking = false;
        if let Some(made) = made {
            row.daily_room_id = Some(made.id.clone());
            let mut booking: Booking = txn.require(row.booking_id)?;
            match &url {
                Ok(Some(url)) if booking.status == BookingStatus::Confirmed => {
                    booking.meeting_room_id = Some(made.name.clone());
                    booking.meeting_url = Some(url.clone());
                    txn.update(booking)?;
                    on_booking = true;
                }
                Ok(_) => to_delete(&mut row, made, txn.now()),
                Err(why) => {
                    row.state = RoomState::Failed;
                    row.last_error =
                        Some(format!("Daily answered a room URL we cannot use: {why}"));
                }
            }
        }
        txn.update(row)?;
        Ok(on_booking)
    })
}

/// Whether a room just made for a row found in `state` (no longer pending)
/// serves nobody: the row was given up (abandoned with its booking, fallen
/// back to WebRTC, failed) or its room deleted meanwhile. A row `created`
/// holds this very room (same name) on its booking, and one `deleting`
/// deletes it anyway.
fn made_in_vain(state: RoomState) -> bool {
    match state {
        RoomState::Abandoned | RoomState::FellBack | RoomState::Failed | RoomState::Deleted => true,
        RoomState::Pending | RoomState::Created | RoomState::Deleting => false,
    }
}

/// Marks `row` to have `made` deleted at Daily by the next pass (due at
/// `now`, with the deletion's own attempts), as [`super::rooms`]'
/// `retire_room` does for a room its booking held.
fn to_delete(row: &mut VideoRoom, made: &DailyRoom, now: Timestamp) {
    row.state = RoomState::Deleting;
    row.daily_room_id = Some(made.id.clone());
    row.attempts = 0;
    row.next_attempt_at = now;
    row.last_error = None;
    row.updated_at = now;
}

#[cfg(test)]
mod tests {
    use droply_models::BookingStatus;

    use super::*;
    use crate::booking::{BookingAction, act};
    use crate::payments::PaymentsConfig;
    use crate::test_rows::paid_booking_ahead;
    use crate::video::{DailyConfig, RetryPolicy, meeting_for};

    /// A store with a paid booking awaiting its provider's confirmation,
    /// its session ahead of the real clock (the sweeps here run at now).
    fn paid_unconfirmed() -> (Store, Booking) {
        paid_booking_ahead(BookingStatus::PendingPayment)
    }

    /// Daily at an address where nothing listens: every call is a network
    /// error (retryable).
    fn unreachable() -> VideoConfig {
        let mut daily = DailyConfig::new("key".to_owned().into());
        daily.api_base = "http://127.0.0.1:9/v1".to_owned();
        daily.timeout = std::time::Duration::from_secs(2);
        VideoConfig {
            daily: Some(daily),
            open_before: std::time::Duration::from_secs(3 * 365 * 24 * 3600),
            retry: RetryPolicy {
                first_delay: std::time::Duration::from_secs(60),
                max_delay: std::time::Duration::from_secs(60),
                max_attempts: 2,
            },
            ..VideoConfig::default()
        }
    }

    #[test]
    fn a_provider_confirming_queues_the_room_and_failed_attempts_end_in_webrtc() {
        let (store, row) = paid_unconfirmed();
        assert_eq!(store.iter::<VideoRoom>().count(), 0);
        let (confirmed, _) = act(
            &store,
            row.id,
            row.provider_id,
            BookingAction::Confirm,
            None,
            &PaymentsConfig::default(),
        )
        .expect("confirm");
        assert_eq!(confirmed.status, BookingStatus::Confirmed);
        let config = unreachable();
        let client = DailyClient::new(config.daily.as_ref().expect("daily")).expect("client");
        let now = Timestamp::now();

        let first = room_sweep(&store, &client, &config, now).expect("first");
        assert_eq!(first.retried, 1, "{first:?}");
        let rooms: Vec<VideoRoom> = store.iter().collect::<Result<_>>().expect("rooms");
        assert_eq!(rooms.len(), 1);
        assert_eq!(rooms[0].attempts, 1);
        assert_eq!(rooms[0].next_attempt_at, now.plus_minutes(1));
        assert!(
            rooms[0]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("reached"))
        );

        // The second and last attempt fails too: given up.
        let second = room_sweep(&store, &client, &config, now.plus_minutes(1)).expect("second");
        assert_eq!(second.failed, 1, "{second:?}");
        let rooms: Vec<VideoRoom> = store.iter().collect::<Result<_>>().expect("rooms");
        assert_eq!((rooms[0].state, rooms[0].attempts), (RoomState::Failed, 2));
        assert!(
            store
                .list_index::<VideoRoom>(IndexName::VideoRoomsDue, &[], &PageRequest::first(10))
                .expect("due")
                .items
                .is_empty()
        );

        let access =
            meeting_for(&store, Some(&client), &config, row.id, row.user_id, now).expect("meeting");
        assert!(
            matches!(&access.path, super::super::MeetingPath::WebRtc { signal_url } if signal_url.ends_with("/signal"))
        );
        assert!(store.verify_integrity().expect("verify").is_consistent());
    }

    #[test]
    fn a_cancelled_booking_s_room_is_abandoned_without_a_call() {
        let (store, row) = paid_unconfirmed();
        act(
            &store,
            row.id,
            row.provider_id,
            BookingAction::Confirm,
            None,
            &PaymentsConfig::default(),
        )
        .expect("confirm");
        store
            .bookings()
            .modify(row.id, |b| {
                b.status = BookingStatus::Cancelled;
                Ok(())
            })
            .expect("cancel");
        let config = unreachable();
        let client = DailyClient::new(config.daily.as_ref().expect("daily")).expect("client");
        let sweep = room_sweep(&store, &client, &config, Timestamp::now()).expect("sweep");
        assert_eq!(sweep.abandoned, 1, "{sweep:?}");
        let rooms: Vec<VideoRoom> = store.iter().collect::<Result<_>>().expect("rooms");
        assert_eq!(
            (rooms[0].state, rooms[0].attempts),
            (RoomState::Abandoned, 0)
        );
    }
}
