//! [`SearchIndex`]: the handle the rest of the engine searches through.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use droply_index::{
    CountedSearch, ExpertFilters, FacetCounts, FacetField, TextEmbedder, VectorHit,
};
use droply_models::UserId;

use super::config::SearchIndexConfig;
use super::indexer;
use super::rebuild;
use super::shared::Shared;
use super::status::{IndexState, IndexStatus, RebuildProgress};
use crate::{Result, Store};

/// Full-text and vector search over the store's experts, following the store.
///
/// Cheap to share behind an `Arc`; searches never wait for indexing. Dropping it stops
/// the indexer and saves the vector index.
pub struct SearchIndex {
    pub(super) shared: Arc<Shared>,
    worker: Mutex<Option<JoinHandle<()>>>,
}

impl std::fmt::Debug for SearchIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndex")
            .field("dir", &self.shared.dir)
            .finish_non_exhaustive()
    }
}

/// Ids with the version of their indexed document or embedding.
pub type VersionedIds = Vec<(UserId, u64)>;

/// The directory of the search indexes inside a data directory.
pub fn search_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("search")
}

impl SearchIndex {
    /// Opens the indexes under `data_dir/search` and starts the indexer thread, which
    /// loads them (or rebuilds them from `store` when missing, damaged, or built by
    /// another model or schema) and then follows the store's change feed. Returns at
    /// once; [`SearchIndex::wait_until_applied`] waits for the indexes to catch up.
    pub fn open(
        data_dir: &Path,
        store: Store,
        embedder: Arc<dyn TextEmbedder>,
        config: SearchIndexConfig,
    ) -> Result<Self> {
        config.vector.validate()?;
        let dir = search_dir(data_dir);
        std::fs::create_dir_all(&dir)?;
        let shared = Arc::new(Shared {
            store,
            embedder,
            config,
            dir,
            indexes: RwLock::new(None),
            applied: Mutex::new(0),
            applied_changed: Condvar::new(),
            state: Mutex::new(IndexState::Opening),
            last_error: Mutex::new(None),
            stop: AtomicBool::new(false),
        });
        let worker_shared = Arc::clone(&shared);
        let worker = std::thread::Builder::new()
            .name("search-indexer".to_owned())
            .spawn(move || indexer::run(&worker_shared))?;
        Ok(SearchIndex {
            shared,
            worker: Mutex::new(Some(worker)),
        })
    }

    /// Rebuilds the indexes under `data_dir/search` from `store` now, on this thread,
    /// reporting progress to `progress` (the `droply reindex` command).
    pub fn reindex(
        data_dir: &Path,
        store: &Store,
        embedder: &dyn TextEmbedder,
        config: &SearchIndexConfig,
        progress: &dyn Fn(RebuildProgress),
    ) -> Result<IndexStatus> {
        config.vector.validate()?;
        let dir = search_dir(data_dir);
        std::fs::create_dir_all(&dir)?;
        let indexes = rebuild::rebuild(&dir, store, embedder, config, progress)?;
        Ok(IndexStatus {
            state: IndexState::Stopped,
            applied_seq: indexes.applied_seq(),
            store_seq: store.last_seq(),
            text_documents: indexes.text.len(),
            vectors: indexes.vectors.len(),
            vector_tombstones: indexes.vectors.stats().tombstones,
            embedder: embedder.fingerprint().to_owned(),
            last_error: None,
        })
    }

    /// Whether searches are answered from loaded indexes (false while the first load
    /// or a rebuild runs: searches then return nothing).
    pub fn is_loaded(&self) -> bool {
        self.shared.indexes().is_some()
    }

    /// The embedder that made the vectors (embed queries with it).
    pub fn embedder(&self) -> &Arc<dyn TextEmbedder> {
        &self.shared.embedder
    }

    /// Experts matching `query` by BM25 (typo tolerant) within `filters`, best first, at
    /// most `limit`; an empty query lists the experts the filters allow. Empty while
    /// the indexes are being rebuilt.
    pub fn text_search(
        &self,
        query: &str,
        filters: &ExpertFilters,
        limit: usize,
    ) -> Result<Vec<(UserId, f32)>> {
        match self.shared.indexes() {
            Some(indexes) => Ok(indexes.text.search(query, filters, limit)?),
            None => Ok(Vec::new()),
        }
    }

    /// [`SearchIndex::text_search`] that also counts every expert the words match
    /// within `filters`, and the values of `fields` among them, open to the vector hits
    /// until [`CountedSearch::finish`]; `None` before the indexes are loaded.
    pub fn text_search_counting(
        &self,
        query: &str,
        filters: &ExpertFilters,
        limit: usize,
        fields: &[FacetField],
        max_values: usize,
    ) -> Result<Option<CountedSearch>> {
        match self.shared.indexes() {
            Some(indexes) => {
                Ok(Some(indexes.text.search_counting(
                    query, filters, limit, fields, max_values,
                )?))
            }
            None => Ok(None),
        }
    }

