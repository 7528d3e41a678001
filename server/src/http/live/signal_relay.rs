//! The WebRTC fallback's signal relay: when a booking's meeting has no
//! video room, its two parties find each other here and trade the offer,
//! the answer and ICE candidates; media then flows between their browsers.
//! The relay keeps one connection per side (a newer one replaces the older,
//! which is closed with 4000) and stores nothing. Each side is told when
//! the other is there (`{"type":"peer","present":true|false}`); a message
//! is an object whose `type` is `offer`, `answer`, `ice` or `bye`, passed
//! on to the other side with `from` (`client` or `provider`) added. The
//! relay closes at the session's end (1000); limits are the drop-in rooms',
//! every data frame counted against the party's message rate as it comes
//! in, and a run of frames refused over it or invalid closes it (1008),
//! except the burst: at least [`SIGNAL_RELAY_BURST`] frames, as a WebRTC
//! client may trickle dozens of ICE candidates, one a frame, within a
//! second (our own call page sends none: its offer and answer carry every
//! candidate gathered).
//! Every few seconds each connection checks again, by the rule that let it
//! in (`relay_access`), that its party may still hold it: a booking no
//! longer joinable (cancelled or rescheduled, no longer confirmed, out of
//! its window) closes it with 1000 as its end does, a credential that no
//! longer names them (signed out, the session revoked, the account
//! closed) with 4002; the other side is then told its peer left. When the
//! server shuts down each connection is closed with 1001 (going away; the
//! party reconnects, to another node if there is one), and the other side
//! is told its peer left.
//!
//! The two sides may be connected to different nodes sharing one
//! PostgreSQL store. Each node's relay then tells the others, through the
//! store's channel between nodes, what happens on it ([`RelayNote`]): a
//! side was taken (every node holding the booking's relay answers with the
//! sides it holds), a side was left, a frame for the side held elsewhere.
//! Every holder is stamped (when it connected, on which node, which
//! connection), and where two nodes hold the same side the newer holder
//! keeps it, on both. A side taken on another node may first be told its
//! peer is absent, then, a moment later, present. What goes between nodes
//! is not kept: a node that was not listening at the time misses it, as a
//! client that was not connected does.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::extract::ws::{Message, WebSocket};
use droply_engine::booking::BookingRole;
use droply_models::{BookingId, Timestamp};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use tokio::sync::mpsc::{self, error::TrySendError};

use super::hub::{FrameGate, FrameRate, LivePermit, NodeNote, RelayLease};
use super::relay_access::{self, RECHECK_EVERY, RelayParty, Standing};
use super::socket::{Beat, Outbox, Pulse, close, error_frame};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::{AppState, blocking};
use crate::limits::SIGNAL_RELAY_BURST;

/// Frames waiting for one side: a whole burst of the other side's
/// ([`SIGNAL_RELAY_BURST`], its ICE candidates sent at once) fits.
const INBOX: usize = SIGNAL_RELAY_BURST as usize;
/// The message types the relay passes on.
const SIGNALS: [&str; 4] = ["offer", "answer", "ice", "bye"];

static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

/// Who holds a side: when they connected (microseconds), on which node,
/// which connection. Ordered, so every node agrees which of two is newer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub(crate) struct Holder {
    at: i64,
    node: u64,
    connection: u64,
}

/// What one node tells the others of a booking's relay.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RelayNote {
    /// The booking.
    pub(crate) booking: u64,
    /// The side it is about: 0 the client, 1 the provider.
    side: u8,
    /// What happened.
    event: RelayEvent,
}

/// What happened on a side of a relay, on the node that tells it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RelayEvent {
    /// This holder connected to the side: nodes holding the relay answer
    /// with a `Here` for each side they hold.
    Took(Holder),
    /// This holder is connected to the side.
    Here(Holder),
    /// This holder left the side.
    Left(Holder),
    /// A frame for whoever holds the side, from the other side's holder.
    Signal {
        /// Who sent it.
        from: Holder,
        /// The frame, as passed on.
        frame: String,
    },
}

/// One booking's relay: the connection of each side on this node, and who
/// holds each side on another node, if anyone.
#[derive(Debug, Default)]
pub struct Relay {
    sides: Mutex<Sides>,
}

