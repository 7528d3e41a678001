//! Building both indexes from the store: every expert's document and embedding, in
//! batches, with progress. The store's last sequence number is read before the scan, so
//! changes made during the rebuild are applied again afterwards (applying is idempotent).

use std::path::Path;

use droply_index::text::EXPERT_SCHEMA_VERSION;
use droply_index::{ExpertDoc, ExpertTextIndex, TextEmbedder, VectorEntry, VectorIndex};
use droply_models::{User, UserId};

use super::config::SearchIndexConfig;
use super::expert_document::expert_document;
use super::manifest::{Manifest, SEARCH_SCHEMA_VERSION};
use super::profile_text::{embedding_text, embedding_version};
use super::shared::Indexes;
use super::status::RebuildProgress;
use crate::{Result, Store};

/// The text index's directory under the search directory.
pub(crate) const TEXT_DIR: &str = "text";
/// The vector index's directory under the search directory.
pub(crate) const VECTOR_DIR: &str = "vectors";

/// The manifest an index built now with `embedder` gets.
pub(crate) fn expected_manifest(embedder: &dyn TextEmbedder) -> Manifest {
    Manifest {
        schema_version: SEARCH_SCHEMA_VERSION,
        text_schema_version: EXPERT_SCHEMA_VERSION,
        embedder: embedder.fingerprint().to_owned(),
        dimension: embedder.dimension(),
    }
}

/// Embeds the profiles of `users` and puts them into `vectors` (skipping those whose
/// embedding is already current).
pub(crate) fn embed_into(
    vectors: &VectorIndex<UserId>,
    embedder: &dyn TextEmbedder,
    users: &[&User],
) -> Result<()> {
    let stale: Vec<(&User, u64, String)> = users
        .iter()
        .map(|user| (*user, embedding_version(user), embedding_text(user)))
        .filter(|(user, version, _)| vectors.version(user.id) != Some(*version))
        .collect();
    if stale.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = stale.iter().map(|(_, _, text)| text.as_str()).collect();
    let embedded = embedder.embed_texts(&texts)?;
    let entries: Vec<VectorEntry<'_, UserId>> = stale
        .iter()
        .zip(&embedded)
        .map(|((user, version, _), vector)| VectorEntry {
            key: user.id,
            version: *version,
            vector,
        })
        .collect();
    vectors.upsert(&entries)?;
    Ok(())
}

/// Rebuilds both indexes in `dir` from `store`.
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
    let total = store.count::<User>() as u64;
    let text = ExpertTextIndex::create(&dir.join(TEXT_DIR))?;
    let vectors = VectorIndex::in_memory(embedder.dimension(), config.vector.clone())?;
    let mut done = 0u64;
    progress(RebuildProgress { done, total });
    let mut batch: Vec<User> = Vec::with_capacity(config.rebuild_batch);
    let flush = |batch: &mut Vec<User>| -> Result<()> {
        let experts: Vec<&User> = batch.iter().filter(|user| user.is_expert()).collect();
        let docs: Vec<ExpertDoc> = experts
            .iter()
            .map(|user| expert_document(store, user))
            .collect::<Result<_>>()?;
        text.upsert(&docs)?;
        embed_into(&vectors, embedder, &experts)?;
        batch.clear();
        Ok(())
    };
    for user in store.iter::<User>() {
        batch.push(user?);
        if batch.len() >= config.rebuild_batch.max(1) {
            done += batch.len() as u64;
            flush(&mut batch)?;
            progress(RebuildProgress {
                done,
                total: total.max(done),
            });
        }
    }
    done += batch.len() as u64;
    flush(&mut batch)?;
    progress(RebuildProgress {
        done,
        total: total.max(done),
    });
    text.commit(seq)?;
    let vector_dir = dir.join(VECTOR_DIR);
    if vector_dir.exists() {
        std::fs::remove_dir_all(&vector_dir)?;
    }
    vectors.save_to(&vector_dir, seq)?;
    expected_manifest(embedder).write(dir)?;
    tracing::info!(
        experts = text.len(),
        seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "search index rebuilt"
    );
    Ok(Indexes { text, vectors })
}

/// Opens the saved indexes in `dir` if they were built by this schema and `embedder`;
/// `Err(reason)` says why they must be rebuilt.
pub(crate) fn open_saved(
    dir: &Path,
    embedder: &dyn TextEmbedder,
    config: &SearchIndexConfig,
) -> std::result::Result<Indexes, String> {
    let manifest = Manifest::read(dir).ok_or_else(|| "missing or unfinished index".to_owned())?;
    let expected = expected_manifest(embedder);
    if manifest.schema_version != expected.schema_version
        || manifest.text_schema_version != expected.text_schema_version
    {
        return Err(format!(
            "built with schema {}/{}",
            manifest.schema_version, manifest.text_schema_version
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
    Ok(Indexes { text, vectors })
}
