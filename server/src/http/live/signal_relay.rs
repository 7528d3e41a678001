//! The WebRTC fallback's signal relay: when a booking's meeting has no
//! video room, its two parties find each other here and trade the offer,
//! the answer and ICE candidates; media then flows between their browsers.
//! The relay keeps one connection per side (a newer one replaces the older,
//! which is closed with 4000) and stores nothing. Each side is told when
//! the other is there (`{"type":"peer","present":true|false}`); a message
//! is an object whose `type` is `offer`, `answer`, `ice` or `bye`, passed
//! on to the other side with `from` (`client` or `provider`) added. The
//! relay closes at the session's end; limits are the drop-in rooms'.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use axum::extract::ws::{Message, WebSocket};
use droply_engine::booking::BookingRole;
use droply_models::{BookingId, Timestamp, UserId};
use futures_util::StreamExt;
use serde_json::{Map, Value};
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::mpsc::{self, error::TrySendError};

use super::hub::RelayLease;
use super::socket::{Beat, Outbox, Pulse, close, error_frame};
use crate::http::AppState;
use crate::http::error::{ApiError, ErrorCode};

/// Frames waiting for one side.
const INBOX: usize = 64;
/// The message types the relay passes on.
const SIGNALS: [&str; 4] = ["offer", "answer", "ice", "bye"];

static CONNECTIONS: AtomicU64 = AtomicU64::new(1);

/// One booking's relay: the connection of each side, if any.
#[derive(Debug, Default)]
pub struct Relay {
    sides: Mutex<[Option<Side>; 2]>,
}

#[derive(Debug)]
struct Side {
    connection: u64,
    inbox: mpsc::Sender<String>,
}

impl Relay {
    fn sides(&self) -> MutexGuard<'_, [Option<Side>; 2]> {
        self.sides.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Seats `connection` on `side` (dropping whoever sat there) and tells
    /// both sides who is present.
    fn take(&self, side: usize, connection: u64, inbox: mpsc::Sender<String>) {
        let mut sides = self.sides();
        sides[side] = Some(Side { connection, inbox });
        let peer_present = sides[1 - side].is_some();
        if let Some(me) = &sides[side] {
            let _ = me.inbox.try_send(presence(peer_present));
        }
        if let Some(peer) = &sides[1 - side] {
            let _ = peer.inbox.try_send(presence(true));
        }
    }

    /// Frees `side` if `connection` still holds it, and tells the other side.
    fn leave(&self, side: usize, connection: u64) {
        let mut sides = self.sides();
        if sides[side]
            .as_ref()
            .is_some_and(|s| s.connection == connection)
        {
            sides[side] = None;
            if let Some(peer) = &sides[1 - side] {
                let _ = peer.inbox.try_send(presence(false));
            }
        }
    }

    /// Passes `frame` to the side opposite `side`.
    fn pass(&self, side: usize, frame: String) -> Result<(), ApiError> {
        let sides = self.sides();
        let Some(peer) = &sides[1 - side] else {
            return Err(ApiError::new(
                ErrorCode::InvalidState,
                "the other party is not connected yet",
            ));
        };
        match peer.inbox.try_send(frame) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(ApiError::new(
                ErrorCode::Overloaded,
                "the other party is not keeping up",
            )),
            Err(TrySendError::Closed(_)) => Err(ApiError::new(
                ErrorCode::InvalidState,
                "the other party is not connected",
            )),
        }
    }
}

/// Serves one side of booking `booking`'s relay until the session ends at
/// `closes_at`, the client leaves, or a newer connection replaces it.
pub async fn serve(
    socket: WebSocket,
    state: AppState,
    booking: BookingId,
    who: (UserId, BookingRole),
    closes_at: Timestamp,
    lease: RelayLease,
    permit: OwnedSemaphorePermit,
) {
    let relay = &lease.relay;
    let (user, role) = who;
    let side = match role {
        BookingRole::Client => 0,
        BookingRole::Provider => 1,
    };
    let from = match role {
        BookingRole::Client => "client",
        BookingRole::Provider => "provider",
    };
    let limits = state.live.limits().clone();
    let connection = CONNECTIONS.fetch_add(1, Ordering::Relaxed);
    let (sink, mut stream) = socket.split();
    let mut out = Outbox::new(sink, limits.send_timeout);
    let (inbox_tx, mut inbox) = mpsc::channel(INBOX);
    relay.take(side, connection, inbox_tx);
    let mut pulse = Pulse::new(&limits);
    let until_end = closes_at
        .signed_duration_since(Timestamp::now())
        .to_std()
        .unwrap_or_default();
    let session_over = tokio::time::sleep(until_end);
    tokio::pin!(session_over);
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
                let answer = match message {
                    Message::Text(text) => signal(&state, relay, booking, user, side, from, text.as_str()),
                    Message::Binary(_) => Err(ApiError::new(ErrorCode::InvalidInput, "send JSON text frames")),
                    Message::Close(_) => break,
                    Message::Ping(_) | Message::Pong(_) => Ok(()),
                };
                if let Err(err) = answer
                    && !out.text(error_frame(&err)).await
                {
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
        }
    }
    relay.leave(side, connection);
    drop(lease);
    drop(permit);
}

/// Checks one client frame and passes it on.
fn signal(
    state: &AppState,
    relay: &Relay,
    booking: BookingId,
    user: UserId,
    side: usize,
    from: &str,
    text: &str,
) -> Result<(), ApiError> {
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
    state.live.check_message_rate(booking.get(), user.get())?;
    frame.insert("from".to_owned(), Value::String(from.to_owned()));
    relay.pass(side, Value::Object(frame).to_string())
}

fn presence(present: bool) -> String {
    let mut frame = Map::new();
    frame.insert("type".to_owned(), Value::String("peer".to_owned()));
    frame.insert("present".to_owned(), Value::Bool(present));
    Value::Object(frame).to_string()
}
