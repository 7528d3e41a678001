//! [`FrozenGraph`]: the search path of the vector index, over a copy of the
//! graph's links laid out for reading.
//!
//! The graph (`graph`) keeps each point's links behind a lock, for the
//! inserts that change them. Freezing copies the links of points `0..len`
//! into one flat array per layer (compressed rows: each point's neighbours
//! are a slice of one `Vec<u32>`), and searches them with int8 codes of the
//! vectors ([`Codes`], a quarter of the bytes to read), a visited set reused
//! from search to search ([`IDLE`]), and the dot products compiled for
//! AVX-512, AVX2 + FMA and the baseline, picked at run time; what the walk
//! keeps is re-scored exactly from the f32 vectors. Points written after a
//! freeze are not in it: the index scans those exactly and freezes again once
//! they are many (see `vector_index`).
//!
//! The walk keeps the `ef` best points by code and re-scores only the best
//! [`rescored_for`] of them in f32: the codes' error does not reach further.
//!
//! The walk is HNSW's: greedy descent through the upper layers from the entry
//! point, then a best-first search of layer 0 keeping the `ef` best accepted
//! points; points the filter refuses are walked through but not returned.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, PoisonError};

use super::codes::{Codes, Line};
use super::exact_scan::{rescored_for, top_k};
use super::graph::Graph;
use super::near::{Near, Seen};
use super::prefetch::prefetch;
use crate::embedder::simd::simd_dispatch;

/// One layer's links: point `i`'s neighbours are
/// `neighbours[offsets[i]..offsets[i + 1]]`.
#[derive(Debug)]
struct Layer {
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
}

impl Layer {
    fn with_capacity(points: usize) -> Layer {
        let mut offsets = Vec::with_capacity(points + 1);
        offsets.push(0);
        Layer {
            offsets,
            neighbours: Vec::new(),
        }
    }

    /// Appends the next point's links; `None` past `u32` offsets.
    fn push(&mut self, links: &[Near]) -> Option<()> {
        self.neighbours.extend(links.iter().map(|link| link.point));
        self.offsets
            .push(u32::try_from(self.neighbours.len()).ok()?);
        Some(())
    }

    #[inline]
    fn of(&self, point: u32) -> &[u32] {
        let point = point as usize;
        match (self.offsets.get(point), self.offsets.get(point + 1)) {
            (Some(&start), Some(&end)) => self
                .neighbours
                .get(start as usize..end as usize)
                .unwrap_or(&[]),
            _ => &[],
        }
    }
}

/// The links of an HNSW graph over internal ids `0..len`, for searching.
#[derive(Debug)]
pub(crate) struct FrozenGraph {
    len: usize,
    entry: u32,
    /// Layer 0 first.
    layers: Vec<Layer>,
    /// The points' vectors as int8 codes, which the walk scores.
    codes: Codes,
}

impl FrozenGraph {
    /// Freezes `graph`, which must hold exactly the points `0..len` (the
    /// index's published slots, whose vectors start `vectors`, point `i` at
    /// `i * dimension`); `None` when it does not (the caller scans exactly
    /// until it does) or when it is empty.
    pub fn freeze(
        graph: &Graph,
        len: usize,
        vectors: &[f32],
        dimension: usize,
    ) -> Option<FrozenGraph> {
        if len == 0 || len > u32::MAX as usize || graph.len() != len {
            return None;
        }
        if vectors.len() < len * dimension || graph.codes().len() != len {
            return None;
        }
        // The graph's own codes, copied: quantizing every vector again would
        // give the same bytes.
        let codes = graph.codes().clone();
        let entry = graph.entry()?;
        let mut layers: Vec<Layer> = (0..=entry.level)
            .map(|depth| Layer::with_capacity(if depth == 0 { len } else { len / 8 }))
            .collect();
        let complete = graph.for_each_point(|_, _, lists| {
            layers.iter_mut().enumerate().all(|(depth, layer)| {
                layer
                    .push(lists.layer(depth).map_or(&[], Vec::as_slice))
                    .is_some()
            })
        });
        if !complete {
            return None;
        }
        Some(FrozenGraph {
            len,
            entry: entry.point,
            layers,
            codes,
        })
    }

    /// The internal ids it covers: `0..len()`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// The int8 codes of the vectors it covers.
    pub fn codes(&self) -> &Codes {
        &self.codes
    }

