//! Freshness: with the real sentence model, a profile update is found by text and by
//! vector search after the write returns. The test polls and prints the time it took;
//! the deadline it asserts is a generous correctness bound (the update is found at all),
//! not the speed target: the measured times (well under one second) are in README's
//! performance table ("search freshness"), since a loaded machine cannot hold a test to
//! a speed figure.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use droply_engine::search_index::SearchIndexConfig;
use droply_engine::{SearchIndex, Store};
use droply_index::{Embedder, ExpertFilters, TextEmbedder};

use crate::support::expert;

fn model_dir() -> PathBuf {
    if std::env::var_os("DROPLY_MODEL_DIR").is_some()
        || std::env::var_os("DROPLY_DATA_DIR").is_some()
    {
        return droply_index::embedder::default_model_dir();
    }
    // As cargo says when it runs the test (a shared target directory may hold a binary
    // built from another clone), else as at build time.
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .map_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")), PathBuf::from);
    let workspace = manifest.join("..");
    droply_index::embedder::model_dir_in(&workspace.join("droply-data"))
}

#[test]
fn a_profile_update_becomes_searchable_by_text_and_by_vector() {
    let embedder: Arc<dyn TextEmbedder> = match Embedder::load(&model_dir()) {
        Ok(embedder) => Arc::new(embedder),
        Err(err) => panic!("the freshness test needs the sentence model: {err}"),
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    for i in 0..40 {
        store
            .users()
            .create(expert(&format!("seed{i}"), "Tax Advisor", "Accounting"))
            .expect("seed");
    }
    let target = store
        .users()
        .create(expert("target", "Gardener", "Roses"))
        .expect("target");
    let index = SearchIndex::open(
        dir.path(),
        store.clone(),
        Arc::clone(&embedder),
        SearchIndexConfig::default(),
    )
    .expect("open");
    assert!(
        index.wait_until_applied(store.last_seq(), Duration::from_secs(120)),
        "{:?}",
        index.status()
    );

    let query = "underwater volcano photography";
    let query_vector = embedder.embed_query_text(query).expect("embed query");
    let started = Instant::now();
    store
        .users()
        .modify(target.id, |u| {
            u.profession = "Underwater Photographer".to_owned();
            u.skills_1 = Some("Volcano photography".to_owned());
            u.bio = "I photograph underwater volcanoes and reefs.".to_owned();
            Ok(())
        })
        .expect("update");
    let written = started.elapsed();
    // Generous: a correctness bound for a loaded 2-core machine, not the speed target.
    let deadline = Duration::from_secs(15);
    let (mut text_at, mut vector_at) = (None, None);
    while started.elapsed() < deadline && (text_at.is_none() || vector_at.is_none()) {
        let filters = ExpertFilters::default();
        if text_at.is_none()
            && index
                .text_search(query, &filters, 3)
                .expect("text")
                .first()
                .map(|h| h.0)
                == Some(target.id)
        {
            text_at = Some(started.elapsed());
        }
        if vector_at.is_none()
            && index
                .vector_search(&query_vector, &filters, 3)
                .expect("vector")
                .first()
                .map(|h| h.0)
                == Some(target.id)
        {
            vector_at = Some(started.elapsed());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    println!(
        "freshness: write took {written:?}; found by text search after {text_at:?}, by vector search after {vector_at:?}"
    );
    assert!(
        text_at.is_some(),
        "text search did not find the update within {deadline:?}"
    );
    assert!(
        vector_at.is_some(),
        "vector search did not find the update within {deadline:?}"
    );
}
