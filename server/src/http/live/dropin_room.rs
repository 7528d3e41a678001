//! One connection to a drop-in room. It subscribes to the room first, says
//! who it is (`welcome`), announces itself (a stored `joined` notice, and
//! `left` at the end, within the member's message rate), then
//! sends what the client has not seen from the store (everything after the
//! `after` id it gave, or the whole history) and from then on the room's
//! frames, skipping any id it already sent: so every message arrives once,
//! in id order, even across a reconnect. A room's frames are the messages
//! every node stores, handed on by this node's feed reader (`room_feed`)
//! in id order, which is commit order; so a frame at or below the last id
//! sent was sent already, and reading the store after the last id sent
//! skips nothing. What the client sends is checked, rate limited and
//! stored; it comes back to the room, here and on every other node, through
//! the feed. A client's mistake answers an `error` frame to it alone. While
//! open, the connection keeps renewing the member's seat (`DropinSeat`),
//! catching up from the store at each renewal (and when the feed reader
//! says it missed messages). It ends when
//! the client leaves, falls behind the room's buffer (close 1013: reconnect
//! with the last id seen), is replaced by a newer connection of the same
//! member past their few (4000), stays silent past the idle timeout (1001), loses
//! its seat (4001: join again), loses the sign-in that admitted it (4002: the
//! host signed out, signed out everywhere or closed their account; found at
//! the next renewal, and every write refuses them from then on), sends a
//! run of frames refused over its message rate or invalid (1008: every
//! data frame counts against the rate as it comes in), the session
//! ends (1000), or the server shuts down (1001, reason `server shutting
//! down`: reconnect with the last id seen, to another node if there is one).

use axum::extract::ws::{Message, WebSocket};
use droply_engine::Engine;
use droply_engine::dropins::{Member, NewMessage, Posted, Presence, Renewal};
use droply_models::{DropinMessageId, DropinMessageType};
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::hub::{FrameGate, FrameRate, RoomEvent, RoomFrame, Seat};
use super::socket::{Beat, Outbox, Pulse, close, error_frame};
use crate::http::error::{ApiError, ErrorCode};
use crate::http::views::{AuthorView, MessageView};
use crate::http::{AppState, blocking};

/// Messages read from the store per page when catching a client up.
const CATCH_UP_PAGE: usize = 500;

/// The first frame: who the client is in the room.
#[derive(Serialize)]
struct Welcome<'a> {
    kind: &'static str,
    session_id: u64,
    you: &'a AuthorView,
}

/// What a client sends: a message (`question`, `answer`, `comment`,
/// `reaction`) or, from the host, `remove`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    content: Option<String>,
    reply_to: Option<u64>,
    message_id: Option<u64>,
}

/// Why a connection ended.
enum Ending {
    /// The client left or could not be written to.
    Gone,
    /// The host ended the session.
    Ended,
    /// The client fell behind the room.
    TooSlow,
    /// The client was silent too long.
    Silent,
    /// The member's seat was taken back (it lapsed, as the server could
    /// not renew it in time).
    SeatLost,
    /// A newer connection of the same member replaced this one.
    Replaced,
    /// The sign-in session that admitted the member (the host's) is gone
    /// or expired: signed out, signed out everywhere, the account closed.
    SignedOut,
    /// The client sent too many frames in a row that were refused, over
    /// its message rate or invalid.
    Flooding,
    /// The server is shutting down.
    ShuttingDown,
}

