//! The matmul of the opt-in int8 batch path ([`super::Precision::Int8`], for bulk
//! indexing), as a candle custom op.
//!
//! A linear layer's weight is quantised once, column by column: each output column is
//! scaled so that its largest magnitude becomes 127 and rounded to i8. The input rows are
//! quantised each time the op runs, row by row: a row's range (widened to hold 0) maps onto
//! `0..=255` with a zero point, so `x ≈ scale * (q - zero)` ("dynamic" activation
//! scales). The products of the codes are summed exactly in i32, and
//! `y = scale_x * scale_w * (Σ q_x q_w - zero * Σ q_w)`, each column's `Σ q_w` kept with
//! the weight.
//!
//! Before that, each input feature is multiplied by a scale and its row of the weight
//! divided by it ([`input_scale`]): a few of BERT's features run far larger than the rest,
//! and this evens them out so that a row's range does not swamp its small values.
//!
//! The weight is packed for `vpdpbusd`, which multiplies four u8 by four i8 and adds the
//! four products into one i32 lane: [`Block`]s of 16 columns by 4 inputs (each column's
//! 4 bytes together), in panels of [`PANEL`] columns stored front to back. The kernels
//! ([`super::int8_kernels`]) run it with AVX-512 VNNI or AVX-VNNI; a plain loop computes
//! the same sums, exactly, for the tests and where neither is present. Without VNNI the
//! int8 path does not pay (AVX2's `vpmaddubsw` saturates u8 × i8 pair sums at i16, so its
//! inputs would lose a bit, and it runs no faster than f32 FMAs), so
//! [`Kernel::detect`] finds none there and the embedder stays in f32.

use std::sync::OnceLock;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

use super::fused_ops::matmul_input;
use super::kernels::round_to_int_bits;
use super::simd::simd_dispatch;

/// Output columns per panel: four [`Block`]s.
pub(crate) const PANEL: usize = 64;
/// Inputs per `vpdpbusd` lane.
const QUAD: usize = 4;
/// Columns per [`Block`].
const BLOCK_COLUMNS: usize = 16;

/// 16 columns by 4 inputs of a quantised weight: column `c`'s four values at `4c..4c + 4`.
/// One AVX-512 register, or two AVX2 ones.
#[derive(Debug, Clone, Copy)]
#[repr(C, align(64))]
pub(crate) struct Block(pub(crate) [i8; QUAD * BLOCK_COLUMNS]);

/// A weight `[in, out]` quantised per output column and packed into panels (see the
/// module docs): panel `p`, input quad `q`, block `b` at `(p * quads + q) * 4 + b`.
#[derive(Debug, Clone)]
pub(crate) struct Int8Weight {
    blocks: Vec<Block>,
    inner: usize,
    out: usize,
    /// Per (padded) column: `value ≈ code * scale`.
    scales: Vec<f32>,
    /// Per (padded) column: the sum of its codes, for the inputs' zero points.
    code_sums: Vec<i32>,
    /// Per input: what the input is multiplied by before it is quantised (the weight's
    /// row was divided by it).
    input_scales: Vec<f32>,
}

