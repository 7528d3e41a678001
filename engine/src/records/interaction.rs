//! User interactions as records: listed by the acting user and by the target, in time order.

use droply_models::{InteractionId, UserId, UserInteraction};

use super::Repo;
use crate::store::{EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record};
use crate::Result;

impl Record for UserInteraction {
    type Id = InteractionId;
    const KIND: EntityKind = EntityKind::Interaction;

    record_basics!(InteractionId);
    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![
            IndexEntry {
                index: IndexName::InteractionsByUser,
                prefix: KeyBuilder::new().u64(self.user_id.get()).time(self.created_at).build(),
            },
            IndexEntry {
                index: IndexName::InteractionsByTarget,
                prefix: KeyBuilder::new()
                    .u64(self.target_user_id.get())
                    .time(self.created_at)
                    .build(),
            },
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
