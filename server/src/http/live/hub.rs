//! The live hub: every drop-in room and signal relay with someone
//! connected, the cap on live connections, rooms and one member's
//! connections to a room (a newer one replaces their oldest), and the
//! message rate per participant. A drop-in room is a broadcast channel of frames in id
//! order plus a lock held while a message is stored and broadcast, so ids
//! and delivery order agree; a slow receiver falls behind the channel's
//! bounded buffer and is dropped, never holding the room up. A room lives
//! while someone holds a seat in it, a relay while someone holds a lease on
//! it: both are let go when dropped, so an upgrade that never happens (the
//! client hung up during the handshake) leaves nothing behind.

use std::collections::{HashMap, VecDeque};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use droply_models::{BookingId, DropinParticipantId, DropinSessionId};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, broadcast};

use super::signal_relay::Relay;
use crate::http::error::{ApiError, ErrorCode};
use crate::limits::LiveLimits;

/// One frame for a drop-in room: its message id (0 for none) and its JSON.
#[derive(Debug)]
pub struct RoomFrame {
    /// The stored message's id; clients skip what they already have.
    pub id: u64,
    /// The frame as sent.
    pub json: String,
    /// Whether the session ended with it: connections close after it.
    pub ends_room: bool,
}

/// A drop-in room: its broadcast channel and its posting lock.
#[derive(Debug)]
pub struct Room {
    sender: broadcast::Sender<Arc<RoomFrame>>,
    posting: tokio::sync::Mutex<()>,
}

impl Room {
    /// A receiver of every frame broadcast from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<RoomFrame>> {
        self.sender.subscribe()
    }

    /// Holds the room's posting order: store, then [`Room::broadcast`],
    /// then let go.
    pub async fn posting(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.posting.lock().await
    }

    /// Sends `frame` to everyone connected (nobody connected is fine).
    pub fn broadcast(&self, frame: RoomFrame) {
        let _ = self.sender.send(Arc::new(frame));
    }
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
    _permit: OwnedSemaphorePermit,
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
    connections: Arc<Semaphore>,
    rooms: Mutex<HashMap<DropinSessionId, RoomEntry>>,
    relays: Mutex<HashMap<BookingId, Arc<Relay>>>,
    messages: DefaultKeyedRateLimiter<(u64, u64)>,
    /// Message checks so far (the limiter is pruned every [`PRUNE_EVERY`]).
    checks: AtomicU64,
}

/// Numbers each drop-in connection, to tell a member's apart.
static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

/// Message checks between two prunings of the message limiter.
const PRUNE_EVERY: u64 = 4096;

impl LiveHub {
    /// An empty hub under `limits`.
    pub fn new(limits: &LiveLimits) -> Arc<LiveHub> {
        let per_minute = NonZeroU32::new(limits.message_rate.per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limits.message_rate.burst).unwrap_or(NonZeroU32::MIN);
        Arc::new(LiveHub {
            limits: limits.clone(),
            connections: Arc::new(Semaphore::new(limits.max_connections)),
            rooms: Mutex::new(HashMap::new()),
            relays: Mutex::new(HashMap::new()),
            messages: RateLimiter::keyed(Quota::per_minute(per_minute).allow_burst(burst)),
            checks: AtomicU64::new(0),
        })
    }

    /// The limits live connections run under.
    pub fn limits(&self) -> &LiveLimits {
        &self.limits
    }

    /// A live connection's permit; `503 overloaded` when every one is taken.
    pub fn admit(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        Arc::clone(&self.connections)
            .try_acquire_owned()
            .map_err(|_| overloaded("live connections"))
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
                let room = Arc::new(Room {
                    sender,
                    posting: tokio::sync::Mutex::new(()),
                });
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

    /// Senders the message limiter remembers now.
    pub fn tracked_senders(&self) -> usize {
        self.messages.len()
    }

    /// Counts a message from `who` (a participant id, a user id) in `scope`
    /// (a drop-in's id, a booking's: ids are unique across kinds);
    /// `429 rate_limited` over the rate.
    pub fn check_message_rate(&self, scope: u64, who: u64) -> Result<(), ApiError> {
        // Now and then forget the senders back at a full burst, so the
        // limiter holds the recently active, not everyone ever seen.
        if self.checks.fetch_add(1, Ordering::Relaxed) % PRUNE_EVERY == PRUNE_EVERY - 1 {
            self.messages.retain_recent();
            self.messages.shrink_to_fit();
        }
        self.messages
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

fn overloaded(what: &str) -> ApiError {
    ApiError::new(
        ErrorCode::Overloaded,
        format!("too many {what} open; try again shortly"),
    )
    .with_retry_after(5)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the message limiter remembered every sender ever seen.
    #[test]
    fn the_message_limiter_forgets_senders_now_and_then() {
        let hub = LiveHub::new(&LiveLimits::default());
        for who in 0..PRUNE_EVERY {
            hub.check_message_rate(1, who).expect("under the rate");
        }
        // Each sender sent one message: none is back at a full burst yet
        // (a burst refills at the rate), but the pruning ran and the map
        // holds no more than it did.
        assert!(hub.tracked_senders() <= PRUNE_EVERY as usize);
        // Forgotten once they are back at a full burst.
        std::thread::sleep(std::time::Duration::from_secs(
            60 / u64::from(LiveLimits::default().message_rate.per_minute.max(1)) + 1,
        ));
        for _ in 0..PRUNE_EVERY {
            hub.check_message_rate(2, 0).ok();
        }
        assert!(hub.tracked_senders() < 10, "{}", hub.tracked_senders());
    }

    /// Regression: a relay was forgotten only by the connection that served
    /// it, so a handshake that never upgraded (the client hung up) left its
    /// relay open for good, counting against the room cap.
    #[test]
    fn a_relay_stays_while_any_lease_is_held_and_goes_with_the_last() {
        let hub = LiveHub::new(&LiveLimits::default());
        let booking = BookingId::new(7);
        let never_upgraded = hub.relay(booking).expect("lease");
        drop(never_upgraded);
        assert_eq!(hub.open_relays(), 0);
        let first = hub.relay(booking).expect("lease");
        let second = hub.relay(booking).expect("lease");
        assert!(
            Arc::ptr_eq(&first.relay, &second.relay),
            "one relay per booking"
        );
        drop(first);
        assert_eq!(hub.open_relays(), 1, "the second party still holds it");
        let third = hub.relay(booking).expect("lease");
        assert!(
            Arc::ptr_eq(&second.relay, &third.relay),
            "still the same relay"
        );
        drop((second, third));
        assert_eq!(hub.open_relays(), 0);
    }
}
