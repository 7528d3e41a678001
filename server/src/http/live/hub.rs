//! The live hub: every drop-in room and signal relay with someone
//! connected on this node, the cap on live connections, rooms and one
//! member's connections to a room (a newer one replaces their oldest), and
//! the message rate per participant. A drop-in room is a broadcast channel
//! of the stored messages of its drop-in, in id order: they come from the
//! node's reader of the store's feed (`room_feed`), which sees what every
//! node stores, so a room's connections get every message whichever node
//! took it. A slow receiver falls behind the channel's bounded buffer and
//! is dropped, never holding the room up. A relay's two sides may be
//! connected to different nodes: the hub hears what the other nodes say of
//! the relays it holds (a [`NodeListener`] of the store) and hands it to
//! them (`signal_relay`). A relay's frames are counted against a larger
//! burst than a room's ([`SIGNAL_RELAY_BURST`], for ICE candidates trickled
//! one a frame), at the same sustained rate. A room lives while someone
//! holds a seat in it, a relay while someone holds a lease on it: both are
//! let go when dropped, so an upgrade that never happens (the client hung
//! up during the handshake) leaves nothing behind. Every live connection's
//! permit also holds a place in the hub's [`UpgradedConnections`], which
//! the accept loop tells to close when the server shuts down and waits for.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use droply_engine::Store;
use droply_engine::store::NodeListener;
use droply_models::{BookingId, DropinParticipantId, DropinSessionId};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use serde::{Deserialize, Serialize};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast};
use tokio_util::task::task_tracker::TaskTrackerToken;

use super::room_feed;
use super::signal_relay::{Relay, RelayNote};
use crate::http::error::{ApiError, ErrorCode};
use crate::limits::{LiveLimits, MAX_REFUSED_FRAMES_IN_A_ROW, SIGNAL_RELAY_BURST};
use crate::serve_loop::UpgradedConnections;

/// One stored message for a drop-in room: its id and its JSON.
#[derive(Debug)]
pub struct RoomFrame {
    /// The stored message's id; clients skip what they already have.
    pub id: u64,
    /// The frame as sent.
    pub json: String,
    /// Whether the session ended with it: connections close after it.
    pub ends_room: bool,
}

/// What a room's connections are handed.
#[derive(Debug)]
pub enum RoomEvent {
    /// A stored message, in id order.
    Message(RoomFrame),
    /// The node's feed reader may have missed messages (it fell behind the
    /// feed's truncation): read the store for what came after the last id
    /// sent.
    Missed,
}

/// A drop-in room: its broadcast channel.
#[derive(Debug)]
pub struct Room {
    sender: broadcast::Sender<Arc<RoomEvent>>,
}

impl Room {
    /// A receiver of every event broadcast from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RoomEvent>> {
        self.sender.subscribe()
    }

    /// Sends `frame` to everyone connected (nobody connected is fine).
    /// Only the node's feed reader calls it, in id order.
    pub(crate) fn broadcast(&self, frame: RoomFrame) {
        let _ = self.sender.send(Arc::new(RoomEvent::Message(frame)));
    }

    /// Tells everyone connected to read the store again.
    pub(crate) fn missed(&self) {
        let _ = self.sender.send(Arc::new(RoomEvent::Missed));
    }
}

/// What one node tells the others through the store
/// ([`Store::tell_nodes`]).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum NodeNote {
    /// Something that happened on a booking's relay.
    Relay(RelayNote),
}

