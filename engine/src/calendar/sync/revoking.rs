//! Revoking a grant at Google so that a failure is not the end of it: the
//! disconnect writes a [`PendingRevocation`] in its transaction (the token
//! sealed for that purpose), then sends it; the sync sends again the ones
//! Google did not take, once their backoff has passed, and gives them up
//! after the configured attempts or age, with a warning. Connecting again
//! first sends the expert's own pending revocations, so their old grant
//! ends before the new consent; one left when they are connected is dropped
//! unsent (see [`crate::calendar::PendingRevocation`]). One whose expert
//! still has event operations queued (their account closed: see `closing`)
//! waits until the outbox has sent them with the grant. Every call to
//! Google happens outside the store's write transactions, in the store-wide
//! turn [`crate::store::TurnName::GrantChange`] (whichever node sends it).

use droply_models::{Timestamp, UserId};
use secrecy::ExposeSecret;

use super::closing::ops_queued_for;
use super::{CalendarSync, Google, SyncReport, write_failed_attempt};
use crate::Result;
use crate::calendar::connection::{CalendarConnection, token_aad};
use crate::calendar::revocation::{PendingRevocation, RevocationId, revocation_aad};
use crate::store::{Store, Txn};

/// What became of one pending revocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Revocation {
    /// Google took it (or no longer knew the token): the row is gone.
    Revoked,
    /// Not sent: the row was gone, or its expert is connected again (the
    /// row is dropped).
    NotSent,
    /// Google did not take it (unreachable, 5xx, 429): kept for a later
    /// sync.
    Kept,
    /// Not sent yet, no attempt counted: event operations of its expert's
    /// are still queued, sent with this grant first (`closing`).
    Waiting,
    /// Given up, with a warning: out of attempts, too old, refused for
    /// good, or its token does not open.
    GivenUp,
}

impl CalendarSync {
    /// Writes in `txn` the revocation of `connection`'s grant: its refresh
    /// token (its access token when Google gave none), sealed anew for
    /// revocation. `None`, with a warning, when the token does not open
    /// (the key changed): there is nothing Droply could send.
    pub(super) fn queue_revocation(
        google: &Google,
        txn: &mut Txn<'_>,
        connection: &CalendarConnection,
    ) -> Result<Option<PendingRevocation>> {
        let user = connection.user_id;
        let opened = match &connection.refresh_token {
            Some(sealed) => google.key.open(sealed, &token_aad(user, "refresh")),
            None => google
                .key
                .open(&connection.access_token, &token_aad(user, "access")),
        };
        let token = match opened {
            Ok(token) => token,
            Err(err) => {
                tracing::warn!(user = %user, %err, "the Google grant cannot be revoked: its token does not open");
                return Ok(None);
            }
        };
        let sealed = google
            .key
            .seal(token.expose_secret(), &revocation_aad(user))?;
        let now = txn.now();
        txn.create(PendingRevocation {
            id: RevocationId::new(0),
            user_id: user,
            token: sealed,
            requested_at: now,
            attempts: 0,
            not_before: now,
            last_error: None,
        })
        .map(Some)
    }

    /// Sends every pending revocation whose backoff has passed.
    pub(super) fn retry_revocations(
        &self,
        google: &Google,
        store: &Store,
        now: Timestamp,
        report: &mut SyncReport,
    ) -> Result<()> {
        let due = pending_where(store, |row| row.not_before <= now)?;
        for id in due {
            match self.send_revocation(google, store, id, now, true)? {
                Revocation::Revoked => report.revoked += 1,
                Revocation::Kept | Revocation::GivenUp => report.revocations_failed += 1,
                Revocation::NotSent | Revocation::Waiting => {}
            }
        }
        Ok(())
    }

    /// Sends `user`'s pending revocations now, due or not: they are about
    /// to consent again, and a grant revoked later could be their new one.
    /// Event operations still queued for them do not hold it back (a closing
    /// that failed left them): once connected again, the new grant sends
    /// them.
    pub(super) fn revoke_before_consent(
        &self,
        google: &Google,
        store: &Store,
        user: UserId,
    ) -> Result<()> {
        for id in pending_where(store, |row| row.user_id == user)? {
            self.send_revocation(google, store, id, Timestamp::now(), false)?;
        }
        Ok(())
    }

