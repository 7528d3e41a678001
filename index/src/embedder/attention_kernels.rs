//! The x86 kernel of attention ([`super::attention`]): one tile of `R` queries by
//! [`WIDTH`] keys of scores, or by [`WIDTH`] head dimensions of context (both weighted
//! sums of strided blocks, so one kernel computes either), the sums held in
//! registers (AVX-512: two per row, up to 6 rows; AVX2: four per row, up to 3 rows) and
//! every product a fused multiply-add.
//!
//! Written with `std::arch` intrinsics: from plain loops over tiles this size, LLVM spills
//! the sums to the stack, and it does not vectorise `f32::mul_add` there.
//! [`weighted_sums`] checks the dispatch level (which honours `DROPLY_SIMD`) and returns
//! `None` on a CPU without AVX2 and FMA, where the caller runs its portable loop, so it is
//! safe to call anywhere. The remaining unsafe operations are register loads and
//! stores of whole arrays, each sized by its type.
#![allow(unsafe_code)]

use std::arch::x86_64::{
    __m256, __m512, _mm256_fmadd_ps, _mm256_loadu_ps, _mm256_set1_ps, _mm256_setzero_ps,
    _mm256_storeu_ps, _mm512_fmadd_ps, _mm512_loadu_ps, _mm512_set1_ps, _mm512_setzero_ps,
    _mm512_storeu_ps,
};

use super::attention::{WIDTH, block};
use super::simd::{has_avx2_fma, has_avx512};

/// `R` rows of weighted sums over `WIDTH` columns: row `r` is `Σ_i weights[r][i] *
/// source[i * stride + at..][..WIDTH]` (see [`super::attention`]'s `weighted_sums`).
/// `None` without AVX2 + FMA.
pub(crate) fn weighted_sums<const R: usize>(
    weights: [&[f32]; R],
    source: &[f32],
    stride: usize,
    at: usize,
) -> Option<[[f32; WIDTH]; R]> {
    if has_avx512() {
        // SAFETY: the CPU runs AVX-512 (checked just above).
        Some(unsafe { sums_avx512::<R>(weights, source, stride, at) })
    } else if has_avx2_fma() {
        // SAFETY: the CPU runs AVX2 and FMA (checked just above).
        Some(unsafe { sums_avx2::<R>(weights, source, stride, at) })
    } else {
        None
    }
}

/// Defines the tile for one instruction set: `$regs` registers of `$zero`'s type hold a
/// row's `WIDTH` sums, `$load` and `$store` move `WIDTH` values in and out of them,
/// `$set1` broadcasts a weight, `$fma` multiply-adds.
macro_rules! tile {
    ($features:literal, $name:ident, $zero:ident, $regs:literal, $load:ident, $store:ident,
     $set1:ident, $fma:ident) => {
        #[target_feature(enable = $features)]
        fn $name<const R: usize>(
            weights: [&[f32]; R],
            source: &[f32],
            stride: usize,
            at: usize,
        ) -> [[f32; WIDTH]; R] {
            let mut acc = [[$zero(); $regs]; R];
            let terms = weights.iter().map(|w| w.len()).min().unwrap_or(0);
            for i in 0..terms {
                let v = $load(block(source, i * stride + at));
                for (acc, weights) in acc.iter_mut().zip(&weights) {
                    let w = $set1(weights[i]);
                    for (a, v) in acc.iter_mut().zip(&v) {
                        *a = $fma(w, *v, *a);
                    }
                }
            }
            $store(&acc)
        }
    };
}

tile!(
    "avx512f",
    sums_avx512,
    _mm512_setzero_ps,
    2,
    load512,
    store512,
    _mm512_set1_ps,
    _mm512_fmadd_ps
);
tile!(
    "avx2,fma",
    sums_avx2,
    _mm256_setzero_ps,
    4,
    load256,
    store256,
    _mm256_set1_ps,
    _mm256_fmadd_ps
);

/// `WIDTH` values as two 512-bit registers.
#[target_feature(enable = "avx512f")]
fn load512(values: &[f32; WIDTH]) -> [__m512; 2] {
    // SAFETY: `values` is 32 f32, two registers' worth; the loads are unaligned.
    unsafe {
        [
            _mm512_loadu_ps(values.as_ptr()),
            _mm512_loadu_ps(values[16..].as_ptr()),
        ]
    }
}

/// Each row's two 512-bit registers of sums as `WIDTH` values.
#[target_feature(enable = "avx512f")]
fn store512<const R: usize>(sums: &[[__m512; 2]; R]) -> [[f32; WIDTH]; R] {
    let mut out = [[0f32; WIDTH]; R];
    for (sums, out) in sums.iter().zip(&mut out) {
        // SAFETY: `out` is 32 f32, two registers' worth; the stores are unaligned.
        unsafe {
            _mm512_storeu_ps(out.as_mut_ptr(), sums[0]);
            _mm512_storeu_ps(out[16..].as_mut_ptr(), sums[1]);
        }
    }
    out
}

/// `WIDTH` values as four 256-bit registers.
#[target_feature(enable = "avx2")]
fn load256(values: &[f32; WIDTH]) -> [__m256; 4] {
    // SAFETY: `values` is 32 f32, four registers' worth; the loads are unaligned.
    unsafe {
        [
            _mm256_loadu_ps(values.as_ptr()),
            _mm256_loadu_ps(values[8..].as_ptr()),
            _mm256_loadu_ps(values[16..].as_ptr()),
            _mm256_loadu_ps(values[24..].as_ptr()),
        ]
    }
}

/// Each row's four 256-bit registers of sums as `WIDTH` values.
#[target_feature(enable = "avx2")]
fn store256<const R: usize>(sums: &[[__m256; 4]; R]) -> [[f32; WIDTH]; R] {
    let mut out = [[0f32; WIDTH]; R];
    for (sums, out) in sums.iter().zip(&mut out) {
        for (sum, out) in sums.iter().zip(out.as_chunks_mut::<8>().0) {
            // SAFETY: `out` is 8 f32, one register's worth; the store is unaligned.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), *sum) };
        }
    }
    out
}
