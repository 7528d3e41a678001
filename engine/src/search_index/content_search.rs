//! The content half of the [`SearchIndex`] handle: published content searched by words
//! and by meaning within [`ContentFilters`], facet counts among content hits, and the
//! entries parity checks compare. Like the expert searches, each answers nothing while
//! the indexes are being rebuilt.

use droply_index::{ContentFacet, ContentFilters, FacetCounts, VectorHit};
use droply_models::ContentId;

use super::handle::SearchIndex;
use crate::Result;

/// Content ids with the version of their indexed document or embedding.
pub type VersionedContentIds = Vec<(ContentId, u64)>;

impl SearchIndex {
    /// Published content matching `query` by BM25 (typo tolerant in titles) within
    /// `filters`, best first, at most `limit`; an empty query lists what the filters
    /// allow.
    pub fn content_text_search(
        &self,
        query: &str,
        filters: &ContentFilters,
        limit: usize,
    ) -> Result<Vec<(ContentId, f32)>> {
        match self.shared.indexes() {
            Some(indexes) => Ok(indexes.content_text.search(query, filters, limit)?),
            None => Ok(Vec::new()),
        }
    }

    /// [`SearchIndex::content_text_search`] that also counts, in the same pass, every
    /// item the words match and the values of `fields` among them.
    pub fn content_text_search_counted(
        &self,
        query: &str,
        filters: &ContentFilters,
        limit: usize,
        fields: &[ContentFacet],
        max_values: usize,
    ) -> Result<droply_index::text::CountedContentHits> {
        match self.shared.indexes() {
            Some(indexes) => Ok(indexes
                .content_text
                .search_counted(query, filters, limit, fields, max_values)?),
            None => Ok((Vec::new(), FacetCounts::default())),
        }
    }

    /// The `k` published items whose title-and-description vectors are closest to
    /// `vector` (cosine, best first) within `filters`, which are resolved through the
    /// content text index.
    pub fn content_vector_search(
        &self,
        vector: &[f32],
        filters: &ContentFilters,
        k: usize,
    ) -> Result<Vec<(ContentId, f32)>> {
        let Some(indexes) = self.shared.indexes() else {
            return Ok(Vec::new());
        };
        let hits: Vec<VectorHit<ContentId>> = if filters.is_empty() {
            indexes.content_vectors.search(vector, k, None)?
        } else {
            let allowed = indexes.content_text.matching_ids(filters)?;
            indexes.content_vectors.search(vector, k, Some(&allowed))?
        };
        Ok(hits.into_iter().map(|hit| (hit.key, hit.score)).collect())
    }

    /// Counts the items matching `text` or listed in `also` within `filters`, and the
    /// values of `fields` among them.
    pub fn content_facet_counts(
        &self,
        text: &str,
        filters: &ContentFilters,
        also: &[ContentId],
        fields: &[ContentFacet],
        max_values: usize,
    ) -> Result<FacetCounts<ContentFacet>> {
        match self.shared.indexes() {
            Some(indexes) => Ok(indexes
                .content_text
                .facet_counts(text, filters, also, fields, max_values)?),
            None => Ok(FacetCounts::default()),
        }
    }

    /// Every item in the content text index with its document version, and every item
    /// in the content vector index with its embedding version (parity checks).
    pub fn content_entries(&self) -> Result<(VersionedContentIds, VersionedContentIds)> {
        match self.shared.indexes() {
            Some(indexes) => Ok((
                indexes.content_text.entries()?,
                indexes.content_vectors.entries(),
            )),
            None => Ok((Vec::new(), Vec::new())),
        }
    }
}
