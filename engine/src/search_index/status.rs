//! What the search index reports about itself.

/// Where the indexes stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IndexState {
    /// Loading the saved indexes.
    Opening,
    /// Rebuilding from the store: `done` of `total` users read.
    Rebuilding {
        /// Why: missing, corrupt, other model or schema, or asked for.
        reason: String,
        /// Users read so far.
        done: u64,
        /// Users in the store.
        total: u64,
    },
    /// Following the store's change feed.
    Following,
    /// The indexer stopped (shut down).
    Stopped,
}

/// A snapshot of the search index's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexStatus {
    /// What the indexer is doing.
    pub state: IndexState,
    /// The last store sequence number both indexes reflect.
    pub applied_seq: u64,
    /// The store's last sequence number.
    pub store_seq: u64,
    /// Experts in the text index.
    pub text_documents: u64,
    /// Experts in the vector index.
    pub vectors: usize,
    /// Replaced or deleted vectors awaiting compaction.
    pub vector_tombstones: usize,
    /// The embedder's fingerprint.
    pub embedder: String,
    /// The last error the indexer met, if it has not recovered since.
    pub last_error: Option<String>,
}

/// Progress of a rebuild, reported to a callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RebuildProgress {
    /// Users read so far.
    pub done: u64,
    /// Users in the store.
    pub total: u64,
}
