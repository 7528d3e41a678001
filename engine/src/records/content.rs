//! Content and content purchases as records: content by creator; purchases by
//! buyer and by content, in time order. Purchases are never deleted.
//! Content rows of format 1 (before categories and file metadata) are read
//! as format 2 with neither.

use droply_models::{
    Content, ContentId, ContentPurchase, ContentPurchaseId, ContentStatus, ContentType, Money,
    Timestamp, UserId,
};
use serde::Deserialize;

use super::Repo;
use super::repo::Deletable;
use crate::Result;
use crate::store::{EntityKind, IndexEntry, IndexName, KeyBuilder, Page, PageRequest, Record};

impl Record for Content {
    type Id = ContentId;
    const KIND: EntityKind = EntityKind::Content;
    const FORMAT: u8 = 2;
    record_basics!(ContentId);

    fn upgrade(format: u8, payload: &[u8]) -> Result<Self> {
        if format != 1 {
            return Err(crate::Error::Corrupt(format!(
                "content row has unknown format {format}"
            )));
        }
        let old: ContentV1 = crate::store::codec::decode_payload(payload)?;
        Ok(old.into())
    }

    fn index_entries(&self) -> Vec<IndexEntry> {
        vec![IndexEntry::owner_at(
            IndexName::ContentByCreator,
            self.user_id.get(),
            self.created_at,
        )]
    }
}

impl Deletable for Content {}

/// A content row as format 1 wrote it.
#[derive(Deserialize)]
struct ContentV1 {
    id: ContentId,
    user_id: UserId,
    title: String,
    description: String,
    content_type: ContentType,
    price: Money,
    file_path: String,
    file_size: u64,
    thumbnail_path: Option<String>,
    preview_available: bool,
    preview_path: Option<String>,
    status: ContentStatus,
    views: u64,
    purchases: u64,
    earnings: Money,
    created_at: Timestamp,
    updated_at: Timestamp,
}

impl From<ContentV1> for Content {
    fn from(old: ContentV1) -> Content {
        Content {
            id: old.id,
            user_id: old.user_id,
            title: old.title,
            description: old.description,
            content_type: old.content_type,
            price: old.price,
            file_path: old.file_path,
            file_size: old.file_size,
            thumbnail_path: old.thumbnail_path,
            preview_available: old.preview_available,
            preview_path: old.preview_path,
            status: old.status,
            views: old.views,
            purchases: old.purchases,
            earnings: old.earnings,
            created_at: old.created_at,
            updated_at: old.updated_at,
            category_id: None,
            file_meta: None,
            preview_meta: None,
        }
    }
}

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
            IndexEntry {
                index: IndexName::PurchasesByBuyerContent,
                prefix: KeyBuilder::new()
                    .u64(self.buyer_id.get())
                    .u64(self.content_id.get())
                    .build(),
            },
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
