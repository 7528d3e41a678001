//! Recognising who is on a live connection to a drop-in: a participant by
//! the token joining gave them, the host by their own sign-in token (sent
//! where it is not logged: a header or a cookie) or by a socket ticket for
//! this room. A token sent in a URL is taken only as a participant's
//! pass, which opens this one room; a sign-in token there is refused. Each
//! works only for this session while it is open; a participant who left is
//! refused.
//!
//! A member admitted by a sign-in (the host, by token or ticket) keeps the
//! id of that sign-in session ([`Member::signed_in_with`]), and so does a
//! participant whose pass names the sign-in they joined with: such a pass
//! is refused once that sign-in ended, as the pass of one who left. While
//! the connection is open, [`renew_member`] answers [`Renewal::SignedOut`]
//! (a participant: [`Renewal::SeatLost`], join again) once it is gone
//! (signed out, signed out everywhere, the account closed) or expired, and
//! every write a member makes checks inside its transaction
//! ([`check_still_member`]) that their row is still in the room and their
//! sign-in still stands, so nothing is stored in their name after either
//! ended.

use droply_models::{DropinParticipant, DropinSession, DropinSessionId, Timestamp, User};

use super::authors::{Author, Role, author_of};
use super::hosting::{DropinState, state_of};
use super::pass::DropinPass;
use super::seats::renew_seat;
use crate::accounts::{
    AuthSession, AuthSessionId, SocketTarget, redeem_socket_ticket_session, token_hash,
};
use crate::store::{SecretKeyCell, Store, Txn, UniqueName};
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
    /// The sign-in session that admitted them (the host's, by their
    /// sign-in token or the session a socket ticket names; a participant's,
    /// the one their pass names); `None` for a guest's pass (or one issued
    /// before passes named it).
    pub signed_in_with: Option<AuthSessionId>,
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
    /// A socket ticket for this drop-in's room (`?ticket=`): the host, or
    /// nobody.
    Ticket(&'a str),
}

/// What renewing a live connection's place found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Renewal {
    /// They keep their place (a participant's seat renewed).
    Held,
    /// Their seat was taken back (it lapsed, or they left the room): join
    /// again.
    SeatLost,
    /// The sign-in session that admitted them is gone or expired: sign in
    /// again.
    SignedOut,
}

/// The member of drop-in `id` that `token` (a participant token or the
/// host's sign-in token) belongs to: [`member_by`] with
/// [`MemberProof::Token`].
pub fn member_by_token(store: &Store, id: DropinSessionId, token: &str) -> Result<Member> {
    member_by(store, id, MemberProof::Token(token))
}

/// The member of drop-in `id` that `proof` shows. `NotFound` when there is
/// no such session; `Unauthorized` when the proof opens another session or
/// none (a sign-in token as a [`MemberProof::Pass`], a ticket for another
/// socket or of a session that ended, a user who is not the host);
/// `InvalidState` once the session ended.
pub fn member_by(store: &Store, id: DropinSessionId, proof: MemberProof<'_>) -> Result<Member> {
    let session = store.dropin_sessions().get(id)?;
    let now = Timestamp::now();
    if state_of(&session, now) == DropinState::Ended {
        return Err(Error::InvalidState("this drop-in has ended".to_owned()));
    }
    let pass = match proof {
        MemberProof::Token(token) | MemberProof::Pass(token) => {
            store.lookup_unique(UniqueName::DropinToken, token_hash(token).as_bytes())?
        }
        MemberProof::Ticket(_) => None,
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
        // Joined signed in: the pass lasts as long as that sign-in.
        if let Some(sign_in) = pass.signed_in_with {
            let row = store.get::<AuthSession>(sign_in)?;
            let stands =
                row.is_some_and(|row| row.is_live(now) && Some(row.user_id) == participant.user_id);
            if !stands {
                return Err(Error::Unauthorized);
            }
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
            signed_in_with: pass.signed_in_with,
        });
    }
    // Only a proof sent where it is not logged may be the host's sign-in token.
    let sign_in = match proof {
        MemberProof::Token(token) => sign_in_by_token(store, token, now)?,
        MemberProof::Pass(_) => return Err(Error::Unauthorized),
        MemberProof::Ticket(ticket) => sign_in_by_ticket(store, id, ticket, now)?,
    };
    if sign_in.user_id != session.host_id {
        return Err(Error::Unauthorized);
    }
    let participant = host_participant(store, &session)?;
    let user: Option<User> = store.users().find(sign_in.user_id)?;
    let author = author_of(&session, &participant, user.as_ref());
    Ok(Member {
        session,
        participant,
        author,
        signed_in_with: Some(sign_in.id),
    })
}