#[derive(Debug, Default)]
struct Sides {
    here: [Option<Side>; 2],
    elsewhere: [Option<Holder>; 2],
}

#[derive(Debug)]
struct Side {
    holder: Holder,
    inbox: mpsc::Sender<String>,
}

impl Sides {
    /// Whether `side` is held, here or on another node.
    fn present(&self, side: usize) -> bool {
        self.here[side].is_some() || self.elsewhere[side].is_some()
    }

    /// Sends `frame` to whoever holds `side` here (a full or closed inbox
    /// loses it).
    fn tell(&self, side: usize, frame: String) {
        if let Some(held) = &self.here[side] {
            let _ = held.inbox.try_send(frame);
        }
    }

    /// `holder` holds `side` on another node. The newer of it and this
    /// node's own holder keeps the side: this node's is dropped (its
    /// connection closes with 4000), or the other node drops its own when
    /// it hears of this one's.
    fn held_elsewhere(&mut self, side: usize, holder: Holder) {
        if self.here[side]
            .as_ref()
            .is_some_and(|mine| mine.holder > holder)
        {
            return;
        }
        let was_present = self.present(side);
        self.here[side] = None;
        self.elsewhere[side] = self.elsewhere[side].max(Some(holder));
        if !was_present {
            self.tell(1 - side, presence(true));
        }
    }

    /// `holder` left `side` on another node.
    fn left_elsewhere(&mut self, side: usize, holder: Holder) {
        if self.elsewhere[side] == Some(holder) {
            self.elsewhere[side] = None;
            if !self.present(side) {
                self.tell(1 - side, presence(false));
            }
        }
    }

    /// A `Here` note for each side held on this node.
    fn held_here(&self, booking: u64) -> Vec<RelayNote> {
        (0..2)
            .filter_map(|side| {
                self.here[side].as_ref().map(|held| RelayNote {
                    booking,
                    side: side as u8,
                    event: RelayEvent::Here(held.holder),
                })
            })
            .collect()
    }
}

impl Relay {
    fn sides(&self) -> MutexGuard<'_, Sides> {
        self.sides.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seats `holder` on `side` (dropping whoever sat there on this node)
    /// and tells both sides who is present; answers the note for the other
    /// nodes. A holder of the side elsewhere is older: its node drops it
    /// when the note arrives (or answers that it is newer, by its clock).
    fn take(
        &self,
        booking: BookingId,
        side: usize,
        holder: Holder,
        inbox: mpsc::Sender<String>,
    ) -> RelayNote {
        let mut sides = self.sides();
        sides.here[side] = Some(Side { holder, inbox });
        sides.elsewhere[side] = None;
        let peer_present = sides.present(1 - side);
        sides.tell(side, presence(peer_present));
        sides.tell(1 - side, presence(true));
        RelayNote {
            booking: booking.get(),
            side: side as u8,
            event: RelayEvent::Took(holder),
        }
    }

    /// Frees `side` if `holder` still holds it here, and tells the other
    /// side; answers the note for the other nodes (none when it no longer
    /// held the side).
    fn leave(&self, booking: BookingId, side: usize, holder: Holder) -> Option<RelayNote> {
        let mut sides = self.sides();
        if sides.here[side]
            .as_ref()
            .is_none_or(|held| held.holder != holder)
        {
            return None;
        }
        sides.here[side] = None;
        if !sides.present(side) {
            sides.tell(1 - side, presence(false));
        }
        Some(RelayNote {
            booking: booking.get(),
            side: side as u8,
            event: RelayEvent::Left(holder),
        })
    }

    /// Passes `frame` from `side`'s `holder` to the other side: here, or
    /// answers the note that takes it to the node holding it.
    fn pass(
        &self,
        booking: BookingId,
        side: usize,
        holder: Holder,
        frame: String,
    ) -> Result<Option<RelayNote>, ApiError> {
        let sides = self.sides();
        let peer = 1 - side;
        if let Some(held) = &sides.here[peer] {
            return match held.inbox.try_send(frame) {
                Ok(()) => Ok(None),
                Err(TrySendError::Full(_)) => Err(ApiError::new(
                    ErrorCode::Overloaded,
                    "the other party is not keeping up",
                )),
                Err(TrySendError::Closed(_)) => Err(ApiError::new(
                    ErrorCode::InvalidState,
                    "the other party is not connected",
                )),
            };
        }
        if sides.elsewhere[peer].is_some() {
            return Ok(Some(RelayNote {
                booking: booking.get(),
                side: peer as u8,
                event: RelayEvent::Signal {
                    from: holder,
                    frame,
                },
            }));
        }
        Err(ApiError::new(
            ErrorCode::InvalidState,
            "the other party is not connected yet",
        ))
    }

