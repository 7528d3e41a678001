//! Recognising who is on a live connection to a drop-in: a participant by
//! the token joining gave them, the host by their own sign-in token. Either
//! works only for this session while it is open; a participant who left is
//! refused.

use droply_models::{DropinParticipant, DropinSession, DropinSessionId, User};

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

/// The member of drop-in `id` that `token` (a participant token or the
/// host's sign-in token) belongs to. `NotFound` when there is no such
/// session; `Unauthorized` when the token opens another session or none;
/// `InvalidState` once the session ended.
pub fn member_by_token(store: &Store, id: DropinSessionId, token: &str) -> Result<Member> {
    let session = store.dropin_sessions().get(id)?;
    if state_of(&session, droply_models::Timestamp::now()) == DropinState::Ended {
        return Err(Error::InvalidState("this drop-in has ended".to_owned()));
    }
    let hash = token_hash(token);
    if let Some(pass) = store.lookup_unique(UniqueName::DropinToken, hash.as_bytes())? {
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
    let user_id = authenticate(store, token)?;
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
