//! User interactions as records: listed by the acting user and by the target, in time order.

use droply_models::{InteractionId, UserId, UserInteraction};

use super::Repo;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, Page, PageRequest, Record};

impl Record for UserInteraction {
    type Id = InteractionId;
    const KIND: EntityKind = EntityKind::Interaction;

    record_basics!(InteractionId);
    fn owner(&self) -> Option<u64> {
        Some(self.target_user_id.get())
    }
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![
            IndexEntry::owner_at(
                IndexName::InteractionsByUser,
                self.user_id.get(),
                self.created_at,
            ),
            IndexEntry::owner_at(
                IndexName::InteractionsByTarget,
                self.target_user_id.get(),
                self.created_at,
            ),
        ]
    }
}

impl Repo<'_, UserInteraction> {
    /// What `user` did, in time order.
    pub fn by_user(&self, user: UserId, page: &PageRequest) -> Result<Page<UserInteraction>> {
        self.by_index(IndexName::InteractionsByUser, &user.to_be_bytes(), page)
    }

    /// What was done to `target`, in time order.
    pub fn by_target(&self, target: UserId, page: &PageRequest) -> Result<Page<UserInteraction>> {
        self.by_index(IndexName::InteractionsByTarget, &target.to_be_bytes(), page)
    }
}
