//! What the [`SearchIndex`](super::SearchIndex) handle and the indexer
//! thread share: the installed indexes, the last change applied (with a
//! condition variable to wait on it), the state callers see, and the stop
//! flag. Kept apart so that the handle, the indexer and the rebuild all
//! depend on it and not on each other.

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Condvar, Mutex, PoisonError, RwLock};

use droply_index::{ContentTextIndex, ExpertTextIndex, TextEmbedder, VectorIndex};
use droply_models::{ContentId, UserId};

use super::config::SearchIndexConfig;
use super::status::{IndexState, RebuildProgress};
use crate::Store;

/// The indexes, installed together once loaded or rebuilt: experts' text and vectors,
/// and content's text and vectors (content ids and user ids are separate id spaces, so
/// each kind has indexes of its own).
pub(crate) struct Indexes {
    pub text: ExpertTextIndex,
    pub vectors: VectorIndex<UserId>,
    pub content_text: ContentTextIndex,
    pub content_vectors: VectorIndex<ContentId>,
}

impl Indexes {
    /// The sequence number each of the four last committed.
    fn committed_seqs(&self) -> [u64; 4] {
        [
            self.text.committed_seq(),
            self.vectors.committed_seq(),
            self.content_text.committed_seq(),
            self.content_vectors.committed_seq(),
        ]
    }

    /// The last sequence number all four reflect.
    pub fn applied_seq(&self) -> u64 {
        self.committed_seqs().into_iter().min().unwrap_or(0)
    }

    /// The newest sequence number any of the four committed.
    pub fn newest_seq(&self) -> u64 {
        self.committed_seqs().into_iter().max().unwrap_or(0)
    }
}

/// State shared between the handle and the indexer thread.
pub(crate) struct Shared {
    pub store: Store,
    pub embedder: Arc<dyn TextEmbedder>,
    pub config: SearchIndexConfig,
    pub dir: PathBuf,
    pub indexes: RwLock<Option<Arc<Indexes>>>,
    pub applied: Mutex<u64>,
    pub applied_changed: Condvar,
    pub state: Mutex<IndexState>,
    pub last_error: Mutex<Option<String>>,
    pub stop: AtomicBool,
}

impl Shared {
    pub fn indexes(&self) -> Option<Arc<Indexes>> {
        self.indexes
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    pub fn install(&self, indexes: Option<Arc<Indexes>>) {
        *self.indexes.write().unwrap_or_else(PoisonError::into_inner) = indexes;
    }

    /// Installs `indexes`, says the index follows the store, then publishes what
    /// they applied, in that order: a caller woken by the number (`wait_until_applied`)
    /// finds search answering and `/ready` latched, never a rebuild still reported.
    pub fn start_following(&self, indexes: &Arc<Indexes>) {
        self.install(Some(Arc::clone(indexes)));
        self.set_state(IndexState::Following);
        self.publish_applied(indexes.applied_seq());
    }

    pub fn publish_applied(&self, seq: u64) {
        let mut applied = self.applied.lock().unwrap_or_else(PoisonError::into_inner);
        *applied = seq;
        self.applied_changed.notify_all();
    }

    pub fn set_state(&self, state: IndexState) {
        *self.state.lock().unwrap_or_else(PoisonError::into_inner) = state;
    }

    pub fn set_error(&self, error: Option<String>) {
        *self
            .last_error
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = error;
    }

    pub fn report_progress(&self, reason: &str, progress: RebuildProgress) {
        self.set_state(IndexState::Rebuilding {
            reason: reason.to_owned(),
            done: progress.done,
            total: progress.total,
        });
        if let Some(callback) = &self.config.progress {
            callback(progress);
        }
    }
}
