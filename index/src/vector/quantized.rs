//! Int8 copies of the vectors, for scanning many candidates (a filter that lets a
//! few thousand through): each vector is scaled so that its largest magnitude is 127
//! and rounded ([`Codes`]), a quarter of the f32 bytes to read. [`top_k_quantized`]
//! ranks every candidate by the int8 dot product (times the vector's scale), keeps
//! the best few times `k`, and re-scores those exactly in f32, so what it returns is
//! the exact scores of (almost always) the exact top `k`.

use super::distance::dot;
use super::exact_scan::top_k;
use crate::embedder::simd::simd_dispatch;

/// Candidates re-scored exactly: this many times `k`...
const RESCORE_FACTOR: usize = 4;
/// ...and at least this many more than `k`.
const RESCORE_EXTRA: usize = 32;

/// Every slot's vector as int8 values and a scale (`value ≈ code * scale`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Codes {
    dimension: usize,
    codes: Vec<i8>,
    scales: Vec<f32>,
}

impl Codes {
    /// The codes of `vectors` (slot `i` at `i * dimension`).
    pub fn of(vectors: &[f32], dimension: usize) -> Self {
        let mut codes = Codes {
            dimension,
            codes: Vec::with_capacity(vectors.len()),
            scales: Vec::with_capacity(vectors.len() / dimension.max(1)),
        };
        for vector in vectors.chunks_exact(dimension.max(1)) {
            codes.push(vector);
        }
        codes
    }

    /// Appends the codes of the next slot's vector.
    pub fn push(&mut self, vector: &[f32]) {
        let scale = quantize_into(vector, &mut self.codes);
        self.scales.push(scale);
    }

    /// The number of slots.
    pub fn len(&self) -> usize {
        self.scales.len()
    }
}

/// Appends `vector`'s int8 values to `out`; returns the scale.
fn quantize_into(vector: &[f32], out: &mut Vec<i8>) -> f32 {
    let largest = vector.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if largest == 0.0 || !largest.is_finite() {
        out.extend(std::iter::repeat_n(0, vector.len()));
        return 0.0;
    }
    let scale = largest / 127.0;
    out.extend(
        vector
            .iter()
            .map(|v| (v / scale).round().clamp(-127.0, 127.0) as i8),
    );
    scale
}

/// The `k` of `candidates` (internal ids, each once) closest to `query`, best first,
/// with exact scores: by the int8 codes and an exact re-score of the best few when
/// there are at least `quantized_from` candidates, by an exact scan otherwise.
pub(crate) fn top_k_quantized(
    query: &[f32],
    vectors: &[f32],
    codes: &Codes,
    dimension: usize,
    candidates: &[usize],
    k: usize,
    quantized_from: usize,
) -> Vec<(usize, f32)> {
    let coded = codes.dimension == dimension && codes.len() * dimension == vectors.len();
    if candidates.len() < quantized_from || !coded || k == 0 {
        return top_k(query, vectors, dimension, candidates.iter().copied(), k);
    }
    let mut query_codes = Vec::with_capacity(dimension);
    quantize_into(query, &mut query_codes);
    let mut scored = approximate(&query_codes, codes, candidates);
    let keep = (k * RESCORE_FACTOR).max(k + RESCORE_EXTRA);
    if scored.len() > keep {
        scored.select_nth_unstable_by(keep - 1, |a, b| b.1.total_cmp(&a.1));
        scored.truncate(keep);
    }
    let mut exact: Vec<(usize, f32)> = scored
        .into_iter()
        .filter_map(|(internal, _)| {
            let vector = vectors.get(internal * dimension..(internal + 1) * dimension)?;
            Some((internal, dot(query, vector)))
        })
        .collect();
    exact.sort_unstable_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    exact.truncate(k);
    exact
}

simd_dispatch! {
    /// Every candidate's int8 dot product with `query`, times its scale (the query's
    /// own scale is the same for all, so it is left out), compiled for the CPU's
    /// vector width.
    fn approximate(query: &[i8], codes: &Codes, candidates: &[usize]) -> Vec<(usize, f32)> {
        let dimension = codes.dimension;
        candidates
            .iter()
            .filter_map(|&internal| {
                let code = codes.codes.get(internal * dimension..(internal + 1) * dimension)?;
                let scale = *codes.scales.get(internal)?;
                Some((internal, int8_dot(query, code) as f32 * scale))
            })
            .collect()
    }
}

/// The int8 dot product, summed in 32 independent i32 lanes (widened pairs that LLVM
/// turns into multiply-adds).
#[inline(always)]
fn int8_dot(a: &[i8], b: &[i8]) -> i32 {
    const LANES: usize = 32;
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0i32; LANES];
    let mut chunks_a = a.chunks_exact(LANES);
    let mut chunks_b = b.chunks_exact(LANES);
    for (x, y) in (&mut chunks_a).zip(&mut chunks_b) {
        for lane in 0..LANES {
            acc[lane] += i32::from(x[lane]) * i32::from(y[lane]);
        }
    }
    let tail: i32 = chunks_a
        .remainder()
        .iter()
        .zip(chunks_b.remainder())
        .map(|(x, y)| i32::from(*x) * i32::from(*y))
        .sum();
    tail + acc.iter().sum::<i32>()
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;
    use crate::vector::distance::normalize;

    fn unit(rng: &mut StdRng, dimension: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dimension)
            .map(|_| rng.random_range(-1.0..1.0))
            .collect();
        normalize(&mut v);
        v
    }

    #[test]
    fn the_quantized_scan_returns_the_exact_top_k_with_exact_scores() {
        let dimension = 384;
        let mut rng = StdRng::seed_from_u64(11);
        let vectors: Vec<f32> = (0..5_000).flat_map(|_| unit(&mut rng, dimension)).collect();
        let codes = Codes::of(&vectors, dimension);
        assert_eq!(codes.len(), 5_000);
        // Every third vector is allowed (as a filter would let through).
        let candidates: Vec<usize> = (0..5_000).step_by(3).collect();
        let mut same = 0;
        for _ in 0..50 {
            let query = unit(&mut rng, dimension);
            let exact = top_k(&query, &vectors, dimension, candidates.iter().copied(), 10);
            let fast = top_k_quantized(&query, &vectors, &codes, dimension, &candidates, 10, 1_024);
            assert_eq!(fast.len(), 10);
            for (internal, score) in &fast {
                let vector = &vectors[internal * dimension..(internal + 1) * dimension];
                assert!(
                    (score - dot(&query, vector)).abs() < 1e-6,
                    "scores are exact"
                );
                assert_eq!(internal % 3, 0, "only candidates come back");
            }
            same += usize::from(fast == exact);
        }
        assert!(same >= 49, "the exact top 10 in {same} of 50 queries");
    }

    #[test]
    fn few_candidates_and_zero_vectors_are_scanned_exactly() {
        let vectors = [1.0, 0.0, 0.0, 0.0, 0.6, 0.8];
        let codes = Codes::of(&vectors, 2);
        let hits = top_k_quantized(&[1.0, 0.0], &vectors, &codes, 2, &[0, 1, 2], 2, 1_024);
        assert_eq!(hits.iter().map(|h| h.0).collect::<Vec<_>>(), vec![0, 2]);
        let mut out = Vec::new();
        assert_eq!(quantize_into(&[0.0, 0.0], &mut out), 0.0);
        assert_eq!(out, vec![0, 0]);
    }
}
