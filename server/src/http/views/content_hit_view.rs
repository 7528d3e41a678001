//! The public view of a published content item in search results: what anyone may see
//! before buying. Built field by field from the stored row, so a new private field
//! never leaks by default: never the file, preview or thumbnail paths, the file hashes
//! or sizes, or the earnings. The creator is shown by id and public name only.

use droply_models::{Content, ContentType, Money, Timestamp, User};
use serde::Serialize;
use utoipa::ToSchema;

use super::content_views::CreatorView;
use super::model_schemas::{ContentTypeSchema, MoneySchema};

/// A content item as the public sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ContentHitView {
    /// The content's id.
    pub id: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// What kind of content it is.
    #[schema(value_type = ContentTypeSchema)]
    pub content_type: ContentType,
    /// Its price (zero when free).
    #[schema(value_type = MoneySchema)]
    pub price: Money,
    /// The content category it is filed under.
    pub category_id: Option<u64>,
    /// Whether a free preview exists.
    pub preview_available: bool,
    /// How often it was bought.
    pub purchases: u64,
    /// Who sells it.
    pub creator: CreatorView,
    /// When it was created.
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl ContentHitView {
    /// The public view of `content`, sold by `creator`.
    pub fn new(content: &Content, creator: &User) -> Self {
        ContentHitView {
            id: content.id.get(),
            title: content.title.clone(),
            description: content.description.clone(),
            content_type: content.content_type,
            price: content.price,
            category_id: content.category_id.map(|id| id.get()),
            preview_available: content.preview_available,
            purchases: content.purchases,
            creator: CreatorView::from(creator),
            created_at: content.created_at,
        }
    }
}