impl NodeNote {
    /// The note as a message between nodes.
    pub(crate) fn to_message(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// A live connection's place under the cap on live connections, and in
/// the connections shutdown waits for: both let go when dropped.
#[derive(Debug)]
pub struct LivePermit {
    _permit: OwnedSemaphorePermit,
    _open: TaskTrackerToken,
}

/// A place in a room: while it is held the room stays, and the connection
/// counts against the cap.
#[derive(Debug)]
pub struct Seat {
    /// The room.
    pub room: Arc<Room>,
    /// Told when a newer connection of the same member replaces this one.
    pub replaced: Arc<Notify>,
    session: DropinSessionId,
    member: DropinParticipantId,
    connection: u64,
    hub: Arc<LiveHub>,
    _permit: LivePermit,
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut rooms = self.hub.rooms();
        let Some(entry) = rooms.get_mut(&self.session) else {
            return;
        };
        if !Arc::ptr_eq(&entry.room, &self.room) {
            return;
        }
        entry.seats = entry.seats.saturating_sub(1);
        if let Some(held) = entry.members.get_mut(&self.member) {
            held.retain(|(connection, _)| *connection != self.connection);
            if held.is_empty() {
                entry.members.remove(&self.member);
            }
        }
        if entry.seats == 0 {
            rooms.remove(&self.session);
        }
    }
}

/// A hold on a booking's relay: while any is held the relay stays (taken
/// before the upgrade, so a second party arriving as the first leaves
/// still meets the same relay).
#[derive(Debug)]
pub struct RelayLease {
    /// The relay.
    pub relay: Arc<Relay>,
    booking: BookingId,
    hub: Arc<LiveHub>,
}

impl Drop for RelayLease {
    fn drop(&mut self) {
        let mut relays = self.hub.relays();
        // The map holds one reference and each lease one: this is the last
        // lease when only the map's and its own remain. Leases are made
        // under the same lock, so none can appear meanwhile.
        if relays
            .get(&self.booking)
            .is_some_and(|relay| Arc::ptr_eq(relay, &self.relay))
            && Arc::strong_count(&self.relay) <= 2
        {
            relays.remove(&self.booking);
        }
    }
}

#[derive(Debug)]
struct RoomEntry {
    room: Arc<Room>,
    seats: usize,
    /// Each member's connections, oldest first, and how to replace each.
    members: HashMap<DropinParticipantId, VecDeque<(u64, Arc<Notify>)>>,
}

/// Every live room and relay of one server.
#[derive(Debug)]
pub struct LiveHub {
    limits: LiveLimits,
    /// This node among those sharing the store (a random number).
    node: u64,
    connections: Arc<Semaphore>,
    /// The live connections, as the accept loop sees them at shutdown.
    upgraded: UpgradedConnections,
    rooms: Mutex<HashMap<DropinSessionId, RoomEntry>>,
    relays: Mutex<HashMap<BookingId, Arc<Relay>>>,
    /// The message rate of drop-in rooms' members.
    messages: DefaultKeyedRateLimiter<(u64, u64)>,
    /// The message rate of signal relays' parties: the same sustained rate,
    /// a burst of at least [`SIGNAL_RELAY_BURST`].
    signals: DefaultKeyedRateLimiter<(u64, u64)>,
    /// Message checks so far (the limiters are pruned every [`PRUNE_EVERY`]).
    checks: AtomicU64,
}

/// Numbers each drop-in connection, to tell a member's apart.
static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

/// Message checks between two prunings of the message limiters.
const PRUNE_EVERY: u64 = 4096;

impl LiveHub {
    /// An empty hub under `limits` over `store`: its rooms follow the
    /// messages every node stores there (a reader of the feed starts now,
    /// on a thread of its own, and stops when the hub is dropped), and its
    /// relays hear what the other nodes sharing the store say of them.
    pub fn new(limits: &LiveLimits, store: &Store) -> Arc<LiveHub> {
        let per_minute = NonZeroU32::new(limits.message_rate.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.message_rate.burst).unwrap_or(NonZeroU32::MIN);
        let signal_burst = NonZeroU32::new(limits.message_rate.burst.max(SIGNAL_RELAY_BURST))
            .unwrap_or(NonZeroU32::MIN);
        let hub = Arc::new(LiveHub {
            limits: limits.clone(),
            node: rand::random::<u64>(),
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            upgraded: UpgradedConnections::new(),
            rooms: Mutex::new(HashMap::new()),
            relays: Mutex::new(HashMap::new()),
            messages: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            signals: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(signal_burst)),
            checks: AtomicU64::new(0),
        });
        room_feed::follow(&hub, store);
        let listener: Weak<LiveHub> = Arc::downgrade(&hub);
        store.listen_to_nodes(listener);
        hub
    }

    /// This node among those sharing the store.
    pub fn node(&self) -> u64 {
        self.node
    }

    /// The limits live connections run under.
    pub fn limits(&self) -> &LiveLimits {
        &self.limits
    }

