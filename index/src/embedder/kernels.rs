//! The element-wise CPU kernels of the forward pass: bias + GELU, bias + residual + layer
//! norm, softmax, and the `erf` and `exp` they need.
//!
//! Each kernel is one pass over contiguous `f32` rows, written as straight loops without
//! calls into libm so that LLVM vectorises them; [`simd_dispatch!`] compiles them for the
//! CPU's widest vectors. `erf` and `exp` are polynomial approximations accurate to a few
//! units in the last place of an `f32`, far inside the golden test's tolerance.

use super::simd::simd_dispatch;

/// `erf(x)` as a rational approximation on [-4, 4] (outside, `erf` is ±1 in `f32`), the
/// one Eigen and XLA use: maximum error about 2 ulp.
#[inline(always)]
pub(crate) fn erf(x: f32) -> f32 {
    let x = x.clamp(-4.0, 4.0);
    let x2 = x * x;
    let mut p = x2 * -2.726_142_3e-10 + 2.770_681_4e-8;
    p = x2 * p + -2.101_024e-6;
    p = x2 * p + -5.692_506_4e-5;
    p = x2 * p + -7.349_906_3e-4;
    p = x2 * p + -2.954_600_1e-3;
    p = x2 * p + -1.609_603_3e-2;
    p *= x;
    let mut q = x2 * -1.456_607_2e-5 + -2.133_740_6e-4;
    q = x2 * q + -1.682_827e-3;
    q = x2 * q + -7.373_329_2e-3;
    q = x2 * q + -1.426_473_9e-2;
    p / q
}

/// Adding 1.5 * 2^23 to an `f32` of magnitude below 2^22 rounds it to the nearest integer
/// (ties to even) and leaves that integer in the low mantissa bits: rounding without a
/// libm call or a float-to-int cast, so that loops using it vectorise.
const ROUND: f32 = 12_582_912.0;

/// `value` (below 2^22 in magnitude) rounded to the nearest integer, ties to even, as an
/// integer's bits (two's complement). Bit operations only; see [`ROUND`].
#[inline(always)]
pub(crate) fn round_to_int_bits(value: f32) -> u32 {
    (value + ROUND).to_bits().wrapping_sub(ROUND.to_bits())
}

/// `e^x` by range reduction to `x = n ln 2 + r`, `|r| <= ln 2 / 2`, and a degree-6
/// polynomial for `e^r`: relative error about 2e-7. Inputs below -87 give (near) 0.
#[inline(always)]
pub(crate) fn exp(x: f32) -> f32 {
    const LOG2_E: f32 = std::f32::consts::LOG2_E;
    const LN2_HI: f32 = 0.693_145_75;
    const LN2_LO: f32 = 1.428_606_8e-6;
    let x = x.clamp(-87.0, 88.0);
    let n = (x * LOG2_E + ROUND) - ROUND;
    let r = (x - n * LN2_HI) - n * LN2_LO;
    let mut p = r * (1.0 / 720.0) + 1.0 / 120.0;
    p = r * p + 1.0 / 24.0;
    p = r * p + 1.0 / 6.0;
    p = r * p + 0.5;
    p = r * p + 1.0;
    p = r * p + 1.0;
    // 2^n from the exponent bits; n is in [-126, 127] after the clamp.
    let scale = f32::from_bits(round_to_int_bits(n).wrapping_add(127) << 23);
    p * scale
}

/// `GELU(x) = x/2 (1 + erf(x / sqrt 2))`, the exact (erf) form BERT uses.
#[inline(always)]
pub(crate) fn gelu(x: f32) -> f32 {
    0.5 * x * (1.0 + erf(x * std::f32::consts::FRAC_1_SQRT_2))
}

simd_dispatch! {
    /// `rows[i] = GELU(rows[i] + bias[i % bias.len()])` over rows of `bias.len()` values.
    pub(crate) fn bias_gelu(rows: &mut [f32], bias: &[f32]) {
        for row in rows.chunks_exact_mut(bias.len()) {
            for (value, b) in row.iter_mut().zip(bias) {
                *value = gelu(*value + b);
            }
        }
    }
}

/// The learned scale and shift of a layer norm, with its epsilon.
#[derive(Debug, Clone)]
pub(crate) struct LayerNormParams {
    /// Scale (`weight`), one per feature.
    pub(crate) gamma: Vec<f32>,
    /// Shift (`bias`), one per feature.
    pub(crate) beta: Vec<f32>,
    /// Added to the variance.
    pub(crate) eps: f32,
}

/// Values summed side by side, so that sums vectorise (a float sum in one accumulator
/// must keep its order, which forbids vectors).
const LANES: usize = 16;

/// The sum of `values`, accumulated in [`LANES`] partial sums.
#[inline(always)]
pub(crate) fn sum(values: &[f32]) -> f32 {
    let (chunks, rest) = values.as_chunks::<LANES>();
    let mut acc = [0f32; LANES];
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += v;
        }
    }
    acc.iter().sum::<f32>() + rest.iter().sum::<f32>()
}

