#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Vector search on the HNSW index: q/s at ef 16..128 on 10,000 clustered
//! 384-d unit vectors (M=16, ef_construction=200), with recall@10 against an
//! exact scan measured before timing and checked, so a fast wrong answer
//! cannot pass; plus the exact scan itself for comparison, and a filtered search
//! (one id in eight allowed: scanned by the int8 codes, then re-scored), whose
//! answers are checked equal to the exact ones among the allowed ids.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use droply_benches::{clustered, exact_top10, vector_index};
use droply_index::{VectorConfig, VectorIndex};
use droply_models::UserId;

const POINTS: usize = 10_000;
const QUERIES: usize = 200;

fn recall_at_10(
    index: &VectorIndex<UserId>,
    queries: &[Vec<f32>],
    truth: &[Vec<u64>],
    ef: usize,
) -> f64 {
    let mut found = 0usize;
    for (query, expected) in queries.iter().zip(truth) {
        let hits = index.search_with_ef(query, 10, None, ef).expect("search");
        found += hits
            .iter()
            .filter(|h| expected.contains(&h.key.get()))
            .count();
    }
    found as f64 / (10 * queries.len()) as f64
}

fn vector_search(c: &mut Criterion) {
    let points = clustered(POINTS, 1);
    let queries = clustered(QUERIES, 2);
    let truth: Vec<Vec<u64>> = queries.iter().map(|q| exact_top10(&points, q)).collect();
    let started = Instant::now();
    let index = vector_index(&points).expect("index");
    eprintln!(
        "built {POINTS} vectors in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut group = c.benchmark_group("vector_search_10k");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(4));
    for ef in [16usize, 32, 64, 128] {
        let recall = recall_at_10(&index, &queries, &truth, ef);
        eprintln!("ef {ef}: recall@10 {recall:.3}");
        if ef == VectorConfig::default().ef_search {
            assert!(recall >= 0.98, "recall@10 {recall} at the default ef");
        }
        group.bench_with_input(BenchmarkId::new("ef", ef), &ef, |b, &ef| {
            let mut next = 0;
            b.iter(|| {
                let query = &queries[next % QUERIES];
                next += 1;
                let hits = index
                    .search_with_ef(black_box(query), 10, None, ef)
                    .expect("search");
                assert_eq!(hits.len(), 10);
                hits
            })
        });
    }
    let allowed: Vec<UserId> = (1..=POINTS as u64)
        .filter(|id| id % 8 == 0)
        .map(UserId::new)
        .collect();
    let allowed_points: Vec<Vec<f32>> = points.iter().skip(7).step_by(8).cloned().collect();
    for query in &queries {
        let hits = index
            .search(query, 10, Some(&allowed))
            .expect("filtered search");
        let mut got: Vec<u64> = hits.iter().map(|h| h.key.get()).collect();
        // `exact_top10` numbers the allowed points 1.. in order: point 8i is the i-th.
        let mut want: Vec<u64> = exact_top10(&allowed_points, query)
            .into_iter()
            .map(|nth| nth * 8)
            .collect();
        // The same ten (near-duplicates may swap places by rounding).
        got.sort_unstable();
        want.sort_unstable();
        assert_eq!(got, want, "a filtered search answers exactly");
    }
    group.bench_function("filtered_one_in_eight", |b| {
        let mut next = 0;
        b.iter(|| {
            let query = &queries[next % QUERIES];
            next += 1;
            index
                .search(black_box(query), 10, Some(&allowed))
                .expect("search")
        })
    });
    group.bench_function("exact_scan", |b| {
        let mut next = 0;
        b.iter(|| {
            let query = &queries[next % QUERIES];
            next += 1;
            exact_top10(black_box(&points), query)
        })
    });
    group.finish();
}

criterion_group!(benches, vector_search);
criterion_main!(benches);
