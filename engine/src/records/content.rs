//! Content and content purchases as records: content by creator; purchases by
//! buyer and by content, in time order. Purchases are never deleted.

use droply_models::{Content, ContentId, ContentPurchase, ContentPurchaseId, UserId};

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, Page, PageRequest, Record};

impl Record for Content {
    type Id = ContentId;
    const KIND: EntityKind = EntityKind::Content;
    record_basics!(ContentId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::ContentByCreator,
            self.user_id.get(),
            self.created_at,
        )]
    }
}

impl Deletable for Content {}

impl Record for ContentPurchase {
    type Id = ContentPurchaseId;
    const KIND: EntityKind = EntityKind::ContentPurchase;
    record_basics!(ContentPurchaseId);

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![
            IndexEntry::owner_at(
                IndexName::PurchasesByBuyer,
                self.buyer_id.get(),
                self.created_at,
            ),
            IndexEntry::owner_at(
                IndexName::PurchasesByContent,
                self.content_id.get(),
                self.created_at,
            ),
        ]
    }
}

impl Repo<'_, Content> {
    /// The content `creator` made, in time order.
    pub fn by_creator(&self, creator: UserId, page: &PageRequest) -> Result<Page<Content>> {
        self.by_index(IndexName::ContentByCreator, &creator.to_be_bytes(), page)
    }
}

impl Repo<'_, ContentPurchase> {
    /// What `buyer` bought, in time order.
    pub fn by_buyer(&self, buyer: UserId, page: &PageRequest) -> Result<Page<ContentPurchase>> {
        self.by_index(IndexName::PurchasesByBuyer, &buyer.to_be_bytes(), page)
    }

    /// The sales of `content`, in time order.
    pub fn by_content(
        &self,
        content: ContentId,
        page: &PageRequest,
    ) -> Result<Page<ContentPurchase>> {
        self.by_index(IndexName::PurchasesByContent, &content.to_be_bytes(), page)
    }
}