/// Serves `member` on `socket` in the room of `seat`, starting after
/// message `after` (0: from the beginning).
pub async fn serve(socket: WebSocket, state: AppState, member: Member, after: u64, seat: Seat) {
    let limits = state.live.limits().clone();
    let (sink, mut stream) = socket.split();
    let mut out = Outbox::new(sink, limits.send_timeout);
    let mut frames = seat.room.subscribe();
    let you = AuthorView::from(&member.author);
    let welcome = Welcome {
        kind: "welcome",
        session_id: member.session.id.get(),
        you: &you,
    };
    if !out.text(json(&welcome)).await {
        return;
    }
    // A presence notice counts against the member's message rate, so a
    // client reconnecting in a loop cannot grow the history without bound:
    // past the rate the connection is served without notices.
    // The member's frames count against the same rate, each as it comes in.
    let mut gate = FrameGate::new(
        FrameRate::Room,
        member.session.id.get(),
        member.participant.id.get(),
    );
    let announced = gate.admit(&state.live).is_ok();
    if announced {
        let joined = member.clone();
        // The session may have ended since the member was let in: then there
        // is no notice, and the catch-up below sends the end and closes the room.
        let _ = store(&state, move |engine| {
            engine.dropin_presence(&joined, Presence::Joined)
        })
        .await;
    }
    // A client gone during the catch-up still gets its `left` notice below.
    let ending = 'served: {
        let mut last = match catch_up(&state, &member, after, &mut out).await {
            CaughtUp::To(last) => last,
            // The session ended before the room was subscribed to: its end
            // notice came from the store, and no frame will follow it.
            CaughtUp::Ended => break 'served Ending::Ended,
            CaughtUp::Gone => break 'served Ending::Gone,
        };
        let mut pulse = Pulse::new(&limits);
        // The first tick renews the seat at once; then one every period.
        let mut renewal = tokio::time::interval(limits.seat_renew_every);
        renewal.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = renewal.tick() => {
                    let kept = member.clone();
                    let held = blocking(&state, move |engine| engine.renew_dropin_seat(&kept)).await;
                    match held {
                        Ok(Renewal::Held) => {}
                        Ok(Renewal::SeatLost) => break Ending::SeatLost,
                        Ok(Renewal::SignedOut) => break Ending::SignedOut,
                        Err(err) => tracing::warn!(error = ?err, "a drop-in seat could not be renewed"),
                    }
                    // Every stored message comes as a room frame through the
                    // feed reader; reading what came since is the net under
                    // it (a reader that could not read the store meanwhile),
                    // and delivers the end notice of a session that ended
                    // by itself in any case.
                    match catch_up(&state, &member, last, &mut out).await {
                        CaughtUp::To(caught) => last = caught,
                        CaughtUp::Ended => break Ending::Ended,
                        CaughtUp::Gone => break Ending::Gone,
                    }
                },
                event = frames.recv() => match event.as_deref() {
                    Ok(RoomEvent::Message(frame)) => {
                        // Frames come in id order, and the store holds every
                        // id below one it holds: an id at or below `last` was
                        // sent, from the store or the room.
                        if frame.id > last {
                            if !out.text(frame.json.clone()).await {
                                break Ending::Gone;
                            }
                            last = frame.id;
                        }
                        if frame.ends_room {
                            break Ending::Ended;
                        }
                    }
                    Ok(RoomEvent::Missed) => match catch_up(&state, &member, last, &mut out).await {
                        CaughtUp::To(caught) => last = caught,
                        CaughtUp::Ended => break Ending::Ended,
                        CaughtUp::Gone => break Ending::Gone,
                    },
                    Err(RecvError::Lagged(_)) => break Ending::TooSlow,
                    Err(RecvError::Closed) => break Ending::Gone,
                },
                incoming = stream.next() => {
                    let Some(Ok(message)) = incoming else { break Ending::Gone };
                    pulse.heard();
                    // Every data frame counts against the member's rate
                    // before it is read; control frames do not.
                    let answer: Result<(), ApiError> = match message {
                        Message::Text(text) => match gate.admit(&state.live) {
                            Ok(()) => handle(&state, &member, text.as_str()).await,
                            Err(err) => Err(err),
                        },
                        Message::Binary(_) => gate.admit(&state.live).and_then(|()| {
                            Err(ApiError::new(ErrorCode::InvalidInput, "send JSON text frames"))
                        }),
                        Message::Close(_) => break Ending::Gone,
                        Message::Ping(_) | Message::Pong(_) => continue,
                    };
                    let flooding = gate.answered(&answer);
                    if let Err(err) = answer
                        && !out.text(error_frame(&err)).await
                    {
                        break Ending::Gone;
                    }
                    if flooding {
                        break Ending::Flooding;
                    }
                },
                () = seat.replaced.notified() => break Ending::Replaced,
                () = state.live.upgraded().stopping() => break Ending::ShuttingDown,
                beat = pulse.beat() => match beat {
                    Beat::Ping => {
                        if !out.ping().await {
                            break Ending::Gone;
                        }
                    }
                    Beat::Silent => break Ending::Silent,
                },
            }
        }
    };
    match ending {
        Ending::Ended => out.close(close::NORMAL, "the drop-in ended").await,
        Ending::TooSlow => {
            out.close(
                close::TRY_AGAIN_LATER,
                "too far behind; reconnect with after=<last id>",
            )
            .await;
        }
        Ending::Silent => out.close(close::GOING_AWAY, "idle").await,
        Ending::ShuttingDown => out.close(close::GOING_AWAY, close::SHUTTING_DOWN).await,
        Ending::SeatLost => {
            out.close(close::SEAT_LOST, "your seat was given up; join again")
                .await;
        }
        Ending::Replaced => {
            out.close(close::REPLACED, "replaced by a newer connection of yours")
                .await;
        }
        Ending::SignedOut => {
            out.close(close::SIGNED_OUT, "signed out: sign in again")
                .await
        }
        Ending::Flooding => {
            out.close(
                close::POLICY_VIOLATION,
                "too many frames refused in a row: over the message rate or invalid",
            )
            .await;
        }
        Ending::Gone => {}
    }
    if announced && !matches!(ending, Ending::Ended) {
        let left = member.clone();
        // The session may have ended meanwhile: then nobody needs the notice.
        let _ = store(&state, move |engine| {
            engine.dropin_presence(&left, Presence::Left)
        })
        .await;
    }
    drop(seat);
}

