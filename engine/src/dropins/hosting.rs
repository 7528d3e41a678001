//! Opening and ending drop-ins. An expert opens a session now or for later
//! (at most 90 days ahead, for 5 minutes to 8 hours), with a fresh join
//! code; the host takes part as a participant of their own who does not
//! count against the capacity. Ending it records when it ended and how long
//! it ran, lets every participant out, and leaves a system notice in the
//! room's history. A session is upcoming before its start, live until it
//! ends, then over. Only an expert hosts: one who stops being an expert has
//! every open session ended in the same write that changes their profile,
//! and their drop-ins are not listed as anyone's.

use droply_models::{
    DropinMessage, DropinMessageId, DropinMessageType, DropinParticipant, DropinParticipantId,
    DropinSession, DropinSessionId, SessionCode, Timestamp, UserId,
};

use super::authors::author_of;
use super::messages::Posted;
use crate::codes::random_code;
use crate::store::{IndexName, KeyBuilder, Store, Txn};
use crate::{Error, Result};

/// Join codes are this long: 32^8 codes, so guessing one is hopeless under
/// the join rate limit.
const CODE_LEN: usize = 8;
/// How far ahead a drop-in may be scheduled.
const MAX_DAYS_AHEAD: i64 = 90;
/// The longest planned session, in minutes.
const LONGEST_MINUTES: u32 = 480;
/// The shortest and longest planned session, in minutes.
const MINUTES: std::ops::RangeInclusive<u32> = 5..=LONGEST_MINUTES;
/// How many sessions one host may have open (upcoming or live) at once.
pub const MAX_OPEN_PER_HOST: usize = 10;

/// How long after it was opened a drop-in can still be open, in minutes: it
/// starts at most [`MAX_DAYS_AHEAD`] days later and ends by itself its
/// longest planned length and [`OVERTIME_MINUTES`] after its start. A
/// host's sessions opened before that are over whether or not an end was
/// recorded, so the host's open ones are read from this window of their
/// sessions (by creation time), never from their whole history.
const OPEN_AT_MOST_MINUTES: i64 =
    MAX_DAYS_AHEAD * 24 * 60 + LONGEST_MINUTES as i64 + OVERTIME_MINUTES;

/// What a host asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDropin {
    /// What it is about, 1–200 characters.
    pub topic: String,
    /// More detail, at most 5,000 characters.
    pub description: String,
    /// How many may join, 1–500.
    pub max_participants: u32,
    /// Whether people may join without signing in, and appear without names.
    pub is_anonymous: bool,
    /// When it starts; `None` is now.
    pub starts_at: Option<Timestamp>,
    /// How long it is planned to run, 5–480 minutes.
    pub duration_minutes: u32,
}

/// Where a session is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropinState {
    /// Scheduled, not started yet.
    Upcoming,
    /// Running now.
    Live,
    /// Ended.
    Ended,
}

impl DropinState {
    /// The state's name in the API.
    pub fn as_str(self) -> &'static str {
        match self {
            DropinState::Upcoming => "upcoming",
            DropinState::Live => "live",
            DropinState::Ended => "ended",
        }
    }
}

/// How long past its planned length a drop-in the host has not ended runs
/// on before it ends by itself (a host who runs over is not cut off; one who
/// forgot is not open for good).
pub const OVERTIME_MINUTES: i64 = 60;

/// When `session` ends by itself: its planned length and
/// [`OVERTIME_MINUTES`] after it starts (or was opened, to start at once).
pub fn ends_by_itself_at(session: &DropinSession) -> Timestamp {
    session
        .started_at
        .unwrap_or(session.created_at)
        .plus_minutes(i64::from(session.duration_minutes) + OVERTIME_MINUTES)
}

/// The state of `session` at `now`.
pub fn state_of(session: &DropinSession, now: Timestamp) -> DropinState {
    if !session.is_active || session.ended_at.is_some() || now >= ends_by_itself_at(session) {
        DropinState::Ended
    } else if session.started_at.is_some_and(|start| start > now) {
        DropinState::Upcoming
    } else {
        DropinState::Live
    }
}

/// `host` opens a drop-in. `Forbidden` unless the host is an expert;
/// `LimitReached` with [`MAX_OPEN_PER_HOST`] open already.
pub fn open_dropin(store: &Store, host: UserId, new: &NewDropin) -> Result<DropinSession> {
    if !MINUTES.contains(&new.duration_minutes) {
        return Err(Error::Invalid(
            "duration_minutes must be 5 to 480".to_owned(),
        ));
    }
    // A fresh code clashes with an open one about never; retry a few times.
    let mut attempts = 0;
    loop {
        let code = SessionCode::parse(&random_code(CODE_LEN))?;
        match store.write(|txn| open_in(txn, host, new, code)) {
            Err(Error::Conflict { field, .. }) if field == "session_code" && attempts < 4 => {
                attempts += 1;
            }
            other => return other,
        }
    }
}