impl Int8Weight {
    /// Quantises and packs a `[in, out]` weight (row-major values). `input_ranges`, the
    /// largest magnitude each input reaches on calibration texts, balances the inputs'
    /// ranges against the weight's rows first (see [`input_scale`]).
    pub(crate) fn new(w_t: &[f32], inner: usize, out: usize, input_ranges: Option<&[f32]>) -> Self {
        let input_scales: Vec<f32> = (0..inner)
            .map(|i| {
                let row = &w_t[i * out..(i + 1) * out];
                let range = input_ranges.and_then(|ranges| ranges.get(i)).copied();
                range.map_or(1.0, |range| input_scale(range, row))
            })
            .collect();
        let balanced: Vec<f32> = w_t
            .chunks_exact(out.max(1))
            .zip(&input_scales)
            .flat_map(|(row, scale)| row.iter().map(move |w| w / scale))
            .collect();
        let w_t = &balanced[..];
        let panels = out.div_ceil(PANEL);
        let quads = inner.div_ceil(QUAD);
        let columns = panels * PANEL;
        let mut scales = vec![0f32; columns];
        let mut code_sums = vec![0i32; columns];
        let mut blocks =
            vec![Block([0; QUAD * BLOCK_COLUMNS]); panels * quads * PANEL / BLOCK_COLUMNS];
        for (column, (scale, sum)) in scales.iter_mut().zip(&mut code_sums).enumerate() {
            if column >= out {
                break;
            }
            let values = || (0..inner).map(|i| w_t[i * out + column]);
            let largest = values().fold(0f32, |m, v| m.max(v.abs()));
            *scale = if largest > 0.0 { largest / 127.0 } else { 1.0 };
            let (panel, within) = (column / PANEL, column % PANEL);
            let (block, lane) = (within / BLOCK_COLUMNS, within % BLOCK_COLUMNS);
            for (i, value) in values().enumerate() {
                let code = (value / *scale).round().clamp(-127.0, 127.0) as i8;
                *sum += i32::from(code);
                let at = (panel * quads + i / QUAD) * (PANEL / BLOCK_COLUMNS) + block;
                blocks[at].0[lane * QUAD + i % QUAD] = code;
            }
        }
        Int8Weight {
            blocks,
            inner,
            out,
            scales,
            code_sums,
            input_scales,
        }
    }

    /// The blocks of panel `p`: `quads * 4` of them.
    fn panel(&self, p: usize) -> &[Block] {
        let size = self.inner.div_ceil(QUAD) * (PANEL / BLOCK_COLUMNS);
        &self.blocks[p * size..(p + 1) * size]
    }
}

/// What input `i` is multiplied by before it is quantised, its row of the weight divided
/// by it: SmoothQuant's `sqrt(largest weight / largest input)`, which gives the input and
/// the weight row the same largest magnitude. BERT's inputs have a few features far
/// larger than the rest; scaled alone per row, they would leave the others a handful of
/// levels.
fn input_scale(input_range: f32, weight_row: &[f32]) -> f32 {
    let largest_weight = weight_row.iter().fold(0f32, |m, w| m.max(w.abs()));
    if input_range > 0.0 && largest_weight > 0.0 {
        (largest_weight / input_range).sqrt().clamp(1e-3, 1e3)
    } else {
        1.0
    }
}

/// Input rows quantised for one matmul: each row's codes as little-endian quads of u8.
pub(crate) struct QuantizedRows {
    quads: Vec<u32>,
    per_row: usize,
    scales: Vec<f32>,
    zeros: Vec<i32>,
}

#[cfg(test)]
impl QuantizedRows {
    /// Row `r`'s quads.
    pub(crate) fn row(&self, r: usize) -> &[u32] {
        &self.quads[r * self.per_row..(r + 1) * self.per_row]
    }
}

simd_dispatch! {
    /// Quantises `x` (`rows` rows of `inner` values), each input first multiplied by its
    /// scale, onto `0..=255` per row.
    fn quantize_rows(x: &[f32], inner: usize, input_scales: &[f32]) -> QuantizedRows {
        let per_row = inner.div_ceil(QUAD);
        let rows = x.len() / inner;
        let mut codes = vec![0u8; rows * per_row * QUAD];
        let mut scales = Vec::with_capacity(rows);
        let mut zeros = Vec::with_capacity(rows);
        let mut scaled = vec![0f32; inner];
        for (x_row, row_codes) in x.chunks_exact(inner).zip(codes.chunks_exact_mut(per_row * QUAD)) {
            for ((value, x), s) in scaled.iter_mut().zip(x_row).zip(input_scales) {
                *value = x * s;
            }
            let (low, high) = range_with_zero(&scaled);
            let scale = if high > low { (high - low) / 255.0 } else { 1.0 };
            let inverse = 1.0 / scale;
            let zero = (-low * inverse).round_ties_even().clamp(0.0, 255.0);
            for (code, &value) in row_codes.iter_mut().zip(&scaled) {
                *code = round_to_int_bits((value * inverse + zero).clamp(0.0, 255.0)) as u8;
            }
            scales.push(scale);
            zeros.push(zero as i32);
        }
        let (quads, _) = codes.as_chunks::<QUAD>();
        QuantizedRows {
            quads: quads.iter().map(|bytes| u32::from_le_bytes(*bytes)).collect(),
            per_row,
            scales,
            zeros,
        }
    }
}

