//! The dot product of vectors (for unit vectors, their cosine: higher is nearer),
//! written so that LLVM vectorises it (64 lanes summed apart: four independent AVX-512
//! accumulators, eight AVX2 or sixteen SSE ones, so the adds do not wait on each
//! other), compiled for AVX-512, AVX2 + FMA and the baseline and
//! picked at run time ([`dot`]; [`dot_in_lanes`] is the body, for loops that are
//! dispatched whole, such as the exact scan), and [`normalize`] with its checked
//! form `unit_vector` (what the index stores and searches with).

use crate::embedder::simd::simd_dispatch;

/// Lanes summed independently: a multiple of every SIMD width we may run on, and four
/// registers' worth at the widest (one wide accumulator alone is a dependency chain).
const LANES: usize = 64;

simd_dispatch! {
    /// The dot product of two equally long slices, for the CPU's vector width.
    pub fn dot(a: &[f32], b: &[f32]) -> f32 {
        dot_in_lanes(a, b)
    }
}

/// [`dot`]'s body, inlined into whatever calls it (and compiled for that
/// function's target features).
#[inline(always)]
pub(crate) fn dot_in_lanes(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let mut acc = [0.0f32; LANES];
    let mut chunks_a = a.chunks_exact(LANES);
    let mut chunks_b = b.chunks_exact(LANES);
    for (x, y) in (&mut chunks_a).zip(&mut chunks_b) {
        for lane in 0..LANES {
            acc[lane] += x[lane] * y[lane];
        }
    }
    let mut sum = 0.0;
    for (x, y) in chunks_a.remainder().iter().zip(chunks_b.remainder()) {
        sum += x * y;
    }
    // Pairwise reduction, in loops of fixed length so that the accumulators
    // stay in registers wherever this is inlined.
    let mut half = [0.0f32; LANES / 2];
    for (lane, sum) in half.iter_mut().enumerate() {
        *sum = acc[lane] + acc[lane + LANES / 2];
    }
    let mut quarter = [0.0f32; LANES / 4];
    for (lane, sum) in quarter.iter_mut().enumerate() {
        *sum = half[lane] + half[lane + LANES / 4];
    }
    let mut eighth = [0.0f32; LANES / 8];
    for (lane, sum) in eighth.iter_mut().enumerate() {
        *sum = quarter[lane] + quarter[lane + LANES / 8];
    }
    sum + eighth.iter().sum::<f32>()
}

/// Scales `vector` to unit length in place; returns false (and leaves it alone) when it
/// cannot be: all zeros (or so small that its squared length rounds to zero), a NaN or
/// infinite value, or a squared length too large for an `f32` (values around 1e19 and
/// more: the sum of squares overflows to infinity).
pub fn normalize(vector: &mut [f32]) -> bool {
    // A NaN or an infinity anywhere makes the sum of squares NaN or infinite; checked
    // apart anyway, so that this never rests on how the sum is computed.
    if vector.iter().any(|value| !value.is_finite()) {
        return false;
    }
    let norm = dot(vector, vector).sqrt();
    if !norm.is_finite() || norm == 0.0 {
        return false;
    }
    for value in vector.iter_mut() {
        *value /= norm;
    }
    true
}

/// A unit-length copy of `vector`, or why it cannot be stored or searched with: a value
/// that is not finite, or no direction [`normalize`] can scale to unit length.
pub(crate) fn unit_vector(vector: &[f32]) -> Result<Vec<f32>, &'static str> {
    if vector.iter().any(|value| !value.is_finite()) {
        return Err("has a value that is not finite (NaN or infinite)");
    }
    let mut unit = vector.to_vec();
    if !normalize(&mut unit) {
        return Err("cannot be normalised (all zeros, or its length is out of range)");
    }
    Ok(unit)
}

/// Whether `vector` can be stored or searched with ([`unit_vector`] accepts it): an
/// embedding of a text without meaning may be all zeros, and has no place in the index.
pub fn has_direction(vector: &[f32]) -> bool {
    unit_vector(vector).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_the_plain_sum() {
        for len in [0, 1, 15, 16, 17, 384, 385] {
            let a: Vec<f32> = (0..len).map(|i| (i as f32 * 0.37).sin()).collect();
            let b: Vec<f32> = (0..len).map(|i| (i as f32 * 0.11).cos()).collect();
            let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
            assert!((dot(&a, &b) - plain).abs() < 1e-4, "len {len}");
        }
    }

    #[test]
    fn a_normalized_vector_has_a_dot_product_of_one_with_itself() {
        let mut v: Vec<f32> = (0..384).map(|i| (i as f32 * 0.7).sin() + 0.3).collect();
        assert!(normalize(&mut v));
        assert!((dot(&v, &v) - 1.0).abs() < 1e-5);
        let mut zero = vec![0.0f32; 8];
        assert!(!normalize(&mut zero), "all zeros cannot be normalised");
    }

    #[test]
    fn vectors_that_cannot_be_unit_length_are_refused_and_left_alone() {
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY, 1e20, 0.0] {
            let mut v = vec![bad; 384];
            assert!(!normalize(&mut v), "{bad}");
            assert!(
                v.iter().all(|x| x.to_bits() == bad.to_bits()),
                "{bad}: left alone"
            );
            assert!(unit_vector(&[bad; 384]).is_err(), "{bad}");
        }
        // One bad value among good ones is enough.
        let mut mixed: Vec<f32> = (0..384).map(|i| (i as f32 * 0.3).cos()).collect();
        mixed[200] = f32::NAN;
        assert!(!normalize(&mut mixed.clone()));
        assert!(unit_vector(&mixed).is_err());
        mixed[200] = 1e20;
        assert!(unit_vector(&mixed).is_err(), "the squared length overflows");
        let unit = unit_vector(&[3.0, 4.0]).expect("finite, non-zero");
        assert_eq!(unit, vec![0.6, 0.8]);
    }
}
