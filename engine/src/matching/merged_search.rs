//! One ranking across kinds of result ([`Matcher::search_kinds`]).
//!
//! An experts-only query is answered by [`Matcher::search`] unchanged. Otherwise each
//! requested kind is retrieved from its own indexes (words and meaning, within its own
//! filters), and the candidates of every kind are fused **together**, so that their
//! relevance is on one scale:
//!
//! - **meaning**: every kind is embedded by the same model and compared with the same
//!   query vector, so cosines are comparable as they are; the vector lists of all kinds
//!   are merged and fused as one list (min-max over all of them);
//! - **words**: BM25 scores of different indexes are not comparable (other fields,
//!   boosts and term statistics), so each kind's text scores are first min-max scaled
//!   to `0..=1` within the kind, then merged and fused as one list.
//!
//! The fused relevance (`0..=1`, by the request's semantic ratio and fusion method) is
//! then re-ranked per kind: experts get their signals (quality, behaviour,
//! availability, the viewer's history) and the profession diversity penalty, exactly
//! as in an experts-only search; content and live drop-ins (retrieved as
//! `dropin_search` says) are ranked by their relevance alone. The lists
//! are merged by final score (ties: experts first, then each kind's own order). As in
//! an experts-only search, this runs block by block (`RERANK_BLOCK`): block `n` is the
//! best of the merged list of pools as deep as its end, less the hits of the blocks
//! before it, and the page (`offset`, `limit`) is cut from the blocks up to the one
//! holding its end, so every page is cut from one list. The new-expert guarantee of
//! the first page is a rule of experts-only pages and is not applied here.

use std::collections::HashSet;
use std::time::Instant;

use droply_index::text::terms;
use droply_index::{ContentFacet, ContentFilters, FacetCounts, FacetField};
use droply_models::{ContentId, DropinSessionId, UserId};

use super::fusion::{FusedHit, fuse};
use super::kind::SearchKind;
use super::query::{MatchFilters, MatchQuery};
use super::ranked_hit::{RankedContent, RankedHit, SearchResults};
use super::ranker::{
    Above, Block, Context, FACET_VALUES, Matcher, RERANK_BLOCK, blocks, display_score, diversify,
    effective_ratio, estimated_total, name_matched_words, pools,
};
use super::reasons::reasons;
use super::signals::{Contribution, Signal};
use crate::Result;
use crate::search_index::is_searchable;

/// Content candidates by words, by meaning, and the counts of the content matched.
type RetrievedContent = (
    Vec<(ContentId, f32)>,
    Vec<(ContentId, f32)>,
    FacetCounts<ContentFacet>,
);

/// A candidate of any kind, as the fused lists key it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum HitKey {
    Expert(UserId),
    Content(ContentId),
    Dropin(DropinSessionId),
}

impl HitKey {
    /// The key of a ranked hit.
    fn of(hit: &RankedHit) -> Self {
        match hit {
            RankedHit::Expert(hit) => HitKey::Expert(hit.fused.key),
            RankedHit::Content(hit) => HitKey::Content(hit.fused.key),
            RankedHit::Dropin(hit) => HitKey::Dropin(hit.fused.key),
        }
    }
}

/// What one block's retrieval counted: the experts and the content matched (with
/// their facets) and the live drop-ins matched.
#[derive(Debug, Default)]
struct Counted {
    experts: FacetCounts,
    content: FacetCounts<ContentFacet>,
    dropins: u64,
}

