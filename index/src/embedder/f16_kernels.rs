//! The x86 kernels of the few-row matmul ([`super::small_matmul`]): tiles of up to
//! [`MAX_TILE_ROWS`] input rows by a panel's columns, each f16 weight widened in a
//! register (`vcvtph2ps`: AVX-512F on 16 lanes, F16C on 8) right before its
//! multiply-adds. The portable loop widens a strip of the panel with integer bit
//! operations and stores it first; here the weights go from memory to the multiply-adds
//! and only the sums are ever written.
//!
//! Written with `std::arch` intrinsics: LLVM does not form `vcvtph2ps` from plain loops.
//! [`panel_product`] checks that the CPU has the features before it calls a
//! `#[target_feature]` body, and says so when it has not (the caller then runs the
//! portable loop), so it is safe to call anywhere. The remaining unsafe operations are
//! register loads and stores of whole arrays, each sized by its type.
#![allow(unsafe_code)]

use std::arch::is_x86_feature_detected as has;
use std::arch::x86_64::{
    __m256, __m512, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_fmadd_ps, _mm256_loadu_ps,
    _mm256_loadu_si256, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm512_cvtph_ps,
    _mm512_fmadd_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};

use super::small_matmul::PANEL;

/// Most input rows per tile: with AVX-512, 6 rows by 64 columns of sums take 24 of the
/// 32 registers; with AVX2, 6 rows by 16 columns take 12 of the 16.
const MAX_TILE_ROWS: usize = 6;

/// `x W` for consecutive panels `w` (each `[in, PANEL]`, f16 bits) and `x` (`[rows,
/// in]`), into `y` (`[panel][row][PANEL]`), with the widest kernel this CPU has.
/// Returns `false`, having written nothing, when it has none (no AVX-512 and no F16C
/// with AVX2, or the dispatch is capped below them).
pub(crate) fn panel_product(x: &[f32], w: &[u16], inner: usize, y: &mut [f32]) -> bool {
    if inner == 0 {
        return false;
    }
    if super::simd::has_avx512() {
        // SAFETY: the CPU has AVX-512F (`has_avx512` checks it, with BW, DQ and VL).
        unsafe { product_avx512(x, w, inner, y) };
        return true;
    }
    if super::simd::has_avx2_fma() && has!("f16c") {
        // SAFETY: the CPU has AVX2, FMA (just checked through the dispatch level) and F16C.
        unsafe { product_avx2(x, w, inner, y) };
        return true;
    }
    false
}

#[target_feature(enable = "avx512f")]
fn product_avx512(x: &[f32], w: &[u16], inner: usize, y: &mut [f32]) {
    let rows = x.len() / inner;
    for (panel, y_panel) in w
        .chunks_exact(inner * PANEL)
        .zip(y.chunks_exact_mut(rows * PANEL))
    {
        let (panel, _) = panel.as_chunks::<PANEL>();
        let (y_rows, _) = y_panel.as_chunks_mut::<PANEL>();
        let x_blocks = x.chunks(inner * MAX_TILE_ROWS);
        for (x_block, y_block) in x_blocks.zip(y_rows.chunks_mut(MAX_TILE_ROWS)) {
            match y_block.len() {
                6 => tile_avx512::<6>(x_block, panel, y_block),
                5 => tile_avx512::<5>(x_block, panel, y_block),
                4 => tile_avx512::<4>(x_block, panel, y_block),
                3 => tile_avx512::<3>(x_block, panel, y_block),
                2 => tile_avx512::<2>(x_block, panel, y_block),
                _ => tile_avx512::<1>(x_block, panel, y_block),
            }
        }
    }
}

/// `R` rows of `x` times one whole panel: 64 columns in four registers per row.
#[target_feature(enable = "avx512f")]
#[inline]
fn tile_avx512<const R: usize>(x: &[f32], panel: &[[u16; PANEL]], y: &mut [[f32; PANEL]]) {
    let inner = panel.len();
    let xs: [&[f32]; R] = std::array::from_fn(|r| &x[r * inner..(r + 1) * inner]);
    let mut acc = [[_mm512_setzero_ps(); 4]; R];
    for (i, halves) in panel.iter().enumerate() {
        let (quarters, _) = halves.as_chunks::<16>();
        let w = [
            widen16(&quarters[0]),
            widen16(&quarters[1]),
            widen16(&quarters[2]),
            widen16(&quarters[3]),
        ];
        for (row_acc, row) in acc.iter_mut().zip(&xs) {
            let xi = _mm512_set1_ps(row[i]);
            for (a, w) in row_acc.iter_mut().zip(&w) {
                *a = _mm512_fmadd_ps(xi, *w, *a);
            }
        }
    }
    for (row_acc, y_row) in acc.iter().zip(y.iter_mut()) {
        for (a, out) in row_acc.iter().zip(y_row.as_chunks_mut::<16>().0) {
            // SAFETY: `out` is 16 f32, one register's worth; the store is unaligned.
            unsafe { _mm512_storeu_ps(out.as_mut_ptr(), *a) };
        }
    }
}

/// 16 halves widened to f32.
#[target_feature(enable = "avx512f")]
#[inline]
fn widen16(halves: &[u16; 16]) -> __m512 {
    // SAFETY: 16 halves are 32 bytes, one 256-bit register's worth; the load is unaligned.
    _mm512_cvtph_ps(unsafe { _mm256_loadu_si256(halves.as_ptr().cast()) })
}

