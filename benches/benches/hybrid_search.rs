#![allow(missing_docs)] // criterion_group! generates undocumented items
//! The matching engine end to end over the demo marketplace: BM25 only, vectors only,
//! hybrid, hybrid with filters, hybrid with the re-ranking signals, and a full match
//! request for a signed-in client (personalization and reasons); then rebuilding and
//! reopening the search index.
//!
//! `DROPLY_BENCH_EXPERTS` sets the size (default 10,000; the README's 100,000 row is
//! `DROPLY_BENCH_EXPERTS=100000`). Profile vectors come from the bag-of-words stand-in
//! (indexing 100,000 profiles with the real model takes half an hour here), so a query's
//! embedding costs nothing: these numbers are for a cached query embedding; a fresh one
//! adds the model's query time from `benches/embed.rs`. Before criterion runs, the bench
//! prints p50/p99 of each mode over the evaluation queries and checks that hybrid
//! search answers most of them with a relevant expert, so a fast wrong answer fails.

use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use droply_benches::{WordHashEmbedder, bench_experts, demo_store, latency_report, request_shapes};
use droply_engine::import::import_rows;
use droply_engine::matching::{Matcher, MatcherConfig};
use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{SearchIndex, Store};
use droply_index::TextEmbedder;
use droply_lab::demo::{DemoConfig, DemoMarketplace, generate};

struct Setup {
    _dir: tempfile::TempDir,
    market: DemoMarketplace,
    matcher: Matcher,
}

fn setup(experts: usize) -> Setup {
    let (dir, market, config, store) = demo_store(experts);
    let embedder: Arc<dyn TextEmbedder> = Arc::new(WordHashEmbedder);
    let started = Instant::now();
    let index = Arc::new(
        SearchIndex::open(
            dir.path(),
            store.clone(),
            embedder,
            SearchIndexConfig::default(),
        )
        .expect("index"),
    );
    assert!(index.wait_until_applied(store.last_seq(), Duration::from_secs(3600)));
    eprintln!(
        "indexed {experts} experts in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let matcher = Matcher::new(
        store,
        index,
        MatcherConfig {
            now: Some(config.now),
            stats_ttl: Duration::from_secs(3600),
            ..MatcherConfig::default()
        },
    );
    Setup {
        _dir: dir,
        market,
        matcher,
    }
}

fn hybrid_search(c: &mut Criterion) {
    let n = bench_experts();
    let setup = setup(n);
    let queries = &setup.market.truth.queries;
    let modes = request_shapes(&setup.market.truth);

    // Quality gate and latency percentiles.
    for line in latency_report(&setup.matcher, &setup.market.truth, &modes, n) {
        eprintln!("{line}");
    }

    let mut group = c.benchmark_group(format!("matching_{n}"));
    group
        .sample_size(30)
        .measurement_time(Duration::from_secs(4));
    for (name, make) in &modes {
        group.bench_function(*name, |b| {
            let mut next = 0;
            b.iter(|| {
                let query = &queries[next % queries.len()];
                next += 1;
                setup
                    .matcher
                    .search(black_box(&make(&query.text, &query.industry)))
                    .expect("search")
            })
        });
    }
    group.finish();
}

fn index_build(c: &mut Criterion) {
    let experts = 2_000;
    let config = DemoConfig {
        experts,
        clients: 400,
        ..DemoConfig::default()
    };
    let market = generate(&config);
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    import_rows(&store, market.rows(), |_| {}).expect("import");
    let embedder = WordHashEmbedder;
    let mut group = c.benchmark_group(format!("search_index_{experts}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("rebuild", |b| {
        b.iter(|| {
            SearchIndex::reindex(
                dir.path(),
                &store,
                &embedder,
                &SearchIndexConfig::default(),
                &|_| {},
            )
            .expect("reindex")
        })
    });
    group.bench_function("reopen", |b| {
        b.iter(|| {
            let index = SearchIndex::open(
                dir.path(),
                store.clone(),
                Arc::new(WordHashEmbedder),
                SearchIndexConfig::default(),
            )
            .expect("open");
            assert!(index.wait_until_applied(store.last_seq(), Duration::from_secs(60)));
            index.shutdown();
        })
    });
    group.finish();
}

criterion_group!(benches, hybrid_search, index_build);
criterion_main!(benches);