impl Matcher {
    /// Answers `query` for every kind it asks for, as one ranked list (see the module
    /// documentation for how scores of different kinds are made comparable).
    pub fn search_kinds(&self, query: &MatchQuery) -> Result<SearchResults> {
        if query.experts_only() {
            let results = self.search(query)?;
            return Ok(SearchResults {
                hits: results
                    .hits
                    .into_iter()
                    .map(|e| RankedHit::Expert(Box::new(e)))
                    .collect(),
                total: results.total,
                facets: results.facets,
                content_facets: Vec::new(),
                took_micros: results.took_micros,
            });
        }
        let started = Instant::now();
        query.validate()?;
        self.forget_changed()?;
        let text = query.text.trim();
        let ratio = effective_ratio(query);
        let vector = self.query_vector(text, ratio)?;
        let viewer = self.query_viewer(query)?;
        let context = Context {
            query_terms: terms(text).into_iter().map(|(t, _)| t).collect(),
            viewer: &viewer,
            budget: query.filters.budget.as_ref(),
            rerank: query.rerank,
            now: self.now(),
        };
        // Block by block (see `RERANK_BLOCK`); the last block's retrieval counts.
        let mut ranked: Vec<RankedHit> = Vec::new();
        let mut above = Above::new(self.config().cold_stats_per_request);
        let mut counted = Counted::default();
        for block in blocks(query) {
            let (block_hits, block_counted) =
                self.merged_block(query, block, vector.as_deref(), &context, &mut above)?;
            counted = block_counted;
            ranked.extend(block_hits);
        }
        let mut hits: Vec<RankedHit> = ranked
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        let now = self.now();
        for hit in &mut hits {
            if let RankedHit::Expert(expert) = hit {
                name_matched_words(expert, &context.query_terms);
                let tz = viewer.timezone.unwrap_or(expert.expert.timezone);
                expert.reasons = reasons(&expert.contributions, now, tz);
            }
        }
        Ok(SearchResults {
            hits,
            total: counted.experts.total + counted.content.total + counted.dropins,
            facets: counted.experts.fields,
            content_facets: counted.content.fields,
            took_micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        })
    }

    /// One block of the merged ranking (see `RERANK_BLOCK`): every kind asked for
    /// retrieved in pools as deep as the block's end, fused together, less what the
    /// blocks `above` placed, ranked per kind and merged by score; the block is the
    /// best [`RERANK_BLOCK`] of that list, added to `above`.
    fn merged_block(
        &self,
        query: &MatchQuery,
        block: Block,
        vector: Option<&[f32]>,
        context: &Context<'_>,
        above: &mut Above<HitKey>,
    ) -> Result<(Vec<RankedHit>, Counted)> {
        let ratio = effective_ratio(query);
        let (expert_text, expert_vector, expert_counts) = if query.wants(SearchKind::Experts) {
            let filters = self.index_filters(&query.filters);
            let facets: &[FacetField] = if block.last { &query.facets } else { &[] };
            self.retrieve_experts(query, &filters, ratio, vector, block.end, facets)?
        } else {
            (Vec::new(), Vec::new(), FacetCounts::default())
        };
        let (content_text, content_vector, content_counts) = if query.wants(SearchKind::Content) {
            let facets: &[ContentFacet] = if block.last {
                &query.content_facets
            } else {
                &[]
            };
            self.retrieve_content(query, ratio, vector, block.end, facets)?
        } else {
            (Vec::new(), Vec::new(), FacetCounts::default())
        };
        let (dropin_text, dropin_vector, dropin_total) = if query.wants(SearchKind::Dropins) {
            self.retrieve_dropins(query, ratio, vector, block.end)?
        } else {
            (Vec::new(), Vec::new(), 0)
        };
        let text_list = merged(vec![
            scaled(&expert_text, HitKey::Expert),
            scaled(&content_text, HitKey::Content),
            scaled(&dropin_text, HitKey::Dropin),
        ]);
        let vector_list = merged(vec![
            tagged(&expert_vector, HitKey::Expert),
            tagged(&content_vector, HitKey::Content),
            tagged(&dropin_vector, HitKey::Dropin),
        ]);
        let mut experts_fused = Vec::new();
        let mut content_fused = Vec::new();
        let mut dropins_fused = Vec::new();
        for hit in fuse(&text_list, &vector_list, ratio, query.fusion) {
            if above.placed.contains(&hit.key) {
                continue;
            }
            match hit.key {
                HitKey::Expert(id) => experts_fused.push(rekeyed(&hit, id)),
                HitKey::Content(id) => content_fused.push(rekeyed(&hit, id)),
                HitKey::Dropin(id) => dropins_fused.push(rekeyed(&hit, id)),
            }
        }
        let mut experts = self.rank_within(
            experts_fused,
            RERANK_BLOCK,
            context,
            &query.filters,
            &mut above.cold_left,
        )?;
        if query.rerank {
            let penalty = self.config().weights.diversity;
            diversify(&mut experts, penalty, &above.professions);
        }
        let content = self.rank_content(content_fused, RERANK_BLOCK, &context.query_terms)?;
        let dropins = self.rank_dropins(dropins_fused, RERANK_BLOCK, &context.query_terms)?;
        let mut ranked: Vec<RankedHit> = experts
            .into_iter()
            .map(|e| RankedHit::Expert(Box::new(e)))
            .chain(content.into_iter().map(|c| RankedHit::Content(Box::new(c))))
            .chain(dropins.into_iter().map(|d| RankedHit::Dropin(Box::new(d))))
            .collect();
        // Stable: equal scores keep experts first, and each kind's own order.
        ranked.sort_by(|a, b| b.score().total_cmp(&a.score()));
        ranked.truncate(RERANK_BLOCK);
        above.placed.extend(ranked.iter().map(HitKey::of));
        above
            .professions
            .add(ranked.iter().filter_map(|hit| match hit {
                RankedHit::Expert(expert) => Some(&**expert),
                _ => None,
            }));
        let counted = Counted {
            experts: expert_counts,
            content: content_counts,
            dropins: dropin_total,
        };
        Ok((ranked, counted))
    }

