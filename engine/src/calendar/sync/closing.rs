//! Letting go of a calendar when its owner closes their account: the
//! closing cancels the owner's upcoming sessions (each queues the deletion
//! of its event) and then lets go of the connection as a disconnect does
//! (the connection, its tokens and the busy times go in one write that
//! queues the grant's revocation), except that the queued event operations
//! stay. The grant is still alive at Google until it is revoked, so the
//! outbox sends them with it: an access token refreshed from the token the
//! pending revocation holds (or that token itself, when Google gave no
//! refresh token and it is the access token). The revocation waits while an
//! operation of the owner's is queued and is sent once none is left; each
//! operation has the outbox's backoff and attempts, so the wait is bounded.
//! Both run in the sync (the leader's job); every call to Google happens
//! outside the store's write transactions.

use droply_models::UserId;
use secrecy::{ExposeSecret, SecretString};

use super::{CalendarSync, Google};
use crate::Result;
use crate::calendar::google_client::{GoogleError, GoogleFailure};
use crate::calendar::outbox::CalendarOp;
use crate::calendar::revocation::{PendingRevocation, revocation_aad};
use crate::store::Store;

impl CalendarSync {
    /// Lets go of `user`'s calendar as their account closes: as
    /// [`CalendarSync::disconnect`], but the event operations queued for it
    /// (the deletions of the events of the sessions the closing cancelled)
    /// stay, sent by the sync with the grant before it is revoked. With
    /// none queued the grant is revoked now, as a disconnect does.
    pub fn close_connection(&self, store: &Store, user: UserId) -> Result<()> {
        self.let_go(store, user, false)
    }

    /// The pending revocation of the grant `user` let go of last, if any:
    /// the grant their queued event operations are sent with while their
    /// connection is gone (read after the connection: a closing deletes it
    /// and writes the revocation in one write). The newest, not an older
    /// grant still waiting to be revoked, which may be another Google
    /// account's.
    pub(super) fn grant_let_go_of(
        &self,
        store: &Store,
        user: UserId,
    ) -> Result<Option<PendingRevocation>> {
        let mut newest: Option<PendingRevocation> = None;
        for row in store.iter::<PendingRevocation>() {
            let row = row?;
            if row.user_id == user && newest.as_ref().is_none_or(|kept| kept.id < row.id) {
                newest = Some(row);
            }
        }
        Ok(newest)
    }

    /// Runs `call` with an access token of `revocation`'s grant: refreshed
    /// from the refresh token it holds (a refresh token Google rotated to
    /// is kept on the row, so that the revocation ends the grant), or, when
    /// Google refuses it as one, the token itself (the access token, held
    /// when Google gave no refresh token). `None` when nothing can be sent
    /// with it: its token does not open, or Google refuses the access token.
    pub(super) fn with_grant_let_go<T>(
        &self,
        google: &Google,
        store: &Store,
        revocation: &PendingRevocation,
        call: impl Fn(&SecretString) -> std::result::Result<T, GoogleError>,
    ) -> Result<Option<T>> {
        let user = revocation.user_id;
        let Ok(token) = google.key.open(&revocation.token, &revocation_aad(user)) else {
            tracing::warn!(user = %user, "a calendar event left in Google: the grant let go of does not open");
            return Ok(None);
        };
        let access = match google.client.refresh(&token) {
            Ok(grant) => {
                if let Some(rotated) = &grant.refresh_token {
                    self.keep_rotated(google, store, revocation, rotated)?;
                }
                grant.access_token
            }
            Err(err) if err.failure == GoogleFailure::InvalidGrant => token,
            Err(err) => return Err(err.into()),
        };
        match call(&access) {
            Ok(value) => Ok(Some(value)),
            Err(err) if err.failure == GoogleFailure::Unauthorized => {
                tracing::warn!(user = %user, "a calendar event left in Google: the grant let go of no longer works");
                Ok(None)
            }
            Err(err) => Err(err.into()),
        }
    }

    /// Stores `rotated`, the refresh token Google gave in place of the one
    /// `revocation` holds, sealed for revocation on the row (if it is still
    /// there).
    fn keep_rotated(
        &self,
        google: &Google,
        store: &Store,
        revocation: &PendingRevocation,
        rotated: &SecretString,
    ) -> Result<()> {
        let sealed = google
            .key
            .seal(rotated.expose_secret(), &revocation_aad(revocation.user_id))?;
        store.write(|txn| {
            let Some(mut row) = txn.get::<PendingRevocation>(revocation.id)? else {
                return Ok(());
            };
            row.token = sealed.clone();
            txn.update(row).map(drop)
        })
    }
}

/// Whether an event operation of `user`'s is queued: their grant's
/// revocation waits for it.
pub(super) fn ops_queued_for(store: &Store, user: UserId) -> Result<bool> {
    for op in store.iter::<CalendarOp>() {
        if op?.expert_id == user {
            return Ok(true);
        }
    }
    Ok(false)
}
