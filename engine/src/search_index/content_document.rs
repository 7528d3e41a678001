//! From a `Content` row to what the indexes hold of it: which items are searchable
//! (published ones only; drafts and archived items are not), the text index's
//! [`ContentDoc`] with a version hash, and the text embedded for its meaning (title and
//! description) with its own version, so that a change to counters only (views,
//! purchases, earnings) re-embeds nothing. Never the file, preview or thumbnail paths,
//! the file hashes or the earnings.

use droply_index::ContentDoc;
use droply_models::Content;

use super::profile_text::stable_hash;

/// Whether `content` belongs in the search index: published, and so for sale.
pub fn is_searchable(content: &Content) -> bool {
    content.is_published()
}

/// The text-index document of `content`.
pub fn content_document(content: &Content) -> ContentDoc {
    let mut doc = ContentDoc {
        id: content.id,
        version: 0,
        title: content.title.clone(),
        description: content.description.clone(),
        content_type: content.content_type.as_str().to_owned(),
        category_id: content.category_id,
        creator: content.user_id,
        currency: content.price.currency,
        price_minor: content.price.amount_minor,
    };
    let mut unversioned = doc.clone();
    unversioned.version = 0;
    doc.version = stable_hash(format!("{unversioned:?}").as_bytes());
    doc
}

/// The text embedded for `content`: the title, then the description.
pub fn content_embedding_text(content: &Content) -> String {
    [content.title.trim(), content.description.trim()]
        .into_iter()
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The version of `content`'s embedding: changes exactly when
/// [`content_embedding_text`] does.
pub fn content_embedding_version(content: &Content) -> u64 {
    stable_hash(content_embedding_text(content).as_bytes())
}