/// The smallest and largest of `values` and 0, in [`LANES`] partial minima and maxima so
/// that the loop vectorises.
#[inline(always)]
fn range_with_zero(values: &[f32]) -> (f32, f32) {
    const LANES: usize = 16;
    let (chunks, rest) = values.as_chunks::<LANES>();
    let (mut low, mut high) = ([0f32; LANES], [0f32; LANES]);
    for chunk in chunks {
        for ((lo, hi), &v) in low.iter_mut().zip(&mut high).zip(chunk) {
            *lo = if v < *lo { v } else { *lo };
            *hi = if v > *hi { v } else { *hi };
        }
    }
    low.iter()
        .zip(&high)
        .chain(rest.iter().zip(rest))
        .fold((0f32, 0f32), |(lo, hi), (&l, &h)| (lo.min(l), hi.max(h)))
}

/// The most rows any kernel's tile takes.
const MAX_TILE_ROWS: usize = 6;

/// An int8 kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kernel {
    /// `vpdpbusd` on 512-bit registers.
    Avx512Vnni,
    /// `vpdpbusd` on 256-bit registers (VEX-encoded AVX-VNNI).
    AvxVnni,
    /// A plain loop: exact, but slower than the f32 path.
    Plain,
}

impl Kernel {
    /// The VNNI kernel this CPU runs, if it has one (checked once).
    pub(crate) fn detect() -> Option<Kernel> {
        static KERNEL: OnceLock<Option<Kernel>> = OnceLock::new();
        *KERNEL.get_or_init(|| {
            #[cfg(target_arch = "x86_64")]
            {
                use std::arch::is_x86_feature_detected as has;
                if !super::simd::allows_vnni() {
                    return None;
                }
                if super::simd::has_avx512() && has!("avx512vnni") {
                    return Some(Kernel::Avx512Vnni);
                }
                if super::simd::has_avx2_fma() && has!("avxvnni") {
                    return Some(Kernel::AvxVnni);
                }
            }
            None
        })
    }

    /// Rows per tile: as many as the registers hold sums for.
    fn rows(self) -> usize {
        match self {
            Kernel::Avx512Vnni => 6,
            Kernel::AvxVnni => 3,
            Kernel::Plain => 4,
        }
    }

    /// The i32 sums of `rows` (1 or [`Kernel::rows`] rows of `per_row` quads) times
    /// `panel`, into the first of `sums`.
    fn tile(self, rows: &[u32], per_row: usize, panel: &[Block], sums: &mut [[i32; PANEL]]) {
        #[cfg(target_arch = "x86_64")]
        {
            use super::int8_kernels as x86;
            match (self, sums.len()) {
                (Kernel::Avx512Vnni, 6) => {
                    return x86::avx512_vnni::<6>(rows, per_row, panel, sums);
                }
                (Kernel::Avx512Vnni, 1) => {
                    return x86::avx512_vnni::<1>(rows, per_row, panel, sums);
                }
                (Kernel::AvxVnni, 3) => return x86::avx_vnni::<3>(rows, per_row, panel, sums),
                (Kernel::AvxVnni, 1) => return x86::avx_vnni::<1>(rows, per_row, panel, sums),
                (kernel, count) => debug_assert!(
                    kernel == Kernel::Plain,
                    "{kernel:?} has no tile of {count} rows"
                ),
            }
        }
        plain(rows, per_row, panel, sums)
    }
}