fn open_in(
    txn: &mut Txn<'_>,
    host: UserId,
    new: &NewDropin,
    code: SessionCode,
) -> Result<DropinSession> {
    let user = txn.require::<droply_models::User>(host)?;
    if !user.is_expert() {
        return Err(Error::Forbidden(
            "only experts host drop-ins; add a profession to your profile".to_owned(),
        ));
    }
    let now = txn.now();
    let starts_at = match new.starts_at {
        Some(at) if at < now.plus_minutes(-1) => {
            return Err(Error::Invalid(
                "starts_at must not be in the past".to_owned(),
            ));
        }
        Some(at) if at > now.plus_days(MAX_DAYS_AHEAD) => {
            return Err(Error::Invalid(
                "starts_at must be within 90 days".to_owned(),
            ));
        }
        Some(at) => at.max(now),
        None => now,
    };
    let (lower, upper) = may_be_open(host, now);
    let open = txn
        .list_index_range::<DropinSession>(IndexName::DropinsByHost, &lower, &upper)?
        .into_iter()
        .filter(|s| state_of(s, now) != DropinState::Ended)
        .count();
    if open >= MAX_OPEN_PER_HOST {
        return Err(Error::LimitReached(format!(
            "at most {MAX_OPEN_PER_HOST} open drop-ins per host; end one first"
        )));
    }
    let session = txn.create(DropinSession {
        id: DropinSessionId::new(0),
        host_id: host,
        topic: new.topic.trim().to_owned(),
        description: new.description.trim().to_owned(),
        max_participants: new.max_participants,
        current_participants: 0,
        is_active: true,
        is_anonymous: new.is_anonymous,
        session_code: code,
        created_at: now,
        started_at: Some(starts_at),
        ended_at: None,
        duration_minutes: new.duration_minutes,
    })?;
    txn.create(DropinParticipant {
        id: DropinParticipantId::new(0),
        session_id: session.id,
        user_id: Some(host),
        anonymous_name: None,
        joined_at: now,
        left_at: None,
        is_active: true,
    })?;
    Ok(session)
}

/// The host ends drop-in `id`: ended now, its duration the minutes it ran
/// (a session ended before it started is cancelled: no start, its planned
/// length kept), every participant out. Answers the session and the
/// "ended" notice to deliver to the room. `Forbidden` for anyone but the
/// host; `InvalidState` when it has ended already.
pub fn end_dropin(
    store: &Store,
    id: DropinSessionId,
    host: UserId,
) -> Result<(DropinSession, Posted)> {
    store.write(|txn| {
        let session = txn.require::<DropinSession>(id)?;
        if session.host_id != host {
            return Err(Error::Forbidden("only the host ends a drop-in".to_owned()));
        }
        let now = txn.now();
        if state_of(&session, now) == DropinState::Ended {
            return Err(Error::InvalidState(
                "the drop-in has ended already".to_owned(),
            ));
        }
        close(txn, session, now)
    })
}

/// Records the end of every drop-in past the time it ends by itself
/// ([`ends_by_itself_at`]) that nobody ended: it leaves the open list
/// (search, the host's limit) as an ended one does; how many.
pub fn end_overdue_dropins(store: &Store, now: Timestamp) -> Result<usize> {
    let mut ended = 0;
    let mut page = crate::PageRequest::first(crate::store::MAX_PAGE_SIZE);
    loop {
        let got = store.list_index::<DropinSession>(IndexName::OpenDropins, &[], &page)?;
        for session in got.items.iter().filter(|s| ends_by_itself_at(s) <= now) {
            let id = session.id;
            ended += store.write(|txn| {
                let session = txn.require::<DropinSession>(id)?;
                if !session.is_active || session.ended_at.is_some() {
                    return Ok(0);
                }
                let at = ends_by_itself_at(&session).min(now);
                close(txn, session, at).map(|_| 1)
            })?;
        }
        match got.next {
            Some(cursor) => {
                page = crate::PageRequest::first(crate::store::MAX_PAGE_SIZE).after(Some(cursor))
            }
            None => return Ok(ended),
        }
    }
}

