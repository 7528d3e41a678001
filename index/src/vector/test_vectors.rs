//! Pseudo-random unit vectors for the vector index's unit tests: a fixed linear
//! congruential sequence, so every run sees the same points.

/// `n` unit vectors of `dimension` values, one after another, from `seed`.
pub(crate) fn unit_vectors(n: usize, dimension: usize, seed: u64) -> Vec<f32> {
    let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
    let mut out = Vec::with_capacity(n * dimension);
    for _ in 0..n {
        let v: Vec<f32> = (0..dimension)
            .map(|_| {
                state = state
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                ((state >> 33) as f32 / (1u64 << 31) as f32) - 0.5
            })
            .collect();
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        out.extend(v.iter().map(|x| x / norm));
    }
    out
}
