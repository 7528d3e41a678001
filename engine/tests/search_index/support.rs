//! Shared helpers: expert profiles, the parity check, opening an index quickly.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use droply_engine::search_index::{SearchIndexConfig, expected_entries};
use droply_engine::{SearchIndex, Store};
use droply_index::{TextEmbedder, VectorConfig};
use droply_models::{User, UserId};

use crate::fixtures::full_user;
use crate::hash_embedder::HashEmbedder;

/// A config that exercises checkpoints and compaction often.
pub fn busy_config() -> SearchIndexConfig {
    SearchIndexConfig {
        vector: VectorConfig {
            checkpoint_every: 24,
            min_tombstones_to_compact: 16,
            max_tombstone_ratio: 0.2,
            exact_scan_below: 16,
            ..VectorConfig::default()
        },
        batch_changes: 32,
        poll_interval: Duration::from_millis(20),
        ..SearchIndexConfig::default()
    }
}

/// Opens the search index of `data_dir` with the hash embedder.
pub fn open_hashed(data_dir: &Path, store: &Store) -> SearchIndex {
    let embedder: Arc<dyn TextEmbedder> = Arc::new(HashEmbedder::default());
    SearchIndex::open(data_dir, store.clone(), embedder, busy_config()).expect("open search index")
}

/// An expert named `name` (unique username, email and referral code).
pub fn expert(name: &str, profession: &str, skill: &str) -> User {
    let mut user = full_user(name);
    user.profession = profession.to_owned();
    user.skills_1 = Some(skill.to_owned());
    user
}

/// What the indexes must hold for the store: (text versions, vector versions).
pub fn expected(store: &Store) -> (BTreeMap<UserId, u64>, BTreeMap<UserId, u64>) {
    expected_entries(store).expect("expected entries")
}

/// Waits for the index to apply everything in the store, then checks it holds exactly
/// the store's experts, each at its current version.
pub fn assert_parity(index: &SearchIndex, store: &Store, context: &str) {
    let seq = store.last_seq();
    assert!(
        index.wait_until_applied(seq, Duration::from_secs(60)),
        "{context}: not applied up to {seq}: {:?}",
        index.status()
    );
    let (want_text, want_vectors) = expected(store);
    let (text, vectors) = index.entries().expect("entries");
    let text_len = text.len();
    let vectors_len = vectors.len();
    let text: BTreeMap<UserId, u64> = text.into_iter().collect();
    let vectors: BTreeMap<UserId, u64> = vectors.into_iter().collect();
    assert_eq!(
        text_len,
        text.len(),
        "{context}: an expert is in the text index twice"
    );
    assert_eq!(
        vectors_len,
        vectors.len(),
        "{context}: an expert is in the vector index twice"
    );
    assert_eq!(
        text, want_text,
        "{context}: text index differs from the store"
    );
    assert_eq!(
        vectors, want_vectors,
        "{context}: vector index differs from the store"
    );
    let parity = index.parity_with(store).expect("parity");
    assert!(parity.is_consistent(), "{context}: {:?}", parity.problems);
}
