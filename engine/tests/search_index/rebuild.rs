//! Rebuilds: an index built by another model or schema version, damaged, missing, or
//! ahead of its store is rebuilt from the store on open, with progress reported; a
//! healthy one is loaded, not rebuilt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use droply_engine::search_index::{IndexState, Manifest, SearchIndexConfig};
use droply_engine::{SearchIndex, Store};
use droply_index::TextEmbedder;

use crate::hash_embedder::HashEmbedder;
use crate::support::{assert_parity, busy_config, expert};

struct Opened {
    index: SearchIndex,
    progress_calls: Arc<AtomicU64>,
    last_progress: Arc<Mutex<Option<(u64, u64)>>>,
}

fn open_with(dir: &std::path::Path, store: &Store, fingerprint: &str) -> Opened {
    let calls = Arc::new(AtomicU64::new(0));
    let last = Arc::new(Mutex::new(None));
    let (c, l) = (Arc::clone(&calls), Arc::clone(&last));
    let config = SearchIndexConfig {
        progress: Some(Arc::new(move |p| {
            c.fetch_add(1, Ordering::SeqCst);
            *l.lock().expect("lock") = Some((p.done, p.total));
        })),
        ..busy_config()
    };
    let embedder: Arc<dyn TextEmbedder> = Arc::new(HashEmbedder {
        fingerprint: fingerprint.to_owned(),
    });
    let index = SearchIndex::open(dir, store.clone(), embedder, config).expect("open");
    assert!(
        index.wait_until_applied(store.last_seq(), Duration::from_secs(60)),
        "{:?}",
        index.status()
    );
    Opened {
        index,
        progress_calls: calls,
        last_progress: last,
    }
}

fn seeded() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    for i in 0..30 {
        store
            .users()
            .create(expert(&format!("rb{i}x"), "Lawyer", "Contracts"))
            .expect("seed");
    }
    (dir, store)
}

fn rebuilt(opened: &Opened) -> bool {
    opened.progress_calls.load(Ordering::SeqCst) > 0
}

#[test]
fn a_healthy_index_is_loaded_not_rebuilt() {
    let (dir, store) = seeded();
    let first = open_with(dir.path(), &store, "m1");
    assert!(rebuilt(&first), "a fresh data dir builds the index");
    assert_eq!(*first.last_progress.lock().expect("lock"), Some((30, 30)));
    drop(first);
    let second = open_with(dir.path(), &store, "m1");
    assert!(!rebuilt(&second), "the saved index is reused");
    assert_eq!(second.index.status().state, IndexState::Following);
    assert_parity(&second.index, &store, "reloaded");
}

#[test]
fn another_model_rebuilds() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    let other = open_with(dir.path(), &store, "m2");
    assert!(rebuilt(&other));
    assert_parity(&other.index, &store, "other model");
    let manifest = Manifest::read(&dir.path().join("search")).expect("manifest");
    assert_eq!(manifest.embedder, "m2");
}

#[test]
fn another_schema_version_rebuilds() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    let search = dir.path().join("search");
    let mut manifest = Manifest::read(&search).expect("manifest");
    manifest.schema_version += 1;
    manifest.write(&search).expect("write");
    let reopened = open_with(dir.path(), &store, "m1");
    assert!(rebuilt(&reopened));
    assert_parity(&reopened.index, &store, "other schema");
}

#[test]
fn a_damaged_text_index_rebuilds() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    std::fs::write(dir.path().join("search/text/meta.json"), b"{ not json").expect("damage");
    let reopened = open_with(dir.path(), &store, "m1");
    assert!(rebuilt(&reopened));
    assert_parity(&reopened.index, &store, "damaged text");
}

#[test]
fn damaged_vectors_rebuild() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    let vectors = dir.path().join("search/vectors");
    let snapshot = std::fs::read_dir(&vectors)
        .expect("vectors dir")
        .flatten()
        .find(|e| e.file_name().to_string_lossy().starts_with("snap-"))
        .expect("a snapshot")
        .path();
    let points = snapshot.join("points.bin");
    let mut bytes = std::fs::read(&points).expect("points");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xFF;
    std::fs::write(&points, bytes).expect("damage");
    let reopened = open_with(dir.path(), &store, "m1");
    assert!(rebuilt(&reopened));
    assert_parity(&reopened.index, &store, "damaged vectors");
}

#[test]
fn a_damaged_graph_is_rebuilt_from_saved_vectors() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    let vectors = dir.path().join("search/vectors");
    let mut damaged = 0;
    for entry in std::fs::read_dir(&vectors).expect("dir").flatten() {
        let graph = entry.path().join("graph.bin");
        if graph.exists() {
            std::fs::write(&graph, b"garbage").expect("damage");
            damaged += 1;
        }
    }
    assert!(damaged > 0, "no graph file to damage");
    let reopened = open_with(dir.path(), &store, "m1");
    assert!(
        !rebuilt(&reopened),
        "the vectors were intact: no re-embedding needed"
    );
    assert_parity(&reopened.index, &store, "damaged graph");
}

#[test]
fn a_missing_index_rebuilds() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    std::fs::remove_dir_all(dir.path().join("search")).expect("remove");
    let reopened = open_with(dir.path(), &store, "m1");
    assert!(rebuilt(&reopened));
    assert_parity(&reopened.index, &store, "missing");
}

/// Copies the directory tree at `from` to `to`.
fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).expect("create copy");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy file");
        }
    }
}

#[test]
fn an_index_ahead_of_its_store_rebuilds() {
    let (dir, store) = seeded();
    drop(store);
    let backup = dir.path().join("store-backup");
    copy_dir(&dir.path().join("store"), &backup);
    let store = Store::open(dir.path().join("store")).expect("reopen");
    for i in 0..10 {
        store
            .users()
            .create(expert(&format!("late{i}x"), "Gardener", "Roses"))
            .expect("later expert");
    }
    let first = open_with(dir.path(), &store, "m1");
    assert_eq!(first.index.status().text_documents, 40);
    drop(first);
    drop(store);

    // The store goes back to its older copy; the index saw ten experts it lacks.
    let older = Store::open(&backup).expect("older store");
    let second = open_with(dir.path(), &older, "m1");
    assert!(rebuilt(&second), "an index ahead of its store is rebuilt");
    assert_parity(&second.index, &older, "after going back to the older store");
    assert_eq!(second.index.status().text_documents, 30);
}
