//! Linking a Google calendar to an expert: the consent URL (a single-use
//! state bound to the expert, with a PKCE verifier sealed beside it, asked
//! for once their pending revocations were sent), the callback that takes
//! the state once and stores the tokens sealed, the owner's status,
//! disconnecting (the connection and busy times go in one transaction that
//! writes the grant's revocation, sent after it and again by the sync until
//! Google takes it; then the pending event operations), and forgetting
//! consent states that expired unused.

use droply_models::{Timestamp, User, UserId};

use super::CalendarSync;
use super::revoking::Revocation;
use crate::calendar::busy::clear_busy;
use crate::calendar::connection::{CalendarConnection, CalendarStatus, LinkState, token_aad};
use crate::calendar::google_client::GoogleFailure;
use crate::calendar::oauth::{
    OAuthState, OAuthStateId, consent_url, random_token, state_hash, verifier_aad,
};
use crate::calendar::outbox::CalendarOp;
use crate::store::{IndexName, Store, UniqueName};
use crate::{Error, Result};

/// The longest `code` or `state` the callback accepts.
const MAX_PARAM_LEN: usize = 2048;

impl CalendarSync {
    /// A consent URL for expert `user`, with a new state bound to them.
    /// Their grants still to be revoked are sent first (a failure keeps
    /// them for the sync and does not stop the consent).
    pub fn connect_url(&self, store: &Store, user: UserId) -> Result<String> {
        let google = self.google()?;
        let owner = store.users().get(user)?;
        if !owner.is_expert() {
            return Err(Error::Forbidden(
                "only experts connect a calendar (set a profession first)".to_owned(),
            ));
        }
        self.revoke_before_consent(google, store, user)?;
        let state = random_token();
        let verifier = random_token();
        let hash = state_hash(secrecy::ExposeSecret::expose_secret(&state));
        let sealed = google.key.seal(
            secrecy::ExposeSecret::expose_secret(&verifier),
            &verifier_aad(&hash),
        )?;
        let ttl = chrono::TimeDelta::from_std(self.config.state_ttl).unwrap_or_default();
        store.write(|txn| {
            // One consent in progress per expert: the newest.
            let earlier: Vec<OAuthState> =
                txn.list_index(IndexName::OAuthStatesByUser, &user.to_be_bytes())?;
            for state in earlier {
                txn.delete::<OAuthState>(state.id)?;
            }
            let expires_at = txn.now().saturating_add(ttl);
            txn.create(OAuthState {
                id: OAuthStateId::new(0),
                state_hash: hash.clone(),
                user_id: user,
                verifier: sealed.clone(),
                expires_at,
            })
        })?;
        consent_url(self.google_config()?, &state, &verifier)
    }

    /// Google's redirect: takes `state` (once), exchanges `code` with its
    /// PKCE verifier and stores the tokens sealed; the owner's new status.
    /// `caller` is who is signed in where the redirect landed: it must be
    /// the expert who asked for the consent, or a consent link passed to
    /// someone else would link *their* calendar to the expert's account
    /// (the state is spent all the same).
    pub fn complete(
        &self,
        store: &Store,
        code: &str,
        state: &str,
        caller: UserId,
    ) -> Result<(UserId, CalendarStatus)> {
        let google = self.google()?;
        let bad_state = || {
            Error::InvalidOAuthState(
                "unknown, expired or already used state; start connecting again".to_owned(),
            )
        };
        if state.is_empty() || state.len() > MAX_PARAM_LEN {
            return Err(bad_state());
        }
        if code.is_empty() || code.len() > MAX_PARAM_LEN {
            return Err(Error::Invalid("`code` is missing or too long".to_owned()));
        }
        let hash = state_hash(state);
        // No revocation is sent, from any node, until the new grant is
        // stored; taken before the state is spent, so that a busy answer
        // leaves the consent to be completed again.
        // The caller's: a state of another account's is refused below.
        let _turn = self.grant_change_turn(store, caller)?;
        // Single use: the state is deleted before anything else happens.
        let taken = store.write(|txn| {
            let Some(id) = txn.lookup_unique(UniqueName::OAuthState, hash.as_bytes())? else {
                return Ok(None);
            };
            let row = txn.delete::<OAuthState>(OAuthStateId::new(id))?;
            Ok(Some((row, txn.now())))
        })?;
        let Some((row, now)) = taken else {
            return Err(bad_state());
        };
        if row.expires_at <= now {
            return Err(bad_state());
        }
        if row.user_id != caller {
            return Err(Error::InvalidOAuthState(
                "this consent was started by another account; sign in as that account and start connecting again"
                    .to_owned(),
            ));
        }
        let verifier = google.key.open(&row.verifier, &verifier_aad(&hash))?;
        let grant = google
            .client
            .exchange_code(code, &verifier)
            .map_err(|err| {
                if err.failure == GoogleFailure::InvalidGrant {
                    Error::InvalidOAuthState(
                        "Google refused the authorization code; start connecting again".to_owned(),
                    )
                } else {
                    Error::from(err)
                }
            })?;
        let user = row.user_id;
        let connection = store.write(|txn| {
            txn.require::<User>(user)?;
            let old = txn.get::<CalendarConnection>(user)?;
            let refresh_token = match &grant.refresh_token {
                Some(token) => Some(google.key.seal(
                    secrecy::ExposeSecret::expose_secret(token),
                    &token_aad(user, "refresh"),
                )?),
                None => old.as_ref().and_then(|o| o.refresh_token.clone()),
            };
            let now = txn.now();
            // A new grant's `connected_at` is never its predecessor's: it
            // is what tells the grants apart (`same_grant`).
            let connected_at = match &old {
                Some(old) if old.connected_at >= now => old
                    .connected_at
                    .saturating_add(chrono::TimeDelta::microseconds(1)),
                _ => now,
            };
            let connection = CalendarConnection {
                user_id: user,
                state: LinkState::Connected,
                access_token: google.key.seal(
                    secrecy::ExposeSecret::expose_secret(&grant.access_token),
                    &token_aad(user, "access"),
                )?,
                refresh_token,
                access_expires_at: now.saturating_add(chrono::TimeDelta::seconds(grant.expires_in)),
                connected_at,
                last_sync_at: old.as_ref().and_then(|o| o.last_sync_at),
                problem: None,
            };
            if old.is_some() {
                txn.update(connection)
            } else {
                txn.put(connection)
            }
        })?;
        tracing::info!(user = %user, "Google calendar connected");
        Ok((user, CalendarStatus::of(Some(&connection))))
    }