/// The i32 sums of `rows` (of `per_row` quads each) times `panel`, by a plain loop (the
/// reference for the others).
pub(crate) fn plain(rows: &[u32], per_row: usize, panel: &[Block], sums: &mut [[i32; PANEL]]) {
    for (row, row_sums) in rows.chunks_exact(per_row).zip(sums.iter_mut()) {
        *row_sums = [0; PANEL];
        for (quad, blocks) in row.iter().zip(panel.chunks_exact(PANEL / BLOCK_COLUMNS)) {
            let inputs = quad.to_le_bytes().map(i32::from);
            for (column, sum) in row_sums.iter_mut().enumerate() {
                let block = &blocks[column / BLOCK_COLUMNS].0;
                let at = (column % BLOCK_COLUMNS) * QUAD;
                *sum += inputs
                    .iter()
                    .zip(&block[at..at + QUAD])
                    .map(|(x, &w)| x * i32::from(w))
                    .sum::<i32>();
            }
        }
    }
}

simd_dispatch! {
    /// `x W` for `x` of `[rows, in]`, with `kernel`.
    fn product(x: &[f32], weight: &Int8Weight, kernel: Kernel) -> Vec<f32> {
        let (inner, out) = (weight.inner, weight.out);
        let rows = x.len() / inner.max(1);
        let quantized = quantize_rows(x, inner, &weight.input_scales);
        let tile_rows = kernel.rows();
        let per_row = quantized.per_row;
        let mut sums = [[0i32; PANEL]; MAX_TILE_ROWS];
        // Row tiles outside, panels inside: the weight (at most a few hundred KiB) stays
        // in the L2 cache, and the output is written front to back.
        let mut y = Vec::with_capacity(rows * out);
        let mut first = 0;
        while first < rows {
            let count = if rows - first >= tile_rows { tile_rows } else { 1 };
            let tile = &quantized.quads[first * per_row..(first + count) * per_row];
            y.resize((first + count) * out, 0.0);
            for p in 0..out.div_ceil(PANEL) {
                kernel.tile(tile, per_row, weight.panel(p), &mut sums[..count]);
                let columns = p * PANEL..((p + 1) * PANEL).min(out);
                for (r, row_sums) in (first..first + count).zip(&sums) {
                    let (scale, zero) = (quantized.scales[r], quantized.zeros[r]);
                    let y_row = &mut y[r * out + columns.start..r * out + columns.end];
                    for (((value, &sum), &w_scale), &w_sum) in y_row
                        .iter_mut()
                        .zip(row_sums)
                        .zip(&weight.scales[columns.clone()])
                        .zip(&weight.code_sums[columns.clone()])
                    {
                        *value = (sum - zero * w_sum) as f32 * scale * w_scale;
                    }
                }
            }
            first += count;
        }
        y
    }
}

/// `x W` over an [`Int8Weight`], as a candle op on `[rows, in]`.
pub(crate) struct Int8Matmul<'a> {
    pub(crate) weight: &'a Int8Weight,
}