    /// The content filters the indexes apply: a price budget becomes one range per
    /// currency through the rate table.
    fn content_filters(&self, filters: &MatchFilters) -> ContentFilters {
        let mut content = filters.content.clone();
        if let Some(budget) = &filters.content_price {
            content.prices = self.config().rates.ranges(budget);
        }
        content
    }

    /// Content candidates by words and by meaning within the query's content filters,
    /// in pools for the block of results ending at `block_end`, and the total and the
    /// counts of `facets` of the content matched (the words' matches plus the vector
    /// hits).
    fn retrieve_content(
        &self,
        query: &MatchQuery,
        ratio: f32,
        vector: Option<&[f32]>,
        block_end: usize,
        facets: &[ContentFacet],
    ) -> Result<RetrievedContent> {
        let text = query.text.trim();
        let filters = self.content_filters(&query.filters);
        let (text_pool, vector_pool) = pools(block_end);
        let index = self.index();
        // Words are searched once: the same pass counts what they match (and the
        // facets, when only words rank), as for experts.
        let count_in_text_pass: &[ContentFacet] = if ratio == 0.0 { facets } else { &[] };
        let (text_hits, text_counts) = if ratio < 1.0 {
            index.content_text_search_counted(
                text,
                &filters,
                text_pool,
                count_in_text_pass,
                FACET_VALUES,
            )?
        } else {
            (Vec::new(), FacetCounts::default())
        };
        let vector_hits = match vector {
            Some(vector) => index.content_vector_search(vector, &filters, vector_pool)?,
            None => Vec::new(),
        };
        let counts = if ratio == 0.0 {
            text_counts
        } else if !facets.is_empty() || ratio >= 1.0 {
            let also: Vec<ContentId> = vector_hits.iter().map(|h| h.0).collect();
            let words = if ratio >= 1.0 { "" } else { text };
            index.content_facet_counts(words, &filters, &also, facets, FACET_VALUES)?
        } else {
            estimated_total(text_counts.total, &text_hits, &vector_hits)
        };
        Ok((text_hits, vector_hits, counts))
    }