/// Ends every open (upcoming or live) drop-in `host` runs, inside `txn`,
/// as the host's own end does each: a live one records the minutes it ran
/// and lets every participant out, an upcoming one is cancelled and never
/// goes live, and each room gets its "ended" notice (stored: the room's
/// connections read it back at their next seat renewal and close, as they
/// do for a drop-in the overdue sweep ended). One past the time it ends by
/// itself is recorded as ended then. For a host who stops being an expert;
/// how many ended. Only the host's sessions that can still be open are read
/// (`may_be_open`); one opened before that window is over already, and
/// if the overdue sweep has not recorded its end yet, it will, at the same
/// instant as here (the time it ended by itself).
pub(crate) fn end_dropins_of_host(txn: &mut Txn<'_>, host: UserId) -> Result<usize> {
    let now = txn.now();
    let (lower, upper) = may_be_open(host, now);
    let open: Vec<DropinSession> = txn
        .list_index_range::<DropinSession>(IndexName::DropinsByHost, &lower, &upper)?
        .into_iter()
        .filter(|s| s.is_active && s.ended_at.is_none())
        .collect();
    let ended = open.len();
    for session in open {
        let at = ends_by_itself_at(&session).min(now);
        close(txn, session, at)?;
    }
    Ok(ended)
}

/// The key range of `IndexName::DropinsByHost` (host, then creation time)
/// that holds every session of `host` that can still be open at `now`: those
/// opened within [`OPEN_AT_MOST_MINUTES`] before it. The read is bounded by
/// what the host opened in that window, not by everything they ever ran.
fn may_be_open(host: UserId, now: Timestamp) -> (Vec<u8>, Vec<u8>) {
    let lower = KeyBuilder::new()
        .u64(host.get())
        .time(now.plus_minutes(-OPEN_AT_MOST_MINUTES))
        .build();
    let upper = KeyBuilder::new().u64(host.get().saturating_add(1)).build();
    (lower, upper)
}

/// Ends `session` at `now` inside `txn`: its length as run, every
/// participant out, and the host's "ended" notice, which is returned.
fn close(
    txn: &mut crate::store::Txn<'_>,
    mut session: DropinSession,
    now: Timestamp,
) -> Result<(DropinSession, Posted)> {
    let (id, host) = (session.id, session.host_id);
    match session.started_at {
        Some(start) if start <= now => {
            let seconds = now.signed_duration_since(start).num_seconds().max(0);
            session.duration_minutes =
                u32::try_from(((seconds + 59) / 60).max(1)).unwrap_or(u32::MAX);
        }
        _ => session.started_at = None,
    }
    session.is_active = false;
    session.ended_at = Some(now);
    session.current_participants = 0;
    let participants =
        txn.list_index::<DropinParticipant>(IndexName::ParticipantsBySession, &id.to_be_bytes())?;
    let mut host_row = None;
    for mut participant in participants {
        if participant.user_id == Some(host) && host_row.is_none() {
            host_row = Some(participant.clone());
        }
        if participant.is_active {
            participant.is_active = false;
            participant.left_at = Some(now.max(participant.joined_at));
            txn.update(participant)?;
        }
    }
    let host_row =
        host_row.ok_or_else(|| Error::Corrupt(format!("drop-in {id} has no host participant")))?;
    let session = txn.update(session)?;
    let notice = txn.create(DropinMessage {
        id: DropinMessageId::new(0),
        session_id: id,
        participant_id: host_row.id,
        message_type: DropinMessageType::System,
        content: "ended".to_owned(),
        is_anonymous: session.is_anonymous,
        created_at: now,
        reply_to: None,
        removed_at: None,
    })?;
    let user = txn.get::<droply_models::User>(host)?;
    let author = author_of(&session, &host_row, user.as_ref());
    Ok((
        session,
        Posted {
            message: notice,
            author,
        },
    ))
}

/// The open (upcoming or live) drop-ins of expert `host`, soonest first.
/// `NotFound` for a user who is not an expert (or none), as the expert is:
/// a former expert's drop-ins are nobody's to list, whatever is still
/// open. Only the host's sessions that can still be open are read
/// (`may_be_open`), so however many the host ran before, none open is
/// missed and the read does not grow with their history.
pub fn open_dropins_of(store: &Store, host: UserId) -> Result<Vec<DropinSession>> {
    if !store
        .users()
        .find(host)?
        .is_some_and(|user| user.is_expert())
    {
        return Err(Error::NotFound {
            entity: "expert",
            id: host.get(),
        });
    }
    let now = Timestamp::now();
    let (lower, upper) = may_be_open(host, now);
    let mut open: Vec<DropinSession> = store
        .list_index_range::<DropinSession>(IndexName::DropinsByHost, &lower, &upper)?
        .into_iter()
        .filter(|s| state_of(s, now) != DropinState::Ended)
        .collect();
    open.sort_by_key(|s| (s.started_at, s.id));
    Ok(open)
}
