//! `DropinPass`: a participant's token for one drop-in. Engine-internal
//! (not a data-model entity): only the token's SHA-256 is kept, unique, so a
//! stolen store does not let anyone into a room. A pass works while its
//! session is open and its participant has not left.

use droply_models::{DropinParticipantId, DropinSessionId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::store::{EntityKind, Record, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`DropinPass`].
    pub struct DropinPassId;
}

/// The hash of one participant token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DropinPass {
    /// Primary key.
    pub id: DropinPassId,
    /// The session the token opens.
    pub session_id: DropinSessionId,
    /// Whose token it is.
    pub participant_id: DropinParticipantId,
    /// SHA-256 of the token, lower-case hex.
    pub token_hash: String,
    /// When it was issued.
    pub created_at: Timestamp,
}

impl Record for DropinPass {
    type Id = DropinPassId;
    const KIND: EntityKind = EntityKind::DropinPass;

    fn id(&self) -> DropinPassId {
        self.id
    }
    fn set_id(&mut self, id: DropinPassId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        if self.token_hash.len() != 64 {
            return Err(Error::Invalid("malformed drop-in pass".to_owned()));
        }
        Ok(())
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::DropinToken,
            key: self.token_hash.as_bytes().to_vec(),
            shown: "(token)".to_owned(),
        }]
    }
}
