//! `CountedView`: a viewer's view of a content item already counted on one
//! UTC day. Engine-internal: the row holds only a keyed hash of (content,
//! viewer, day) under the store's secret key (`view_key`, unique), never the
//! viewer's id or address, and when it lapses (the day's end), by which it
//! is listed for the sweep.

use droply_models::Timestamp;
use serde::{Deserialize, Serialize};

use crate::records::Expiring;
use crate::store::{EntityKind, IndexEntry, IndexName, Record, UniqueEntry, UniqueName};
use crate::{Error, Result};

engine_record_id! {
    /// Identifies a [`CountedView`].
    pub struct CountedViewId;
}

/// A view counted today.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CountedView {
    /// Primary key.
    pub id: CountedViewId,
    /// HMAC-SHA256 of (content, viewer, UTC day) under the store's secret
    /// key, 64 lower-case hex digits.
    pub view_key: String,
    /// The end of the view's UTC day: the row is not needed after it.
    pub expires_at: Timestamp,
}

impl Record for CountedView {
    type Id = CountedViewId;
    const KIND: EntityKind = EntityKind::CountedView;

    fn id(&self) -> CountedViewId {
        self.id
    }
    fn set_id(&mut self, id: CountedViewId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        let hashed = self.view_key.len() == 64
            && self
                .view_key
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if !hashed {
            return Err(Error::Invalid("malformed counted view".to_owned()));
        }
        Ok(())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![self.expiry_entry()]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::CountedView,
            key: self.view_key.as_bytes().to_vec(),
            shown: "(counted view)".to_owned(),
        }]
    }
}

impl Expiring for CountedView {
    const BY_EXPIRY: IndexName = IndexName::CountedViewsByExpiry;

    fn expires_at(&self) -> Timestamp {
        self.expires_at
    }
}
