//! Recognising who is on a live connection to a drop-in: a participant by
//! the token joining gave them, the host by their own sign-in token (sent
//! where it is not logged: a header or a cookie) or as the user a socket
//! ticket proved. A token sent in a URL is taken only as a participant's
//! pass, which opens this one room; a sign-in token there is refused. Each
//! works only for this session while it is open; a participant who left is
//! refused.

use droply_models::{DropinParticipant, DropinSession, DropinSessionId, User, UserId};

use super::authors::{Author, Role, author_of};
use super::hosting::{DropinState, state_of};
use super::pass::DropinPass;
use crate::accounts::{authenticate, token_hash};
use crate::store::{Store, UniqueName};
use crate::{Error, Result};

/// Someone connected to a session.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    /// The session.
    pub session: DropinSession,
    /// Their participant row.
    pub participant: DropinParticipant,
    /// How the room sees them.
    pub author: Author,
}

impl Member {
    /// Whether this member hosts the session.
    pub fn is_host(&self) -> bool {
        self.author.role == Role::Host
    }
}

/// How a live connection says who it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberProof<'a> {
    /// A participant token, or the host's sign-in token: sent where it is
    /// not logged (an `Authorization` header, a cookie).
    Token(&'a str),
    /// A participant token only: sent in a URL, where a sign-in token must
    /// not go, so one is refused like any token that opens nothing.
    Pass(&'a str),
    /// A user already recognised (by a socket ticket): the host, or nobody.
    User(UserId),
}

/// The member of drop-in `id` that `token` (a participant token or the
/// host's sign-in token) belongs to: [`member_by`] with
/// [`MemberProof::Token`].
pub fn member_by_token(store: &Store, id: DropinSessionId, token: &str) -> Result<Member> {
    member_by(store, id, MemberProof::Token(token))
}

/// The member of drop-in `id` that `proof` shows. `NotFound` when there is
/// no such session; `Unauthorized` when the proof opens another session or
/// none (a sign-in token as a [`MemberProof::Pass`], a user who is not the
/// host); `InvalidState` once the session ended.
pub fn member_by(store: &Store, id: DropinSessionId, proof: MemberProof<'_>) -> Result<Member> {
    let session = store.dropin_sessions().get(id)?;
    if state_of(&session, droply_models::Timestamp::now()) == DropinState::Ended {
        return Err(Error::InvalidState("this drop-in has ended".to_owned()));
    }
    let pass = match proof {
        MemberProof::Token(token) | MemberProof::Pass(token) => {
            store.lookup_unique(UniqueName::DropinToken, token_hash(token).as_bytes())?
        }
        MemberProof::User(_) => None,
    };
    if let Some(pass) = pass {
        let pass = store.require::<DropinPass>(super::DropinPassId::new(pass))?;
        if pass.session_id != id {
            return Err(Error::Unauthorized);
        }
        let participant = store.dropin_participants().get(pass.participant_id)?;
        if !participant.is_active {
            return Err(Error::Unauthorized);
        }
        let user = match participant.user_id {
            Some(user) => store.users().find(user)?,
            None => None,
        };
        let author = author_of(&session, &participant, user.as_ref());
        return Ok(Member {
            session,
            participant,
            author,
        });
    }
    // Only a proof sent where it is not logged may be the host's sign-in token.
    let user_id = match proof {
        MemberProof::Token(token) => authenticate(store, token)?,
        MemberProof::Pass(_) => return Err(Error::Unauthorized),
        MemberProof::User(user) => user,
    };
    if user_id != session.host_id {
        return Err(Error::Unauthorized);
    }
    let participant = host_participant(store, &session)?;
    let user: Option<User> = store.users().find(user_id)?;
    let author = author_of(&session, &participant, user.as_ref());
    Ok(Member {
        session,
        participant,
        author,
    })
}

/// The host's own participant row, made when the session was opened.
fn host_participant(store: &Store, session: &DropinSession) -> Result<DropinParticipant> {
    let all = crate::PageRequest {
        limit: crate::store::MAX_PAGE_SIZE,
        ..crate::PageRequest::default()
    };
    store
        .dropin_participants()
        .by_session(session.id, &all)?
        .items
        .into_iter()
        .find(|p| p.user_id == Some(session.host_id))
        .ok_or_else(|| Error::Corrupt(format!("drop-in {} has no host participant", session.id)))
}
