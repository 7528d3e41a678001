//! The vector index's settings.

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// How the HNSW graph is built and searched, and when an exact scan replaces it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VectorConfig {
    /// Links per point (HNSW's M; twice as many on layer 0), 2–256.
    pub m: usize,
    /// Candidate list size while inserting.
    pub ef_construction: usize,
    /// Candidate list size while searching (raised to `k` when `k` is larger).
    pub ef_search: usize,
    /// Below this many candidates (all live points, or the ids a filter lets through)
    /// a search scans them exactly instead of walking the graph.
    pub exact_scan_below: usize,
    /// Compact (rebuild the graph over live points) when tombstones exceed this share
    /// of the slots...
    pub max_tombstone_ratio: f32,
    /// ...and there are at least this many of them.
    pub min_tombstones_to_compact: usize,
    /// Save a snapshot once the write-ahead log holds this many vector changes.
    pub checkpoint_every: usize,
}

impl Default for VectorConfig {
    fn default() -> Self {
        VectorConfig {
            m: 16,
            ef_construction: 200,
            ef_search: 128,
            exact_scan_below: 4096,
            max_tombstone_ratio: 0.2,
            min_tombstones_to_compact: 1024,
            checkpoint_every: 4096,
        }
    }
}

impl VectorConfig {
    /// Checks the settings are usable.
    pub fn validate(&self) -> Result<()> {
        if !(2..=256).contains(&self.m) {
            return Err(Error::Invalid(format!("m must be 2-256, got {}", self.m)));
        }
        if self.ef_construction == 0 || self.ef_search == 0 {
            return Err(Error::Invalid(
                "ef_construction and ef_search must be positive".to_owned(),
            ));
        }
        if !(0.0..=1.0).contains(&self.max_tombstone_ratio) {
            return Err(Error::Invalid(
                "max_tombstone_ratio must be within 0-1".to_owned(),
            ));
        }
        Ok(())
    }
}
