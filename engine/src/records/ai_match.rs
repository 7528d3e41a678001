//! AI matches as records, listed by the user they were made for, in time order.

use droply_models::{AiMatch, AiMatchId, UserId};

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, Page, PageRequest, Record};

impl Record for AiMatch {
    type Id = AiMatchId;
    const KIND: EntityKind = EntityKind::AiMatch;
    record_basics!(AiMatchId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::MatchesByUser,
            self.user_id.get(),
            self.created_at,
        )]
    }
}

impl Deletable for AiMatch {}

impl Repo<'_, AiMatch> {
    /// The matches made for `user`, in time order.
    pub fn by_user(&self, user: UserId, page: &PageRequest) -> Result<Page<AiMatch>> {
        self.by_index(IndexName::MatchesByUser, &user.to_be_bytes(), page)
    }
}