/// A live connection renews `member`'s place: [`Renewal::SignedOut`] once
/// the sign-in session that admitted them is gone or expired (a host
/// admitted without one is refused the same way; a participant whose pass
/// names a sign-in that ended gets [`Renewal::SeatLost`], as their pass is
/// refused like a lapsed seat's); for a participant, their
/// seat is renewed ([`Renewal::SeatLost`] when it was taken back). The host
/// holds no seat.
pub fn renew_member(store: &Store, member: &Member) -> Result<Renewal> {
    if member.signed_in_with.is_some() || member.is_host() {
        let row = match member.signed_in_with {
            Some(id) => store.get::<AuthSession>(id)?,
            None => None,
        };
        if !sign_in_stands(member, row.as_ref(), Timestamp::now()) {
            // A participant whose pass is refused now has left the room.
            return Ok(if member.is_host() {
                Renewal::SignedOut
            } else {
                Renewal::SeatLost
            });
        }
    }
    if member.is_host() {
        return Ok(Renewal::Held);
    }
    Ok(
        if renew_seat(store, member.session.id, member.participant.id)? {
            Renewal::Held
        } else {
            Renewal::SeatLost
        },
    )
}

/// Inside a write at `now`: `Unauthorized` unless `member` is still in
/// their room as they were admitted: their participant row active, of the
/// same drop-in and the same user (an account closing, or a lapsed seat
/// taken back, makes it inactive), and the sign-in session that admitted
/// them (the host's, or the one a participant's pass names) still live and
/// theirs.
pub(crate) fn check_still_member(txn: &Txn<'_>, member: &Member, now: Timestamp) -> Result<()> {
    let row = txn.get::<DropinParticipant>(member.participant.id)?;
    let in_room = row.is_some_and(|row| {
        row.is_active
            && row.session_id == member.session.id
            && row.user_id == member.participant.user_id
    });
    if !in_room {
        return Err(Error::Unauthorized);
    }
    if member.signed_in_with.is_some() || member.is_host() {
        let sign_in = match member.signed_in_with {
            Some(id) => txn.get::<AuthSession>(id)?,
            None => None,
        };
        if !sign_in_stands(member, sign_in.as_ref(), now) {
            return Err(Error::Unauthorized);
        }
    }
    Ok(())
}

/// Whether `row`, the sign-in session `member` was admitted with as it is
/// stored now, still signs them in at `now`: it exists, has not expired
/// and belongs to the member's user.
fn sign_in_stands(member: &Member, row: Option<&AuthSession>, now: Timestamp) -> bool {
    row.is_some_and(|row| row.is_live(now) && Some(row.user_id) == member.participant.user_id)
}

/// The live sign-in session of the sign-in `token`; `Unauthorized` when it
/// signs nobody in (unknown, expired or signed out).
fn sign_in_by_token(store: &Store, token: &str, now: Timestamp) -> Result<AuthSession> {
    match store.lookup_unique(UniqueName::TokenHash, token_hash(token).as_bytes())? {
        Some(raw) => store.get::<AuthSession>(AuthSessionId::new(raw))?,
        None => None,
    }
    .filter(|row| row.is_live(now))
    .ok_or(Error::Unauthorized)
}

/// The live sign-in session a socket ticket for drop-in `id`'s room was
/// issued under; `Unauthorized` when the ticket is refused
/// ([`redeem_socket_ticket_session`]). The store's secret key is read
/// afresh: a room checks a ticket once, at admission (a renewal checks the
/// sign-in session it named, not the ticket).
fn sign_in_by_ticket(
    store: &Store,
    id: DropinSessionId,
    ticket: &str,
    now: Timestamp,
) -> Result<AuthSession> {
    let target = SocketTarget::DropinRoom(id);
    redeem_socket_ticket_session(store, &SecretKeyCell::default(), ticket, target, now)
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
