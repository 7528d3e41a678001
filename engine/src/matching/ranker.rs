//! [`Matcher`]: the matching engine. A request runs in five steps:
//!
//! 1. **retrieve**: BM25 and vector candidates within the filters (a budget becomes one
//!    price range per currency through the rate table), a pool deeper than the page
//!    (`retrieval`);
//! 2. **fuse** them by the request's semantic ratio and fusion method;
//! 3. **re-rank** the head of the pool: relevance plus each signal's contribution
//!    (quality, behaviour, availability, the viewer's history), and the filters that
//!    need the calendar (bookable within N days);
//! 4. **arrange**: diversity (one profession does not fill the page) and guaranteed
//!    exposure for a new expert on the first page;
//! 5. **explain**: reasons per hit, facet counts and the estimated total.
//!
//! Steps 1 to 4 run once per block of results ([`RERANK_BLOCK`], [`blocks`]): a page is
//! cut from the blocks up to the one holding its end, each ranked as it would be for a
//! page ending in it, so every page is cut from the same list.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use droply_index::text::{terms, value_has_term};
use droply_index::{ExpertFilters, FacetCounts, FacetField};
use droply_models::{MatchReason, TimeZone, Timestamp, User, UserId};

use super::feed_cache::FeedCache;
use super::fusion::{FusedHit, fuse};
use super::query::{Budget, MatchFilters, MatchQuery};
use super::rates::RateTable;
use super::reasons::reasons;
use super::signals::{
    Contribution, Signal, SignalWeights, expert_signals, personal_signals, row_signals,
};
use super::spare_cores::SpareCores;
use super::stats::{ExpertStats, StatsCache};
use super::trending_cache::TrendingCache;
use super::viewer::ViewerContext;
use crate::availability::SlotPolicy;
use crate::{Result, SearchIndex, Store};

mod arrange;
mod retrieval;
mod track_records;

use arrange::guarantee_new_expert;
pub(super) use arrange::{ProfessionsAbove, diversify};
pub(super) use retrieval::{estimated_total, pools};

/// Results are ranked in blocks of this many, and every page is cut from the same
/// list, whatever its offset and limit (no hit twice, none skipped, when paging through
/// it, with pages of 20 or of 50 alike). The rule: block `n` (from 1) is the best
/// [`RERANK_BLOCK`] candidates, re-ranked and arranged together, of pools as deep as
/// its end (`n` times the block, see `pools`), less the hits of blocks `1..n`. So a
/// block depends only on the blocks before it, never on the page or on deeper blocks:
/// a page ending in block `n` is cut from blocks `1..=n` ([`blocks`]), and the first
/// block, three pages of the default 20, costs one retrieval and one re-ranking of 60
/// candidates as it always did. A deeper page costs one retrieval and re-ranking per
/// block above it (five at most: `MAX_OFFSET` plus `MAX_LIMIT` is 300).
pub(super) const RERANK_BLOCK: usize = 60;
/// Facet values returned per field at most.
pub(super) const FACET_VALUES: usize = 100;
/// The most decoded expert rows kept; a full cache starts over.
const ROWS_CAPACITY: usize = 100_000;

/// How the matcher ranks.
#[derive(Debug, Clone)]
pub struct MatcherConfig {
    /// Exchange rates for budgets.
    pub rates: RateTable,
    /// How much each signal weighs.
    pub weights: SignalWeights,
    /// Slot rules for "earliest open slot".
    pub slot_policy: SlotPolicy,
    /// How long an expert's stats are reused at most, aged meanwhile (changes
    /// touching the expert forget them at once).
    pub stats_ttl: Duration,
    /// Experts whose stats one request may read from the store (those not cached);
    /// the rest of its candidates are ranked on relevance and their row's signals
    /// (a calendar filter stops at them), and are read by later requests.
    pub cold_stats_per_request: usize,
    /// A fixed present (evaluations on generated data); `None` is the real clock.
    pub now: Option<Timestamp>,
}