    /// Sends revocation `id` (read again in the grant-change turn)
    /// and records the outcome after the call: deleted when Google took it,
    /// else kept with its next attempt's time, or given up. With
    /// `wait_for_ops`, it waits while its expert's event operations are
    /// queued (sent with this grant first).
    pub(super) fn send_revocation(
        &self,
        google: &Google,
        store: &Store,
        id: RevocationId,
        now: Timestamp,
        wait_for_ops: bool,
    ) -> Result<Revocation> {
        let Some(expert) = store.get::<PendingRevocation>(id)?.map(|row| row.user_id) else {
            return Ok(Revocation::NotSent);
        };
        let _turn = self.grant_change_turn(store, expert)?;
        // Read again in the turn: a consent exchanged meanwhile may have
        // dropped it.
        let Some(row) = store.get::<PendingRevocation>(id)? else {
            return Ok(Revocation::NotSent);
        };
        let user = row.user_id;
        if store.get::<CalendarConnection>(user)?.is_some() {
            // Connected again since: the old grant may be the same Google
            // account's, whose access (the new grant too) one revocation ends.
            forget(store, id)?;
            tracing::info!(user = %user, "a pending Google revocation dropped: the expert connected again");
            return Ok(Revocation::NotSent);
        }
        if wait_for_ops && ops_queued_for(store, user)? {
            // The deletions of their cancelled sessions' events go first,
            // with this grant; each op's own attempts bound the wait.
            return Ok(Revocation::Waiting);
        }
        let token = match google.key.open(&row.token, &revocation_aad(user)) {
            Ok(token) => token,
            Err(err) => {
                forget(store, id)?;
                tracing::warn!(user = %user, %err, "a pending Google revocation given up: its token does not open");
                return Ok(Revocation::GivenUp);
            }
        };
        match google.client.revoke(&token) {
            Ok(()) => {
                forget(store, id)?;
                tracing::info!(user = %user, attempts = row.attempts.saturating_add(1), "Google grant revoked");
                Ok(Revocation::Revoked)
            }
            Err(err) => self.revocation_failed(store, &row, now, &err.message, err.retryable),
        }
    }

    /// Records a failed attempt of `row`: kept with the backoff of
    /// `revoke_retry` when the failure may pass, else (refused for good, out
    /// of attempts, or older than `revoke_max_age`) deleted with a warning.
    fn revocation_failed(
        &self,
        store: &Store,
        row: &PendingRevocation,
        now: Timestamp,
        message: &str,
        retryable: bool,
    ) -> Result<Revocation> {
        let attempts = row.attempts.saturating_add(1);
        let age = now.signed_duration_since(row.requested_at);
        let too_old =
            chrono::TimeDelta::from_std(self.config.revoke_max_age).is_ok_and(|max| age >= max);
        let backoff = if retryable && !too_old {
            self.config.revoke_retry.delay_after(attempts)
        } else {
            None
        };
        let user = row.user_id;
        if backoff.is_some() {
            tracing::info!(user = %user, attempts, err = %message, "the Google grant was not revoked yet; the calendar sync tries again");
        } else {
            tracing::warn!(user = %user, attempts, err = %message, "the Google grant was not revoked: given up");
        }
        write_failed_attempt(
            store,
            row.id,
            now,
            backoff,
            |current: &mut PendingRevocation, due| {
                current.attempts = attempts;
                current.last_error = Some(message.to_owned());
                current.not_before = due;
            },
        )?;
        Ok(if backoff.is_some() {
            Revocation::Kept
        } else {
            Revocation::GivenUp
        })
    }
}

/// The ids of the pending revocations `keep` selects, in id order.
fn pending_where(
    store: &Store,
    keep: impl Fn(&PendingRevocation) -> bool,
) -> Result<Vec<RevocationId>> {
    store
        .iter::<PendingRevocation>()
        .filter_map(|row| match row {
            Ok(row) if keep(&row) => Some(Ok(row.id)),
            Ok(_) => None,
            Err(err) => Some(Err(err)),
        })
        .collect()
}

/// Deletes revocation `id`, if it is still there.
fn forget(store: &Store, id: RevocationId) -> Result<()> {
    store.write(|txn| {
        if txn.get::<PendingRevocation>(id)?.is_some() {
            txn.delete::<PendingRevocation>(id)?;
        }
        Ok(())
    })
}