/// Where a catch-up left the client.
enum CaughtUp {
    /// Sent everything up to this message id.
    To(u64),
    /// Sent the session's end notice: the room is over.
    Ended,
    /// The client is gone (or the store could not be read).
    Gone,
}

/// Sends the client everything after `after` from the store.
async fn catch_up(state: &AppState, member: &Member, after: u64, out: &mut Outbox) -> CaughtUp {
    let session = member.session.id;
    let mut last = after;
    loop {
        let from = DropinMessageId::new(last);
        let read = blocking(state, move |engine| {
            engine.dropin_messages_after(session, from, CATCH_UP_PAGE)
        })
        .await;
        let Ok(page) = read else {
            return CaughtUp::Gone;
        };
        for posted in &page {
            let frame = room_frame(posted);
            if !out.text(frame.json).await {
                return CaughtUp::Gone;
            }
            if frame.ends_room {
                return CaughtUp::Ended;
            }
            last = frame.id;
        }
        if page.len() < CATCH_UP_PAGE {
            return CaughtUp::To(last);
        }
    }
}

/// Checks and stores one client frame (counted against the member's
/// message rate already, as it came in).
async fn handle(state: &AppState, member: &Member, text: &str) -> Result<(), ApiError> {
    let frame: ClientFrame = serde_json::from_str(text).map_err(|err| {
        ApiError::new(
            crate::http::error::ErrorCode::InvalidInput,
            format!("a message is {{\"type\", \"content\", \"reply_to\"?}}: {err}"),
        )
    })?;
    let member = member.clone();
    if frame.kind == "remove" {
        let target = frame.message_id.ok_or_else(|| {
            ApiError::new(
                crate::http::error::ErrorCode::InvalidInput,
                "remove names the message_id",
            )
        })?;
        return store(state, move |engine| {
            engine.remove_dropin_message(&member, DropinMessageId::new(target))
        })
        .await;
    }
    let message_type: DropinMessageType = frame.kind.parse().map_err(|_| {
        ApiError::new(
            crate::http::error::ErrorCode::InvalidInput,
            "type must be question, answer, comment, reaction or remove",
        )
    })?;
    let message = NewMessage {
        message_type,
        content: frame.content.unwrap_or_default(),
        reply_to: frame.reply_to.map(DropinMessageId::new),
    };
    store(state, move |engine| {
        engine.post_dropin_message(&member, message)
    })
    .await
}

/// Stores a message through `work`. It reaches the rooms of every node,
/// this one's included, through their feed readers (`room_feed`), in id
/// order with what the other nodes store.
async fn store(
    state: &AppState,
    work: impl FnOnce(&Engine) -> droply_engine::Result<Posted> + Send + 'static,
) -> Result<(), ApiError> {
    blocking(state, work).await.map(drop)
}

/// The room frame of a stored message.
pub fn room_frame(posted: &Posted) -> RoomFrame {
    RoomFrame {
        id: posted.message.id.get(),
        json: json(&MessageView::from(posted)),
        ends_room: posted.message.message_type == DropinMessageType::System
            && posted.message.content == "ended",
    }
}

fn json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}
