//! `PendingRevocation`: a Google grant Droply has let go of but Google may
//! not know it yet. Disconnecting writes one in the transaction that
//! deletes the connection, holding the grant's token sealed anew for this
//! purpose ([`revocation_aad`]); the revocation is sent after the
//! transaction, and the calendar sync sends again the ones still here (a
//! network failure, a 5xx or a 429) with the backoff of
//! [`crate::video::RetryPolicy`], until Google takes it or the row is given
//! up (too many attempts, or too old), with a warning. A row whose expert
//! has connected again is dropped unsent: revoking the old token could end
//! the new grant of the same Google account. Its `Debug` shows no token
//! bytes.

use droply_models::{Timestamp, UserId};
use serde::{Deserialize, Serialize};

use super::connection::token_aad;
use crate::Result;
use crate::store::{EntityKind, Record};

engine_record_id! {
    /// Identifies a [`PendingRevocation`].
    pub struct RevocationId;
}

/// A grant still to be revoked at Google.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingRevocation {
    /// Primary key.
    pub id: RevocationId,
    /// The expert whose grant it was.
    pub user_id: UserId,
    /// The token to revoke (the refresh token, or the access token when
    /// Google gave none), sealed ([`super::SecretKey::seal`]) for
    /// [`revocation_aad`].
    pub token: Vec<u8>,
    /// When the expert disconnected.
    pub requested_at: Timestamp,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not sent again by the sync before this instant.
    pub not_before: Timestamp,
    /// The last failure, in words (never a token).
    pub last_error: Option<String>,
}

impl std::fmt::Debug for PendingRevocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PendingRevocation")
            .field("id", &self.id)
            .field("user_id", &self.user_id)
            .field("requested_at", &self.requested_at)
            .field("attempts", &self.attempts)
            .field("not_before", &self.not_before)
            .field("last_error", &self.last_error)
            .finish_non_exhaustive()
    }
}

/// What the associated data of a sealed token to revoke says: whose, and
/// that it is one to revoke (a connection's sealed token does not open as
/// one, nor the reverse).
pub(crate) fn revocation_aad(user: UserId) -> String {
    token_aad(user, "revocation")
}

impl Record for PendingRevocation {
    type Id = RevocationId;
    const KIND: EntityKind = EntityKind::CalendarRevocation;

    fn id(&self) -> RevocationId {
        self.id
    }
    fn set_id(&mut self, id: RevocationId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.user_id.get())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn its_debug_shows_no_token_bytes() {
        let now = Timestamp::now();
        let row = PendingRevocation {
            id: RevocationId::new(7),
            user_id: UserId::new(3),
            token: b"1//refresh-in-clear".to_vec(),
            requested_at: now,
            attempts: 2,
            not_before: now,
            last_error: Some("Google answered 503: Backend Error".to_owned()),
        };
        let debug = format!("{row:?}");
        assert!(!debug.contains("refresh-in-clear"), "{debug}");
        assert!(!debug.contains("token"), "{debug}");
        assert!(debug.contains("attempts: 2"), "{debug}");
    }

    #[test]
    fn a_connections_sealed_token_does_not_open_as_one_to_revoke() {
        let key = super::super::SecretKey::from_bytes([5; 32]);
        let user = UserId::new(3);
        let sealed = key
            .seal("1//refresh", &token_aad(user, "refresh"))
            .expect("seal");
        assert!(key.open(&sealed, &revocation_aad(user)).is_err());
        let resealed = key.seal("1//refresh", &revocation_aad(user)).expect("seal");
        assert!(
            key.open(&resealed, &revocation_aad(UserId::new(4)))
                .is_err()
        );
        assert!(key.open(&resealed, &revocation_aad(user)).is_ok());
    }
}