    /// What another node says of this relay; answers the notes to send
    /// back.
    pub(crate) fn heard(&self, note: RelayNote) -> Vec<RelayNote> {
        let side = usize::from(note.side);
        if side > 1 {
            return Vec::new();
        }
        let mut sides = self.sides();
        match note.event {
            RelayEvent::Took(holder) => {
                sides.held_elsewhere(side, holder);
                sides.held_here(note.booking)
            }
            RelayEvent::Here(holder) => {
                sides.held_elsewhere(side, holder);
                Vec::new()
            }
            RelayEvent::Left(holder) => {
                sides.left_elsewhere(side, holder);
                Vec::new()
            }
            RelayEvent::Signal { from, frame } => {
                // The sender is there: its side hears so before the frame.
                sides.held_elsewhere(1 - side, from);
                sides.tell(side, frame);
                Vec::new()
            }
        }
    }
}

/// Serves `party`'s side of booking `booking`'s relay until the session
/// ends at its `closes_at`, the client leaves, a newer connection replaces
/// it, or a check every [`RECHECK_EVERY`] finds the booking no longer
/// joinable or the party's credential gone, or the server shuts down.
pub async fn serve(
    socket: WebSocket,
    state: AppState,
    booking: BookingId,
    party: RelayParty,
    lease: RelayLease,
    permit: LivePermit,
) {
    let relay = &lease.relay;
    let (user, role) = (party.user, party.role);
    let side = match role {
        BookingRole::Client => 0,
        BookingRole::Provider => 1,
    };
    let from = match role {
        BookingRole::Client => "client",
        BookingRole::Provider => "provider",
    };
    let limits = state.live.limits().clone();
    let holder = Holder {
        at: Timestamp::now().as_micros(),
        node: state.live.node(),
        connection: CONNECTIONS.fetch_add(1, Ordering::Relaxed),
    };
    let (sink, mut stream) = socket.split();
    let mut out = Outbox::new(sink, limits.send_timeout);
    let (inbox_tx, mut inbox) = mpsc::channel(INBOX);
    let took = relay.take(booking, side, holder, inbox_tx);
    if let Err(err) = tell_nodes(&state, took).await {
        tracing::warn!(error = ?err, "the other nodes were not told of a relay's new side");
    }
    let mut pulse = Pulse::new(&limits);
    let mut gate = FrameGate::new(FrameRate::SignalRelay, booking.get(), user.get());
    let mut closes_at = party.closes_at;
    let session_over = tokio::time::sleep(until(closes_at));
    tokio::pin!(session_over);
    // The party was checked as it came in: the first check is a period on.
    let mut recheck =
        tokio::time::interval_at(tokio::time::Instant::now() + RECHECK_EVERY, RECHECK_EVERY);
    recheck.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let party = Arc::new(party);
    loop {
        tokio::select! {
            frame = inbox.recv() => match frame {
                Some(frame) => {
                    if !out.text(frame).await {
                        break;
                    }
                }
                None => {
                    out.close(close::REPLACED, "replaced by a newer connection").await;
                    break;
                }
            },
            incoming = stream.next() => {
                let Some(Ok(message)) = incoming else { break };
                pulse.heard();
                // Every data frame counts against the party's rate before
                // it is read; control frames do not.
                let answer: Result<(), ApiError> = match message {
                    Message::Text(text) => match gate.admit(&state.live) {
                        Ok(()) => match signal(relay, booking, holder, side, from, text.as_str()) {
                            Ok(Some(note)) => tell_nodes(&state, note).await,
                            Ok(None) => Ok(()),
                            Err(err) => Err(err),
                        },
                        Err(err) => Err(err),
                    },
                    Message::Binary(_) => gate.admit(&state.live).and_then(|()| {
                        Err(ApiError::new(ErrorCode::InvalidInput, "send JSON text frames"))
                    }),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => continue,
                };
                let flooding = gate.answered(&answer);
                if let Err(err) = answer
                    && !out.text(error_frame(&err)).await
                {
                    break;
                }
                if flooding {
                    out.close(
                        close::POLICY_VIOLATION,
                        "too many frames refused in a row: over the message rate or invalid",
                    )
                    .await;
                    break;
                }
            },
            beat = pulse.beat() => match beat {
                Beat::Ping => {
                    if !out.ping().await {
                        break;
                    }
                }
                Beat::Silent => {
                    out.close(close::GOING_AWAY, "idle").await;
                    break;
                }
            },
            () = &mut session_over => {
                out.close(close::NORMAL, "the session ended").await;
                break;
            }
            () = state.live.upgraded().stopping() => {
                out.close(close::GOING_AWAY, close::SHUTTING_DOWN).await;
                break;
            }
            _ = recheck.tick() => {
                let checked = Arc::clone(&party);
                let standing = blocking(&state, move |engine| {
                    relay_access::standing(engine, booking, &checked)
                })
                .await;
                match standing {
                    Ok(Standing::Joinable { closes_at: end }) => {
                        if end != closes_at {
                            closes_at = end;
                            let deadline = tokio::time::Instant::now() + until(end);
                            session_over.as_mut().reset(deadline);
                        }
                    }
                    Ok(Standing::NotJoinable) => {
                        out.close(close::NORMAL, "the booking can no longer be joined")
                            .await;
                        break;
                    }
                    Ok(Standing::SignedOut) => {
                        out.close(close::SIGNED_OUT, "signed out: sign in again").await;
                        break;
                    }
                    // The store could not answer: the next check asks again.
                    Err(err) => {
                        tracing::warn!(error = ?err, "a relay's party could not be checked again");
                    }
                }
            }
        }
    }
    if let Some(left) = relay.leave(booking, side, holder)
        && let Err(err) = tell_nodes(&state, left).await
    {
        tracing::warn!(error = ?err, "the other nodes were not told a relay's side left");
    }
    drop(lease);
    drop(permit);
}