    /// Up to `k` of the points `accept` takes, closest to the unit vector
    /// `query` by dot product among those the walk with `ef` finds, best
    /// first, as (internal id, exact dot product). `vectors` holds point `i`
    /// at `i * dimension`.
    pub fn search(
        &self,
        vectors: &[f32],
        dimension: usize,
        query: &[f32],
        k: usize,
        ef: usize,
        accept: &dyn Fn(usize) -> bool,
    ) -> Vec<(usize, f32)> {
        if k == 0 || query.len() != dimension || vectors.len() < self.len * dimension {
            return Vec::new();
        }
        let coded = self.codes.query(query);
        let mut visited = Visited::take();
        visited.seen.start(self.len);
        let walk = Walk {
            graph: self,
            query: &coded,
        };
        let mut found = walk_graph(&walk, ef.max(k), accept, &mut visited);
        visited.give_back();
        // Exact scores for the best by code, and the order they give.
        found.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        found.truncate(rescored_for(k));
        let kept = found.into_iter().map(|(point, _)| point);
        top_k(query, vectors, dimension, kept, k)
    }
}

/// What one search reads.
struct Walk<'a> {
    graph: &'a FrozenGraph,
    /// The query's int8 codes.
    query: &'a [Line],
}

impl Walk<'_> {
    #[inline(always)]
    fn score(&self, point: u32) -> f32 {
        self.graph.codes.score(self.query, point)
    }
}

simd_dispatch! {
    /// HNSW's walk over `walk`'s graph: the `ef` best accepted points by
    /// their coded scores, in no particular order.
    fn walk_graph(
        walk: &Walk<'_>,
        ef: usize,
        accept: &dyn Fn(usize) -> bool,
        visited: &mut Visited,
    ) -> Vec<(usize, f32)> {
        let graph = walk.graph;
        let mut current = Near { score: walk.score(graph.entry), point: graph.entry };
        for layer in graph.layers.iter().skip(1).rev() {
            loop {
                let mut moved = false;
                for &next in layer.of(current.point) {
                    let score = walk.score(next);
                    if score > current.score {
                        current = Near { score, point: next };
                        moved = true;
                    }
                }
                if !moved {
                    break;
                }
            }
        }
        let Some(bottom) = graph.layers.first() else {
            return Vec::new();
        };
        let mut candidates = std::mem::take(&mut visited.candidates);
        let mut best = std::mem::take(&mut visited.best);
        candidates.clear();
        best.clear();
        visited.seen.mark(current.point);
        candidates.push(current);
        if accept(current.point as usize) {
            best.push(Reverse(current));
        }
        while let Some(candidate) = candidates.pop() {
            let worst = best.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
            if best.len() >= ef && candidate.score < worst {
                break;
            }
            // The unseen neighbours are scored together, apart from the heaps:
            // their vectors' loads are independent, so the CPU overlaps them.
            let mut fresh = std::mem::take(&mut visited.batch);
            fresh.clear();
            for &next in bottom.of(candidate.point) {
                if visited.seen.mark(next) {
                    prefetch(graph.codes.lines(next));
                    fresh.push(Near { score: 0.0, point: next });
                }
            }
            for near in &mut fresh {
                near.score = walk.score(near.point);
            }
            for &near in &fresh {
                let worst = best.peek().map_or(f32::NEG_INFINITY, |w| w.0.score);
                if best.len() < ef || near.score > worst {
                    candidates.push(near);
                    if accept(near.point as usize) {
                        best.push(Reverse(near));
                        if best.len() > ef {
                            best.pop();
                        }
                    }
                }
            }
            visited.batch = fresh;
        }
        let found: Vec<(usize, f32)> = best
            .drain()
            .map(|Reverse(near)| (near.point as usize, near.score))
            .collect();
        visited.candidates = candidates;
        visited.best = best;
        found
    }
}

/// The points one search has seen, and the walk's scratch space, reused by
/// a later search (see [`IDLE`]).
#[derive(Debug, Default)]
struct Visited {
    seen: Seen,
    /// Scratch for one point's unseen neighbours.
    batch: Vec<Near>,
    /// The walk's heaps, kept between searches for their capacity.
    candidates: BinaryHeap<Near>,
    best: BinaryHeap<Reverse<Near>>,
}

/// The [`Visited`] sets no search holds now, each lent to one search at a
/// time. A pool rather than one set per thread: a request's vector pass may
/// run on a thread of its own that ends with the request (the engine's
/// `spare_cores`), and there a per-thread set, the size of the graph, would
/// be allocated and faulted in on every request.
static IDLE: Mutex<Vec<Visited>> = Mutex::new(Vec::new());

/// Sets kept idle at most: more only while more searches run at once.
const MAX_IDLE: usize = 16;

impl Visited {
    /// An idle set from [`IDLE`], or a new one when none is idle.
    fn take() -> Visited {
        let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
        idle.pop().unwrap_or_default()
    }