/// The sum of `(v - mean)^2` over `values`, in [`LANES`] partial sums.
#[inline(always)]
fn sum_squared_deviations(values: &[f32], mean: f32) -> f32 {
    let (chunks, rest) = values.as_chunks::<LANES>();
    let mut acc = [0f32; LANES];
    for chunk in chunks {
        for (a, v) in acc.iter_mut().zip(chunk) {
            *a += (v - mean) * (v - mean);
        }
    }
    acc.iter().sum::<f32>() + rest.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>()
}

/// The largest of `values` (NaN-free inputs), in [`LANES`] partial maxima.
#[inline(always)]
fn max(values: &[f32]) -> f32 {
    let (chunks, rest) = values.as_chunks::<LANES>();
    let mut acc = [f32::NEG_INFINITY; LANES];
    for chunk in chunks {
        for (a, &v) in acc.iter_mut().zip(chunk) {
            *a = if v > *a { v } else { *a };
        }
    }
    acc.iter()
        .chain(rest)
        .fold(f32::NEG_INFINITY, |m, &v| if v > m { v } else { m })
}

#[inline(always)]
fn normalize_row(row: &mut [f32], norm: &LayerNormParams) {
    let n = row.len() as f32;
    let mean = sum(row) / n;
    let var = sum_squared_deviations(row, mean) / n;
    let inv_std = 1.0 / (var + norm.eps).sqrt();
    for ((value, g), b) in row.iter_mut().zip(&norm.gamma).zip(&norm.beta) {
        *value = (*value - mean) * inv_std * g + b;
    }
}

simd_dispatch! {
    /// Layer norm of each row of `norm.gamma.len()` values, in place.
    pub(crate) fn layer_norm(rows: &mut [f32], norm: &LayerNormParams) {
        for row in rows.chunks_exact_mut(norm.gamma.len()) {
            normalize_row(row, norm);
        }
    }
}

simd_dispatch! {
    /// `rows = LayerNorm(rows + bias + residual)`, row by row: the end of each BERT sub-layer.
    pub(crate) fn bias_residual_layer_norm(
        rows: &mut [f32],
        residual: &[f32],
        bias: &[f32],
        norm: &LayerNormParams,
    ) {
        let width = bias.len();
        for (row, res) in rows.chunks_exact_mut(width).zip(residual.chunks_exact(width)) {
            for ((value, r), b) in row.iter_mut().zip(res).zip(bias) {
                *value += r + b;
            }
            normalize_row(row, norm);
        }
    }
}

/// Softmax of one row in place.
#[inline(always)]
pub(crate) fn softmax(row: &mut [f32]) {
    let max = max(row);
    for value in row.iter_mut() {
        *value = exp(*value - max);
    }
    let inv = 1.0 / sum(row);
    for value in row.iter_mut() {
        *value *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// erf from its Taylor series (f64), accurate for |x| <= 3.
    fn erf_reference(x: f64) -> f64 {
        let mut term = x;
        let mut sum = x;
        for n in 1..200 {
            term *= -x * x / n as f64;
            sum += term / (2 * n + 1) as f64;
        }
        sum * 2.0 / std::f64::consts::PI.sqrt()
    }

    #[test]
    fn erf_is_accurate() {
        let mut worst = 0.0f64;
        for i in -3000..=3000 {
            let x = i as f64 / 1000.0;
            let err = (f64::from(erf(x as f32)) - erf_reference(x)).abs();
            worst = worst.max(err);
        }
        assert!(worst < 1e-6, "worst erf error {worst}");
        assert!((erf(10.0) - 1.0).abs() < 1e-6);
        assert!((erf(-10.0) + 1.0).abs() < 1e-6);
    }

    #[test]
    fn exp_is_accurate() {
        for i in -8000..=8000 {
            let x = i as f32 / 100.0;
            let want = f64::from(x).exp();
            let got = f64::from(exp(x));
            assert!(
                ((got - want) / want).abs() < 1e-6,
                "exp({x}) = {got}, want {want}"
            );
        }
        assert!(exp(-1000.0) < 1e-37);
    }

    #[test]
    fn lane_sums_and_maxima_cover_every_value() {
        let values: Vec<f32> = (0..37).map(|i| i as f32).collect();
        assert_eq!(sum(&values), 666.0);
        assert_eq!(max(&values), 36.0);
        assert_eq!(max(&values[..3]), 2.0);
    }

    #[test]
    fn softmax_sums_to_one() {
        let mut row = vec![1.0, 2.0, 3.0, -50.0];
        softmax(&mut row);
        assert!((row.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!((row[2] - 0.665_240_9).abs() < 1e-6);
    }

    #[test]
    fn layer_norm_centres_and_scales() {
        let norm = LayerNormParams {
            gamma: vec![1.0; 4],
            beta: vec![0.5; 4],
            eps: 1e-12,
        };
        let mut rows = vec![1.0, 2.0, 3.0, 4.0];
        bias_residual_layer_norm(&mut rows, &[0.0; 4], &[0.0; 4], &norm);
        let mean: f32 = rows.iter().sum::<f32>() / 4.0;
        assert!((mean - 0.5).abs() < 1e-6);
        assert!((rows[3] - rows[0] - 2.683_281_6).abs() < 1e-5);
    }
}
