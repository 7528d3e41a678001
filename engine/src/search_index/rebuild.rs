//! Building the indexes from the store: every expert's document and embedding, then
//! every published content item's, in batches, with progress. The store's last sequence
//! number is read before the scan, so changes made during the rebuild are applied again
//! afterwards (applying is idempotent); the manifest, written last, marks that change.

use std::path::Path;

use droply_index::text::{CONTENT_SCHEMA_VERSION, EXPERT_SCHEMA_VERSION};
use droply_index::{
    ContentDoc, ContentTextIndex, ExpertDoc, ExpertTextIndex, ExternalId, TextEmbedder,
    VectorEntry, VectorIndex, has_direction,
};
use droply_models::{Content, ContentId, User, UserId};

use super::change_mark::ChangeMark;
use super::config::SearchIndexConfig;
use super::content_document::{
    content_document, content_embedding_text, content_embedding_version, is_searchable,
};
use super::expert_document::expert_document;
use super::manifest::{Manifest, SEARCH_SCHEMA_VERSION};
use super::profile_text::{embedding_text, embedding_version};
use super::shared::Indexes;
use super::status::RebuildProgress;
use crate::store::Record;
use crate::{Result, Store};

/// The expert text index's directory under the search directory.
pub(crate) const TEXT_DIR: &str = "text";
/// The expert vector index's directory under the search directory.
pub(crate) const VECTOR_DIR: &str = "vectors";
/// The content text index's directory under the search directory.
pub(crate) const CONTENT_TEXT_DIR: &str = "content_text";
/// The content vector index's directory under the search directory.
pub(crate) const CONTENT_VECTOR_DIR: &str = "content_vectors";

/// The manifest an index built now with `embedder` gets (without a change mark).
pub(crate) fn expected_manifest(embedder: &dyn TextEmbedder) -> Manifest {
    Manifest {
        schema_version: SEARCH_SCHEMA_VERSION,
        text_schema_version: EXPERT_SCHEMA_VERSION,
        content_schema_version: CONTENT_SCHEMA_VERSION,
        embedder: embedder.fingerprint().to_owned(),
        dimension: embedder.dimension(),
        last_change: None,
    }
}

/// Writes into `dir` the manifest of indexes built with `embedder` that applied the
/// change `mark` (`None`: unknown).
pub(crate) fn write_manifest(
    dir: &Path,
    embedder: &dyn TextEmbedder,
    mark: Option<ChangeMark>,
) -> Result<()> {
    Manifest {
        last_change: mark,
        ..expected_manifest(embedder)
    }
    .write(dir)
}

/// Embeds the texts of `items` (id, embedding version, text) whose vector is not at
/// that version yet, and puts them into `vectors`.
fn embed_stale<K: ExternalId>(
    vectors: &VectorIndex<K>,
    embedder: &dyn TextEmbedder,
    items: impl Iterator<Item = (K, u64, String)>,
) -> Result<()> {
    let stale: Vec<(K, u64, String)> = items
        .filter(|(key, version, _)| vectors.version(*key) != Some(*version))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = stale.iter().map(|(_, _, text)| text.as_str()).collect();
    let embedded = embedder.embed_texts(&texts)?;
    // A text without meaning may embed to no direction (all zeros): it has no
    // vector (its old one, if any, goes), and the words alone find it.
    let (entries, pointless): (Vec<VectorEntry<'_, K>>, Vec<VectorEntry<'_, K>>) = stale
        .iter()
        .zip(&embedded)
        .map(|((key, version, _), vector)| VectorEntry {
            key: *key,
            version: *version,
            vector,
        })
        .partition(|entry| has_direction(entry.vector));
    vectors.upsert(&entries)?;
    let gone: Vec<K> = pointless.iter().map(|entry| entry.key).collect();
    if !gone.is_empty() {
        vectors.remove(&gone)?;
    }
    Ok(())
}

/// Embeds the profiles of `users` and puts them into `vectors` (skipping those whose
/// embedding is already current).
pub(crate) fn embed_into(
    vectors: &VectorIndex<UserId>,
    embedder: &dyn TextEmbedder,
    users: &[&User],
) -> Result<()> {
    let items = users
        .iter()
        .map(|user| (user.id, embedding_version(user), embedding_text(user)));
    embed_stale(vectors, embedder, items)
}

/// Embeds the title and description of `items` and puts them into `vectors` (skipping
/// those whose embedding is already current: a change to counters embeds nothing).
pub(crate) fn embed_content_into(
    vectors: &VectorIndex<ContentId>,
    embedder: &dyn TextEmbedder,
    items: &[&Content],
) -> Result<()> {
    let items = items.iter().map(|content| {
        (
            content.id,
            content_embedding_version(content),
            content_embedding_text(content),
        )
    });
    embed_stale(vectors, embedder, items)
}

/// Counts rows done across both scans and reports them.
struct Progress<'a> {
    done: u64,
    total: u64,
    report: &'a dyn Fn(RebuildProgress),
}

impl Progress<'_> {
    fn advance(&mut self, rows: usize) {
        self.done += rows as u64;
        (self.report)(RebuildProgress {
            done: self.done,
            total: self.total.max(self.done),
        });
    }
}

