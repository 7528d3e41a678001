//! [`FrozenGraph`]: the search path of the vector index, over a copy of the
//! hnsw_rs graph's links laid out for reading.
//!
//! hnsw_rs builds the graph (and dumps and reloads it), but its search walks
//! `Arc`-linked points behind a lock each, and allocates as it goes. Freezing
//! copies the links of points `0..len` into one flat array per layer
//! (compressed rows: each point's neighbours are a slice of one `Vec<u32>`),
//! and searches them with int8 codes of the vectors ([`Codes`], a quarter of
//! the bytes to read), a visited set reused per thread, and the dot products
//! compiled for AVX-512, AVX2 + FMA and the baseline, picked at run time; what
//! the walk keeps is re-scored exactly from the f32 vectors. Points
//! written after a freeze are not in it: the index scans those exactly and
//! freezes again once they are many (see `vector_index`).
//!
//! Each point's links are hnsw_rs's (the closest found when it was inserted,
//! pruned as later points came) plus up to [`EXTRA_LINKS`] of the links that
//! point *to* it: hnsw_rs prunes by distance only, so a point whose
//! neighbours all filled up with closer points (near-duplicates, above all)
//! can end with no way in. The reverse links go first to the points with the
//! fewest ways in, then the closest, so such a point gets one.
//!
//! The walk is HNSW's: greedy descent through the upper layers from the entry
//! point, then a best-first search of layer 0 keeping the `ef` best accepted
//! points; points the filter refuses are walked through but not returned.

use std::cell::RefCell;
use std::cmp::{Ordering, Reverse};
use std::collections::BinaryHeap;

use super::codes::{Codes, Line};
use super::exact_scan::top_k;
use super::graph::Graph;
use crate::embedder::simd::simd_dispatch;

/// A point's neighbours (id, distance) on each layer from 0 up to its own.
type PointLinks = Vec<Vec<(u32, f32)>>;

/// How many reverse links (from points that list it) each point gets on
/// each layer beside its own.
const EXTRA_LINKS: usize = 16;

/// One layer's links: point `i`'s neighbours are
/// `neighbours[offsets[i]..offsets[i + 1]]`.
#[derive(Debug, Default)]
struct Layer {
    offsets: Vec<u32>,
    neighbours: Vec<u32>,
}

