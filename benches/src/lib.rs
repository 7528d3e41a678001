//! Helpers shared by the benches: a bag-of-words stand-in for the sentence model, so
//! that marketplaces of 100,000 experts can be indexed in a bench's setup (the real
//! model's cost is measured on its own in `benches/embed.rs`), the clustered unit
//! vectors the vector benches and the hnswlib comparison share, exact top-10 answers,
//! the demo marketplace imported into a store for the end-to-end benches, and the
//! latency report the benches print beside criterion's means.

use std::time::Instant;

use droply_engine::Store;
use droply_engine::import::import_rows;
use droply_engine::matching::{ExpertFilters, MatchFilters, MatchQuery, Matcher};
use droply_index::vector::{dot, normalize};
use droply_index::{Result, TextEmbedder, VectorConfig, VectorEntry, VectorIndex};
use droply_lab::demo::{DemoConfig, DemoMarketplace, DemoTruth, generate};
use droply_lab::eval::percentile;
use droply_models::UserId;
use rand::{Rng, SeedableRng};

/// The marketplace size of the end-to-end benches: `DROPLY_BENCH_EXPERTS`, default 10,000.
pub fn bench_experts() -> usize {
    std::env::var("DROPLY_BENCH_EXPERTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000)
}

/// The demo marketplace of `experts` experts (and a fifth as many clients, at least
/// 100), imported into a store in a new temporary directory; the import time is printed.
pub fn demo_store(experts: usize) -> (tempfile::TempDir, DemoMarketplace, DemoConfig, Store) {
    let config = DemoConfig {
        experts,
        clients: (experts / 5).max(100),
        ..DemoConfig::default()
    };
    let market = generate(&config);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    let started = Instant::now();
    import_rows(&store, market.rows(), |_| {}).expect("import");
    eprintln!(
        "imported {experts} experts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    (dir, market, config, store)
}

/// Dimensions of the benches' vectors (as all-MiniLM-L6-v2's).
pub const DIMENSION: usize = 384;
/// Clusters the points scatter around.
const CLUSTERS: usize = 50;

/// `count` deterministic clustered unit vectors: points scattered around 50 random
/// centres (the same centres for every seed).
pub fn clustered(count: usize, seed: u64) -> Vec<Vec<f32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let centres: Vec<Vec<f32>> = (0..CLUSTERS)
        .map(|_| {
            (0..DIMENSION)
                .map(|_| rng.random_range(-1.0f32..1.0))
                .collect()
        })
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..count)
        .map(|_| {
            let centre = &centres[rng.random_range(0..CLUSTERS)];
            let mut v: Vec<f32> = centre
                .iter()
                .map(|c| c + rng.random_range(-0.35f32..0.35))
                .collect();
            normalize(&mut v);
            v
        })
        .collect()
}

/// An in-memory vector index (default settings) holding `points` under ids `1..=n`.
pub fn vector_index(points: &[Vec<f32>]) -> Result<VectorIndex<UserId>> {
    vector_index_with(points, VectorConfig::default())
}

/// [`vector_index`] with the given settings.
pub fn vector_index_with(points: &[Vec<f32>], config: VectorConfig) -> Result<VectorIndex<UserId>> {
    let index = VectorIndex::<UserId>::in_memory(DIMENSION, config)?;
    let entries: Vec<VectorEntry<'_, UserId>> = points
        .iter()
        .enumerate()
        .map(|(i, v)| VectorEntry {
            key: UserId::new(i as u64 + 1),
            version: 1,
            vector: v,
        })
        .collect();
    for chunk in entries.chunks(10_000) {
        index.upsert(chunk)?;
    }
    index.commit(1)?;
    Ok(index)
}

/// The 1-based ids of the 10 points closest to `query` by an exact scan.
pub fn exact_top10(points: &[Vec<f32>], query: &[f32]) -> Vec<u64> {
    let mut scored: Vec<(f32, u64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| (dot(p, query), i as u64 + 1))
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().take(10).map(|(_, id)| id).collect()
}

/// Each word hashed (FNV-1a) into one of 384 dimensions with a sign, normalised: texts
/// that share words are close. Deterministic and nearly free.
#[derive(Debug, Clone, Default)]
pub struct WordHashEmbedder;

impl TextEmbedder for WordHashEmbedder {
    fn fingerprint(&self) -> &str {
        "bench-word-hash-384@1"
    }

    fn dimension(&self) -> usize {
        384
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        Ok(texts.iter().map(|text| embed_words(text)).collect())
    }
}