impl Default for MatcherConfig {
    fn default() -> Self {
        MatcherConfig {
            rates: RateTable::default(),
            weights: SignalWeights::default(),
            slot_policy: SlotPolicy::default(),
            stats_ttl: Duration::from_secs(6 * 3600),
            cold_stats_per_request: 100,
            now: None,
        }
    }
}

/// One ranked expert.
#[derive(Debug, Clone)]
pub struct RankedExpert {
    /// The expert (shared with the matcher's cache of decoded rows).
    pub expert: Arc<User>,
    /// The final score (relevance plus signals; comparable within one request).
    pub score: f32,
    /// The score mapped into `0..=1` for display and storage.
    pub match_score: f32,
    /// Where the expert stood in each retrieval list.
    pub fused: FusedHit<UserId>,
    /// Every contribution to `score`.
    pub contributions: Vec<Contribution>,
    /// The contributions as sentences, strongest first.
    pub reasons: Vec<MatchReason>,
}

/// The answer to a request.
#[derive(Debug, Clone)]
pub struct MatchResults {
    /// The requested page.
    pub hits: Vec<RankedExpert>,
    /// How many experts matched the words, the meaning and the filters (estimated: the
    /// calendar filter is applied to the ranked head only).
    pub total: u64,
    /// Facet counts over the matched experts, per requested field.
    pub facets: Vec<(FacetField, Vec<(String, u64)>)>,
    /// Time spent, in microseconds.
    pub took_micros: u64,
}

/// The matching engine over a store and its search index.
#[derive(Debug)]
pub struct Matcher {
    store: Store,
    index: Arc<SearchIndex>,
    config: MatcherConfig,
    stats: StatsCache,
    /// Decoded expert rows (see `feed_cache`).
    rows: FeedCache<Arc<User>>,
    pub(crate) trending: TrendingCache,
    /// The vectors of open drop-ins' texts.
    pub(super) dropin_vectors: super::dropin_search::DropinVectors,
    /// The last store change whose experts' stats were forgotten.
    seen_seq: Mutex<u64>,
    /// Requests in flight, for running a request's two passes at once.
    spare_cores: SpareCores,
}

/// What every candidate of one request shares.
pub(crate) struct Context<'a> {
    pub query_terms: HashSet<String>,
    pub viewer: &'a ViewerContext,
    pub budget: Option<&'a Budget>,
    pub rerank: bool,
    pub now: Timestamp,
}