impl Layer {
    /// Layer `depth` of `links` (point `i`'s lists at `links[i]`): each
    /// point's own neighbours, then some of those that list it, the ones
    /// with the fewest ways in so far first (counting the reverse links
    /// already given), then the closest.
    fn with_reverse_links(links: &[PointLinks], depth: usize) -> Option<Layer> {
        let mut incoming: Vec<Vec<(u32, f32)>> = vec![Vec::new(); links.len()];
        let mut ways_in: Vec<u32> = vec![0; links.len()];
        for (point, lists) in links.iter().enumerate() {
            for &(next, distance) in lists.get(depth).into_iter().flatten() {
                if let Some(into) = incoming.get_mut(next as usize) {
                    into.push((point as u32, distance));
                }
                if let Some(count) = ways_in.get_mut(next as usize) {
                    *count += 1;
                }
            }
        }
        let mut layer = Layer {
            offsets: Vec::with_capacity(links.len() + 1),
            neighbours: Vec::new(),
        };
        layer.offsets.push(0);
        for (lists, mut back) in links.iter().zip(incoming) {
            let own = lists.get(depth).map_or(&[][..], Vec::as_slice);
            let start = layer.neighbours.len();
            layer.neighbours.extend(own.iter().map(|&(next, _)| next));
            let fewest = |from: u32| ways_in.get(from as usize).copied().unwrap_or(0);
            back.sort_unstable_by(|a, b| {
                fewest(a.0)
                    .cmp(&fewest(b.0))
                    .then(a.1.total_cmp(&b.1))
                    .then(a.0.cmp(&b.0))
            });
            let mut added = 0;
            for (from, _) in back {
                if added == EXTRA_LINKS {
                    break;
                }
                if !layer.neighbours[start..].contains(&from) {
                    layer.neighbours.push(from);
                    added += 1;
                    // Later points prefer the ones still with few ways in.
                    if let Some(count) = ways_in.get_mut(from as usize) {
                        *count += 1;
                    }
                }
            }
            layer
                .offsets
                .push(u32::try_from(layer.neighbours.len()).ok()?);
        }
        Some(layer)
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
    /// `i * dimension`); `None` when it does not (the caller keeps searching
    /// through hnsw_rs) or when it is empty.
    pub fn freeze(
        graph: &Graph,
        len: usize,
        vectors: &[f32],
        dimension: usize,
    ) -> Option<FrozenGraph> {
        if len == 0 || len > u32::MAX as usize || graph.len() != len {
            return None;
        }
        let codes = Codes::of(vectors, dimension, len)?;
        // Per point: its neighbours (and their distances) on each level up to its own.
        let mut links: Vec<Option<PointLinks>> = vec![None; len];
        let mut entry: Option<(u8, u32)> = None;
        let complete = graph.for_each_point(|origin, level, neighbourhood| {
            let Some(slot) = links.get_mut(origin) else {
                return false;
            };
            let point = origin as u32;
            let lists: PointLinks = neighbourhood
                .iter()
                .take(usize::from(level) + 1)
                .map(|layer| {
                    layer
                        .iter()
                        .filter(|&&(n, _)| n < len)
                        .map(|&(n, d)| (n as u32, d))
                        .collect()
                })
                .collect();
            *slot = Some(lists);
            if entry.is_none_or(|(top, _)| level > top) {
                entry = Some((level, point));
            }
            true
        });
        if !complete || links.iter().any(Option::is_none) {
            return None;
        }
        let links: Vec<PointLinks> = links.into_iter().flatten().collect();
        let (top, entry) = entry?;
        let mut layers = Vec::with_capacity(usize::from(top) + 1);
        for depth in 0..=usize::from(top) {
            layers.push(Layer::with_reverse_links(&links, depth)?);
        }
        Some(FrozenGraph {
            len,
            entry,
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
        let found = VISITED.with(|visited| {
            let mut visited = visited.borrow_mut();
            visited.start(self.len);
            let walk = Walk {
                graph: self,
                query: &coded,
            };
            walk_graph(&walk, ef.max(k), accept, &mut visited)
        });
        // Exact scores, and the order they give.
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
        visited.mark(current.point);
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
                if visited.mark(next) {
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

/// A point and its dot product with the query; ordered by score.
#[derive(Debug, Clone, Copy)]
struct Near {
    score: f32,
    point: u32,
}

impl PartialEq for Near {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Near {}
impl PartialOrd for Near {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Near {
    fn cmp(&self, other: &Self) -> Ordering {
        self.score
            .total_cmp(&other.score)
            .then(other.point.cmp(&self.point))
    }
}

/// The points one search has seen (a stamp per point, so that starting the
/// next search is one increment, not a clear), and the walk's scratch space,
/// reused by the thread's next search.
#[derive(Debug, Default)]
struct Visited {
    stamps: Vec<u32>,
    stamp: u32,
    /// Scratch for one point's unseen neighbours.
    batch: Vec<Near>,
    /// The walk's heaps, kept between searches for their capacity.
    candidates: BinaryHeap<Near>,
    best: BinaryHeap<Reverse<Near>>,
}

impl Visited {
    fn start(&mut self, len: usize) {
        if self.stamps.len() < len {
            self.stamps.resize(len, 0);
        }
        self.stamp = self.stamp.wrapping_add(1);
        if self.stamp == 0 {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.stamp = 1;
        }
    }

    /// Marks `point`; false when it was marked already.
    #[inline(always)]
    fn mark(&mut self, point: u32) -> bool {
        match self.stamps.get_mut(point as usize) {
            Some(stamp) if *stamp != self.stamp => {
                *stamp = self.stamp;
                true
            }
            _ => false,
        }
    }
}

thread_local! {
    static VISITED: RefCell<Visited> = RefCell::new(Visited::default());
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
        let mut graph = Graph::new(&VectorConfig::default(), vectors.len() / DIM);
        let batch: Vec<(&[f32], usize)> = vectors.chunks_exact(DIM).zip(0..).collect();
        graph.insert(&batch);
        graph.finish_bulk_insert();
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
        let empty = Graph::new(&VectorConfig::default(), 10);
        assert!(FrozenGraph::freeze(&empty, 0, &[], DIM).is_none());
    }

    #[test]
    fn the_visited_set_starts_empty_for_every_search() {
        let mut visited = Visited::default();
        visited.start(4);
        assert!(visited.mark(2) && !visited.mark(2));
        visited.start(4);
        assert!(visited.mark(2), "a new search has seen nothing");
        visited.stamp = u32::MAX;
        visited.start(4);
        assert!(visited.mark(2) && visited.mark(3) && !visited.mark(3));
        assert!(!visited.mark(9), "outside the set");
    }
}
