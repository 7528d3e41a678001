//! `LoginAttempts`: one (client network, email) pair's sign-in attempts
//! still within the throttle's window, kept in the store so that every node
//! sharing it counts the same attempts and a restart forgets none.
//! Engine-internal: the pair is kept only as its keyed hash under the
//! store's secret key (`pair_key`, unique), never the address or the email;
//! the row lapses when its last attempt leaves the window and is listed by
//! that instant for the sweep.

use droply_models::Timestamp;
use serde::{Deserialize, Serialize};

use crate::records::Expiring;
use crate::store::{EntityKind, IndexEntry, IndexName, Record, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`LoginAttempts`] row.
    pub struct LoginAttemptsId;
}

/// A pair's attempts within the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginAttempts {
    /// Primary key.
    pub id: LoginAttemptsId,
    /// HMAC-SHA256 of the pair (client network, normalised email) under the
    /// store's secret key, 64 lower-case hex digits.
    pub pair_key: String,
    /// When each attempt began, oldest first; never more than the
    /// throttle's `max_failures`, never empty.
    pub attempts: Vec<Timestamp>,
    /// When the last attempt leaves the window: the pair is forgotten then.
    pub expires_at: Timestamp,
}

impl Record for LoginAttempts {
    type Id = LoginAttemptsId;
    const KIND: EntityKind = EntityKind::LoginAttempts;

    fn id(&self) -> LoginAttemptsId {
        self.id
    }
    fn set_id(&mut self, id: LoginAttemptsId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        let hashed = self.pair_key.len() == 64
            && self
                .pair_key
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hashed || self.attempts.is_empty() {
            return Err(Error::Invalid("malformed sign-in attempts".to_owned()));
        }
        Ok(())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![self.expiry_entry()]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::LoginPair,
            key: self.pair_key.as_bytes().to_vec(),
            shown: "(sign-in pair)".to_owned(),
        }]
    }
}

impl Expiring for LoginAttempts {
    const BY_EXPIRY: IndexName = IndexName::LoginAttemptsByExpiry;

    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}
