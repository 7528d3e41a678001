//! The x86 kernels of the few-row matmul ([`super::small_matmul`]): tiles of up to
//! [`MAX_TILE_ROWS`] input rows by a strip of the weight (AVX-512: a whole 64-column
//! panel; AVX2: 16 columns, see [`strip_width`]), each f16 weight widened in a
//! register (`vcvtph2ps`: AVX-512F on 16 lanes, F16C on 8) right before its
//! multiply-adds. The portable loop widens a strip of the panel with integer bit
//! operations and stores it first; here the weights go from memory to the multiply-adds
//! and only the sums are ever written.
//!
//! Written with `std::arch` intrinsics: LLVM does not form `vcvtph2ps` from plain loops.
//! [`PackedRows::new`] checks that the CPU has the features, and returns nothing when it
//! has not (the caller then runs the portable loop), so [`PackedRows::product`] is safe
//! to call anywhere. The remaining unsafe operations are register loads and stores of
//! whole arrays, each sized by its type.
//!
//! The input rows are packed first, once per matmul for both threads, in blocks of a few
//! rows, each block feature by feature ([`pack_blocks`]), so a tile reads one input
//! feature of all its rows from one place, with no per-row bounds; the blocks are as
//! even as can be ([`tile_blocks`]).
#![allow(unsafe_code)]

use std::arch::is_x86_feature_detected as has;
use std::arch::x86_64::{
    __m256, __m512, _mm_loadu_si128, _mm256_cvtph_ps, _mm256_fmadd_ps, _mm256_loadu_ps,
    _mm256_loadu_si256, _mm256_set1_ps, _mm256_setzero_ps, _mm256_storeu_ps, _mm512_cvtph_ps,
    _mm512_fmadd_ps, _mm512_set1_ps, _mm512_setzero_ps, _mm512_storeu_ps,
};
use std::ops::Range;

use super::small_matmul::{PANEL, STRIP, chunks};

/// Most input rows per tile: with AVX-512, 6 rows by 64 columns of sums take 24 of the
/// 32 registers; with AVX2, 6 rows by 16 columns take 12 of the 16.
const MAX_TILE_ROWS: usize = 6;

/// `$f::<R>(args…)` with `R` the block's row count `$rows`, 1 to [`MAX_TILE_ROWS`]: each
/// kernel is compiled for every row count, so its sums stay in registers.
macro_rules! by_rows {
    ($rows:expr, $f:ident($($arg:expr),*)) => {
        match $rows {
            6 => $f::<6>($($arg),*),
            5 => $f::<5>($($arg),*),
            4 => $f::<4>($($arg),*),
            3 => $f::<3>($($arg),*),
            2 => $f::<2>($($arg),*),
            _ => $f::<1>($($arg),*),
        }
    };
}

/// The rows of a few-row matmul's input, packed for these kernels (see [`pack_blocks`]),
/// with the kernel that reads the weight's layout.
pub(crate) struct PackedRows {
    values: Vec<f32>,
    /// The rows of each block, in order (see [`tile_blocks`]).
    blocks: Vec<Range<usize>>,
    inner: usize,
    isa: Isa,
}

/// The width of strips the widest kernel here takes (see [`super::small_matmul`]).
pub(crate) fn strip_width() -> usize {
    if super::simd::has_avx512() {
        PANEL
    } else {
        STRIP
    }
}

/// Which kernel [`PackedRows::product`] runs: only ever set after checking that the CPU
/// has its features.
#[derive(Clone, Copy)]
enum Isa {
    Avx512,
    Avx2,
}

impl PackedRows {
    /// `x` (`[rows, inner]`) packed, or `None` when this CPU has no kernel here for a
    /// weight in strips `strip` columns wide (AVX-512 takes whole panels, AVX2 with F16C
    /// takes strips of [`STRIP`], within the cap on the dispatch).
    pub(crate) fn new(x: &[f32], inner: usize, strip: usize) -> Option<Self> {
        let isa = match strip {
            PANEL if super::simd::has_avx512() => Isa::Avx512,
            STRIP if super::simd::has_avx2_fma() && has!("f16c") => Isa::Avx2,
            _ => return None,
        };
        if inner == 0 {
            return None;
        }
        let blocks = tile_blocks(x.len() / inner);
        Some(PackedRows {
            values: pack_blocks(x, inner, &blocks),
            blocks,
            inner,
            isa,
        })
    }

