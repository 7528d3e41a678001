//! `Review` as a store record: listed by expert in time order, one per
//! booking (the unique key `ReviewedBooking`).

use droply_models::{BookingId, Timestamp, UserId};
use serde::{Deserialize, Serialize};

use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, Record, UniqueEntry, UniqueName};

engine_record_id! {
    /// Identifies a [`Review`].
    pub struct ReviewId;
}

/// A client's review of a completed session, and the expert's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// Primary key.
    pub id: ReviewId,
    /// The session reviewed.
    pub booking_id: BookingId,
    /// The client who wrote it (never shown).
    pub author_id: UserId,
    /// The expert reviewed.
    pub expert_id: UserId,
    /// How the author is shown ("Carl P.").
    pub author_name: String,
    /// 1 to 5 stars.
    pub rating: u8,
    /// What the client said.
    pub comment: Option<String>,
    /// The expert's answer.
    pub answer: Option<String>,
    /// When it was written.
    pub created_at: Timestamp,
    /// When the expert answered.
    pub answered_at: Option<Timestamp>,
}

impl Record for Review {
    type Id = ReviewId;
    const KIND: EntityKind = EntityKind::Review;

    fn id(&self) -> ReviewId {
        self.id
    }
    fn set_id(&mut self, id: ReviewId) {
        self.id = id;
    }
    fn validate(&self) -> Result<()> {
        if !(1..=5).contains(&self.rating) {
            return Err(droply_models::Error::invalid("rating", "must be 1 to 5 stars").into());
        }
        Ok(())
    }
    fn owner(&self) -> Option<u64> {
        Some(self.expert_id.get())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::ReviewsByExpert,
            self.expert_id.get(),
            self.created_at,
        )]
    }
    fn unique_entries(&self) -> Vec<UniqueEntry> {
        vec![UniqueEntry {
            unique: UniqueName::ReviewedBooking,
            key: self.booking_id.to_be_bytes().to_vec(),
            shown: self.booking_id.to_string(),
        }]
    }
}