impl Matcher {
    /// A matcher over `store` and `index`.
    pub fn new(store: Store, index: Arc<SearchIndex>, config: MatcherConfig) -> Self {
        // The caches start caught up with the feed as it is now.
        let seq = store.last_seq();
        let stats = StatsCache::new(config.stats_ttl, seq);
        Matcher {
            seen_seq: Mutex::new(seq),
            rows: FeedCache::new(seq, ROWS_CAPACITY),
            store,
            index,
            config,
            stats,
            trending: TrendingCache::default(),
            dropin_vectors: Default::default(),
            spare_cores: SpareCores::default(),
        }
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The search index.
    pub fn index(&self) -> &Arc<SearchIndex> {
        &self.index
    }

    /// The settings.
    pub fn config(&self) -> &MatcherConfig {
        &self.config
    }

    /// The present, as the matcher sees it.
    pub fn now(&self) -> Timestamp {
        self.config.now.unwrap_or_else(Timestamp::now)
    }

    /// Answers `query` (experts only: [`Matcher::search_kinds`] answers every kind).
    pub fn search(&self, query: &MatchQuery) -> Result<MatchResults> {
        let started = Instant::now();
        query.validate()?;
        self.forget_changed()?;
        let filters = self.index_filters(&query.filters);
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
        let mut ranked: Vec<RankedExpert> = Vec::new();
        let mut above = Above::new(self.config.cold_stats_per_request);
        let mut counts = FacetCounts::default();
        for block in blocks(query) {
            let facets: &[FacetField] = if block.last { &query.facets } else { &[] };
            let (text_hits, vector_hits, block_counts) = self.retrieve_experts(
                query,
                &filters,
                ratio,
                vector.as_deref(),
                block.end,
                facets,
            )?;
            counts = block_counts;
            let mut fused = fuse(&text_hits, &vector_hits, ratio, query.fusion);
            fused.retain(|hit| !above.placed.contains(&hit.key));
            let mut block_hits = self.rank_within(
                fused,
                RERANK_BLOCK,
                &context,
                &query.filters,
                &mut above.cold_left,
            )?;
            if query.rerank {
                diversify(
                    &mut block_hits,
                    self.config.weights.diversity,
                    &above.professions,
                );
                if block.first() {
                    guarantee_new_expert(&mut block_hits);
                }
            }
            above.professions.add(&block_hits);
            above
                .placed
                .extend(block_hits.iter().map(|hit| hit.fused.key));
            ranked.extend(block_hits);
        }
        let mut hits: Vec<RankedExpert> = ranked
            .into_iter()
            .skip(query.offset)
            .take(query.limit)
            .collect();
        for hit in &mut hits {
            name_matched_words(hit, &context.query_terms);
        }
        self.explain(&mut hits, viewer.timezone);
        Ok(MatchResults {
            hits,
            total: counts.total,
            facets: counts.fields,
            took_micros: u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
        })
    }

    /// The query's vector when meaning counts (`ratio` above 0) and it has one (a
    /// query without meaning may embed to no direction: the words alone rank).
    pub(super) fn query_vector(&self, text: &str, ratio: f32) -> Result<Option<Vec<f32>>> {
        if ratio > 0.0 {
            let vector = self.index.embedder().embed_query_text(text)?;
            Ok(droply_index::has_direction(&vector).then_some(vector))
        } else {
            Ok(None)
        }
    }

    /// Who is searching, with their history when the ranking is personalized.
    pub(super) fn query_viewer(&self, query: &MatchQuery) -> Result<ViewerContext> {
        Ok(match query.viewer {
            Some(viewer) if query.rerank => ViewerContext::load(&self.store, &self.index, viewer)?,
            Some(viewer) => ViewerContext {
                viewer: Some(viewer),
                ..ViewerContext::anonymous()
            },
            None => ViewerContext::anonymous(),
        })
    }

    /// The filters the indexes apply (everything but the calendar).
    pub(crate) fn index_filters(&self, filters: &MatchFilters) -> ExpertFilters {
        let mut experts = filters.experts.clone();
        if let Some(budget) = &filters.budget {
            experts.prices = self.config.rates.ranges(budget);
        }
        if filters.bookable_within_days.is_some() {
            experts.available_only = true;
            experts.bookable_only = true;
        }
        experts
    }

    /// Scores the first `window` live candidates of `fused` (best first), reading at
    /// most the request's budget of track records that are not cached.
    pub(crate) fn rank(
        &self,
        fused: Vec<FusedHit<UserId>>,
        window: usize,
        context: &Context<'_>,
        filters: &MatchFilters,
    ) -> Result<Vec<RankedExpert>> {
        let mut cold_left = self.config.cold_stats_per_request;
        self.rank_within(fused, window, context, filters, &mut cold_left)
    }

    /// [`Matcher::rank`] reading at most `cold_left` track records that are not cached
    /// (each read is taken off it), so that the blocks of one request share one budget.
    pub(crate) fn rank_within(
        &self,
        fused: Vec<FusedHit<UserId>>,
        window: usize,
        context: &Context<'_>,
        filters: &MatchFilters,
        cold_left: &mut usize,
    ) -> Result<Vec<RankedExpert>> {
        let mut ranked = Vec::with_capacity(window.min(fused.len()));
        for hit in fused {
            if ranked.len() >= window {
                break;
            }
            let Some(expert) = self.expert_row(hit.key)? else {
                continue; // deleted since it was indexed
            };
            if !expert.is_expert() || Some(expert.id) == context.viewer.viewer {
                continue;
            }
            let stats = if context.rerank || filters.bookable_within_days.is_some() {
                self.stats_of(&expert, cold_left)?
            } else {
                None
            };
            if let Some(days) = filters.bookable_within_days {
                // Past the budget, whether later candidates can be booked is unknown:
                // the page ends here rather than guess.
                let Some(stats) = &stats else { break };
                let deadline = context.now.plus_days(i64::from(days));
                if stats.earliest_slot.is_none_or(|slot| slot > deadline) {
                    continue;
                }
            }
            ranked.push(self.score(expert, hit, stats.as_ref(), context));
        }
        ranked.sort_by(|a, b| b.score.total_cmp(&a.score));
        Ok(ranked)
    }

    /// Relevance plus signals for one candidate.
    pub(crate) fn score(
        &self,
        expert: Arc<User>,
        hit: FusedHit<UserId>,
        stats: Option<&ExpertStats>,
        context: &Context<'_>,
    ) -> RankedExpert {
        let mut contributions = Vec::new();
        if hit.text.is_some() {
            // The value is named for the returned page only.
            contributions.push(Contribution::new(Signal::Keyword, "", hit.text_part));
        }
        if hit.vector.is_some() {
            contributions.push(Contribution::new(
                Signal::Semantic,
                hit.vector.map_or(String::new(), |(_, s)| format!("{s:.3}")),
                hit.score - hit.text_part,
            ));
        }
        if context.rerank {
            let weights = &self.config.weights;
            contributions.extend(match stats {
                Some(stats) => expert_signals(&expert, stats, context.now, weights),
                None => row_signals(&expert, weights),
            });
            if context.viewer.viewer.is_some() {
                let vector = self.index.expert_vector(expert.id);
                contributions.extend(personal_signals(
                    &expert,
                    vector.as_deref(),
                    context.viewer,
                    weights,
                ));
            }
        }
        if let Some(budget) = context.budget
            && self
                .config
                .rates
                .expert_within(budget, expert.hourly_rate, expert.currency)
        {
            let value = match expert.hourly_rate {
                Some(rate) => format!("{} {}", rate.amount_minor, rate.currency.as_str()),
                None => "free".to_owned(),
            };
            contributions.push(Contribution::new(Signal::Budget, value, 0.0));
        }
        let score = contributions.iter().map(|c| c.weight).sum::<f32>();
        RankedExpert {
            expert,
            score,
            match_score: display_score(score),
            fused: hit,
            contributions,
            reasons: Vec::new(),
        }
    }

    /// Reasons for `hits` read in `tz` (or each expert's own zone).
    pub(crate) fn explain(&self, hits: &mut [RankedExpert], tz: Option<TimeZone>) {
        let now = self.now();
        for hit in hits {
            hit.reasons = reasons(&hit.contributions, now, tz.unwrap_or(hit.expert.timezone));
        }
    }
}

/// The semantic ratio a query runs with: words only when there is no text to mean
/// anything (a browse), meaning only when the text has no word the text index
/// searches (`*`, a quote, a stop word, an emoji, one unbroken CJK phrase): its
/// words' pass would match every expert alike, so the first indexed ones would take
/// the words' whole share and bury the meaning's hits.
pub(super) fn effective_ratio(query: &MatchQuery) -> f32 {
    let text = query.text.trim();
    if text.is_empty() {
        0.0
    } else if terms(text).is_empty() {
        1.0
    } else {
        query.semantic_ratio
    }
}

/// What the blocks of one request ranked so far leave to the next (see
/// [`RERANK_BLOCK`]), keyed by `K`: an expert's id, or any kind's hit.
#[derive(Debug)]
pub(super) struct Above<K> {
    /// Every hit they placed.
    pub placed: HashSet<K>,
    /// The experts they placed, by profession (the diversity penalty goes on).
    pub professions: ProfessionsAbove,
    /// How many track records that are not cached may still be read.
    pub cold_left: usize,
}

impl<K> Above<K> {
    /// Nothing placed yet, with the request's budget of `cold_left` reads.
    pub fn new(cold_left: usize) -> Self {
        Above {
            placed: HashSet::new(),
            professions: ProfessionsAbove::default(),
            cold_left,
        }
    }
}

/// One block of results (see [`RERANK_BLOCK`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Block {
    /// Where the block ends in the list: how deep its pools are.
    pub end: usize,
    /// Whether it is the last block the page needs (its retrieval counts the total
    /// and the facets).
    pub last: bool,
}

