//! What the text index holds about a published content item ([`ContentDoc`]), and the
//! filters a content search can apply ([`ContentFilters`]). A `ContentDoc` has no field
//! for the file, preview or thumbnail paths, the file hashes or the earnings, so none
//! can reach the index.

use droply_models::{CategoryId, ContentId, Currency, UserId};

use super::expert_doc::PriceRange;

/// The searchable, filterable part of a content item.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentDoc {
    /// The content's id.
    pub id: ContentId,
    /// A hash of everything below, written by the caller; lets parity checks and
    /// re-indexing tell whether the indexed copy is current.
    pub version: u64,
    /// Title.
    pub title: String,
    /// Description.
    pub description: String,
    /// What kind of content it is, as its API name (`video`, `course`, ...).
    pub content_type: String,
    /// The content category it is filed under.
    pub category_id: Option<CategoryId>,
    /// Who sells it.
    pub creator: UserId,
    /// The currency of its price.
    pub currency: Currency,
    /// Its price in minor units of `currency` (0 when free).
    pub price_minor: i64,
}

/// Restrictions on which content items a search returns. Empty lists restrict nothing;
/// a list matches when any of its values does; the fields combine with AND.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ContentFilters {
    /// Content types (`video`, `course`, ...), compared case-insensitively.
    pub content_types: Vec<String>,
    /// Content categories.
    pub categories: Vec<CategoryId>,
    /// Creators.
    pub creators: Vec<UserId>,
    /// Price ranges, one per currency (an item matches any of them).
    pub prices: Vec<PriceRange>,
}

impl ContentFilters {
    /// Whether the filters restrict nothing.
    pub fn is_empty(&self) -> bool {
        *self == ContentFilters::default()
    }
}
