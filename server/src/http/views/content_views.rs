//! Content as callers see it: the public view (never where its files are
//! stored or their hashes; earnings only to its creator), a purchase as
//! its buyer sees it, and a purchase's start (the client secret, to the
//! buyer only).

use droply_engine::payments::grants_access;
use droply_engine::{ContentBought, ContentDetails};
use droply_models::{
    CategoryId, Content, ContentId, ContentPurchase, ContentPurchaseId, Money, Timestamp, UserId,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::PaymentView;
use super::model_schemas::{
    ContentStatusSchema, ContentTypeSchema, MoneySchema, PaymentStatusSchema,
};

/// Who made content.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatorView {
    /// The creator's user id.
    #[schema(value_type = u64)]
    pub id: UserId,
    /// Their public name ("Carl P.").
    pub name: String,
}

impl From<&droply_models::User> for CreatorView {
    fn from(user: &droply_models::User) -> Self {
        CreatorView {
            id: user.id,
            name: user.public_name(),
        }
    }
}

/// A stored file as callers see it: what it is and how big.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FileView {
    /// Its media type, read from its bytes.
    pub media_type: String,
    /// Its size in bytes.
    pub size: u64,
}

/// Content as a caller may see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentView {
    /// The content's id.
    #[schema(value_type = u64)]
    pub id: ContentId,
    /// Who made it.
    pub creator: CreatorView,
    /// Its title.
    pub title: String,
    /// Its description.
    pub description: String,
    /// What kind of content it is.
    #[schema(value_type = ContentTypeSchema)]
    pub content_type: &'static str,
    /// Its price; zero is free.
    #[schema(value_type = MoneySchema)]
    pub price: Money,
    /// Its content category.
    #[schema(value_type = Option<u64>)]
    pub category_id: Option<CategoryId>,
    /// `draft`, `published` or `archived`.
    #[schema(value_type = ContentStatusSchema)]
    pub status: &'static str,
    /// The file buyers download, once uploaded.
    pub file: Option<FileView>,
    /// The free preview, once uploaded (`GET /v1/content/{id}/preview`).
    pub preview: Option<FileView>,
    /// Views, counted once a day per viewer.
    pub views: u64,
    /// Purchases that hold it now.
    pub purchases: u64,
    /// Whether the caller may download it (its creator, or a buyer).
    pub can_download: bool,
    /// What it earned its creator; to its creator only.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<MoneySchema>)]
    pub earnings: Option<Money>,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// When it last changed.
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
}

impl ContentView {
    /// The view of `details` for `viewer`.
    pub fn of(details: &ContentDetails, viewer: Option<UserId>) -> ContentView {
        let content = &details.content;
        let file_view = |meta: &droply_models::FileMeta| FileView {
            media_type: meta.media_type.clone(),
            size: meta.size,
        };
        ContentView {
            id: content.id,
            creator: CreatorView {
                id: content.user_id,
                name: details.creator_name.clone(),
            },
            title: content.title.clone(),
            description: content.description.clone(),
            content_type: content.content_type.as_str(),
            price: content.price,
            category_id: content.category_id,
            status: content.status.as_str(),
            file: content.file_meta.as_ref().map(file_view),
            preview: content.preview_meta.as_ref().map(file_view),
            views: content.views,
            purchases: content.purchases,
            can_download: details.can_download,
            earnings: (viewer == Some(content.user_id)).then_some(content.earnings),
            created_at: content.created_at,
            updated_at: content.updated_at,
        }
    }
}

/// A purchase as its buyer (or the content's creator) sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PurchaseView {
    /// The purchase's id.
    #[schema(value_type = u64)]
    pub id: ContentPurchaseId,
    /// What was bought.
    #[schema(value_type = u64)]
    pub content_id: ContentId,
    /// Its title.
    pub content_title: String,
    /// What was paid.
    #[schema(value_type = MoneySchema)]
    pub amount_paid: Money,
    /// Where the payment is.
    #[schema(value_type = PaymentStatusSchema)]
    pub payment_status: &'static str,
    /// Whether it gives the right to download (paid, not fully refunded).
    pub can_download: bool,
    /// When it was made.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl PurchaseView {
    /// The view of `purchase` of `content`.
    pub fn of(purchase: &ContentPurchase, content: &Content) -> PurchaseView {
        PurchaseView {
            id: purchase.id,
            content_id: purchase.content_id,
            content_title: content.title.clone(),
            amount_paid: purchase.amount_paid,
            payment_status: purchase.payment_status.as_str(),
            can_download: grants_access(purchase.payment_status),
            created_at: purchase.created_at,
        }
    }
}

/// A purchase as its start answers it: the purchase, and for content with
/// a price not yet paid, `payment`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BoughtView {
    /// The purchase.
    #[serde(flatten)]
    pub purchase: PurchaseView,
    /// How to pay it; absent when nothing is owed (free, or paid).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment: Option<PaymentView>,
}

impl BoughtView {
    /// The view of `bought`.
    pub fn of(bought: &ContentBought) -> BoughtView {
        BoughtView {
            purchase: PurchaseView::of(&bought.purchase, &bought.content),
            payment: bought.payment.as_ref().map(PaymentView::from),
        }
    }
}
