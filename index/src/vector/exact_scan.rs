//! Exact nearest neighbours by scanning candidates: faster than the graph for small
//! collections and for filters that let few points through.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::distance::dot_in_lanes;
use crate::embedder::simd::simd_dispatch;

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
    mut candidates: impl Iterator<Item = usize>,
    k: usize,
) -> Vec<(usize, f32)> {
    if k == 0 {
        return Vec::new();
    }
    scan(query, vectors, dimension, &mut candidates, k)
}

simd_dispatch! {
    /// [`top_k`]'s loop, compiled for the CPU's vector width with the dot product
    /// inlined.
    fn scan(
        query: &[f32],
        vectors: &[f32],
        dimension: usize,
        candidates: &mut dyn Iterator<Item = usize>,
        k: usize,
    ) -> Vec<(usize, f32)> {
        let mut heap: BinaryHeap<Scored> = BinaryHeap::with_capacity(k + 1);
        for internal in candidates {
            let Some(vector) = vectors.get(internal * dimension..(internal + 1) * dimension) else {
                continue;
            };
            let candidate = Scored {
                score: dot_in_lanes(query, vector),
                internal,
            };
            if heap.len() < k {
                heap.push(candidate);
            } else if let Some(worst) = heap.peek()
                && candidate < *worst
            {
                heap.pop();
                heap.push(candidate);
            }
        }
        heap.into_sorted_vec()
            .into_iter()
            .map(|s| (s.internal, s.score))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_best_k_in_order() {
        let vectors = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8, -1.0, 0.0];
        let hits = top_k(&[1.0, 0.0], &vectors, 2, 0..4, 2);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![0, 2]);
        let filtered = top_k(&[1.0, 0.0], &vectors, 2, [1, 3].into_iter(), 5);
        assert_eq!(filtered.iter().map(|h| h.0).collect::<Vec<_>>(), vec![1, 3]);
    }
}
