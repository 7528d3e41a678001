#![allow(missing_docs)] // criterion_group! generates undocumented items
//! Sentence-embedder benches: batch throughput on the profile-text fixture, and the
//! latency of one short (8-token) query.
//!
//! The model comes through the embedder's automatic fetch path (`$DROPLY_MODEL_DIR`, else
//! `$DROPLY_DATA_DIR`, else `droply-data/` at the workspace root). Every iteration checks
//! its answer (count, dimension, unit length), so a fast wrong answer cannot pass.

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use droply_index::{DIMENSION, Embedder};

/// A query of 8 tokens, `[CLS]` and `[SEP]` included.
const QUERY: &str = "find a Rust developer in Berlin";

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn model_dir() -> PathBuf {
    if std::env::var_os("DROPLY_MODEL_DIR").is_some()
        || std::env::var_os("DROPLY_DATA_DIR").is_some()
    {
        droply_index::embedder::default_model_dir()
    } else {
        droply_index::embedder::model_dir_in(&workspace().join("droply-data"))
    }
}

fn profile_texts() -> Vec<String> {
    let path = workspace().join("data/fixtures/profile_texts.jsonl");
    let text =
        std::fs::read_to_string(&path).unwrap_or_else(|err| panic!("{}: {err}", path.display()));
    text.lines()
        .map(|line| {
            let value: serde_json::Value =
                serde_json::from_str(line).expect("fixture line is JSON");
            value["text"]
                .as_str()
                .expect("fixture line has a text")
                .to_owned()
        })
        .collect()
}

fn check(vectors: &[Vec<f32>], count: usize) {
    assert_eq!(vectors.len(), count);
    for vector in vectors {
        check_one(vector);
    }
}

fn check_one(vector: &[f32]) {
    assert_eq!(vector.len(), DIMENSION);
    let norm = vector.iter().map(|v| v * v).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "embedding norm {norm}");
}

fn embed(c: &mut Criterion) {
    let embedder = match Embedder::load(&model_dir()) {
        Ok(embedder) => embedder,
        Err(err) => panic!("the embed bench needs the model: {err}"),
    };
    let texts = profile_texts();
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    assert_eq!(embedder.token_count(QUERY).expect("tokenize"), 8);

    let mut group = c.benchmark_group("embed");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30))
        .warm_up_time(Duration::from_secs(3));
    group.throughput(Throughput::Elements(refs.len() as u64));
    group.bench_function("profile_texts_2000", |b| {
        b.iter(|| {
            let vectors = embedder.embed_batch(black_box(&refs)).expect("embed batch");
            check(&vectors, refs.len());
            vectors
        })
    });
    group.finish();

    let mut group = c.benchmark_group("embed");
    group
        .sample_size(200)
        .measurement_time(Duration::from_secs(5));
    group.throughput(Throughput::Elements(1));
    group.bench_function("query_8_tokens", |b| {
        b.iter(|| {
            // `embed`, not `embed_query`: the cache would answer every call after the first.
            let vector = embedder.embed(black_box(QUERY)).expect("embed query");
            check_one(&vector);
            vector
        })
    });
    group.finish();
}

criterion_group!(benches, embed);
criterion_main!(benches);
