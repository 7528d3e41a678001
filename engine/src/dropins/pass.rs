//! `DropinPass`: a participant's token for one drop-in. Engine-internal
//! (not a data-model entity): only the token's SHA-256 is kept, unique, so a
//! stolen store does not let anyone into a room. A pass works while its
//! session is open and its participant has not left; the pass of someone
//! who joined signed in names that sign-in ([`DropinPass::signed_in_with`])
//! and works only while it stands (a sign-out ends it).

use droply_models::{DropinParticipantId, DropinSessionId, Timestamp};
use serde::{Deserialize, Serialize};

use crate::accounts::AuthSessionId;
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
    /// The sign-in session the participant joined with; `None` for a guest
    /// (and for a pass issued before passes named it, format 1).
    #[serde(default)]
    pub signed_in_with: Option<AuthSessionId>,
}

/// A pass as format 1 wrote it (no `signed_in_with`).
#[derive(Deserialize)]
struct DropinPassV1 {
    id: DropinPassId,
    session_id: DropinSessionId,
    participant_id: DropinParticipantId,
    token_hash: String,
    created_at: Timestamp,
}

impl Record for DropinPass {
    type Id = DropinPassId;
    const KIND: EntityKind = EntityKind::DropinPass;
    const FORMAT: u8 = 2;

    fn id(&self) -> DropinPassId {
        self.id
    }
    fn set_id(&mut self, id: DropinPassId) {
        self.id = id;
    }
    fn upgrade(format: u8, payload: &[u8]) -> Result<Self> {
        if format != 1 {
            return Err(Error::Corrupt(format!(
                "drop-in pass row has unknown format {format}"
            )));
        }
        let old: DropinPassV1 = crate::store::codec::decode_payload(payload)?;
        Ok(DropinPass {
            id: old.id,
            session_id: old.session_id,
            participant_id: old.participant_id,
            token_hash: old.token_hash,
            created_at: old.created_at,
            signed_in_with: None,
        })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec;

    /// A pass stored before passes named a sign-in (format 1) still reads,
    /// as a pass tied to none: it keeps working as it did.
    #[test]
    fn a_format_1_pass_reads_back_tied_to_no_sign_in() {
        let created_at = Timestamp::now();
        // bincode writes a struct as its fields in order, as this tuple.
        let old = (
            DropinPassId::new(3),
            DropinSessionId::new(4),
            DropinParticipantId::new(5),
            "a".repeat(64),
            created_at,
        );
        let bytes = codec::encode(1, &old).expect("format 1");
        let pass = DropinPass::decode(&bytes).expect("read back");
        assert_eq!(
            pass,
            DropinPass {
                id: DropinPassId::new(3),
                session_id: DropinSessionId::new(4),
                participant_id: DropinParticipantId::new(5),
                token_hash: "a".repeat(64),
                created_at,
                signed_in_with: None,
            }
        );
        let now = DropinPass::decode(&pass.encode().expect("format 2")).expect("format 2");
        assert_eq!(now, pass);
    }
}
