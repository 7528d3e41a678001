//! Daily.co's webhook events, applied once each: the event and its
//! effect are written in one transaction together with a [`DailyEvent`]
//! row keyed by Daily's event id (unique), so a redelivery changes nothing.
//! `meeting.started` and `meeting.ended` set the booking's
//! `meeting_started_at`, `meeting_ended_at` and `meeting_duration`
//! (minutes, rounded up): the earliest start and the latest end seen win,
//! so events arriving out of order, or an `ended` without a `started`,
//! leave the same result. `recording.ready-to-download` keeps the
//! recording's id under the booking ([`Recording`]). The room names the
//! booking (`VideoRoom::name_for`); events of rooms that are not ours, and
//! other event types, are recorded as ignored. So are the events of a
//! retired room ([`room_of_event`]): its booking was cancelled or moved (a
//! move cancels the old booking and books a new one under a new id, so the
//! old room's name never leads to the replacement), or its room is being
//! deleted, is deleted or was never the booking's. A call still running
//! when the booking was called off, or a late delivery, is acknowledged
//! (so Daily stops sending it) and logged, and neither its times nor its
//! recordings go on the booking: a cancelled booking never looks attended.

use droply_models::{Booking, BookingStatus, Timestamp};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::recordings::{Recording, RecordingRowId, is_recording_id};
use super::rooms::{RoomState, VideoRoom, room_in};
use crate::store::{EntityKind, Record, Store, Txn, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`DailyEvent`] row.
    pub struct DailyEventRowId;
}

/// One applied Daily event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DailyEvent {
    /// Primary key.
    pub id: DailyEventRowId,
    /// Daily's event id (unique).
    pub event_id: String,
    /// Its type, e.g. `meeting.ended`.
    pub kind: String,
    /// What it did, in words.
    pub outcome: String,
    /// When it was applied.
    pub received_at: Timestamp,
}

impl Record for DailyEvent {
    type Id = DailyEventRowId;
    const KIND: EntityKind = EntityKind::DailyEvent;

    fn id(&self) -> DailyEventRowId {
        self.id
    }
    fn set_id(&mut self, id: DailyEventRowId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::DailyEventId,
            key: self.event_id.as_bytes().to_vec(),
            shown: self.event_id.clone(),
        }]
    }
}

/// What a delivery did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyReceipt {
    /// False when the event id was applied before.
    pub applied: bool,
    /// What it did, in words.
    pub outcome: String,
}

fn invalid(why: &str) -> Error {
    Error::Invalid(format!("Daily event: {why}"))
}

fn text<'v>(value: &'v Value, field: &str) -> Option<&'v str> {
    value.get(field).and_then(Value::as_str)
}

/// A time Daily sends as unix seconds (with a fraction).
fn time(value: &Value, field: &str) -> Result<Option<Timestamp>> {
    let Some(raw) = value.get(field).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let seconds = raw
        .as_f64()
        .filter(|s| s.is_finite() && *s >= 0.0 && *s < 1.0e11)
        .ok_or_else(|| invalid(&format!("{field} is not a time in seconds")))?;
    Timestamp::from_micros((seconds * 1.0e6) as i64)
        .map(Some)
        .map_err(|_| invalid(&format!("{field} is out of range")))
}

/// Applies a verified event body at `now`, once per event id.
pub fn apply_daily_event(store: &Store, body: &[u8]) -> Result<DailyReceipt> {
    let event: Value = serde_json::from_slice(body).map_err(|_| invalid("the body is not JSON"))?;
    let event_id = text(&event, "id")
        .filter(|id| !id.is_empty() && id.len() <= 200)
        .ok_or_else(|| invalid("no event id"))?
        .to_owned();
    let kind = text(&event, "type")
        .ok_or_else(|| invalid("no event type"))?
        .to_owned();
    let payload = event.get("payload").cloned().unwrap_or(Value::Null);
    let instance = store.instance_key()?;
    store.write(|txn| {
        if txn
            .lookup_unique(UniqueName::DailyEventId, event_id.as_bytes())?
            .is_some()
        {
            return Ok(DailyReceipt {
                applied: false,
                outcome: "already applied".to_owned(),
            });
        }
        let outcome = apply(txn, &instance, &kind, &payload)?;
        txn.create(DailyEvent {
            id: DailyEventRowId::new(0),
            event_id: event_id.clone(),
            kind: kind.clone(),
            outcome: outcome.clone(),
            received_at: txn.now(),
        })?;
        Ok(DailyReceipt {
            applied: true,
            outcome,
        })
    })
}

/// Whose room an event is about.
#[derive(Debug)]
enum RoomOfEvent {
    /// Not a room of ours (another store's, or no booking by that id).
    NotOurs,
    /// The live room of this booking: its events go on it.
    Live(Box<Booking>),
    /// A room of ours that is no longer the booking's meeting place; why,
    /// in words.
    Retired(String),
}