    /// The live connections: told to close when the server shuts down
    /// ([`crate::startup::serve_until`] hands them to the accept loop).
    pub fn upgraded(&self) -> &UpgradedConnections {
        &self.upgraded
    }

    /// A live connection's permit; `503 overloaded` when every one is taken.
    /// Shutdown waits for it to be dropped (within its grace period).
    pub fn admit(&self) -> Result<LivePermit, ApiError> {
        let permit = Arc::clone(&self.connections)
            .try_acquire_owned()
            .map_err(|_| overloaded("live connections"))?;
        Ok(LivePermit {
            _permit: permit,
            _open: self.upgraded.hold(),
        })
    }

    /// A seat for `member` in the room of drop-in `session`, opening the
    /// room if needed; `503 overloaded` when the connection or room cap is
    /// reached. A member holding [`LiveLimits::max_connections_per_member`]
    /// already has their oldest connection replaced (it closes with 4000):
    /// a reconnect is never locked out by a connection not yet seen gone.
    pub fn enter(
        self: &Arc<Self>,
        session: DropinSessionId,
        member: DropinParticipantId,
    ) -> Result<Seat, ApiError> {
        let permit = self.admit()?;
        let connection = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
        let replaced = Arc::new(Notify::new());
        let mut rooms = self.rooms();
        let room = match rooms.get_mut(&session) {
            Some(entry) => {
                let held = entry.members.entry(member).or_default();
                while held.len() >= self.limits.max_connections_per_member.max(1) {
                    if let Some((_, oldest)) = held.pop_front() {
                        oldest.notify_one();
                    }
                }
                held.push_back((connection, Arc::clone(&replaced)));
                entry.seats += 1;
                Arc::clone(&entry.room)
            }
            None => {
                if rooms.len() + self.relays().len() >= self.limits.max_rooms {
                    return Err(overloaded("live rooms"));
                }
                let (sender, _) = broadcast::channel(self.limits.send_buffer.max(1));
                let room = Arc::new(Room { sender });
                rooms.insert(
                    session,
                    RoomEntry {
                        room: Arc::clone(&room),
                        seats: 1,
                        members: HashMap::from([(
                            member,
                            VecDeque::from([(connection, Arc::clone(&replaced))]),
                        )]),
                    },
                );
                room
            }
        };
        Ok(Seat {
            room,
            replaced,
            session,
            member,
            connection,
            hub: Arc::clone(self),
            _permit: permit,
        })
    }

    /// The room of drop-in `session` if anyone is connected to it.
    pub fn room(&self, session: DropinSessionId) -> Option<Arc<Room>> {
        self.rooms()
            .get(&session)
            .map(|entry| Arc::clone(&entry.room))
    }

    /// Every room open now.
    pub(crate) fn open_rooms(&self) -> Vec<Arc<Room>> {
        self.rooms()
            .values()
            .map(|entry| Arc::clone(&entry.room))
            .collect()
    }

    /// A lease on the relay of booking `booking`, opened if needed; `503
    /// overloaded` at the room cap.
    pub fn relay(self: &Arc<Self>, booking: BookingId) -> Result<RelayLease, ApiError> {
        let rooms = self.rooms().len();
        let mut relays = self.relays();
        let relay = match relays.get(&booking) {
            Some(relay) => Arc::clone(relay),
            None => {
                if rooms + relays.len() >= self.limits.max_rooms {
                    return Err(overloaded("live rooms"));
                }
                let relay = Arc::new(Relay::default());
                relays.insert(booking, Arc::clone(&relay));
                relay
            }
        };
        Ok(RelayLease {
            relay,
            booking,
            hub: Arc::clone(self),
        })
    }

    /// Relays open now.
    pub fn open_relays(&self) -> usize {
        self.relays().len()
    }

    /// Senders the message limiters remember now.
    pub fn tracked_senders(&self) -> usize {
        self.messages.len() + self.signals.len()
    }

