//! Searching a [`VectorIndex`]: exact scan for small or selectively filtered candidate
//! sets (ranked by the frozen points' int8 codes first, then re-scored), the HNSW graph
//! otherwise (its frozen links plus an exact scan of the slots written since the freeze,
//! or an exact scan of all before the first freeze), tombstoned ids always skipped.

use super::allowed_set::AllowedSet;
use super::{Points, VectorHit, VectorIndex, read};
use crate::vector::distance::unit_vector;
use crate::vector::exact_scan::{top_k, top_k_coded};
use crate::{Error, ExternalId, Result};

/// A filter allowing fewer than one id in this many is scanned exactly.
const SELECTIVE_SHARE: usize = 5;

impl<K: ExternalId> VectorIndex<K> {
    /// The `k` live vectors closest to `query`, best first. With `allowed`, only those
    /// ids are considered. Small candidate sets (fewer than `exact_scan_below`, or under
    /// a fifth of the collection) are scanned exactly; larger ones walk the graph with
    /// `ef_search` (at least `k`). A query that is not [`VectorIndex::dimension`] long,
    /// holds a NaN or infinite value or cannot be normalised (all zeros) is an
    /// [`Error::Invalid`].
    pub fn search(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&[K]>,
    ) -> Result<Vec<VectorHit<K>>> {
        self.search_with_ef(query, k, allowed, self.config.ef_search)
    }

    /// [`VectorIndex::search`] with an explicit `ef` for the graph walk.
    pub fn search_with_ef(
        &self,
        query: &[f32],
        k: usize,
        allowed: Option<&[K]>,
        ef: usize,
    ) -> Result<Vec<VectorHit<K>>> {
        if query.len() != self.dimension {
            return Err(Error::Invalid(format!(
                "query of {} values, expected {}",
                query.len(),
                self.dimension
            )));
        }
        let query = unit_vector(query)
            .map_err(|reason| Error::Invalid(format!("the query vector {reason}")))?;
        let points = read(&self.points);
        if k == 0 || points.ids.live() == 0 {
            return Ok(Vec::new());
        }
        let hits: Vec<(usize, f32)> = match allowed {
            Some(keys) => {
                let mut internals: Vec<usize> = keys
                    .iter()
                    .filter_map(|key| points.ids.internal(*key))
                    .collect();
                internals.sort_unstable();
                internals.dedup();
                // The graph walk slows with the share of ids filtered out (it must visit
                // about ef / share nodes); a scan costs one dot product per allowed id.
                // Below a fifth of the collection, scanning is the cheaper of the two.
                let selective = internals.len() * SELECTIVE_SHARE < points.ids.live();
                if internals.len() < self.config.exact_scan_below || selective {
                    match &points.frozen {
                        Some(frozen) => top_k_coded(
                            &query,
                            frozen.codes(),
                            &points.vectors,
                            self.dimension,
                            &internals,
                            k,
                        ),
                        None => top_k(
                            &query,
                            &points.vectors,
                            self.dimension,
                            internals.into_iter(),
                            k,
                        ),
                    }
                } else {
                    let mut set = AllowedSet::new(points.ids.len());
                    for internal in internals {
                        set.insert(internal);
                    }
                    self.graph_search(&points, &query, k, ef, Some(&set))
                }
            }
            None if points.ids.live() < self.config.exact_scan_below => {
                let live = points.ids.live_entries().map(|(internal, _, _)| internal);
                top_k(&query, &points.vectors, self.dimension, live, k)
            }
            None => self.graph_search(&points, &query, k, ef, None),
        };
        Ok(hits
            .into_iter()
            .filter_map(|(internal, score)| {
                points.ids.live_slot(internal).map(|slot| VectorHit {
                    key: slot.key,
                    score,
                })
            })
            .collect())
    }

    /// The graph walk over the live points (within `allowed`, when given): the frozen
    /// links and an exact scan of the slots written since, merged; an exact scan
    /// before the first freeze (which comes within [`super::refreeze_after`] slots).
    fn graph_search(
        &self,
        points: &Points<K>,
        query: &[f32],
        k: usize,
        ef: usize,
        allowed: Option<&AllowedSet>,
    ) -> Vec<(usize, f32)> {
        let ids = &points.ids;
        let accept = |id: usize| allowed.is_none_or(|set| set.contains(id)) && ids.is_live(id);
        let Some(frozen) = &points.frozen else {
            let accepted = (0..ids.len()).filter(|&id| accept(id));
            return top_k(query, &points.vectors, self.dimension, accepted, k);
        };
        let mut hits = frozen.search(&points.vectors, self.dimension, query, k, ef, &accept);
        let since = (frozen.len()..points.ids.len()).filter(|&id| accept(id));
        let fresh = top_k(query, &points.vectors, self.dimension, since, k);
        if !fresh.is_empty() {
            hits.extend(fresh);
            hits.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            hits.truncate(k);
        }
        hits
    }
}