    /// `x W` for consecutive panels `w` (each `in * PANEL` f16 bits, in strips as wide
    /// as `new` was told) into `y` (`[panel][row][PANEL]`).
    pub(crate) fn product(&self, w: &[u16], y: &mut [f32]) {
        match self.isa {
            // SAFETY: `new` chose `Avx512` only on a CPU with AVX-512F (`has_avx512`
            // checks it, with BW, DQ and VL).
            Isa::Avx512 => unsafe { product_avx512(self, w, y) },
            // SAFETY: `new` chose `Avx2` only on a CPU with AVX2, FMA (checked through the
            // dispatch level) and F16C.
            Isa::Avx2 => unsafe { product_avx2(self, w, y) },
        }
    }

    /// The packed values of block `rows` for input features `features`.
    fn block(&self, rows: &Range<usize>, features: Range<usize>) -> &[f32] {
        let start = rows.start * self.inner;
        &self.values[start + features.start * rows.len()..start + features.end * rows.len()]
    }
}

#[target_feature(enable = "avx512f")]
fn product_avx512(x: &PackedRows, w: &[u16], y: &mut [f32]) {
    let (inner, rows) = (x.inner, x.values.len() / x.inner);
    for (panel, y_panel) in w
        .chunks_exact(inner * PANEL)
        .zip(y.chunks_exact_mut(rows * PANEL))
    {
        let (panel, _) = panel.as_chunks::<PANEL>();
        let (y_rows, _) = y_panel.as_chunks_mut::<PANEL>();
        for rows in &x.blocks {
            let block = x.block(rows, 0..inner);
            let y_block = &mut y_rows[rows.clone()];
            by_rows!(
                y_block.len(),
                tile_avx512(block.as_chunks().0, panel, y_block)
            );
        }
    }
}