    /// Counts a message from `who` (a participant id, a user id) in `scope`
    /// (a drop-in's id, a booking's: ids are unique across kinds) against
    /// `rate`; `429 rate_limited` over it.
    pub fn check_message_rate(
        &self,
        rate: FrameRate,
        scope: u64,
        who: u64,
    ) -> Result<(), ApiError> {
        // Now and then forget the senders back at a full burst, so the
        // limiters hold the recently active, not everyone ever seen.
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            for limiter in [&self.messages, &self.signals] {
                limiter.retain_recent();
                limiter.shrink_to_fit();
            }
        }
        let limiter = match rate {
            FrameRate::Room => &self.messages,
            FrameRate::SignalRelay => &self.signals,
        };
        limiter
            .check_key(&(scope, who))
            .map_err(|_| ApiError::new(ErrorCode::RateLimited, "too many messages; slow down"))
    }

    /// Live connections open now.
    pub fn open_connections(&self) -> usize {
        self.limits.max_connections - self.connections.available_permits()
    }

    fn rooms(&self) -> MutexGuard<'_, HashMap<DropinSessionId, RoomEntry>> {
        self.rooms.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn relays(&self) -> MutexGuard<'_, HashMap<BookingId, Arc<Relay>>> {
        self.relays.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Which message rate a live connection's frames count against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameRate {
    /// A drop-in room's: `--live-message-rate` and its burst as configured.
    Room,
    /// A booking call's signal relay: the same sustained rate, with a burst
    /// of at least [`SIGNAL_RELAY_BURST`], so a WebRTC client trickling
    /// its ICE candidates one a frame sets its call up unrefused.
    SignalRelay,
}

/// The message rate of one live connection's sender, as its frames come
/// in: every data frame (text or binary, good or bad; never a ping, pong
/// or close) is counted against the rate before it is read ([`admit`]),
/// so a flood of malformed frames is limited as messages are, and a run of
/// [`MAX_REFUSED_FRAMES_IN_A_ROW`] frames refused over the rate or invalid
/// ([`answered`]) ends the connection (1008).
///
/// [`admit`]: FrameGate::admit
/// [`answered`]: FrameGate::answered
#[derive(Debug)]
pub struct FrameGate {
    rate: FrameRate,
    scope: u64,
    who: u64,
    refused_in_a_row: u32,
}

impl FrameGate {
    /// The gate of `who`'s frames in `scope` under `rate`, keyed as
    /// [`LiveHub::check_message_rate`] keys them.
    pub fn new(rate: FrameRate, scope: u64, who: u64) -> Self {
        FrameGate {
            rate,
            scope,
            who,
            refused_in_a_row: 0,
        }
    }

    /// Counts one incoming data frame; `429 rate_limited` over the rate
    /// (the frame is then not read).
    pub fn admit(&self, hub: &LiveHub) -> Result<(), ApiError> {
        hub.check_message_rate(self.rate, self.scope, self.who)
    }

    /// Notes how a frame was answered; `true` when this was the
    /// [`MAX_REFUSED_FRAMES_IN_A_ROW`]th frame in a row refused over the
    /// rate or as invalid: the connection is then closed (1008).
    pub fn answered(&mut self, answer: &Result<(), ApiError>) -> bool {
        match answer {
            Err(err) if matches!(err.code(), ErrorCode::RateLimited | ErrorCode::InvalidInput) => {
                self.refused_in_a_row = self.refused_in_a_row.saturating_add(1);
                self.refused_in_a_row >= MAX_REFUSED_FRAMES_IN_A_ROW
            }
            _ => {
                self.refused_in_a_row = 0;
                false
            }
        }
    }
}

impl NodeListener for LiveHub {
    /// What another node says of a relay this node holds goes to it; what
    /// it answers goes back. Notes of relays not open here are not ours.
    fn heard(&self, message: &str) -> Vec<String> {
        let Ok(NodeNote::Relay(note)) = serde_json::from_str::<NodeNote>(message) else {
            return Vec::new();
        };
        // Under the map's lock, as a lease's last drop checks who else
        // holds the relay.
        let relays = self.relays();
        let Some(relay) = relays.get(&BookingId::new(note.booking)) else {
            return Vec::new();
        };
        relay
            .heard(note)
            .into_iter()
            .map(|answer| NodeNote::Relay(answer).to_message())
            .collect()
    }
}

fn overloaded(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Overloaded,
        format!("too many {what} open; try again shortly"),
    )
    .with_retry_after(5)
}

#[cfg(test)]
mod tests;
