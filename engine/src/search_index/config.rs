//! The search index's settings.

use std::sync::Arc;
use std::time::Duration;

use droply_index::VectorConfig;

use super::status::RebuildProgress;

/// A callback told how a rebuild progresses.
pub type ProgressCallback = Arc<dyn Fn(RebuildProgress) + Send + Sync>;

/// How the indexes are built and kept up to date.
#[derive(Clone)]
pub struct SearchIndexConfig {
    /// The vector index's settings.
    pub vector: VectorConfig,
    /// Change-feed entries applied per commit at most (each batch is embedded together).
    pub batch_changes: usize,
    /// Users embedded per call during a rebuild.
    pub rebuild_batch: usize,
    /// How long the indexer sleeps waiting for changes before checking for shutdown.
    pub poll_interval: Duration,
    /// Told how a rebuild progresses (the CLI draws a progress bar with it).
    pub progress: Option<ProgressCallback>,
}

impl std::fmt::Debug for SearchIndexConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SearchIndexConfig")
            .field("vector", &self.vector)
            .field("batch_changes", &self.batch_changes)
            .field("rebuild_batch", &self.rebuild_batch)
            .field("poll_interval", &self.poll_interval)
            .finish_non_exhaustive()
    }
}

impl Default for SearchIndexConfig {
    fn default() -> Self {
        SearchIndexConfig {
            vector: VectorConfig::default(),
            batch_changes: 256,
            rebuild_batch: 256,
            poll_interval: Duration::from_millis(200),
            progress: None,
        }
    }
}