/// Reads every row of `R` in batches of `batch_size` and hands each batch to `flush`.
fn scan_in_batches<R: Record>(
    store: &Store,
    batch_size: usize,
    progress: &mut Progress<'_>,
    mut flush: impl FnMut(&[R]) -> Result<()>,
) -> Result<()> {
    let mut batch: Vec<R> = Vec::with_capacity(batch_size);
    for row in store.iter::<R>() {
        batch.push(row?);
        if batch.len() >= batch_size {
            flush(&batch)?;
            progress.advance(batch.len());
            batch.clear();
        }
    }
    flush(&batch)?;
    progress.advance(batch.len());
    Ok(())
}

/// Rebuilds every index in `dir` from `store`.
pub(crate) fn rebuild(
    dir: &Path,
    store: &Store,
    embedder: &dyn TextEmbedder,
    config: &SearchIndexConfig,
    progress: &dyn Fn(RebuildProgress),
) -> Result<Indexes> {
    let started = std::time::Instant::now();
    Manifest::remove(dir)?;
    let seq = store.last_seq();
    let mark = ChangeMark::read(store, seq)?;
    let mut progress = Progress {
        done: 0,
        total: (store.count::<User>() + store.count::<Content>()) as u64,
        report: progress,
    };
    progress.advance(0);
    let batch_size = config.rebuild_batch.max(1);
    let text = ExpertTextIndex::create(&dir.join(TEXT_DIR))?;
    let vectors = VectorIndex::in_memory(embedder.dimension(), config.vector.clone())?;
    scan_in_batches::<User>(store, batch_size, &mut progress, |batch| {
        let experts: Vec<&User> = batch.iter().filter(|user| user.is_expert()).collect();
        let docs: Vec<ExpertDoc> = experts
            .iter()
            .map(|user| expert_document(store, user))
            .collect::<Result<_>>()?;
        text.upsert(&docs)?;
        embed_into(&vectors, embedder, &experts)
    })?;
    let content_text = ContentTextIndex::create(&dir.join(CONTENT_TEXT_DIR))?;
    let content_vectors = VectorIndex::in_memory(embedder.dimension(), config.vector.clone())?;
    scan_in_batches::<Content>(store, batch_size, &mut progress, |batch| {
        let published: Vec<&Content> = batch.iter().filter(|c| is_searchable(c)).collect();
        let docs: Vec<ContentDoc> = published.iter().map(|c| content_document(c)).collect();
        content_text.upsert(&docs)?;
        embed_content_into(&content_vectors, embedder, &published)
    })?;
    // As when following the feed: what was read is on disk before anything commits.
    store.flush()?;
    text.commit(seq)?;
    content_text.commit(seq)?;
    save_fresh(&dir.join(VECTOR_DIR), |at| vectors.save_to(at, seq))?;
    save_fresh(&dir.join(CONTENT_VECTOR_DIR), |at| {
        content_vectors.save_to(at, seq)
    })?;
    write_manifest(dir, embedder, mark)?;
    tracing::info!(
        experts = text.len(),
        content = content_text.len(),
        seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index rebuilt"
    );
    Ok(Indexes {
        text,
        vectors,
        content_text,
        content_vectors,
    })
}

/// Saves a freshly built vector index into `dir`, replacing whatever was there.
fn save_fresh(dir: &Path, save: impl FnOnce(&Path) -> droply_index::Result<()>) -> Result<()> {
    if dir.exists() {
        std::fs::remove_dir_all(dir)?;
    }
    save(dir)?;
    Ok(())
}

/// Opens the saved indexes in `dir` if they were built by this schema and `embedder`,
/// with their manifest; `Err(reason)` says why they must be rebuilt.
pub(crate) fn open_saved(
    dir: &Path,
    embedder: &dyn TextEmbedder,
    config: &SearchIndexConfig,
) -> std::result::Result<(Indexes, Manifest), String> {
    let manifest = Manifest::read(dir).ok_or_else(|| "missing or unfinished index".to_owned())?;
    let expected = expected_manifest(embedder);
    if manifest.schema_version != expected.schema_version
        || manifest.text_schema_version != expected.text_schema_version
        || manifest.content_schema_version != expected.content_schema_version
    {
        return Err(format!(
            "built with schema {}/{}/{}",
            manifest.schema_version, manifest.text_schema_version, manifest.content_schema_version
        ));
    }
    if manifest.embedder != expected.embedder || manifest.dimension != expected.dimension {
        return Err(format!("built by another model ({})", manifest.embedder));
    }
    let text = ExpertTextIndex::open(&dir.join(TEXT_DIR)).map_err(|err| err.to_string())?;
    let vectors = VectorIndex::open(
        &dir.join(VECTOR_DIR),
        expected.dimension,
        config.vector.clone(),
    )
    .map_err(|err| err.to_string())?;
    let content_text =
        ContentTextIndex::open(&dir.join(CONTENT_TEXT_DIR)).map_err(|err| err.to_string())?;
    let content_vectors = VectorIndex::open(
        &dir.join(CONTENT_VECTOR_DIR),
        expected.dimension,
        config.vector.clone(),
    )
    .map_err(|err| err.to_string())?;
    let indexes = Indexes {
        text,
        vectors,
        content_text,
        content_vectors,
    };
    Ok((indexes, manifest))
}