    /// What `user` sees of their connection.
    pub fn status(&self, store: &Store, user: UserId) -> Result<CalendarStatus> {
        self.google()?;
        Ok(CalendarStatus::of(
            store.get::<CalendarConnection>(user)?.as_ref(),
        ))
    }

    /// Disconnects `user`: the connection and their busy times go in one
    /// transaction that writes the grant's revocation; then their pending
    /// event operations go, and the revocation is sent. One Google does not
    /// take stays for the sync to send again: the disconnect has happened
    /// all the same (the tokens are forgotten).
    pub fn disconnect(&self, store: &Store, user: UserId) -> Result<()> {
        self.let_go(store, user, true)
    }

    /// [`CalendarSync::disconnect`], dropping `user`'s pending event
    /// operations when `drop_ops`; kept, they are sent by the sync with the
    /// grant before it is revoked (an account's closing: `closing`).
    pub(super) fn let_go(&self, store: &Store, user: UserId, drop_ops: bool) -> Result<()> {
        let google = self.google()?;
        let revocation = store.write(|txn| {
            let Some(connection) = txn.get::<CalendarConnection>(user)? else {
                return Err(Error::NotFound {
                    entity: "calendar_connection",
                    id: user.get(),
                });
            };
            txn.delete::<CalendarConnection>(user)?;
            clear_busy(txn, user)?;
            Self::queue_revocation(google, txn, &connection)
        })?;
        tracing::info!(user = %user, "Google calendar disconnected");
        if drop_ops {
            self.drop_ops_of(store, user)?;
        }
        if let Some(revocation) = revocation {
            match self.send_revocation(google, store, revocation.id, Timestamp::now(), true) {
                Ok(Revocation::Revoked | Revocation::NotSent | Revocation::GivenUp) => {}
                Ok(Revocation::Waiting) => {
                    tracing::info!(user = %user, "the Google grant is revoked by the calendar sync once its queued events are sent");
                }
                Ok(Revocation::Kept) => {
                    tracing::warn!(user = %user, "the Google grant was not revoked; the calendar sync tries again");
                }
                Err(err) => {
                    tracing::warn!(user = %user, %err, "the Google grant's revocation is left to the calendar sync");
                }
            }
        }
        Ok(())
    }

    fn drop_ops_of(&self, store: &Store, user: UserId) -> Result<()> {
        let ops: Vec<CalendarOp> = store
            .iter::<CalendarOp>()
            .filter(|op| op.as_ref().map_or(true, |op| op.expert_id == user))
            .collect::<Result<_>>()?;
        if ops.is_empty() {
            return Ok(());
        }
        store.write(|txn| {
            for op in &ops {
                if txn.get::<CalendarOp>(op.id)?.is_some() {
                    txn.delete::<CalendarOp>(op.id)?;
                }
            }
            Ok(())
        })
    }

    /// Deletes the consent states that expired unused.
    pub(super) fn forget_expired_states(&self, store: &Store, now: Timestamp) -> Result<()> {
        let expired: Vec<OAuthStateId> = store
            .iter::<OAuthState>()
            .filter_map(|row| match row {
                Ok(row) if row.expires_at <= now => Some(Ok(row.id)),
                Ok(_) => None,
                Err(err) => Some(Err(err)),
            })
            .collect::<Result<_>>()?;
        if expired.is_empty() {
            return Ok(());
        }
        store.write(|txn| {
            for id in &expired {
                if txn.get::<OAuthState>(*id)?.is_some() {
                    txn.delete::<OAuthState>(*id)?;
                }
            }
            Ok(())
        })
    }
}
