//! The engine's drop-in use cases: hosts open and end sessions, people join
//! with a code, and live connections are recognised, send messages and
//! read what they missed. The rules live in [`crate::dropins`]; delivering
//! messages live is the server's.

use droply_models::{DropinMessageId, DropinSession, DropinSessionId, UserId};

use super::Engine;
use crate::Result;
use crate::dropins::{
    self, Joined, Joining, Member, NewDropin, NewMessage, Posted, Presence, Renewal,
};

impl Engine {
    /// `host` opens a drop-in, now or later.
    pub fn open_dropin(&self, host: UserId, new: &NewDropin) -> Result<DropinSession> {
        dropins::open_dropin(self.store(), host, new)
    }

    /// The host ends drop-in `id`; answers the session and the notice for the room.
    pub fn end_dropin(&self, id: DropinSessionId, host: UserId) -> Result<(DropinSession, Posted)> {
        dropins::end_dropin(self.store(), id, host)
    }

    /// Drop-in `id`, in whatever state.
    pub fn dropin(&self, id: DropinSessionId) -> Result<DropinSession> {
        self.store().dropin_sessions().get(id)
    }

    /// The drop-in people join with `code`, in whatever state.
    pub fn dropin_by_code(&self, code: &str) -> Result<DropinSession> {
        dropins::session_by_code(self.store(), code)
    }

    /// The upcoming and live drop-ins `host` runs, soonest first.
    pub fn open_dropins_of(&self, host: UserId) -> Result<Vec<DropinSession>> {
        dropins::open_dropins_of(self.store(), host)
    }

    /// Someone joins a drop-in with its code; signed in, `sign_in` is the
    /// token their request came with (a bearer token, or the pages' session
    /// cookie) and `joining.user` its user: their participant token then
    /// lasts only as long as that sign-in (`Unauthorized` when it does not
    /// stand, or is another user's).
    pub fn join_dropin(&self, joining: &Joining, sign_in: Option<&str>) -> Result<Joined> {
        let signed_in_with = match sign_in {
            Some(token) => Some(crate::accounts::live_session(self.store(), token)?.id),
            None => None,
        };
        dropins::join_dropin_as(self.store(), joining, signed_in_with)
    }

    /// The member of drop-in `id` that `token` (a participant token, or the
    /// host's sign-in token sent where it is not logged) belongs to.
    pub fn dropin_member(&self, id: DropinSessionId, token: &str) -> Result<Member> {
        dropins::member_by_token(self.store(), id, token)
    }

    /// The member of drop-in `id` that `proof` shows: a participant token
    /// only when it came in a URL, the host when a socket ticket for this
    /// room proved them (the sign-in session it names is kept, like the
    /// host's token's, and checked again while they are connected).
    pub fn dropin_member_by(
        &self,
        id: DropinSessionId,
        proof: dropins::MemberProof<'_>,
    ) -> Result<Member> {
        dropins::member_by(self.store(), id, proof)
    }

    /// `member` sends a message; stored before it is answered.
    pub fn post_dropin_message(&self, member: &Member, message: NewMessage) -> Result<Posted> {
        dropins::post_message(self.store(), member, message)
    }

    /// The host removes message `target`.
    pub fn remove_dropin_message(
        &self,
        member: &Member,
        target: DropinMessageId,
    ) -> Result<Posted> {
        dropins::remove_message(self.store(), member, target)
    }

    /// Stores that `member` connected or left.
    pub fn dropin_presence(&self, member: &Member, presence: Presence) -> Result<Posted> {
        dropins::record_presence(self.store(), member, presence)
    }

    /// A live connection keeps `member`'s place: their seat renewed (the
    /// host holds none); [`Renewal::SeatLost`] when they no longer hold
    /// one, [`Renewal::SignedOut`] once the sign-in session that admitted
    /// them (the host's) is gone or expired.
    pub fn renew_dropin_seat(&self, member: &Member) -> Result<Renewal> {
        dropins::renew_member(self.store(), member)
    }

    /// Up to `limit` messages of `session` after `after`, in order.
    pub fn dropin_messages_after(
        &self,
        session: DropinSessionId,
        after: DropinMessageId,
        limit: usize,
    ) -> Result<Vec<Posted>> {
        dropins::messages_after(self.store(), session, after, limit)
    }
}
