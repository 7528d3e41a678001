//! Availability rules and exceptions as records, listed by owner: rules by
//! weekday and start, exceptions by start.

use droply_models::{
    AvailabilityException, AvailabilityExceptionId, AvailabilityRule, AvailabilityRuleId, UserId,
};

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record};

impl Record for AvailabilityRule {
    type Id = AvailabilityRuleId;
    const KIND: EntityKind = EntityKind::AvailabilityRule;
    record_basics!(AvailabilityRuleId);
    fn owner(&self) -> Option<u64> {
        Some(self.user_id.get())
    }

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry {
            index: IndexName::RulesByUser,
            prefix: KeyBuilder::new()
                .u64(self.user_id.get())
                .u16(u16::from(self.weekday.get()))
                .u16(self.start.minutes())
                .build(),
        }]
    }
}

impl Deletable for AvailabilityRule {}

impl Record for AvailabilityException {
    type Id = AvailabilityExceptionId;
    const KIND: EntityKind = EntityKind::AvailabilityException;
    record_basics!(AvailabilityExceptionId);
    fn owner(&self) -> Option<u64> {
        Some(self.user_id.get())
    }

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::ExceptionsByUser,
            self.user_id.get(),
            self.start,
        )]
    }
}

impl Deletable for AvailabilityException {}

impl Repo<'_, AvailabilityRule> {
    /// The weekly rules of `user`, by weekday then start time.
    pub fn by_user(&self, user: UserId, page: &PageRequest) -> Result<Page<AvailabilityRule>> {
        self.by_index(IndexName::RulesByUser, &user.to_be_bytes(), page)
    }
}

impl Repo<'_, AvailabilityException> {
    /// The exceptions of `user`, by start.
    pub fn by_user(&self, user: UserId, page: &PageRequest) -> Result<Page<AvailabilityException>> {
        self.by_index(IndexName::ExceptionsByUser, &user.to_be_bytes(), page)
    }
}