/// Tells the other nodes sharing the store `note`; nothing to do on sled,
/// which one node serves.
async fn tell_nodes(state: &AppState, note: RelayNote) -> Result<(), ApiError> {
    if !state.engine.store().is_postgres() {
        return Ok(());
    }
    let message = NodeNote::Relay(note).to_message();
    blocking(state, move |engine| engine.store().tell_nodes(&message)).await
}

/// Checks one client frame (counted against the party's message rate
/// already, as it came in) and passes it on; answers the note that takes
/// it to another node, when the other side is connected there.
fn signal(
    relay: &Relay,
    booking: BookingId,
    holder: Holder,
    side: usize,
    from: &str,
    text: &str,
) -> Result<Option<RelayNote>, ApiError> {
    let invalid = |message: &str| ApiError::new(ErrorCode::InvalidInput, message.to_owned());
    let Ok(Value::Object(mut frame)) = serde_json::from_str::<Value>(text) else {
        return Err(invalid("a signal is a JSON object with a type"));
    };
    let kind = frame
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if !SIGNALS.contains(&kind) {
        return Err(invalid("type must be offer, answer, ice or bye"));
    }
    if matches!(kind, "offer" | "answer") && !frame.get("sdp").is_some_and(Value::is_string) {
        return Err(invalid("an offer or answer carries its sdp as a string"));
    }
    if kind == "ice" && !frame.contains_key("candidate") {
        return Err(invalid("an ice message carries its candidate"));
    }
    frame.insert("from".to_owned(), Value::String(from.to_owned()));
    relay.pass(booking, side, holder, Value::Object(frame).to_string())
}

/// How long from now until `at` (nothing once it has passed).
fn until(at: Timestamp) -> Duration {
    at.signed_duration_since(Timestamp::now())
        .to_std()
        .unwrap_or_default()
}

fn presence(present: bool) -> String {
    let mut frame = Map::new();
    frame.insert("type".to_owned(), Value::String("peer".to_owned()));
    frame.insert("present".to_owned(), Value::Bool(present));
    Value::Object(frame).to_string()
}

#[cfg(test)]
mod tests;