    /// The `k` experts whose profile vectors are closest to `vector` (cosine, best
    /// first) within `filters`. Selective filters are resolved through the text index
    /// and scanned exactly.
    pub fn vector_search(
        &self,
        vector: &[f32],
        filters: &ExpertFilters,
        k: usize,
    ) -> Result<Vec<(UserId, f32)>> {
        let Some(indexes) = self.shared.indexes() else {
            return Ok(Vec::new());
        };
        let hits: Vec<VectorHit<UserId>> = if filters.is_empty() {
            indexes.vectors.search(vector, k, None)?
        } else {
            let allowed = indexes.text.matching_ids(filters)?;
            indexes.vectors.search(vector, k, Some(&allowed))?
        };
        Ok(hits.into_iter().map(|hit| (hit.key, hit.score)).collect())
    }

    /// The ids the filters allow (for facet counts and candidate sets).
    pub fn matching_ids(&self, filters: &ExpertFilters) -> Result<Vec<UserId>> {
        match self.shared.indexes() {
            Some(indexes) => Ok(indexes.text.matching_ids(filters)?),
            None => Ok(Vec::new()),
        }
    }

    /// Counts the experts matching `text` or listed in `also` within `filters`, and the
    /// values of `fields` among them (see [`ExpertTextIndex::facet_counts`]).
    pub fn facet_counts(
        &self,
        text: &str,
        filters: &ExpertFilters,
        also: &[UserId],
        fields: &[FacetField],
        max_values: usize,
    ) -> Result<FacetCounts> {
        match self.shared.indexes() {
            Some(indexes) => Ok(indexes
                .text
                .facet_counts(text, filters, also, fields, max_values)?),
            None => Ok(FacetCounts::default()),
        }
    }

    /// The stored profile vector of `expert`, if indexed ("similar to this expert").
    pub fn expert_vector(&self, expert: UserId) -> Option<Vec<f32>> {
        self.shared.indexes()?.vectors.vector(expert)
    }

    /// Every expert in the text index with its document version, and every expert in the
    /// vector index with its embedding version (parity checks).
    pub fn entries(&self) -> Result<(VersionedIds, VersionedIds)> {
        match self.shared.indexes() {
            Some(indexes) => Ok((indexes.text.entries()?, indexes.vectors.entries())),
            None => Ok((Vec::new(), Vec::new())),
        }
    }

    /// The last store sequence number both indexes reflect.
    pub fn applied_seq(&self) -> u64 {
        *self
            .shared
            .applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits until both indexes reflect the store up to `seq` (a write's changes are
    /// searchable once `store.last_seq()` read after it is applied); false on timeout.
    /// A timeout past what the clock can hold (`Duration::MAX`) waits without one.
    pub fn wait_until_applied(&self, seq: u64, timeout: Duration) -> bool {
        let deadline = Instant::now().checked_add(timeout);
        let mut applied = self
            .shared
            .applied
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        while *applied < seq {
            applied = match deadline {
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        return false;
                    }
                    self.shared
                        .applied_changed
                        .wait_timeout(applied, deadline - now)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                }
                None => self
                    .shared
                    .applied_changed
                    .wait(applied)
                    .unwrap_or_else(PoisonError::into_inner),
            };
        }
        true
    }

    /// Where the indexes stand.
    pub fn status(&self) -> IndexStatus {
        let indexes = self.shared.indexes();
        IndexStatus {
            state: self
                .shared
                .state
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
            applied_seq: self.applied_seq(),
            store_seq: self.shared.store.last_seq(),
            text_documents: indexes.as_ref().map_or(0, |i| i.text.len()),
            vectors: indexes.as_ref().map_or(0, |i| i.vectors.len()),
            vector_tombstones: indexes.as_ref().map_or(0, |i| i.vectors.stats().tombstones),
            embedder: self.shared.embedder.fingerprint().to_owned(),
            last_error: self
                .shared
                .last_error
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone(),
        }
    }

    /// Stops the indexer and saves the vector index (also done on drop).
    pub fn shutdown(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        let worker = self
            .worker
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(worker) = worker
            && worker.join().is_err()
        {
            tracing::error!("the search indexer panicked");
        }
        if let Some(indexes) = self.shared.indexes() {
            if indexes.vectors.stats().unsaved_changes > 0
                && let Err(err) = indexes.vectors.save()
            {
                tracing::warn!(%err, "could not save the expert vector index on shutdown");
            }
            if indexes.content_vectors.stats().unsaved_changes > 0
                && let Err(err) = indexes.content_vectors.save()
            {
                tracing::warn!(%err, "could not save the content vector index on shutdown");
            }
        }
        self.shared.set_state(IndexState::Stopped);
    }
}

impl Drop for SearchIndex {
    fn drop(&mut self) {
        self.shutdown();
    }
}