/// Whose room `room` is, as seen in `txn`: the booking it names, only
/// while that booking is confirmed, completed or marked a no-show and the
/// room is the booking's live one (its row `created`, or, for a booking
/// whose room predates the rows, the name on the booking). A cancelled or
/// moved booking, and a room being deleted or deleted, are retired.
fn room_of_event(txn: &Txn<'_>, instance: &str, room: Option<&str>) -> Result<RoomOfEvent> {
    let Some((name, id)) =
        room.and_then(|name| VideoRoom::booking_of(instance, name).map(|id| (name, id)))
    else {
        return Ok(RoomOfEvent::NotOurs);
    };
    let Some(booking) = txn.get::<Booking>(id)? else {
        return Ok(RoomOfEvent::NotOurs);
    };
    match booking.status {
        BookingStatus::Confirmed | BookingStatus::Completed | BookingStatus::NoShow => {}
        BookingStatus::Cancelled | BookingStatus::PendingPayment => {
            return Ok(RoomOfEvent::Retired(format!(
                "booking {id} is {}",
                booking.status.as_str()
            )));
        }
    }
    let live = match room_in(txn, id)? {
        Some(row) => match row.state {
            RoomState::Created => true,
            RoomState::Pending
            | RoomState::Failed
            | RoomState::FellBack
            | RoomState::Abandoned
            | RoomState::Deleting
            | RoomState::Deleted => {
                return Ok(RoomOfEvent::Retired(format!(
                    "the room of booking {id} is {}",
                    row.state.as_str()
                )));
            }
        },
        None => booking.meeting_room_id.as_deref() == Some(name),
    };
    if !live {
        return Ok(RoomOfEvent::Retired(format!(
            "booking {id} does not hold room {name}"
        )));
    }
    Ok(RoomOfEvent::Live(Box::new(booking)))
}

/// The outcome of an event of a retired room, logged: acknowledged, and
/// nothing written.
fn retired(kind: &str, room: Option<&str>, why: &str) -> String {
    tracing::info!(
        kind,
        room = room.unwrap_or_default(),
        why,
        "Daily event of a retired room ignored"
    );
    format!("ignored: {why}")
}

fn apply(txn: &mut Txn<'_>, instance: &str, kind: &str, payload: &Value) -> Result<String> {
    match kind {
        "meeting.started" | "meeting.ended" => {
            let room = text(payload, "room").or_else(|| text(payload, "room_name"));
            let mut booking = match room_of_event(txn, instance, room)? {
                RoomOfEvent::Live(booking) => *booking,
                RoomOfEvent::Retired(why) => return Ok(retired(kind, room, &why)),
                RoomOfEvent::NotOurs => return Ok("ignored: not our room".to_owned()),
            };
            let started = time(payload, "start_ts")?;
            let ended = if kind == "meeting.ended" {
                Some(time(payload, "end_ts")?.ok_or_else(|| invalid("no end_ts"))?)
            } else {
                None
            };
            if kind == "meeting.started" && started.is_none() {
                return Err(invalid("no start_ts"));
            }
            record_times(&mut booking, started, ended);
            let id = booking.id;
            txn.update(booking)?;
            Ok(format!("booking {id}: {kind}"))
        }
        "recording.ready-to-download" => {
            let room = text(payload, "room_name").or_else(|| text(payload, "room"));
            let booking = match room_of_event(txn, instance, room)? {
                RoomOfEvent::Live(booking) => *booking,
                RoomOfEvent::Retired(why) => {
                    let recording = text(payload, "recording_id")
                        .filter(|id| is_recording_id(id))
                        .unwrap_or("without a usable id");
                    let why = format!("{why}; recording {recording} not kept");
                    return Ok(retired(kind, room, &why));
                }
                RoomOfEvent::NotOurs => return Ok("ignored: not our room".to_owned()),
            };
            let recording_id = text(payload, "recording_id")
                .filter(|id| is_recording_id(id))
                .ok_or_else(|| invalid("no usable recording_id"))?;
            if txn
                .lookup_unique(UniqueName::RecordingId, recording_id.as_bytes())?
                .is_some()
            {
                return Ok(format!("recording {recording_id} already kept"));
            }
            let duration_secs = payload
                .get("duration")
                .and_then(Value::as_f64)
                .filter(|d| d.is_finite() && *d >= 0.0)
                .map(|d| d.min(f64::from(u32::MAX)) as u32);
            txn.create(Recording {
                id: RecordingRowId::new(0),
                booking_id: booking.id,
                recording_id: recording_id.to_owned(),
                started_at: time(payload, "start_ts")?,
                duration_secs,
                received_at: txn.now(),
            })?;
            Ok(format!("booking {}: recording kept", booking.id))
        }
        other => Ok(format!("ignored: {other}")),
    }
}