impl Block {
    /// Whether it is the first block, which holds the first page.
    pub fn first(self) -> bool {
        self.end == RERANK_BLOCK
    }
}

/// The blocks `query`'s page is cut from, in order: the first up to the one holding
/// the page's end.
pub(super) fn blocks(query: &MatchQuery) -> Vec<Block> {
    let last = (query.offset + query.limit).div_ceil(RERANK_BLOCK).max(1);
    (1..=last)
        .map(|n| Block {
            end: n * RERANK_BLOCK,
            last: n == last,
        })
        .collect()
}

/// A score mapped monotonically into `0..=1` (a logistic curve centred on 0.5).
pub fn display_score(score: f32) -> f32 {
    let value = 1.0 / (1.0 + (-4.0 * (score - 0.5)).exp());
    if value.is_finite() {
        value.clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Names what the words matched in `hit`'s keyword contribution. A query without
/// words (a browse) matched none: its keyword contribution still counts in the score
/// but is not shown, so no reason says "matches your words".
pub(super) fn name_matched_words(hit: &mut RankedExpert, query_terms: &HashSet<String>) {
    let words = matched_words(&hit.expert, query_terms);
    for contribution in &mut hit.contributions {
        if contribution.signal == Signal::Keyword {
            contribution.value.clone_from(&words);
            if query_terms.is_empty() {
                contribution.shown = false;
            }
        }
    }
}

/// What of the expert's profile the query's words matched, for the keyword reason:
/// skills and tags first, else the profession, else the words themselves.
fn matched_words(expert: &User, query_terms: &HashSet<String>) -> String {
    let hits = |value: &str| value_has_term(value, query_terms);
    let mut skills: Vec<&str> = [&expert.skills_1, &expert.skills_2, &expert.skills_3]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .chain(expert.specialty_tags.iter().map(String::as_str))
        .filter(|value| hits(value))
        .collect();
    skills.dedup();
    if !skills.is_empty() {
        return format!("skills: {}", skills.join(", "));
    }
    if hits(&expert.profession) {
        return format!("profession: {}", expert.profession);
    }
    if hits(&expert.location) {
        return format!("location: {}", expert.location);
    }
    String::new()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(offset: usize, limit: usize) -> Vec<(usize, bool)> {
        let query = MatchQuery {
            offset,
            limit,
            ..MatchQuery::default()
        };
        blocks(&query)
            .into_iter()
            .map(|b| (b.end, b.last))
            .collect()
    }

    #[test]
    fn a_page_is_cut_from_the_blocks_up_to_the_one_holding_its_end() {
        assert_eq!(page(0, 20), [(60, true)]);
        assert_eq!(page(40, 20), [(60, true)]);
        assert_eq!(page(0, 50), [(60, true)]);
        assert_eq!(page(50, 50), [(60, false), (120, true)]);
        assert_eq!(page(100, 50), [(60, false), (120, false), (180, true)]);
        assert_eq!(
            page(200, 100),
            [
                (60, false),
                (120, false),
                (180, false),
                (240, false),
                (300, true)
            ]
        );
        assert!(blocks(&MatchQuery::default())[0].first());
    }
}
