//! Video calls for booked sessions. A booking that becomes confirmed gets
//! a Daily.co room: an outbox row ([`VideoRoom`], `rooms`) written in the
//! confirming transaction, worked through by the room job (`room_job`,
//! retrying with the backoff of `backoff`) through the Daily client
//! (`daily_client`), outside any store transaction. A party joins with a
//! fresh meeting token, or through the WebRTC fallback when Daily is off or
//! the room is missing (`meeting`). Daily's webhooks (`webhook`, verified by
//! `webhook_signature`) record when the call started and ended and which
//! recordings exist (`recordings`), for the live room of a booking that is
//! still on: a cancelled or moved booking's room is retired, and its late
//! events change nothing; download links are fetched on request.
//! `config` is how video is set up.

mod backoff;
mod config;
mod daily_client;
mod meeting;
mod recordings;
mod room_job;
mod rooms;
mod webhook;
mod webhook_signature;

pub use backoff::RetryPolicy;
pub use config::{DAILY_API_BASE, DailyConfig, VideoConfig};
pub use daily_client::{DailyClient, DailyError, DailyRoom, RecordingLink, TokenRequest};
pub use meeting::{
    MeetingAccess, MeetingPath, SignalParty, check_joinable, meeting_for, signal_party, signal_path,
};
pub use recordings::{
    MAX_RECORDINGS, Recording, RecordingRowId, is_recording_id, recording_link, recordings_of,
};
pub use room_job::{ROOM_BATCH, RoomSweep, room_sweep};
pub use rooms::{RoomState, VideoRoom, VideoRoomId};
pub(crate) use rooms::{enqueue_room, enqueue_rooms_of_confirmed, retire_room, wants_room};
pub use webhook::{DailyEvent, DailyEventRowId, DailyReceipt, apply_daily_event, record_times};
pub use webhook_signature::verify_daily;
