//! What members send to a drop-in, checked and stored before anyone sees
//! it. Anyone may ask, comment or react; only the host answers (a question
//! of this session) and removes messages (a removal is kept as a system
//! notice naming the message, so a client that missed it learns of it in
//! order). Presence (joined, left) is stored as system notices too. Every
//! message gets its id from the store; the room delivers them in id order,
//! and a reconnecting client reads what it missed with [`messages_after`].
//! [`posted_by_id`] reads the messages the feed names (`message_feed`).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use droply_models::{
    DropinMessage, DropinMessageId, DropinMessageType, DropinParticipantId, DropinSession,
    DropinSessionId, Timestamp,
};

use super::authors::{Author, appears_anonymous, author_of};
use super::hosting::{DropinState, state_of};
use super::members::{Member, check_still_member};
use crate::store::{Store, Txn};
use crate::{Error, Result};

/// The longest reaction, in characters (an emoji or a word).
pub const MAX_REACTION_CHARS: usize = 32;

/// A message a member sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewMessage {
    /// Question, answer, comment or reaction (never system).
    pub message_type: DropinMessageType,
    /// The text, 1–4,000 characters (a reaction at most 32).
    pub content: String,
    /// The message it answers or reacts to; required for an answer.
    pub reply_to: Option<DropinMessageId>,
}

/// A member arriving or leaving.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    /// Connected.
    Joined,
    /// Disconnected.
    Left,
}

/// A stored message and who wrote it, as the room sees them.
#[derive(Debug, Clone, PartialEq)]
pub struct Posted {
    /// The stored message.
    pub message: DropinMessage,
    /// Its author.
    pub author: Author,
}

/// `member` sends `new`. `Invalid` for a system message, an empty or too
/// long text, or a reply to a message of another session; `Forbidden` for
/// an answer or a removal by anyone but the host; `InvalidState` once the
/// session ended; `Unauthorized` once the member left the room (an account
/// closed, a lapsed seat taken back) or the sign-in that admitted them
/// ended.
pub fn post_message(store: &Store, member: &Member, new: NewMessage) -> Result<Posted> {
    let content = new.content.trim().to_owned();
    match new.message_type {
        DropinMessageType::System => {
            return Err(Error::Invalid(
                "system messages come from the server only".to_owned(),
            ));
        }
        DropinMessageType::Answer if !member.is_host() => {
            return Err(Error::Forbidden(
                "only the host answers questions".to_owned(),
            ));
        }
        DropinMessageType::Answer if new.reply_to.is_none() => {
            return Err(Error::Invalid(
                "an answer names the question it answers (reply_to)".to_owned(),
            ));
        }
        DropinMessageType::Reaction if content.chars().count() > MAX_REACTION_CHARS => {
            return Err(Error::Invalid(format!(
                "a reaction is at most {MAX_REACTION_CHARS} characters"
            )));
        }
        _ => {}
    }
    store.write(|txn| {
        let now = open_to(txn, member)?;
        if let Some(target) = new.reply_to {
            let target = message_of_session(txn, member.session.id, target)?;
            if new.message_type == DropinMessageType::Answer
                && target.message_type != DropinMessageType::Question
            {
                return Err(Error::Invalid("an answer replies to a question".to_owned()));
            }
        }
        append(txn, member, new.message_type, content, new.reply_to, now)
    })
}

/// The host removes message `target`: its text is never shown again, and a
/// "removed" notice naming it goes to the room. `Forbidden` for anyone but
/// the host; `InvalidState` when it was removed already; `Unauthorized`
/// once the host's sign-in that admitted them ended.
pub fn remove_message(store: &Store, member: &Member, target: DropinMessageId) -> Result<Posted> {
    if !member.is_host() {
        return Err(Error::Forbidden(
            "only the host removes messages".to_owned(),
        ));
    }
    store.write(|txn| {
        let now = open_to(txn, member)?;
        let mut message = message_of_session(txn, member.session.id, target)?;
        if message.message_type == DropinMessageType::System {
            return Err(Error::Invalid(
                "system notices cannot be removed".to_owned(),
            ));
        }
        if message.removed_at.is_some() {
            return Err(Error::InvalidState(
                "that message was removed already".to_owned(),
            ));
        }
        message.removed_at = Some(now);
        txn.update(message)?;
        append(
            txn,
            member,
            DropinMessageType::System,
            "removed".to_owned(),
            Some(target),
            now,
        )
    })
}

/// Stores that `member` connected or disconnected, while the session is
/// open ([`Error::InvalidState`] once it ended: nothing follows its end
/// notice) and they are still in it ([`Error::Unauthorized`] otherwise).
pub fn record_presence(store: &Store, member: &Member, presence: Presence) -> Result<Posted> {
    let event = match presence {
        Presence::Joined => "joined",
        Presence::Left => "left",
    };
    store.write(|txn| {
        let now = open_to(txn, member)?;
        append(
            txn,
            member,
            DropinMessageType::System,
            event.to_owned(),
            None,
            now,
        )
    })
}

