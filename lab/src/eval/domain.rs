//! The domain evaluation: the full matcher on the generated demo marketplace, judged by
//! the generator's ground truth ([`DemoTruth`]). Search quality is nDCG@10 of the graded
//! evaluation queries for BM25 alone, vectors alone, hybrid, and hybrid with the
//! re-ranking signals; personalization is nDCG@10 and recall@50 of each client's
//! held-out favourites, with and without the client's history.

use std::collections::HashMap;

use droply_models::UserId;
use serde::Serialize;

use super::metrics::{ndcg_at, recall_at};
use crate::demo::DemoTruth;
use droply_engine::Result;
use droply_engine::matching::{MatchQuery, Matcher};

/// Clients evaluated for personalization at most.
const CLIENTS: usize = 300;

/// The domain evaluation's numbers.
#[derive(Debug, Clone, Serialize)]
pub struct DomainReport {
    /// Evaluation queries run.
    pub queries: usize,
    /// Mean nDCG@10 per search mode (`bm25`, `vector`, `hybrid`, `hybrid_signals`).
    pub search_ndcg_10: HashMap<&'static str, f64>,
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

/// Runs the domain evaluation with `matcher` over a store holding the demo marketplace
/// whose truth is `truth` (the matcher's clock set to the generator's `now`).
pub fn evaluate_demo(matcher: &Matcher, truth: &DemoTruth) -> Result<DomainReport> {
    let modes: [(&'static str, f32, bool); 4] = [
        ("bm25", 0.0, false),
        ("vector", 1.0, false),
        ("hybrid", 0.5, false),
        ("hybrid_signals", 0.5, true),
    ];
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
    Ok(DomainReport {
        queries: truth.queries.len(),
        search_ndcg_10: search,
        clients: clients.len(),
        held_out,
    })
}
