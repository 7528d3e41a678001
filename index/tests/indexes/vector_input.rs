//! What the vector index refuses: vectors and queries that cannot be scaled to unit
//! length (a NaN or infinite value, all zeros, a squared length that overflows). They
//! used to be stored and searched as they came: a NaN vector ranked first in every
//! search with a NaN score, and the log made it durable.

use droply_index::{DocNumber, Error, VectorConfig, VectorEntry, VectorIndex};

const DIM: usize = 384;

/// A deterministic vector of `DIM` finite values, different for each `seed`.
fn good(seed: u64) -> Vec<f32> {
    (0..DIM)
        .map(|i| ((i as f32 + 1.0) * (seed as f32 + 1.0) * 0.37).sin())
        .collect()
}

/// The vectors no index may hold, each with what it is.
fn bad_vectors() -> Vec<(&'static str, Vec<f32>)> {
    vec![
        ("NaN", vec![f32::NAN; DIM]),
        ("zeros", vec![0.0; DIM]),
        ("overflowing", vec![1e20; DIM]),
        ("infinite", vec![f32::INFINITY; DIM]),
    ]
}

/// An index holding `good(0)..good(n)` under keys `0..n`, at version 1.
fn filled(index: &VectorIndex<DocNumber>, n: u64) {
    let vectors: Vec<Vec<f32>> = (0..n).map(good).collect();
    let entries: Vec<VectorEntry<'_, DocNumber>> = vectors
        .iter()
        .zip(0..n)
        .map(|(vector, key)| VectorEntry {
            key: DocNumber(key),
            version: 1,
            vector,
        })
        .collect();
    index.upsert(&entries).expect("upsert");
}

/// A batch of a good new vector (key 100) and then `bad` (key 101).
fn upsert_with_bad(index: &VectorIndex<DocNumber>, bad: &[f32]) -> droply_index::Result<()> {
    let fresh = good(100);
    index.upsert(&[
        VectorEntry {
            key: DocNumber(100),
            version: 1,
            vector: &fresh,
        },
        VectorEntry {
            key: DocNumber(101),
            version: 1,
            vector: bad,
        },
    ])
}

/// Asserts that only keys `0..n` are stored and that a search finds only them, with
/// finite scores, the nearest first.
fn assert_only_good_keys(index: &VectorIndex<DocNumber>, n: u64, what: &str) {
    assert_eq!(index.len(), n as usize, "{what}");
    assert_eq!(
        index.version(DocNumber(100)),
        None,
        "{what}: the batch was refused whole"
    );
    assert_eq!(index.version(DocNumber(101)), None, "{what}");
    assert_eq!(index.vector(DocNumber(101)), None, "{what}");
    let hits = index.search(&good(2), 10, None).expect("search");
    assert_eq!(hits.len(), n as usize, "{what}: {hits:?}");
    assert_eq!(hits[0].key, DocNumber(2), "{what}: {hits:?}");
    assert!(
        hits.iter()
            .all(|hit| hit.key.0 < n && hit.score.is_finite()),
        "{what}: {hits:?}"
    );
}

/// Regression: a NaN, zero, infinite or overflowing vector was stored (NaN ones then
/// ranked first in every search); now the whole batch is refused, naming the entry.
#[test]
fn upserting_a_nan_zero_infinite_or_overflowing_vector_is_refused_and_stores_nothing() {
    for (what, bad) in bad_vectors() {
        let index =
            VectorIndex::<DocNumber>::in_memory(DIM, VectorConfig::default()).expect("index");
        filled(&index, 5);
        let err = upsert_with_bad(&index, &bad).expect_err(what);
        match &err {
            Error::Invalid(message) => {
                assert!(message.contains("entry 1"), "{what}: {message}");
            }
            other => panic!("{what}: expected Invalid, got {other:?}"),
        }
        assert_only_good_keys(&index, 5, what);
        // Replacing a stored vector with a bad one keeps the stored one.
        let stored = index.vector(DocNumber(3)).expect("stored");
        let replaced = index.upsert(&[VectorEntry {
            key: DocNumber(3),
            version: 2,
            vector: &bad,
        }]);
        assert!(
            matches!(replaced, Err(Error::Invalid(_))),
            "{what}: {replaced:?}"
        );
        assert_eq!(index.version(DocNumber(3)), Some(1), "{what}");
        assert_eq!(index.vector(DocNumber(3)), Some(stored), "{what}");
    }
}

/// Regression: a zero or NaN query ranked every vector by id (or NaN first) instead of
/// being refused.
#[test]
fn a_search_with_a_zero_nan_or_infinite_query_is_refused() {
    let index = VectorIndex::<DocNumber>::in_memory(DIM, VectorConfig::default()).expect("index");
    filled(&index, 5);
    for (what, query) in bad_vectors() {
        let found = index.search(&query, 3, None);
        assert!(matches!(found, Err(Error::Invalid(_))), "{what}: {found:?}");
        let allowed = [DocNumber(1), DocNumber(2)];
        let found = index.search(&query, 3, Some(&allowed));
        assert!(matches!(found, Err(Error::Invalid(_))), "{what}: {found:?}");
    }
    // Refused even where there is nothing to find.
    let empty = VectorIndex::<DocNumber>::in_memory(DIM, VectorConfig::default()).expect("index");
    let found = empty.search(&[0.0; DIM], 3, None);
    assert!(matches!(found, Err(Error::Invalid(_))), "{found:?}");
}

/// Regression: a refused vector used to reach the write-ahead log first. A refused
/// batch logs nothing: the index still commits, saves and reloads with only the good
/// vectors.
#[test]
fn after_a_refused_batch_the_index_still_saves_and_reloads() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("vectors");
    let index = VectorIndex::<DocNumber>::in_memory(DIM, VectorConfig::default()).expect("index");
    filled(&index, 5);
    index.save_to(&path, 1).expect("save");
    for (what, bad) in bad_vectors() {
        assert!(upsert_with_bad(&index, &bad).is_err(), "{what}");
    }
    assert_eq!(index.stats().unsaved_changes, 0, "nothing was logged");
    index.commit(2).expect("commit");
    drop(index);

    let reopened =
        VectorIndex::<DocNumber>::open(&path, DIM, VectorConfig::default()).expect("reopen");
    assert_eq!(reopened.committed_seq(), 2);
    assert_only_good_keys(&reopened, 5, "reopened");
    reopened.save().expect("save again");
    drop(reopened);
    let again =
        VectorIndex::<DocNumber>::open(&path, DIM, VectorConfig::default()).expect("reopen");
    assert_only_good_keys(&again, 5, "reopened twice");
}