/// `R` rows of `x` (packed: each input feature's `R` values together) times one whole
/// panel: 64 columns in four registers per row.
#[target_feature(enable = "avx512f")]
#[inline]
fn tile_avx512<const R: usize>(x: &[[f32; R]], panel: &[[u16; PANEL]], y: &mut [[f32; PANEL]]) {
    let mut acc = [[_mm512_setzero_ps(); 4]; R];
    for (halves, xi) in panel.iter().zip(x) {
        let (quarters, _) = halves.as_chunks::<16>();
        let w = [
            widen16(&quarters[0]),
            widen16(&quarters[1]),
            widen16(&quarters[2]),
            widen16(&quarters[3]),
        ];
        for (row_acc, &value) in acc.iter_mut().zip(xi) {
            let xi = _mm512_set1_ps(value);
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
fn product_avx2(x: &PackedRows, w: &[u16], y: &mut [f32]) {
    let (inner, rows) = (x.inner, x.values.len() / x.inner);
    for (panel, y_panel) in w
        .chunks_exact(inner * PANEL)
        .zip(y.chunks_exact_mut(rows * PANEL))
    {
        let (y_rows, _) = y_panel.as_chunks_mut::<PANEL>();
        y_rows.fill([0.0; PANEL]);
        for chunk in chunks(panel, inner, STRIP) {
            for (s, strip) in chunk.strips().enumerate() {
                for rows in &x.blocks {
                    let block = x.block(rows, chunk.features.clone());
                    let y_block = &mut y_rows[rows.clone()];
                    let at = (strip.as_chunks().0, s * STRIP);
                    by_rows!(y_block.len(), tile_avx2(block.as_chunks().0, at, y_block));
                }
            }
        }
    }
}

/// Adds `R` rows of `x` (packed, and only the features of the strip's chunk) times one
/// strip of a chunk, whose columns start at `column` (`at` is `(strip, column)`), into
/// `y`, in two registers per row. Every block of rows runs over a strip while it is in
/// L1.
#[target_feature(enable = "avx2,fma,f16c")]
#[inline]
fn tile_avx2<const R: usize>(
    x: &[[f32; R]],
    (strip, column): (&[[u16; STRIP]], usize),
    y: &mut [[f32; PANEL]],
) {
    let columns = column..column + STRIP;
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
    for (halves, xi) in strip.iter().zip(x) {
        let (eighths, _) = halves.as_chunks::<8>();
        let w = [widen8(&eighths[0]), widen8(&eighths[1])];
        for (row_acc, &value) in acc.iter_mut().zip(xi) {
            let xi = _mm256_set1_ps(value);
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

/// `rows` cut into blocks of at most [`MAX_TILE_ROWS`], as even as can be (8 rows are
/// 4 + 4, not 6 + 2): a tile's multiply-adds chain through its sums, so a tile of one or
/// two rows has too few independent sums to keep both FMA units busy.
fn tile_blocks(rows: usize) -> Vec<Range<usize>> {
    let count = rows.div_ceil(MAX_TILE_ROWS);
    let mut start = 0;
    (0..count)
        .map(|block| {
            let size = rows / count + usize::from(block < rows % count);
            start += size;
            start - size..start
        })
        .collect()
}

/// `x` (`[rows, inner]`) cut into `blocks`, each block feature-major (`[inner][rows in
/// the block]`): a tile reads the values of one input feature for all its rows from one
/// place, with one pointer and no per-row bounds.
fn pack_blocks(x: &[f32], inner: usize, blocks: &[Range<usize>]) -> Vec<f32> {
    let mut packed = vec![0.0; x.len()];
    for rows in blocks {
        let range = rows.start * inner..rows.end * inner;
        let (block, to) = (&x[range.clone()], &mut packed[range]);
        by_rows!(rows.len(), transpose(block, to));
    }
    packed
}

/// `to[i][r] = block[r][i]` for the `R` rows of `block`.
fn transpose<const R: usize>(block: &[f32], to: &mut [f32]) {
    let inner = block.len() / R;
    let rows: [&[f32]; R] = std::array::from_fn(|r| &block[r * inner..(r + 1) * inner]);
    for (i, out) in to.as_chunks_mut::<R>().0.iter_mut().enumerate().take(inner) {
        for (value, row) in out.iter_mut().zip(&rows) {
            *value = row[i];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::small_matmul::PanelWeight;
    use super::*;

    #[test]
    fn rows_are_cut_into_even_blocks_of_at_most_six() {
        let sizes = |rows| -> Vec<usize> { tile_blocks(rows).iter().map(|b| b.len()).collect() };
        assert_eq!(sizes(0), Vec::<usize>::new());
        assert_eq!(sizes(1), [1]);
        assert_eq!(sizes(6), [6]);
        assert_eq!(sizes(8), [4, 4]);
        assert_eq!(sizes(13), [5, 4, 4]);
        assert_eq!(sizes(24), [6, 6, 6, 6]);
        assert_eq!(tile_blocks(13)[1], 5..9, "blocks are consecutive");
    }

    #[test]
    fn the_kernel_sums_what_exact_arithmetic_sums() {
        // Two panels of 100 input features (a whole chunk and part of one); row counts
        // that fill whole tiles and leave some over. Weights that are exact halves, of
        // varied sizes and signs, subnormals included.
        let (inner, out) = (100, 2 * PANEL);
        let mut w_t: Vec<f32> = (0..inner * out)
            .map(|i| half::f16::from_f32(((i * 7919) % 211) as f32 / 50.0 - 2.0).to_f32())
            .collect();
        (w_t[3], w_t[70 * out + 100]) = (
            half::f16::from_bits(0x0001).to_f32(),
            half::f16::from_bits(0x8200).to_f32(),
        );
        let has_kernel = |strip| match strip {
            PANEL => super::super::simd::has_avx512(),
            _ => super::super::simd::has_avx2_fma() && has!("f16c"),
        };
        for strip in [PANEL, STRIP] {
            let panels = PanelWeight::with_strip(&w_t, inner, out, strip);
            for rows in [1, 2, 5, 6, 7, 8, 13] {
                let x: Vec<f32> = (0..rows * inner)
                    .map(|i| ((i * 104_729) % 97) as f32 / 48.0 - 1.0)
                    .collect();
                let Some(packed) = PackedRows::new(&x, inner, strip) else {
                    // The portable loop runs here; `small_matmul`'s tests cover it.
                    assert!(
                        !has_kernel(strip),
                        "a CPU with the kernel for {strip} columns gets it"
                    );
                    continue;
                };
                let mut y = vec![f32::NAN; 2 * rows * PANEL];
                packed.product(panels.halves(), &mut y);
                for (p, y_panel) in y.chunks_exact(rows * PANEL).enumerate() {
                    for (r, y_row) in y_panel.chunks_exact(PANEL).enumerate() {
                        for (c, got) in y_row.iter().enumerate() {
                            let want: f64 = (0..inner)
                                .map(|i| {
                                    let weight = w_t[i * out + p * PANEL + c];
                                    f64::from(x[r * inner + i]) * f64::from(weight)
                                })
                                .sum();
                            assert!(
                                (f64::from(*got) - want).abs() < 1e-4,
                                "strips of {strip}, {rows} rows, panel {p}, row {r}, column {c}: \
                                 {got} vs {want}"
                            );
                        }
                    }
                }
            }
        }
    }
}
