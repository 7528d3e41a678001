//! The domain evaluation: the full matcher on the generated demo marketplace, judged by
//! the generator's ground truth ([`DemoTruth`]). Search quality is nDCG@10 of the graded
//! evaluation queries for BM25 alone, vectors alone, hybrid, and hybrid with the
//! re-ranking signals; the same for the content queries over content alone, and
//! for them over experts and content in one ranking (mixed-kind search);
//! personalization is nDCG@10 and recall@50 of each client's held-out
//! favourites, with and without the client's history.

use std::collections::HashMap;

use droply_models::{ContentId, UserId};
use serde::Serialize;

use super::metrics::{ndcg_at, recall_at};
use crate::demo::{ContentEvalQuery, DemoTruth};
use droply_engine::Result;
use droply_engine::matching::{MatchQuery, Matcher, RankedHit, SearchKind};

/// Clients evaluated for personalization at most.
const CLIENTS: usize = 300;

/// The domain evaluation's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct DomainReport {
    /// Evaluation queries run.
    pub queries: usize,
    /// Mean nDCG@10 per search mode (`bm25`, `vector`, `hybrid`, `hybrid_signals`).
    pub search_ndcg_10: HashMap<&'static str, f64>,
    /// Content evaluation queries run.
    pub content_queries: usize,
    /// Mean nDCG@10 of the content queries over content, per search mode.
    pub content_ndcg_10: HashMap<&'static str, f64>,
    /// Mean nDCG@10 of the content queries over experts and content in one
    /// ranking, per search mode (experts who list the skill count as grade 1).
    pub mixed_ndcg_10: HashMap<&'static str, f64>,
    /// Clients with held-out favourites evaluated.
    pub clients: usize,
    /// Held-out favourites: nDCG@10 and recall@50 of a search for the client's
    /// industry, anonymous and personalized, and of the recommendations (trending and
    /// for you).
    pub held_out: HashMap<&'static str, HeldOut>,
}

/// Metrics on held-out favourites.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct HeldOut {
    /// Mean nDCG@10.
    #[serde(rename = "ndcg@10")]
    pub ndcg_10: f64,
    /// Mean recall@50.
    #[serde(rename = "recall@50")]
    pub recall_50: f64,
}

/// The search modes: name, semantic ratio, re-ranked by the signals.
const MODES: [(&str, f32, bool); 4] = [
    ("bm25", 0.0, false),
    ("vector", 1.0, false),
    ("hybrid", 0.5, false),
    ("hybrid_signals", 0.5, true),
];

/// A hit of any kind, for judging mixed rankings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Item {
    Expert(UserId),
    Content(ContentId),
}

/// A content query's grades: content by its relevance, and (for mixed
/// rankings) the experts who list the skill at 1.
fn content_grades(query: &ContentEvalQuery, with_experts: bool) -> HashMap<Item, u32> {
    let relevance = &query.relevance;
    let graded = |ids: &[ContentId], grade: u32| {
        ids.iter()
            .map(move |id| (Item::Content(*id), grade))
            .collect::<Vec<_>>()
    };
    let experts = query
        .experts
        .iter()
        .filter(|_| with_experts)
        .map(|id| (Item::Expert(*id), 1));
    graded(&relevance.related, 1)
        .into_iter()
        .chain(experts)
        .chain(graded(&relevance.partial, 2))
        .chain(graded(&relevance.exact, 3))
        .collect()
}

/// Mean nDCG@10 per mode of the content queries searched over `kinds`.
fn content_ndcg(
    matcher: &Matcher,
    queries: &[ContentEvalQuery],
    kinds: &[SearchKind],
) -> Result<HashMap<&'static str, f64>> {
    let with_experts = kinds.contains(&SearchKind::Experts);
    let judged: Vec<HashMap<Item, u32>> = queries
        .iter()
        .map(|query| content_grades(query, with_experts))
        .collect();
    let mut means = HashMap::new();
    for (name, ratio, rerank) in MODES {
        let mut total = 0.0;
        for (query, grades) in queries.iter().zip(&judged) {
            let results = matcher.search_kinds(&MatchQuery {
                kinds: kinds.to_vec(),
                text: query.text.clone(),
                semantic_ratio: ratio,
                rerank,
                limit: 10,
                ..MatchQuery::default()
            })?;
            let ranked: Vec<Item> = results
                .hits
                .iter()
                .filter_map(|hit| match hit {
                    RankedHit::Expert(e) => Some(Item::Expert(e.expert.id)),
                    RankedHit::Content(c) => Some(Item::Content(c.content.id)),
                    RankedHit::Dropin(_) => None,
                })
                .collect();
            total += ndcg_at(&ranked, grades, 10);
        }
        means.insert(name, total / queries.len().max(1) as f64);
    }
    Ok(means)
}

