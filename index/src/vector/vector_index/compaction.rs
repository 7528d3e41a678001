//! Compacting a [`VectorIndex`]: a new graph over the live vectors only, built beside
//! searches and writes. The live vectors are copied under the writer lock, the graph is
//! built with no lock held while writes go on and note the keys they touch, then, under
//! the writer lock again, the touched keys' current vectors join the new graph and it
//! is swapped in; the next commit snapshots it.

use std::collections::HashSet;
use std::sync::PoisonError;
use std::sync::atomic::{AtomicBool, Ordering as AtomicOrdering};

use super::{Points, VectorIndex, read, write};
use crate::ExternalId;
use crate::id_map::{IdMap, Slot};
use crate::vector::frozen::freeze_or_warn;

/// Sets a flag back to false when dropped.
struct ClearOnDrop<'a>(&'a AtomicBool);

impl Drop for ClearOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(false, AtomicOrdering::SeqCst);
    }
}

impl<K: ExternalId> VectorIndex<K> {
    /// Notes written keys for a running compaction. The caller holds the writer lock.
    pub(super) fn note_touched(&self, keys: impl Iterator<Item = K>) {
        if let Some(touched) = self
            .touched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
        {
            touched.extend(keys);
        }
    }

    /// Whether tombstones exceed the configured share and count.
    pub fn needs_compaction(&self) -> bool {
        let points = read(&self.points);
        let tombstones = points.ids.tombstones();
        tombstones >= self.config.min_tombstones_to_compact
            && tombstones as f32 > self.config.max_tombstone_ratio * points.ids.len() as f32
    }

    /// Whether a compaction is running.
    pub fn is_compacting(&self) -> bool {
        self.compacting.load(AtomicOrdering::SeqCst)
    }

    /// Rebuilds the graph over the live vectors only, renumbering them; false when
    /// another compaction is already running. Searches and writes go on meanwhile
    /// (writes wait only for the final catch-up and swap); the next commit saves a
    /// snapshot of the result.
    pub fn compact(&self) -> bool {
        if self
            .compacting
            .compare_exchange(false, true, AtomicOrdering::SeqCst, AtomicOrdering::SeqCst)
            .is_err()
        {
            return false;
        }
        // Cleared however this ends, a panic included.
        let _running = ClearOnDrop(&self.compacting);
        let (slots, mut vectors) = {
            let _writer = self.lock_writer();
            *self.touched.lock().unwrap_or_else(PoisonError::into_inner) = Some(HashSet::new());
            let points = read(&self.points);
            let mut slots = Vec::with_capacity(points.ids.live());
            let mut vectors = Vec::with_capacity(points.ids.live() * self.dimension);
            for (internal, key, version) in points.ids.live_entries() {
                slots.push(Slot {
                    key,
                    version,
                    live: true,
                });
                vectors.extend_from_slice(
                    &points.vectors[internal * self.dimension..(internal + 1) * self.dimension],
                );
            }
            (slots, vectors)
        };
        let mut ids = IdMap::from_slots(slots);
        let mut graph = self.build_graph(&vectors, ids.len());

        let _writer = self.lock_writer();
        let touched = self
            .touched
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .unwrap_or_default();
        let mut added = Vec::new();
        {
            let points = read(&self.points);
            for key in touched {
                ids.remove(key);
                if let Some(internal) = points.ids.internal(key) {
                    let version = points.ids.slots()[internal].version;
                    vectors.extend_from_slice(
                        &points.vectors[internal * self.dimension..(internal + 1) * self.dimension],
                    );
                    added.push(ids.reserve(key, version));
                }
            }
        }
        graph.insert(&vectors, self.dimension, ids.len());
        for id in added {
            ids.publish(id);
        }
        let frozen = freeze_or_warn(&graph, ids.len(), &vectors, self.dimension, "compaction");
        let mut points = write(&self.points);
        let mut graph_slot = write(&self.graph);
        tracing::info!(
            live = ids.live(),
            dropped = points.ids.len() - points.ids.live(),
            "vector graph compacted"
        );
        *graph_slot = graph;
        *points = Points {
            ids,
            vectors,
            frozen,
        };
        self.compacted_unsaved.store(true, AtomicOrdering::SeqCst);
        true
    }
}
