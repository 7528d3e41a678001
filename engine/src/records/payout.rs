//! Payouts as records, listed by user in time order and, while their
//! transfer is unsent, oldest first for the payments sweep. Never deleted.

use droply_models::{Payout, PayoutId, UserId};

use super::Repo;
use crate::Result;
use crate::payments::payout_call_entry;
use crate::store::{EntityKind, IndexEntry, IndexName, Page, PageRequest, Record};

impl Record for Payout {
    type Id = PayoutId;
    const KIND: EntityKind = EntityKind::Payout;
    record_basics!(PayoutId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        let mut entries = vec![IndexEntry::owner_at(
            IndexName::PayoutsByUser,
            self.user_id.get(),
            self.created_at,
        )];
        entries.extend(payout_call_entry(self.status, self.created_at));
        entries
    }
}

impl Repo<'_, Payout> {
    /// The payouts of `user`, in time order.
    pub fn by_user(&self, user: UserId, page: &PageRequest) -> Result<Page<Payout>> {
        self.by_index(IndexName::PayoutsByUser, &user.to_be_bytes(), page)
    }
}