/// Runs the domain evaluation with `matcher` over a store holding the demo marketplace
/// whose truth is `truth` (the matcher's clock set to the generator's `now`).
pub fn evaluate_demo(matcher: &Matcher, truth: &DemoTruth) -> Result<DomainReport> {
    let modes = MODES;
    // Each query's judgements, once for every mode.
    let judged: Vec<HashMap<UserId, u32>> = truth
        .queries
        .iter()
        .map(|query| {
            let relevance = &query.relevance;
            let graded = |ids: &[UserId], grade: u32| {
                ids.iter().map(move |id| (*id, grade)).collect::<Vec<_>>()
            };
            graded(&relevance.exact, 3)
                .into_iter()
                .chain(graded(&relevance.partial, 2))
                .chain(graded(&relevance.related, 1))
                .collect()
        })
        .collect();
    let mut search = HashMap::new();
    for (name, ratio, rerank) in modes {
        let mut total = 0.0;
        for (query, grades) in truth.queries.iter().zip(&judged) {
            let results = matcher.search(&MatchQuery {
                text: query.text.clone(),
                semantic_ratio: ratio,
                rerank,
                limit: 10,
                ..MatchQuery::default()
            })?;
            let ranked: Vec<UserId> = results.hits.iter().map(|h| h.expert.id).collect();
            total += ndcg_at(&ranked, grades, 10);
        }
        search.insert(name, total / truth.queries.len().max(1) as f64);
    }

    let clients: Vec<_> = truth
        .clients
        .iter()
        .filter(|c| !c.held_out.is_empty())
        .take(CLIENTS)
        .collect();
    let mut held_out: HashMap<&'static str, HeldOut> = HashMap::new();
    for client in &clients {
        let grades: HashMap<UserId, u32> = client.held_out.iter().map(|id| (*id, 1)).collect();
        // A broad query (the client's industry): the words say little about which
        // experts this client wants, so what the ranking knows about them must.
        let interest = client.industry.clone();
        let mut lists: Vec<(&'static str, Vec<UserId>)> = Vec::new();
        for (name, viewer) in [
            ("search_anonymous", None),
            ("search_personalized", Some(client.user_id)),
        ] {
            let results = matcher.search(&MatchQuery {
                text: interest.clone(),
                limit: 50,
                viewer,
                ..MatchQuery::default()
            })?;
            lists.push((name, results.hits.iter().map(|h| h.expert.id).collect()));
        }
        let trending = matcher.trending(50, None)?;
        lists.push((
            "recommend_trending",
            trending.iter().map(|h| h.expert.id).collect(),
        ));
        let for_you = matcher.for_you(client.user_id, 50)?;
        lists.push((
            "recommend_for_you",
            for_you.iter().map(|h| h.expert.id).collect(),
        ));
        for (name, ranked) in lists {
            let entry = held_out.entry(name).or_default();
            entry.ndcg_10 += ndcg_at(&ranked, &grades, 10);
            entry.recall_50 += recall_at(&ranked, &grades, 50);
        }
    }
    let n = clients.len().max(1) as f64;
    for entry in held_out.values_mut() {
        entry.ndcg_10 /= n;
        entry.recall_50 /= n;
    }
    let content = &truth.content_queries;
    Ok(DomainReport {
        queries: truth.queries.len(),
        search_ndcg_10: search,
        content_queries: content.len(),
        content_ndcg_10: content_ndcg(matcher, content, &[SearchKind::Content])?,
        mixed_ndcg_10: content_ndcg(
            matcher,
            content,
            &[SearchKind::Experts, SearchKind::Content],
        )?,
        clients: clients.len(),
        held_out,
    })
}