/// Merges a start and an end into the booking's call times: the earliest
/// start and the latest end win, and the duration follows them.
pub fn record_times(booking: &mut Booking, started: Option<Timestamp>, ended: Option<Timestamp>) {
    if let Some(started) = started {
        booking.meeting_started_at = Some(
            booking
                .meeting_started_at
                .map_or(started, |seen| seen.min(started)),
        );
    }
    if let Some(ended) = ended {
        booking.meeting_ended_at = Some(
            booking
                .meeting_ended_at
                .map_or(ended, |seen| seen.max(ended)),
        );
    }
    booking.meeting_duration = match (booking.meeting_started_at, booking.meeting_ended_at) {
        (Some(start), Some(end)) if end >= start => {
            let micros = end.as_micros().saturating_sub(start.as_micros());
            let minutes =
                micros.saturating_add(Timestamp::MINUTE_MICROS - 1) / Timestamp::MINUTE_MICROS;
            Some(u32::try_from(minutes).unwrap_or(u32::MAX))
        }
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use droply_models::{BookingId, UserId};

    use super::super::rooms::enqueue_room;
    use super::*;
    use crate::test_rows::paid_booking;

    /// A store with a booking in `status` whose room row is in `state` and
    /// whose room name is on it; the booking and the room's name.
    fn booking_with_room(state: RoomState, status: BookingStatus) -> (Store, Booking, String) {
        let (store, row) = paid_booking(BookingStatus::Confirmed);
        let name = VideoRoom::name_for(&store.instance_key().expect("key"), row.id);
        store
            .write(|txn| {
                enqueue_room(txn, &row)?;
                let mut room = room_in(txn, row.id)?.expect("room row");
                room.state = state;
                txn.update(room)?;
                let mut on_booking: Booking = txn.require(row.id)?;
                on_booking.status = status;
                on_booking.meeting_room_id = Some(name.clone());
                txn.update(on_booking)?;
                Ok(())
            })
            .expect("room");
        (store, row, name)
    }

    /// A Daily event of `room`: a 50-minute call and a recording.
    fn event(id: &str, kind: &str, room: &str) -> Vec<u8> {
        serde_json::json!({
            "id": id,
            "type": kind,
            "payload": {
                "room": room,
                "room_name": room,
                "start_ts": 1_799_053_200.0,
                "end_ts": 1_799_056_200.0,
                "recording_id": "rec-1",
            },
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn a_retired_room_s_events_leave_its_booking_as_it_was() {
        for (state, status) in [
            (RoomState::Created, BookingStatus::Cancelled),
            (RoomState::Deleting, BookingStatus::Cancelled),
            (RoomState::Deleted, BookingStatus::Cancelled),
            // Even were the booking still confirmed, a room on its way out
            // is not its meeting place any more.
            (RoomState::Deleting, BookingStatus::Confirmed),
            (RoomState::Deleted, BookingStatus::Confirmed),
        ] {
            let (store, row, name) = booking_with_room(state, status);
            for kind in [
                "meeting.started",
                "meeting.ended",
                "recording.ready-to-download",
            ] {
                let receipt =
                    apply_daily_event(&store, &event(kind, kind, &name)).expect("acknowledged");
                assert!(
                    receipt.applied && receipt.outcome.starts_with("ignored"),
                    "{state:?} {status:?} {kind}: {receipt:?}"
                );
            }
            let after: Booking = store.require(row.id).expect("booking");
            assert_eq!(
                (
                    after.status,
                    after.meeting_started_at,
                    after.meeting_ended_at,
                    after.meeting_duration
                ),
                (status, None, None, None),
                "{state:?} {status:?}"
            );
            assert_eq!(store.iter::<Recording>().count(), 0, "{state:?} {status:?}");
        }

        // The live room of a confirmed booking: the same events are kept.
        let (store, row, name) = booking_with_room(RoomState::Created, BookingStatus::Confirmed);
        for kind in ["meeting.ended", "recording.ready-to-download"] {
            let receipt = apply_daily_event(&store, &event(kind, kind, &name)).expect("applied");
            assert!(!receipt.outcome.starts_with("ignored"), "{receipt:?}");
        }
        let after: Booking = store.require(row.id).expect("booking");
        assert_eq!(after.meeting_duration, Some(50));
        assert_eq!(store.iter::<Recording>().count(), 1);
    }

    fn at(secs: i64) -> Timestamp {
        Timestamp::from_micros(secs * 1_000_000).expect("time")
    }

    #[test]
    fn times_merge_the_same_in_any_order() {
        let mut base = crate::test_rows::booking(UserId::new(1), UserId::new(2));
        base.id = BookingId::new(7);
        let mut in_order = base.clone();
        record_times(&mut in_order, Some(at(1_000)), None);
        record_times(&mut in_order, Some(at(1_000)), Some(at(1_000 + 61)));
        let mut reversed = base.clone();
        record_times(&mut reversed, Some(at(1_000)), Some(at(1_000 + 61)));
        record_times(&mut reversed, Some(at(1_010)), None);
        assert_eq!(in_order.meeting_started_at, Some(at(1_000)));
        assert_eq!(in_order.meeting_ended_at, Some(at(1_061)));
        assert_eq!(in_order.meeting_duration, Some(2), "61 s rounds up");
        assert_eq!(
            (
                reversed.meeting_started_at,
                reversed.meeting_ended_at,
                reversed.meeting_duration
            ),
            (
                in_order.meeting_started_at,
                in_order.meeting_ended_at,
                in_order.meeting_duration
            )
        );
    }
}
