//! [`CountedSearch`]: a words' search of the expert index that counted the experts it
//! matched (the total and the facets) and stays open to experts found another way:
//! the vector hits of the same request join the counts once, after both passes ran
//! (possibly at once, on two threads), without a second pass over the words.
//!
//! Each listed expert is found by its id term in each segment of the searcher the
//! words were searched with, skipped when deleted, when the filters exclude it, or
//! when the words' pass counted it already.

use droply_models::UserId;
use tantivy::query::{EnableScoring, Query};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::{DocId, DocSet, Searcher, TERMINATED, Term};

use super::facets::{FacetCounts, FacetField, OpenFacets};
use crate::{ExternalId, Result};

/// A words' search with its counts still open (see the module docs).
pub struct CountedSearch {
    pub(crate) searcher: Searcher,
    pub(crate) hits: Vec<(UserId, f32)>,
    pub(crate) counts: OpenFacets<FacetField>,
    pub(crate) filter: Option<Box<dyn Query>>,
    pub(crate) id_field: Field,
    /// Whether words were searched; if not, the pass listed every expert the filters
    /// allow, and listed experts, when there are any, are counted instead.
    pub(crate) words: bool,
}

impl std::fmt::Debug for CountedSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CountedSearch")
            .field("hits", &self.hits.len())
            .finish()
    }
}

impl CountedSearch {
    /// The ranked hits: the words' matches within the filters, best first.
    pub fn hits(&self) -> &[(UserId, f32)] {
        &self.hits
    }

    /// The hits and the counts of the experts matched, `also` (the vector hits) joining
    /// them: each listed expert the filters allow counts once, matched by the words or
    /// not. Without words, the listed experts alone count, or, when none are listed,
    /// every expert the filters allow.
    pub fn finish(mut self, also: &[UserId]) -> Result<(Vec<(UserId, f32)>, FacetCounts)> {
        if !also.is_empty() {
            if !self.words {
                self.counts.clear();
            }
            self.count_listed(also)?;
        }
        Ok((self.hits, self.counts.close()?))
    }

    fn count_listed(&mut self, also: &[UserId]) -> Result<()> {
        let filter = match &self.filter {
            Some(filter) => {
                Some(filter.weight(EnableScoring::disabled_from_searcher(&self.searcher))?)
            }
            None => None,
        };
        for (ord, segment) in self.searcher.segment_readers().iter().enumerate() {
            let index = segment.inverted_index(self.id_field)?;
            let mut docs: Vec<DocId> = Vec::new();
            for id in also {
                let term = Term::from_field_u64(self.id_field, id.to_raw());
                if let Some(mut postings) = index.read_postings(&term, IndexRecordOption::Basic)? {
                    while postings.doc() != TERMINATED {
                        if !segment.is_deleted(postings.doc()) {
                            docs.push(postings.doc());
                        }
                        postings.advance();
                    }
                }
            }
            docs.sort_unstable();
            docs.dedup();
            let mut allowed = match &filter {
                Some(weight) => Some(weight.scorer(segment, 1.0)?),
                None => None,
            };
            for doc in docs {
                if let Some(allowed) = allowed.as_mut() {
                    // Ascending targets, so each seek moves forward.
                    if allowed.doc() < doc {
                        allowed.seek(doc);
                    }
                    if allowed.doc() != doc {
                        continue;
                    }
                }
                self.counts.count_once(ord, doc);
            }
        }
        Ok(())
    }
}
