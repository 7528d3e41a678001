//! What the content rules read, from a write transaction or straight from
//! the store: the same visibility and ownership checks serve a purchase
//! (inside the writer's transaction) and a download (without the writer
//! lock).

use droply_models::{Content, ContentId, ContentPurchase, UserId};

use crate::Result;
use crate::store::{IndexName, KeyBuilder, MAX_PAGE_SIZE, PageRequest, Store, Txn};

/// Reads of content rows and their purchases.
pub trait ContentReads {
    /// Content `id`, if it exists.
    fn content(&self, id: ContentId) -> Result<Option<Content>>;
    /// Every purchase `buyer` made of `content`, oldest first.
    fn purchases_of(&self, buyer: UserId, content: ContentId) -> Result<Vec<ContentPurchase>>;
    /// Whether anyone bought or started to buy `content`.
    fn has_purchases(&self, content: ContentId) -> Result<bool>;
}

fn buyer_content(buyer: UserId, content: ContentId) -> Vec<u8> {
    KeyBuilder::new()
        .u64(buyer.get())
        .u64(content.get())
        .build()
}

impl ContentReads for Txn<'_> {
    fn content(&self, id: ContentId) -> Result<Option<Content>> {
        self.get(id)
    }
    fn purchases_of(&self, buyer: UserId, content: ContentId) -> Result<Vec<ContentPurchase>> {
        self.list_index(
            IndexName::PurchasesByBuyerContent,
            &buyer_content(buyer, content),
        )
    }
    fn has_purchases(&self, content: ContentId) -> Result<bool> {
        Ok(self.count_index(IndexName::PurchasesByContent, &content.to_be_bytes())? > 0)
    }
}

impl ContentReads for Store {
    fn content(&self, id: ContentId) -> Result<Option<Content>> {
        self.get(id)
    }
    fn purchases_of(&self, buyer: UserId, content: ContentId) -> Result<Vec<ContentPurchase>> {
        Ok(self
            .list_index(
                IndexName::PurchasesByBuyerContent,
                &buyer_content(buyer, content),
                &PageRequest::first(MAX_PAGE_SIZE),
            )?
            .items)
    }
    fn has_purchases(&self, content: ContentId) -> Result<bool> {
        Ok(self.count_index(IndexName::PurchasesByContent, &content.to_be_bytes())? > 0)
    }
}
