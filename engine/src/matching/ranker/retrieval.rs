//! Retrieval, a request's first step: the experts' candidates by words (BM25) and by
//! meaning (vectors) within the filters, in pools as deep as the block of results being
//! ranked ([`pools`]), with the total and facet counts of the experts matched. The two
//! passes run at once when they are independent and a core is idle (`spare_cores`).

use std::collections::HashSet;

use droply_index::{ExpertFilters, FacetCounts, FacetField};
use droply_models::UserId;

use super::{FACET_VALUES, Matcher};
use crate::Result;
use crate::matching::query::MatchQuery;

/// The fewest candidates retrieved by words.
const MIN_TEXT_POOL: usize = 100;
/// The fewest candidates retrieved by meaning (the graph walk's cost grows with it).
const MIN_VECTOR_POOL: usize = 50;

/// Expert candidates by words, by meaning, and the counts of the experts matched.
type RetrievedExperts = (Vec<(UserId, f32)>, Vec<(UserId, f32)>, FacetCounts);

impl Matcher {
    /// The experts' candidates by words and by meaning (`vector`, when meaning counts)
    /// within `filters`, in pools for the block of results ending at `block_end`, and
    /// the total and the counts of `facets` of the experts matched.
    ///
    /// The words' pass counts the total and the facets of its matches; when facets are
    /// asked for, the vector hits then join those counts (`CountedSearch::finish`),
    /// each once. Otherwise the total without facets is estimated as the text matches
    /// plus the vector hits they miss. The two passes run at once, on two threads,
    /// when a core is idle (`spare_cores`).
    pub(in crate::matching) fn retrieve_experts(
        &self,
        query: &MatchQuery,
        filters: &ExpertFilters,
        ratio: f32,
        vector: Option<&[f32]>,
        block_end: usize,
        facets: &[FacetField],
    ) -> Result<RetrievedExperts> {
        let text = query.text.trim();
        let (text_pool, vector_pool) = pools(block_end);
        let in_flight = self.spare_cores.enter();
        let vector_pass = || match vector {
            Some(vector) => self.index.vector_search(vector, filters, vector_pool),
            None => Ok(Vec::new()),
        };
        let text_pass = || {
            if ratio >= 1.0 {
                return Ok(None);
            }
            self.index
                .text_search_counting(text, filters, text_pool, facets, FACET_VALUES)
        };
        let (vector_hits, text) = if vector.is_some() && ratio < 1.0 && in_flight.spare_core {
            // An idle core: the vectors on a second thread while the words run here, so
            // a request takes the longer of the two, not their sum.
            let (vector_hits, text) = std::thread::scope(|scope| {
                let vectors = scope.spawn(vector_pass);
                let text = text_pass();
                match vectors.join() {
                    Ok(vector_hits) => (vector_hits, text),
                    Err(panic) => std::panic::resume_unwind(panic),
                }
            });
            (vector_hits?, text?)
        } else {
            (vector_pass()?, text_pass()?)
        };
        let vector_ids: Vec<UserId> = vector_hits.iter().map(|h| h.0).collect();
        let (text_hits, counts) = match text {
            Some(search) if !facets.is_empty() => search.finish(&vector_ids)?,
            Some(search) => {
                let (text_hits, counts) = search.finish(&[])?;
                let counts = if ratio > 0.0 {
                    estimated_total(counts.total, &text_hits, &vector_hits)
                } else {
                    counts
                };
                (text_hits, counts)
            }
            None if !facets.is_empty() => (
                Vec::new(),
                self.index
                    .facet_counts("", filters, &vector_ids, facets, FACET_VALUES)?,
            ),
            None => (Vec::new(), estimated_total(0, &[], &vector_hits)),
        };
        Ok((text_hits, vector_hits, counts))
    }
}

/// The total when no pass counted words and meaning together: everything the
/// words matched, plus the vector hits the words' top hits do not hold.
pub(in crate::matching) fn estimated_total<K: Copy + Eq + std::hash::Hash, F>(
    words_matched: u64,
    text_hits: &[(K, f32)],
    vector_hits: &[(K, f32)],
) -> FacetCounts<F> {
    let in_text: HashSet<K> = text_hits.iter().map(|h| h.0).collect();
    let extra = vector_hits
        .iter()
        .filter(|h| !in_text.contains(&h.0))
        .count();
    FacetCounts {
        total: words_matched + extra as u64,
        fields: Vec::new(),
    }
}

/// How many candidates are retrieved by words and by meaning for the block of results
/// ending at `block_end` (see `RERANK_BLOCK`): set by the block alone, never by the
/// page, so that a block is ranked from the same candidates whatever page asks for it.
pub(in crate::matching) fn pools(block_end: usize) -> (usize, usize) {
    (
        (block_end * 2).max(MIN_TEXT_POOL),
        block_end.max(MIN_VECTOR_POOL),
    )
}
