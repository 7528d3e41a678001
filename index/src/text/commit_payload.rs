//! What a text index records with every commit: the caller's sequence number and the
//! schema version, in tantivy's commit payload, so both are atomic with the documents.

use serde::{Deserialize, Serialize};
use tantivy::Index;

use crate::{Error, Result};

/// The payload of a commit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct CommitPayload {
    /// The sequence number the committed documents reflect.
    pub seq: u64,
    /// The schema version that wrote them.
    pub schema: u32,
}

impl CommitPayload {
    /// The payload of the index's last commit (`None` for a fresh index).
    pub fn read(index: &Index) -> Result<Option<CommitPayload>> {
        let metas = index.load_metas()?;
        match metas.payload {
            Some(text) => serde_json::from_str(&text)
                .map(Some)
                .map_err(|err| Error::Invalid(format!("unreadable commit payload: {err}"))),
            None => Ok(None),
        }
    }

    /// The payload as written into a commit.
    pub fn to_json(self) -> String {
        serde_json::to_string(&self).unwrap_or_default()
    }
}