    /// Scores the first `window` fused content candidates that are still published and
    /// whose creator still exists, best first.
    fn rank_content(
        &self,
        fused: Vec<FusedHit<ContentId>>,
        window: usize,
        query_terms: &HashSet<String>,
    ) -> Result<Vec<RankedContent>> {
        let store = self.store();
        let mut ranked = Vec::with_capacity(window.min(fused.len()));
        for hit in fused {
            if ranked.len() >= window {
                break;
            }
            let Some(content) = store.contents().find(hit.key)? else {
                continue; // deleted since it was indexed
            };
            if !is_searchable(&content) {
                continue; // unpublished since it was indexed
            }
            let Some(creator) = store.users().find(content.user_id)? else {
                continue;
            };
            let in_title = terms(&content.title)
                .iter()
                .any(|(t, _)| query_terms.contains(t));
            let contributions = relevance(&hit, if in_title { "title" } else { "description" });
            let score = hit.score;
            ranked.push(RankedContent {
                content,
                creator,
                score,
                match_score: display_score(score),
                fused: hit,
                contributions,
            });
        }
        Ok(ranked)
    }
}

/// What a hit ranked by relevance alone owes its score to: its words
/// (naming the field they matched in, `matched`) and its meaning (the cosine).
pub(super) fn relevance<K>(hit: &FusedHit<K>, matched: &str) -> Vec<Contribution> {
    let mut contributions = Vec::new();
    if hit.text.is_some() {
        contributions.push(Contribution::new(Signal::Keyword, matched, hit.text_part));
    }
    if let Some((_, cosine)) = hit.vector {
        contributions.push(Contribution::new(
            Signal::Semantic,
            format!("{cosine:.3}"),
            hit.score - hit.text_part,
        ));
    }
    contributions
}

/// `hits` with each score min-max scaled into `0..=1` within the list (a list whose
/// scores are all equal scales to 1), keyed by `key`.
fn scaled<K: Copy>(hits: &[(K, f32)], key: fn(K) -> HitKey) -> Vec<(HitKey, f32)> {
    let (min, max) = hits.iter().fold((f32::MAX, f32::MIN), |(lo, hi), (_, s)| {
        (lo.min(*s), hi.max(*s))
    });
    let span = max - min;
    hits.iter()
        .map(|&(id, score)| {
            let value = if span <= f32::EPSILON {
                1.0
            } else {
                ((score - min) / span).clamp(0.0, 1.0)
            };
            (key(id), value)
        })
        .collect()
}

/// `hits` keyed by `key`, scores as they are.
fn tagged<K: Copy>(hits: &[(K, f32)], key: fn(K) -> HitKey) -> Vec<(HitKey, f32)> {
    hits.iter().map(|&(id, score)| (key(id), score)).collect()
}

/// Several lists as one, best first (ties by key, so the order is deterministic).
fn merged(lists: Vec<Vec<(HitKey, f32)>>) -> Vec<(HitKey, f32)> {
    let mut all: Vec<(HitKey, f32)> = lists.into_iter().flatten().collect();
    all.sort_by(|x, y| y.1.total_cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    all
}

/// A fused hit of the merged lists as a hit of one kind.
fn rekeyed<K>(hit: &FusedHit<HitKey>, key: K) -> FusedHit<K> {
    FusedHit {
        key,
        score: hit.score,
        text: hit.text,
        vector: hit.vector,
        text_part: hit.text_part,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_scores_are_scaled_per_kind_and_vectors_kept() {
        let experts = [(UserId::new(1), 12.0), (UserId::new(2), 4.0)];
        let content = [(ContentId::new(1), 0.9)];
        let text = merged(vec![
            scaled(&experts, HitKey::Expert),
            scaled(&content, HitKey::Content),
        ]);
        assert_eq!(
            text,
            [
                (HitKey::Expert(UserId::new(1)), 1.0),
                (HitKey::Content(ContentId::new(1)), 1.0),
                (HitKey::Expert(UserId::new(2)), 0.0),
            ]
        );
        let vectors = merged(vec![
            tagged(&[(UserId::new(2), 0.4)], HitKey::Expert),
            tagged(&content, HitKey::Content),
        ]);
        assert_eq!(vectors[0], (HitKey::Content(ContentId::new(1)), 0.9));
    }
}
