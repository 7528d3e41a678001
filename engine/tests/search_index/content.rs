//! Published content in the search index: found by its words and by its meaning; drafts
//! are not; publishing, archiving and deleting follow the store; the creator's expert
//! document is not disturbed; a change to counters only re-embeds nothing; rebuilds
//! (`reindex`, an old schema, a missing content index) and the parity check cover it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use droply_engine::embedding::{Error as EmbedError, TextEmbedder};
use droply_engine::search_index::{Manifest, SearchIndexConfig, search_dir};
use droply_engine::{SearchIndex, Store};
use droply_index::{ContentFilters, ExpertFilters};
use droply_models::{Content, ContentId, ContentStatus, ContentType, User};

use crate::fixtures::content;
use crate::hash_embedder::HashEmbedder;
use crate::support::{assert_parity, busy_config, expert};

/// The bag-of-words embedder, counting the texts it embeds.
#[derive(Debug, Default)]
struct CountingEmbedder {
    inner: HashEmbedder,
    texts: AtomicUsize,
}

impl TextEmbedder for CountingEmbedder {
    fn fingerprint(&self) -> &str {
        self.inner.fingerprint()
    }

    fn dimension(&self) -> usize {
        self.inner.dimension()
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        self.inner.embed_texts(texts)
    }
}

struct Setup {
    dir: tempfile::TempDir,
    store: Store,
    creator: User,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path().join("store")).expect("store");
    let creator = store
        .users()
        .create(expert("baker", "Pastry Chef", "Bread"))
        .expect("creator");
    Setup {
        dir,
        store,
        creator,
    }
}

fn open(setup: &Setup, embedder: Arc<dyn TextEmbedder>) -> SearchIndex {
    let config = SearchIndexConfig {
        poll_interval: Duration::from_millis(10),
        ..busy_config()
    };
    SearchIndex::open(setup.dir.path(), setup.store.clone(), embedder, config).expect("open")
}

fn caught_up(index: &SearchIndex, store: &Store) {
    assert!(
        index.wait_until_applied(store.last_seq(), Duration::from_secs(60)),
        "{:?}",
        index.status()
    );
}

/// A content item of `setup`'s creator.
fn item(setup: &Setup, title: &str, description: &str, status: ContentStatus) -> Content {
    let mut row = content(setup.creator.id, "2026-10-01T10:00:00Z");
    row.title = title.to_owned();
    row.description = description.to_owned();
    row.content_type = ContentType::Video;
    row.status = status;
    setup.store.contents().create(row).expect("content")
}

fn words(index: &SearchIndex, query: &str) -> Vec<ContentId> {
    index
        .content_text_search(query, &ContentFilters::default(), 10)
        .expect("text")
        .into_iter()
        .map(|hit| hit.0)
        .collect()
}

fn meaning(index: &SearchIndex, query: &str) -> Vec<ContentId> {
    let vector = index.embedder().embed_query_text(query).expect("embed");
    index
        .content_vector_search(&vector, &ContentFilters::default(), 10)
        .expect("vector")
        .into_iter()
        .map(|hit| hit.0)
        .collect()
}

fn indexed(index: &SearchIndex) -> (Vec<ContentId>, Vec<ContentId>) {
    let (text, vectors) = index.content_entries().expect("entries");
    let ids = |entries: Vec<(ContentId, u64)>| {
        let mut ids: Vec<ContentId> = entries.into_iter().map(|e| e.0).collect();
        ids.sort();
        ids
    };
    (ids(text), ids(vectors))
}

#[test]
fn published_content_is_found_and_drafts_archived_and_deleted_are_not() {
    let setup = setup();
    let store = &setup.store;
    let bread = item(
        &setup,
        "Sourdough masterclass",
        "Bake crusty sourdough bread at home, step by step.",
        ContentStatus::Published,
    );
    let draft = item(
        &setup,
        "Croissant lamination",
        "Fold butter into dough for flaky croissants.",
        ContentStatus::Draft,
    );
    let index = open(&setup, Arc::new(HashEmbedder::default()));
    caught_up(&index, store);
    assert_eq!(words(&index, "sourdough"), [bread.id], "found by its words");
    assert_eq!(words(&index, "sourdugh"), [bread.id], "a typo in the title");
    assert_eq!(
        meaning(&index, "how to bake bread").first(),
        Some(&bread.id),
        "found by its meaning"
    );
    assert!(
        words(&index, "croissants").is_empty(),
        "a draft is not indexed"
    );
    assert_eq!(indexed(&index), (vec![bread.id], vec![bread.id]));
    // The creator's expert entry is there, and content ids never reach it.
    let experts = index
        .text_search("pastry", &ExpertFilters::default(), 10)
        .expect("experts");
    assert_eq!(experts.len(), 1);
    assert_eq!(experts[0].0, setup.creator.id);
    assert_parity(&index, store, "one published, one draft");

    store
        .contents()
        .modify(draft.id, |c| {
            c.status = ContentStatus::Published;
            Ok(())
        })
        .expect("publish");
    caught_up(&index, store);
    assert_eq!(words(&index, "croissants"), [draft.id], "published: found");
    assert_parity(&index, store, "published");

    store
        .contents()
        .modify(bread.id, |c| {
            c.status = ContentStatus::Archived;
            Ok(())
        })
        .expect("archive");
    caught_up(&index, store);
    assert!(words(&index, "sourdough").is_empty(), "archived: gone");
    assert!(!meaning(&index, "how to bake bread").contains(&bread.id));
    assert_parity(&index, store, "archived");

    store.contents().delete(draft.id).expect("delete");
    caught_up(&index, store);
    assert!(words(&index, "croissants").is_empty(), "deleted: gone");
    assert_eq!(indexed(&index), (vec![], vec![]));
    assert_parity(&index, store, "deleted");
    let experts = index
        .text_search("pastry", &ExpertFilters::default(), 10)
        .expect("experts");
    assert_eq!(experts.len(), 1, "the creator's expert entry stays");
}