fn embed_words(text: &str) -> Vec<f32> {
    let mut v = vec![0.0f32; 384];
    for word in text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in word.to_lowercase().bytes() {
            h = (h ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        let slot = (h % 384) as usize;
        v[slot] += if h & (1 << 40) == 0 { 1.0 } else { -1.0 };
    }
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm > 0.0 {
        v.iter_mut().for_each(|x| *x /= norm);
    }
    v
}

/// Builds one request from a query's text and industry.
pub type RequestShape = Box<dyn Fn(&str, &str) -> MatchQuery>;

/// The request shapes the matching benches time: BM25 only, vectors only, hybrid,
/// hybrid within an industry and available only, hybrid re-ranked by the signals, and a
/// full match request for a signed-in client (personalization, facets, reasons).
pub fn request_shapes(truth: &DemoTruth) -> Vec<(&'static str, RequestShape)> {
    let viewer = truth.clients.first().map(|c| c.user_id);
    let plain = |ratio: f32, rerank: bool| -> RequestShape {
        Box::new(move |text: &str, _: &str| MatchQuery {
            text: text.to_owned(),
            semantic_ratio: ratio,
            rerank,
            limit: 10,
            ..MatchQuery::default()
        })
    };
    vec![
        ("bm25", plain(0.0, false)),
        ("vector", plain(1.0, false)),
        ("hybrid", plain(0.5, false)),
        (
            "hybrid_filtered",
            Box::new(|text: &str, industry: &str| MatchQuery {
                text: text.to_owned(),
                rerank: false,
                limit: 10,
                filters: MatchFilters::experts(ExpertFilters {
                    industries: vec![industry.to_owned()],
                    available_only: true,
                    ..ExpertFilters::default()
                }),
                ..MatchQuery::default()
            }),
        ),
        ("hybrid_signals", plain(0.5, true)),
        (
            "match_request",
            Box::new(move |text: &str, _: &str| MatchQuery {
                text: text.to_owned(),
                limit: 10,
                viewer,
                facets: vec![droply_index::FacetField::Industry],
                ..MatchQuery::default()
            }),
        ),
    ]
}

/// Runs every evaluation query of `truth` in each shape three times, by default (the first warms
/// the caches and checks quality: at least 70% must put a relevant expert in the top
/// 10, else this panics) and returns one line per shape with p50 and p99 in ms.
/// `DROPLY_LATENCY_ONLY=<shape>` runs just that shape and `DROPLY_LATENCY_ROUNDS=N`
/// times N rounds after the first instead of two (both for profiling, so that the
/// warming round is a small share of the samples). `DROPLY_LATENCY_SLOWEST=N` adds the N
/// queries whose fastest round was slowest: a tail that is the same queries every round.
pub fn latency_report(
    matcher: &Matcher,
    truth: &DemoTruth,
    shapes: &[(&'static str, RequestShape)],
    experts: usize,
) -> Vec<String> {
    let queries = &truth.queries;
    let mut lines = Vec::new();
    let only = std::env::var("DROPLY_LATENCY_ONLY").ok();
    let rounds = std::env::var("DROPLY_LATENCY_ROUNDS")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(2);
    for (name, make) in shapes {
        if only.as_deref().is_some_and(|only| only != *name) {
            continue;
        }
        let mut answered = 0;
        let mut samples = Vec::new();
        let mut fastest = vec![f64::INFINITY; queries.len()];
        for round in 0..=rounds {
            for (i, query) in queries.iter().enumerate() {
                let request = make(&query.text, &query.industry);
                let started = Instant::now();
                let results = matcher.search(&request).expect("search");
                if round > 0 {
                    let ms = started.elapsed().as_secs_f64() * 1000.0;
                    fastest[i] = fastest[i].min(ms);
                    samples.push(ms);
                } else if results
                    .hits
                    .iter()
                    .any(|h| query.relevance.grade(h.expert.id) > 0)
                {
                    answered += 1;
                }
            }
        }
        assert!(
            answered * 10 >= queries.len() * 7,
            "{name}: only {answered} answered"
        );
        lines.push(format!(
            "{experts} experts, {name}: p50 {:.2} ms, p99 {:.2} ms, {answered}/{} queries with a relevant expert in the top 10",
            percentile(&samples, 50.0),
            percentile(&samples, 99.0),
            queries.len()
        ));
        if let Some(slowest) = std::env::var("DROPLY_LATENCY_SLOWEST")
            .ok()
            .and_then(|n| n.parse::<usize>().ok())
        {
            let mut order: Vec<usize> = (0..queries.len()).collect();
            order.sort_by(|&a, &b| fastest[b].total_cmp(&fastest[a]));
            for &i in order.iter().take(slowest) {
                lines.push(format!(
                    "  {name}: {:.2} ms at best, {:?} ({})",
                    fastest[i], queries[i].text, queries[i].industry
                ));
            }
        }
    }
    lines
}
