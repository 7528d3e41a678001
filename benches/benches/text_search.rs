#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Text search on the tantivy expert index over the 10,000 experts of the
//! demo marketplace (seed 42), with the generator's evaluation queries; the
//! bench checks that most queries put a relevant expert in the top 10, so a
//! fast wrong answer cannot pass.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use droply_engine::Store;
use droply_engine::import::import_rows;
use droply_engine::search_index::expert_document;
use droply_index::{ExpertFilters, ExpertTextIndex};
use droply_lab::demo::{DemoConfig, generate};

fn text_search(c: &mut Criterion) {
    let market = generate(&DemoConfig::default());
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    import_rows(&store, market.rows(), |_| {}).expect("import");
    let index = ExpertTextIndex::create(&dir.path().join("text")).expect("index");
    let docs: Vec<_> = market
        .experts()
        .map(|u| expert_document(&store, u).expect("doc"))
        .collect();
    index.upsert(&docs).expect("upsert");
    index.commit(1).expect("commit");

    let queries = &market.truth.queries;
    let filters = ExpertFilters::default();
    let answered = queries
        .iter()
        .filter(|q| {
            let hits = index.search(&q.text, &filters, 10).expect("search");
            hits.iter().any(|(id, _)| q.relevance.grade(*id) > 0)
        })
        .count();
    eprintln!(
        "{answered} of {} queries have a relevant expert in the top 10",
        queries.len()
    );
    assert!(
        answered * 10 >= queries.len() * 8,
        "only {answered} of {} queries answered",
        queries.len()
    );

    let mut group = c.benchmark_group("text_search_10k");
    group
        .sample_size(50)
        .measurement_time(Duration::from_secs(4));
    group.bench_function("demo_queries_top10", |b| {
        let mut next = 0;
        b.iter(|| {
            let query = &queries[next % queries.len()];
            next += 1;
            index
                .search(black_box(&query.text), &filters, 10)
                .expect("search")
        })
    });
    let available = ExpertFilters {
        available_only: true,
        ..ExpertFilters::default()
    };
    group.bench_function("demo_queries_top10_available_only", |b| {
        let mut next = 0;
        b.iter(|| {
            let query = &queries[next % queries.len()];
            next += 1;
            index
                .search(black_box(&query.text), &available, 10)
                .expect("search")
        })
    });
    group.finish();
}

criterion_group!(benches, text_search);
criterion_main!(benches);