#[test]
fn a_change_to_counters_only_re_embeds_nothing() {
    let setup = setup();
    let store = &setup.store;
    let video = item(
        &setup,
        "Knife skills",
        "Dice onions quickly and safely.",
        ContentStatus::Published,
    );
    let embedder = Arc::new(CountingEmbedder::default());
    let index = open(&setup, Arc::clone(&embedder) as Arc<dyn TextEmbedder>);
    caught_up(&index, store);
    let before = embedder.texts.load(Ordering::SeqCst);
    let versions = index.content_entries().expect("entries");
    store
        .contents()
        .modify(video.id, |c| {
            c.views += 100;
            c.purchases += 3;
            c.earnings =
                droply_models::Money::new(c.earnings.amount_minor + 300, c.earnings.currency);
            Ok(())
        })
        .expect("counters");
    caught_up(&index, store);
    assert_eq!(
        embedder.texts.load(Ordering::SeqCst),
        before,
        "views, purchases and earnings are not embedded"
    );
    assert_eq!(index.content_entries().expect("entries"), versions);
    assert_parity(&index, store, "counters");

    store
        .contents()
        .modify(video.id, |c| {
            c.description = "Julienne carrots like a chef.".to_owned();
            Ok(())
        })
        .expect("describe");
    caught_up(&index, store);
    assert_eq!(
        embedder.texts.load(Ordering::SeqCst),
        before + 1,
        "a new description is embedded once"
    );
    assert_eq!(words(&index, "julienne"), [video.id]);
    assert_parity(&index, store, "description");
}

#[test]
fn rebuilds_and_parity_cover_content() {
    let setup = setup();
    let store = &setup.store;
    let video = item(
        &setup,
        "Pizza dough",
        "Neapolitan pizza dough with a long cold rise.",
        ContentStatus::Published,
    );
    item(&setup, "Unfinished", "Not yet.", ContentStatus::Draft);
    let embedder: Arc<dyn TextEmbedder> = Arc::new(HashEmbedder::default());
    let status = SearchIndex::reindex(
        setup.dir.path(),
        store,
        embedder.as_ref(),
        &busy_config(),
        &|_| {},
    )
    .expect("reindex");
    assert_eq!(status.applied_seq, store.last_seq());
    let index = open(&setup, Arc::clone(&embedder));
    caught_up(&index, store);
    assert_eq!(words(&index, "pizza"), [video.id], "reindex built content");
    assert_parity(&index, store, "reindexed");
    drop(index);

    // An index of the previous schema (experts only) is rebuilt with content.
    let search = search_dir(setup.dir.path());
    let mut manifest = Manifest::read(&search).expect("manifest");
    manifest.schema_version = 1;
    manifest.content_schema_version = 0;
    manifest.write(&search).expect("write");
    std::fs::remove_dir_all(search.join("content_text")).expect("as before content");
    let index = open(&setup, Arc::clone(&embedder));
    caught_up(&index, store);
    assert_eq!(words(&index, "pizza"), [video.id], "old schema rebuilt");
    assert_parity(&index, store, "old schema");
    drop(index);

    // A missing content index alone (manifest intact) is rebuilt too.
    std::fs::remove_dir_all(search.join("content_vectors")).expect("remove");
    let index = open(&setup, embedder);
    caught_up(&index, store);
    assert_eq!(meaning(&index, "pizza dough").first(), Some(&video.id));
    let parity = index.parity_with(store).expect("parity");
    assert!(parity.is_consistent(), "{:?}", parity.problems);
    assert_eq!((parity.experts, parity.content), (1, 1));
}
