//! Rebuilds: an index built by another model or schema version, damaged, missing,
//! ahead of its store, or marking a last change its store has not got (a store restored
//! from an older copy and written past it) is rebuilt from the store on open, with
//! progress reported; a healthy one is loaded, not rebuilt, even from a manifest
//! written before change marks were kept or after the feed was truncated.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use droply_engine::search_index::{ChangeMark, IndexState, Manifest, SearchIndexConfig};
use droply_engine::{SearchIndex, Store};
use droply_index::{ExpertFilters, TextEmbedder};

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

/// Adds `count` experts named `{prefix}{i}x` with `profession` and `skill`.
fn add_experts(store: &Store, prefix: &str, count: usize, profession: &str, skill: &str) {
    for i in 0..count {
        store
            .users()
            .create(expert(&format!("{prefix}{i}x"), profession, skill))
            .expect("expert");
    }
}

/// The store's change `seq`, marked.
fn store_mark(store: &Store, seq: u64) -> ChangeMark {
    let changes = store.changes_since(seq - 1, 1).expect("changes");
    let change = changes.first().expect("the feed holds the change");
    assert_eq!(change.seq, seq);
    ChangeMark::of(change)
}

/// Regression: the index committed up to a change the store later lost (restored from
/// an older copy), and the store was written past that number again. The sequence
/// numbers agreed and the next entry existed, so the index was loaded and the rows
/// the abandoned changes had written (experts who no longer exist, under ids the new
/// experts took) stayed in it for good.
#[test]
fn a_store_restored_from_a_backup_and_written_past_the_index_rebuilds_it() {
    let (dir, store) = seeded();
    drop(store);
    let backup = dir.path().join("store-backup");
    copy_dir(&dir.path().join("store"), &backup);

    // The index is built at the backup's position, then follows ten gardeners.
    let store = Store::open(dir.path().join("store")).expect("reopen");
    let first = open_with(dir.path(), &store, "m1");
    add_experts(&store, "late", 10, "Gardener", "Topiary");
    assert!(
        first
            .index
            .wait_until_applied(store.last_seq(), Duration::from_secs(60)),
        "{:?}",
        first.index.status()
    );
    assert_eq!(first.index.status().text_documents, 40);
    let index_seq = first.index.applied_seq();
    drop(first);
    drop(store);

    // The store goes back to its older copy and fifteen bakers are written: the feed
    // passes the index's position with other changes under the same numbers.
    let restored = Store::open(&backup).expect("restored store");
    add_experts(&restored, "baker", 15, "Baker", "Sourdough");
    assert!(
        restored.last_seq() >= index_seq,
        "the restored store must reach the index's position ({} < {index_seq})",
        restored.last_seq()
    );
    let second = open_with(dir.path(), &restored, "m1");
    assert!(
        rebuilt(&second),
        "an index whose last change the store has not got is rebuilt"
    );
    assert_parity(&second.index, &restored, "after the restore and new writes");
    assert_eq!(second.index.status().text_documents, 45);
    let gardeners = second
        .index
        .text_search("Topiary", &ExpertFilters::default(), 50)
        .expect("search");
    for (id, _) in &gardeners {
        let user = restored.users().find(*id).expect("find");
        assert!(
            user.is_some_and(|user| user.profession == "Gardener"),
            "{id:?} was found by an abandoned gardener's document"
        );
    }
    let bakers = second
        .index
        .text_search("Sourdough", &ExpertFilters::default(), 50)
        .expect("search");
    assert_eq!(bakers.len(), 15, "every baker is searchable: {bakers:?}");
}

#[test]
fn an_unchanged_store_with_a_marked_manifest_is_loaded_not_rebuilt() {
    let (dir, store) = seeded();
    let first = open_with(dir.path(), &store, "m1");
    let search = dir.path().join("search");
    let built = Manifest::read(&search).expect("manifest");
    assert_eq!(
        built.last_change,
        Some(store_mark(&store, store.last_seq())),
        "a rebuild marks the store's last change"
    );
    add_experts(&store, "more", 5, "Gardener", "Topiary");
    assert!(
        first
            .index
            .wait_until_applied(store.last_seq(), Duration::from_secs(60)),
        "{:?}",
        first.index.status()
    );
    drop(first);
    let followed = Manifest::read(&search).expect("manifest");
    assert_eq!(
        followed.last_change,
        Some(store_mark(&store, store.last_seq())),
        "following the feed marks the last change applied"
    );

    let second = open_with(dir.path(), &store, "m1");
    assert!(!rebuilt(&second), "the saved index is reused");
    assert_eq!(second.index.status().state, IndexState::Following);
    assert_parity(&second.index, &store, "reloaded with a mark");
}

#[test]
fn a_manifest_written_before_change_marks_is_loaded_not_rebuilt() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    let search = dir.path().join("search");
    let manifest = Manifest::read(&search).expect("manifest");
    let old_format = format!(
        r#"{{"schema_version": {}, "text_schema_version": {}, "content_schema_version": {}, "embedder": "{}", "dimension": {}}}"#,
        manifest.schema_version,
        manifest.text_schema_version,
        manifest.content_schema_version,
        manifest.embedder,
        manifest.dimension
    );
    std::fs::write(search.join("manifest.json"), old_format).expect("old manifest");
    assert_eq!(
        Manifest::read(&search)
            .expect("an old manifest reads")
            .last_change,
        None
    );

    let reopened = open_with(dir.path(), &store, "m1");
    assert!(!rebuilt(&reopened), "upgrading does not force a rebuild");
    assert_parity(&reopened.index, &store, "old manifest");
    add_experts(&store, "after", 3, "Gardener", "Topiary");
    assert_parity(&reopened.index, &store, "old manifest, then a write");
    assert_eq!(
        Manifest::read(&search).expect("manifest").last_change,
        Some(store_mark(&store, store.last_seq())),
        "the next batch applied records a mark"
    );
}

#[test]
fn a_marked_index_whose_feed_was_truncated_is_loaded_not_rebuilt() {
    let (dir, store) = seeded();
    drop(open_with(dir.path(), &store, "m1"));
    assert!(
        Manifest::read(&dir.path().join("search"))
            .expect("manifest")
            .last_change
            .is_some()
    );
    store
        .truncate_changes(store.last_seq())
        .expect("truncate the feed the index applied");
    let reopened = open_with(dir.path(), &store, "m1");
    assert!(
        !rebuilt(&reopened),
        "a change pruned from the feed is no reason to rebuild"
    );
    add_experts(&store, "later", 3, "Gardener", "Topiary");
    assert_parity(&reopened.index, &store, "after truncating the feed");
}
