//! Exact nearest neighbours by scanning candidates: faster than the graph for small
//! collections and for filters that let few points through. [`top_k_coded`] scans
//! many candidates by their int8 [`Codes`] first (a quarter of the bytes), then
//! re-scores the best few exactly.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::codes::{Codes, Line};
use super::distance::dot_in_lanes;
use super::prefetch::prefetch;
use crate::embedder::simd::simd_dispatch;

/// Candidates a coded scan hands to the exact re-score: twice `k`, plus this many.
const RESCORE_EXTRA: usize = 32;

/// How far ahead of its place a scan of int8 codes asks for a candidate's lines (6
/// for 384 values), and a scan of f32 vectors (24 lines) for a vector's. Candidates
/// scattered through a large index are read from memory, not cache; asked for this
/// early, several arrive at once instead of each waiting its turn.
const CODES_AHEAD: usize = 8;
const VECTORS_AHEAD: usize = 2;

/// How many of the best candidates by coded score are re-scored exactly to
/// find the best `k`: the codes' error (a few thousandths) cannot carry a
/// point from outside these into the top `k`, in practice.
pub(crate) fn rescored_for(k: usize) -> usize {
    2 * k + RESCORE_EXTRA
}

/// A candidate ordered by score, lowest first in a max-heap (so the heap's top is the
/// worst of the best `k`).
#[derive(Debug, Clone, Copy)]
struct Scored {
    score: f32,
    internal: usize,
}

impl PartialEq for Scored {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Scored {}
impl PartialOrd for Scored {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Scored {
    fn cmp(&self, other: &Self) -> Ordering {
        // Reversed: higher score is "smaller", so the heap's top is the lowest score;
        // ties go to the lower internal id.
        other
            .score
            .total_cmp(&self.score)
            .then(self.internal.cmp(&other.internal))
    }
}

/// The `k` candidates with the highest dot product with `query`, best first, as
/// `(internal id, score)`. `vectors` holds internal id `i` at `i * dimension`.
pub(crate) fn top_k(
    query: &[f32],
    vectors: &[f32],
    dimension: usize,
    candidates: impl Iterator<Item = usize>,
    k: usize,
) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    let candidates: Vec<usize> = candidates.collect();
    scan(query, vectors, dimension, &candidates, k)
}

simd_dispatch! {
    /// [`top_k`]'s loop, compiled for the CPU's vector width with the dot product
    /// inlined.
    fn scan(
        query: &[f32],
        vectors: &[f32],
        dimension: usize,
        candidates: &[usize],
        k: usize,
    ) -> Vec<(usize, f32)> {
        let vector =
            |internal: usize| vectors.get(internal * dimension..(internal + 1) * dimension);
        let mut best = Best::new(k);
        for (at, &internal) in candidates.iter().enumerate() {
            if let Some(ahead) = candidates.get(at + VECTORS_AHEAD).and_then(|&c| vector(c)) {
                prefetch(ahead);
            }
            if let Some(vector) = vector(internal) {
                best.offer(internal, dot_in_lanes(query, vector));
            }
        }
        best.into_sorted()
    }
}

/// [`top_k`] of `candidates` (each once), with exact scores, reading most of them
/// as int8 codes: those `codes` covers are ranked by their coded scores, and the best
/// `2k + 32` of them are re-scored exactly together with the candidates it does not
/// cover. Few candidates are scanned exactly at once.
pub(crate) fn top_k_coded(
    query: &[f32],
    codes: &Codes,
    vectors: &[f32],
    dimension: usize,
    candidates: &[usize],
    k: usize,
) -> Vec<(usize, f32)> {
    let keep = rescored_for(k);
    if candidates.len() <= keep {
        return top_k(query, vectors, dimension, candidates.iter().copied(), k);
    }
    let coded = codes.query(query);
    let approximate = scan_codes(&coded, codes, candidates, keep);
    let covered = codes.len();
    let beyond = candidates.iter().copied().filter(|&c| c >= covered);
    let rescored = approximate.into_iter().map(|(internal, _)| internal);
    top_k(query, vectors, dimension, rescored.chain(beyond), k)
}

simd_dispatch! {
    /// [`top_k_coded`]'s first pass: the `keep` best of the candidates `codes`
    /// covers, by coded score, compiled for the CPU's vector width.
    fn scan_codes(
        query: &[Line],
        codes: &Codes,
        candidates: &[usize],
        keep: usize,
    ) -> Vec<(usize, f32)> {
        let covered = |internal: usize| {
            u32::try_from(internal)
                .ok()
                .filter(|&point| (point as usize) < codes.len())
        };
        let mut best = Best::new(keep);
        for (at, &internal) in candidates.iter().enumerate() {
            if let Some(ahead) = candidates.get(at + CODES_AHEAD).and_then(|&c| covered(c)) {
                prefetch(codes.lines(ahead));
            }
            if let Some(point) = covered(internal) {
                best.offer(internal, codes.score(query, point));
            }
        }
        best.into_sorted()
    }
}

/// The `k` best offers so far, in a heap whose top is the worst of them.
struct Best {
    heap: BinaryHeap<Scored>,
    k: usize,
}

impl Best {
    fn new(k: usize) -> Self {
        Best {
            heap: BinaryHeap::with_capacity(k + 1),
            k,
        }
    }

    #[inline(always)]
    fn offer(&mut self, internal: usize, score: f32) {
        let candidate = Scored { score, internal };
        if self.heap.len() < self.k {
            self.heap.push(candidate);
        } else if let Some(worst) = self.heap.peek()
            && candidate < *worst
        {
            self.heap.pop();
            self.heap.push(candidate);
        }
    }

    /// Best first.
    fn into_sorted(self) -> Vec<(usize, f32)> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|s| (s.internal, s.score))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vector::test_vectors::unit_vectors;

    #[test]
    fn keeps_the_best_k_in_order() {
        let vectors = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8, -1.0, 0.0];
        let hits = top_k(&[1.0, 0.0], &vectors, 2, 0..4, 2);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![0, 2]);
        let filtered = top_k(&[1.0, 0.0], &vectors, 2, [1, 3].into_iter(), 5);
        assert_eq!(filtered.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1, 3]);
    }

    #[test]
    fn a_coded_scan_finds_the_exact_best_with_exact_scores() {
        let dimension = 64;
        let len = 3_000;
        let mut vectors = unit_vectors(len + 1, dimension, 7);
        let query = vectors.split_off(len * dimension);
        // The codes cover the first 2,500 points; the rest came later.
        let codes = Codes::of(&vectors, dimension, 2_500).expect("coded");
        let candidates: Vec<usize> = (0..len).filter(|i| i % 3 != 0).collect();
        for k in [1, 10, 50] {
            let exact = top_k(&query, &vectors, dimension, candidates.iter().copied(), k);
            let coded = top_k_coded(&query, &codes, &vectors, dimension, &candidates, k);
            assert_eq!(coded, exact, "k {k}");
        }
        let few = &candidates[..20];
        let exact = top_k(&query, &vectors, dimension, few.iter().copied(), 5);
        assert_eq!(
            top_k_coded(&query, &codes, &vectors, dimension, few, 5),
            exact
        );
    }
}
