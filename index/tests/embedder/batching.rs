//! Batching, truncation and the query cache, end to end on the real model.

use std::sync::Arc;

use droply_index::embedder::MAX_TOKENS;

use crate::support::{cosine, embedder};

#[test]
fn a_mixed_batch_equals_one_by_one_embedding() {
    let long = "Senior data engineer in Berlin building streaming pipelines with Kafka and Flink. "
        .repeat(6);
    let texts = [
        "a",
        "tax advice",
        long.as_str(),
        "Wedding photographer in Lisbon, film and digital, available on weekends.",
        "",
        "Rust",
        "Physiotherapist specialised in sports injuries and post-operative rehabilitation.",
    ];
    let small = embedder().embed_batch(&texts).expect("embed batch");
    assert_eq!(small.len(), texts.len());
    for (text, got) in texts.iter().zip(&small) {
        let alone = embedder().embed(text).expect("embed one");
        let similarity = cosine(got, &alone);
        assert!(similarity > 0.99999, "{similarity} for {text:?}");
        let norm: f32 = got.iter().map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm} for {text:?}");
    }
}

#[test]
fn texts_beyond_the_limit_are_truncated() {
    let words = "consulting ".repeat(400);
    assert_eq!(
        embedder().token_count(&words).expect("tokenize"),
        MAX_TOKENS
    );
    let longer = format!("{words} and a tail the model never sees");
    let a = embedder().embed(&words).expect("embed");
    let b = embedder().embed(&longer).expect("embed");
    assert!(cosine(&a, &b) > 0.99999);
}

#[test]
fn embed_query_serves_repeats_from_the_cache() {
    let first = embedder()
        .embed_query("pottery class near me")
        .expect("embed");
    let second = embedder()
        .embed_query("pottery class near me")
        .expect("embed");
    assert!(
        Arc::ptr_eq(&first, &second),
        "the second call should be a cache hit"
    );
    assert_eq!(
        embedder().model_id(),
        format!(
            "all-MiniLM-L6-v2@sha256:{}",
            droply_index::embedder::WEIGHTS_SHA256
        )
    );
}

#[test]
fn queries_embedded_at_the_same_time_equal_each_alone() {
    let queries: Vec<String> = (0..24)
        .map(|i| format!("experienced tax adviser for freelancers number {i}"))
        .collect();
    let together: Vec<Arc<[f32]>> = std::thread::scope(|scope| {
        let handles: Vec<_> = queries
            .iter()
            .map(|query| scope.spawn(move || embedder().embed_query(query).expect("embed query")))
            .collect();
        handles
            .into_iter()
            .map(|handle| handle.join().expect("thread"))
            .collect()
    });
    for (query, got) in queries.iter().zip(&together) {
        let alone = embedder().embed(query).expect("embed one");
        let similarity = cosine(got, &alone);
        assert!(similarity > 0.99999, "{similarity} for {query:?}");
    }
}
