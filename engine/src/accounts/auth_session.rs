//! `AuthSession`: one signed-in bearer token. Engine-internal (not a
//! data-model entity): only the token's SHA-256 is kept, unique, with an expiry.

use droply_models::{Timestamp, UserId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::store::{EntityKind, IndexEntry, IndexName, Record, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies an [`AuthSession`].
    pub struct AuthSessionId;
}

/// How long a token stays valid.
pub const SESSION_DAYS: i64 = 30;

/// A signed-in session: whose it is, the hash of its token, when it ends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthSession {
    /// Primary key.
    pub id: AuthSessionId,
    /// The signed-in user.
    pub user_id: UserId,
    /// SHA-256 of the bearer token, lower-case hex.
    pub token_hash: String,
    /// When the session began.
    pub created_at: Timestamp,
    /// After this instant the token is refused.
    pub expires_at: Timestamp,
}

impl AuthSession {
    /// Whether the token still works at `now`.
    pub fn is_live(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// The stored form of a token: its SHA-256 in hex.
pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl Record for AuthSession {
    type Id = AuthSessionId;
    const KIND: EntityKind = EntityKind::AuthSession;

    fn id(&self) -> AuthSessionId {
        self.id
    }
    fn set_id(&mut self, id: AuthSessionId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        if self.token_hash.len() != 64 || self.expires_at <= self.created_at {
            return Err(Error::Invalid("malformed auth session".to_owned()));
        }
        Ok(())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::SessionsByUser,
            self.user_id.get(),
            self.created_at,
        )]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::TokenHash,
            key: self.token_hash.as_bytes().to_vec(),
            shown: "(token)".to_owned(),
        }]
    }
}