#[target_feature(enable = "avx2,fma,f16c")]
fn product_avx2(x: &[f32], w: &[u16], inner: usize, y: &mut [f32]) {
    let rows = x.len() / inner;
    for (panel, y_panel) in w
        .chunks_exact(inner * PANEL)
        .zip(y.chunks_exact_mut(rows * PANEL))
    {
        let (panel, _) = panel.as_chunks::<PANEL>();
        let (y_rows, _) = y_panel.as_chunks_mut::<PANEL>();
        y_rows.fill([0.0; PANEL]);
        for (chunk_index, chunk) in panel.chunks(AVX2_CHUNK).enumerate() {
            let from = chunk_index * AVX2_CHUNK;
            for strip in 0..PANEL / 16 {
                let x_blocks = x.chunks(inner * MAX_TILE_ROWS);
                for (x_block, y_block) in x_blocks.zip(y_rows.chunks_mut(MAX_TILE_ROWS)) {
                    let at = (x_block, inner, from);
                    match y_block.len() {
                        6 => tile_avx2::<6>(at, chunk, y_block, strip),
                        5 => tile_avx2::<5>(at, chunk, y_block, strip),
                        4 => tile_avx2::<4>(at, chunk, y_block, strip),
                        3 => tile_avx2::<3>(at, chunk, y_block, strip),
                        2 => tile_avx2::<2>(at, chunk, y_block, strip),
                        _ => tile_avx2::<1>(at, chunk, y_block, strip),
                    }
                }
            }
        }
    }
}

/// Input features per pass of the AVX2 kernel: a 16-column strip uses a quarter of each
/// 128-byte panel row, so the panel is taken [`AVX2_CHUNK`] rows (8 KiB) at a time and
/// every strip and block of rows runs over that chunk while it is in L1, instead of each
/// strip striding through the whole panel again.
const AVX2_CHUNK: usize = 64;

/// Adds `R` rows of `x` (each `inner` long, from feature `from` on: `at` is `(x, inner,
/// from)`) times the 16 columns of strip `strip` of `chunk` (panel rows `from..`) into
/// `y`, in two registers per row.
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
fn tile_avx2<const R: usize>(
    (x, inner, from): (&[f32], usize, usize),
    chunk: &[[u16; PANEL]],
    y: &mut [[f32; PANEL]],
    strip: usize,
) {
    let xs: [&[f32]; R] = std::array::from_fn(|r| {
        let start = r * inner + from;
        &x[start..start + chunk.len()]
    });
    let columns = strip * 16..(strip + 1) * 16;
    let mut acc = [[_mm256_setzero_ps(); 2]; R];
    for (row_acc, y_row) in acc.iter_mut().zip(y.iter()) {
        for (a, sums) in row_acc
            .iter_mut()
            .zip(y_row[columns.clone()].as_chunks::<8>().0)
        {
            // SAFETY: `sums` is 8 f32, one register's worth; the load is unaligned.
            *a = unsafe { _mm256_loadu_ps(sums.as_ptr()) };
        }
    }
    for (i, halves) in chunk.iter().enumerate() {
        let (eighths, _) = halves.as_chunks::<8>();
        let w = [widen8(&eighths[2 * strip]), widen8(&eighths[2 * strip + 1])];
        for (row_acc, row) in acc.iter_mut().zip(&xs) {
            let xi = _mm256_set1_ps(row[i]);
            for (a, w) in row_acc.iter_mut().zip(&w) {
                *a = _mm256_fmadd_ps(xi, *w, *a);
            }
        }
    }
    for (row_acc, y_row) in acc.iter().zip(y.iter_mut()) {
        for (a, out) in row_acc
            .iter()
            .zip(y_row[columns.clone()].as_chunks_mut::<8>().0)
        {
            // SAFETY: `out` is 8 f32, one register's worth; the store is unaligned.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr(), *a) };
        }
    }
}

/// 8 halves widened to f32.
#[target_feature(enable = "avx2,f16c")]
#[inline]
fn widen8(halves: &[u16; 8]) -> __m256 {
    // SAFETY: 8 halves are 16 bytes, one 128-bit register's worth; the load is unaligned.
    _mm256_cvtph_ps(unsafe { _mm_loadu_si128(halves.as_ptr().cast()) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_sums_what_exact_arithmetic_sums() {
        // Two panels of 40 input features; row counts that fill whole tiles and leave
        // some over. Halves of varied sizes and signs, subnormals included.
        let inner = 40;
        let mut w: Vec<u16> = (0..2 * inner * PANEL)
            .map(|i| half::f16::from_f32(((i * 7919) % 211) as f32 / 50.0 - 2.0).to_bits())
            .collect();
        (w[3], w[PANEL + 5]) = (0x0001, 0x8200);
        let has_kernel = super::super::simd::has_avx512()
            || (super::super::simd::has_avx2_fma() && has!("f16c"));
        for rows in [1, 2, 5, 6, 7, 13] {
            let x: Vec<f32> = (0..rows * inner)
                .map(|i| ((i * 104_729) % 97) as f32 / 48.0 - 1.0)
                .collect();
            let mut y = vec![f32::NAN; 2 * rows * PANEL];
            assert_eq!(panel_product(&x, &w, inner, &mut y), has_kernel);
            if !has_kernel {
                return; // the portable loop runs here; `small_matmul`'s tests cover it
            }
            for (p, y_panel) in y.chunks_exact(rows * PANEL).enumerate() {
                for (r, y_row) in y_panel.chunks_exact(PANEL).enumerate() {
                    for (c, got) in y_row.iter().enumerate() {
                        let want: f64 = (0..inner)
                            .map(|i| {
                                let half = half::f16::from_bits(w[(p * inner + i) * PANEL + c]);
                                f64::from(x[r * inner + i]) * f64::from(half.to_f32())
                            })
                            .sum();
                        assert!(
                            (f64::from(*got) - want).abs() < 1e-4,
                            "{rows} rows, panel {p}, row {r}, column {c}: {got} vs {want}"
                        );
                    }
                }
            }
        }
    }
}