    /// Returns this set to [`IDLE`], for a later search.
    fn give_back(self) {
        let mut idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE {
            idle.push(self);
        }
    }
}

/// [`FrozenGraph::freeze`], with a warning when it fails over a non-empty index:
/// searches then scan exactly and every later write tries to freeze again, so a
/// failure must not go unnoticed. `when` says which step froze.
pub(crate) fn freeze_or_warn(
    graph: &Graph,
    len: usize,
    vectors: &[f32],
    dimension: usize,
    when: &'static str,
) -> Option<FrozenGraph> {
    let frozen = FrozenGraph::freeze(graph, len, vectors, dimension);
    if frozen.is_none() && len > 0 {
        tracing::warn!(
            when,
            slots = len,
            graph_points = graph.len(),
            vector_values = vectors.len(),
            dimension,
            "the vector graph could not be frozen; searches scan exactly until it is"
        );
    }
    frozen
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::{VectorConfig, test_vectors};

    const DIM: usize = 32;

    /// `n` pseudo-random unit vectors of [`DIM`] values.
    fn unit_vectors(n: usize, seed: u64) -> Vec<f32> {
        test_vectors::unit_vectors(n, DIM, seed)
    }

    fn graph_of(vectors: &[f32]) -> Graph {
        let mut graph = Graph::new(&VectorConfig::default());
        graph.insert(vectors, DIM, vectors.len() / DIM);
        graph
    }

    #[test]
    fn at_a_high_ef_the_frozen_walk_returns_the_exact_neighbours() {
        let vectors = unit_vectors(700, 1);
        let frozen = FrozenGraph::freeze(&graph_of(&vectors), 700, &vectors, DIM).expect("frozen");
        assert_eq!(frozen.len(), 700);
        assert!(frozen.layers.len() > 1, "an upper layer to descend through");
        let queries = unit_vectors(25, 2);
        for query in queries.chunks_exact(DIM) {
            let exact = top_k(query, &vectors, DIM, 0..700, 10);
            let walked = frozen.search(&vectors, DIM, query, 10, 700, &|_| true);
            let ids = |hits: &[(usize, f32)]| hits.iter().map(|h| h.0).collect::<Vec<_>>();
            assert_eq!(ids(&walked), ids(&exact));
            for (w, e) in walked.iter().zip(&exact) {
                assert!((w.1 - e.1).abs() < 1e-5, "{w:?} {e:?}");
            }
            // A filter: only even ids, still exactly the best of those.
            let exact_even = top_k(query, &vectors, DIM, (0..700).step_by(2), 10);
            let walked_even = frozen.search(&vectors, DIM, query, 10, 700, &|id| id % 2 == 0);
            assert_eq!(ids(&walked_even), ids(&exact_even));
        }
    }

    #[test]
    fn searches_on_many_threads_at_once_each_get_a_visited_set_of_their_own() {
        let vectors = unit_vectors(700, 4);
        let frozen = FrozenGraph::freeze(&graph_of(&vectors), 700, &vectors, DIM).expect("frozen");
        let queries = unit_vectors(40, 5);
        std::thread::scope(|scope| {
            for part in queries.chunks_exact(10 * DIM) {
                let (frozen, vectors) = (&frozen, &vectors);
                scope.spawn(move || {
                    for query in part.chunks_exact(DIM) {
                        let exact: Vec<usize> = top_k(query, vectors, DIM, 0..700, 10)
                            .into_iter()
                            .map(|hit| hit.0)
                            .collect();
                        let walked = frozen.search(vectors, DIM, query, 10, 700, &|_| true);
                        assert_eq!(walked.iter().map(|hit| hit.0).collect::<Vec<_>>(), exact);
                    }
                });
            }
        });
        let idle = IDLE.lock().unwrap_or_else(PoisonError::into_inner).len();
        assert!(
            (1..=MAX_IDLE).contains(&idle),
            "the threads' sets wait for later searches: {idle}"
        );
    }

    #[test]
    fn a_graph_that_does_not_hold_exactly_the_slots_is_not_frozen() {
        let vectors = unit_vectors(50, 3);
        let graph = graph_of(&vectors);
        assert!(FrozenGraph::freeze(&graph, 51, &vectors, DIM).is_none());
        assert!(FrozenGraph::freeze(&graph, 0, &vectors, DIM).is_none());
        assert!(FrozenGraph::freeze(&graph, 50, &vectors, DIM).is_some());
        assert!(
            FrozenGraph::freeze(&graph, 50, &vectors[..49 * DIM], DIM).is_none(),
            "a vector short"
        );
        let empty = Graph::new(&VectorConfig::default());
        assert!(FrozenGraph::freeze(&empty, 0, &[], DIM).is_none());
    }
}