impl CustomOp1 for Int8Matmul<'_> {
    fn name(&self) -> &'static str {
        "int8-matmul"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (x, rows) = matmul_input(x, x_layout, self.weight.inner, self.weight.out)?;
        let y = product(x, self.weight, Kernel::detect().unwrap_or(Kernel::Plain));
        Ok((CpuStorage::F32(y), Shape::from((rows, self.weight.out))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(count: usize, seed: usize) -> Vec<f32> {
        (0..count)
            .map(|i| ((i * 7919 + seed * 104_729) % 211) as f32 / 100.0 - 1.0)
            .collect()
    }

    fn exact(x: &[f32], w: &[f32], inner: usize, out: usize) -> Vec<f32> {
        let rows = x.len() / inner;
        let mut y = vec![0f32; rows * out];
        for r in 0..rows {
            for i in 0..inner {
                for c in 0..out {
                    y[r * out + c] += x[r * inner + i] * w[i * out + c];
                }
            }
        }
        y
    }

    #[test]
    fn the_kernel_here_gives_what_the_plain_loop_gives() {
        // 70 inputs (a partial last quad), 150 columns (a partial last panel), row
        // counts that fill whole tiles and leave some over.
        let (inner, out) = (70, 150);
        let weight = Int8Weight::new(&values(inner * out, 1), inner, out, None);
        for kernel in [Some(Kernel::Plain), Kernel::detect()]
            .into_iter()
            .flatten()
        {
            for rows in [1, 2, 5, 13] {
                let x = values(rows * inner, rows);
                assert_eq!(
                    product(&x, &weight, kernel),
                    product_by_rows(&x, &weight),
                    "{kernel:?}, {rows} rows"
                );
            }
        }
    }

    /// [`product`] one row and one panel at a time, with the plain loop.
    fn product_by_rows(x: &[f32], weight: &Int8Weight) -> Vec<f32> {
        let quantized = quantize_rows(x, weight.inner, &weight.input_scales);
        let rows = x.len() / weight.inner;
        let mut y = vec![0f32; rows * weight.out];
        let mut sums = [[0i32; PANEL]];
        for p in 0..weight.out.div_ceil(PANEL) {
            for r in 0..rows {
                plain(
                    quantized.row(r),
                    quantized.per_row,
                    weight.panel(p),
                    &mut sums,
                );
                for c in p * PANEL..((p + 1) * PANEL).min(weight.out) {
                    let sum = sums[0][c - p * PANEL] - quantized.zeros[r] * weight.code_sums[c];
                    y[r * weight.out + c] = sum as f32 * quantized.scales[r] * weight.scales[c];
                }
            }
        }
        y
    }

    #[test]
    fn the_int8_product_is_close_to_the_f32_one() {
        let (inner, out) = (384, 200);
        let w = values(inner * out, 3);
        let weight = Int8Weight::new(&w, inner, out, None);
        let x = values(7 * inner, 5);
        let want = exact(&x, &w, inner, out);
        for kernel in [Some(Kernel::Plain), Kernel::detect()]
            .into_iter()
            .flatten()
        {
            let got = product(&x, &weight, kernel);
            let scale = want.iter().fold(0f32, |m, v| m.max(v.abs()));
            for (a, b) in got.iter().zip(&want) {
                // Steps of 1/127 of each column's and about 1/255 of each row's range.
                assert!((a - b).abs() < 0.02 * scale, "{kernel:?}: {a} vs {b}");
            }
        }
    }

    #[test]
    fn rebalancing_an_outlier_feature_keeps_the_small_ones_precise() {
        // Feature 0 of every row is ~100 times the others, as a few of BERT's are.
        let (inner, out, rows) = (64, 64, 8);
        let w = values(inner * out, 7);
        let mut x = values(rows * inner, 9);
        for row in x.chunks_exact_mut(inner) {
            row[0] = 100.0;
        }
        let mut ranges = vec![1.0; inner];
        ranges[0] = 100.0;
        let want = exact(&x, &w, inner, out);
        let worst = |weight: &Int8Weight| {
            let got = product(&x, weight, Kernel::Plain);
            got.iter()
                .zip(&want)
                .fold(0f32, |m, (a, b)| m.max((a - b).abs()))
        };
        let plain_error = worst(&Int8Weight::new(&w, inner, out, None));
        let balanced_error = worst(&Int8Weight::new(&w, inner, out, Some(&ranges)));
        assert!(
            balanced_error * 2.0 < plain_error,
            "rebalanced {balanced_error}, per-row scales alone {plain_error}"
        );
    }

    #[test]
    fn rows_quantise_onto_their_range_with_zero_exact() {
        let q = quantize_rows(&[-1.0, 0.0, 3.0, 1.0], 4, &[1.0; 4]);
        assert_eq!(q.zeros, [64]);
        let codes = q.row(0)[0].to_le_bytes();
        assert_eq!(codes, [0, 64, 255, 128]);
        let back: Vec<f32> = codes
            .iter()
            .map(|&c| (i32::from(c) - q.zeros[0]) as f32 * q.scales[0])
            .collect();
        for (b, want) in back.iter().zip([-1.0, 0.0, 3.0, 1.0]) {
            assert!((b - want).abs() <= q.scales[0] / 2.0 + 1e-6, "{back:?}");
        }
        let constant = quantize_rows(&[0.0; 4], 4, &[1.0; 4]);
        assert_eq!(constant.row(0)[0], 0, "an all-zero row codes as zeros");
    }
}