/// Up to `limit` messages of `session` after message `after` (0: from the
/// start), in id order, each with its author.
pub fn messages_after(
    store: &Store,
    session: DropinSessionId,
    after: DropinMessageId,
    limit: usize,
) -> Result<Vec<Posted>> {
    let session_row = store.dropin_sessions().get(session)?;
    let messages = store.dropin_messages().after(session, after, limit)?.items;
    let mut authors = Authors::new(store);
    authors.sessions.insert(session, session_row);
    let mut posted = Vec::with_capacity(messages.len());
    for message in messages {
        let author = authors.of(&message)?;
        posted.push(Posted { message, author });
    }
    Ok(posted)
}

/// The messages `ids` name, in the order given, each with its author; an
/// id whose row, session or author is gone (deleted since it was written)
/// is left out.
pub(crate) fn posted_by_id(store: &Store, ids: &[DropinMessageId]) -> Result<Vec<Posted>> {
    let mut authors = Authors::new(store);
    let mut posted = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(message) = store.dropin_messages().find(*id)? else {
            continue;
        };
        let author = match authors.of(&message) {
            Ok(author) => author,
            Err(Error::NotFound { .. }) => continue,
            Err(err) => return Err(err),
        };
        posted.push(Posted { message, author });
    }
    Ok(posted)
}

/// The authors of the messages one read goes through, each session and
/// participant looked up once.
struct Authors<'s> {
    store: &'s Store,
    sessions: HashMap<DropinSessionId, DropinSession>,
    authors: HashMap<DropinParticipantId, Author>,
}

impl<'s> Authors<'s> {
    fn new(store: &'s Store) -> Self {
        Authors {
            store,
            sessions: HashMap::new(),
            authors: HashMap::new(),
        }
    }

    /// Who wrote `message`, as its room sees them.
    fn of(&mut self, message: &DropinMessage) -> Result<Author> {
        if let Some(author) = self.authors.get(&message.participant_id) {
            return Ok(author.clone());
        }
        let session = match self.sessions.entry(message.session_id) {
            Entry::Occupied(entry) => entry.into_mut(),
            Entry::Vacant(entry) => {
                entry.insert(self.store.dropin_sessions().get(message.session_id)?)
            }
        };
        let participant = self
            .store
            .dropin_participants()
            .get(message.participant_id)?;
        let user = match participant.user_id {
            Some(user) if !appears_anonymous(session, &participant) => {
                self.store.users().find(user)?
            }
            _ => None,
        };
        let author = author_of(session, &participant, user.as_ref());
        self.authors.insert(message.participant_id, author.clone());
        Ok(author)
    }
}

/// The time now, after checking that `member`'s session is still open
/// and that they are still in it as they were admitted
/// ([`check_still_member`]: `Unauthorized` once their row left the room
/// or their sign-in ended). Every write of a member begins with it, so a
/// connection admitted before is refused from that write on, not from its
/// next renewal.
fn open_to(txn: &Txn<'_>, member: &Member) -> Result<Timestamp> {
    let now = open_session(txn, member.session.id)?;
    check_still_member(txn, member, now)?;
    Ok(now)
}

/// The time now, after checking session `id` is still open.
fn open_session(txn: &Txn<'_>, id: DropinSessionId) -> Result<Timestamp> {
    let session = txn.require::<droply_models::DropinSession>(id)?;
    let now = txn.now();
    if state_of(&session, now) == DropinState::Ended {
        return Err(Error::InvalidState("this drop-in has ended".to_owned()));
    }
    Ok(now)
}

/// Message `id`, which must belong to `session` (else `Invalid`).
fn message_of_session(
    txn: &Txn<'_>,
    session: DropinSessionId,
    id: DropinMessageId,
) -> Result<DropinMessage> {
    match txn.get::<DropinMessage>(id)? {
        Some(message) if message.session_id == session => Ok(message),
        _ => Err(Error::Invalid(format!(
            "message {id} is not in this drop-in"
        ))),
    }
}

fn append(
    txn: &mut Txn<'_>,
    member: &Member,
    message_type: DropinMessageType,
    content: String,
    reply_to: Option<DropinMessageId>,
    now: Timestamp,
) -> Result<Posted> {
    let message = txn.create(DropinMessage {
        id: DropinMessageId::new(0),
        session_id: member.session.id,
        participant_id: member.participant.id,
        message_type,
        content,
        is_anonymous: member.author.user_id.is_none(),
        created_at: now,
        reply_to,
        removed_at: None,
    })?;
    Ok(Posted {
        message,
        author: member.author.clone(),
    })
}
