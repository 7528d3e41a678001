//! The matmul for a handful of rows (a search query), as a candle custom op.
//!
//! For a few rows, the weight is the whole cost: each of its values is used a few times
//! only, so it must stream from memory front to back. gemm's microkernel instead walks the
//! `[in, out]` weight one short column block at a time, `out` floats apart, landing on a
//! new page at every step. This op keeps a copy of the weight in panels of [`PANEL`]
//! columns, each panel contiguous, and computes one panel at a time: its columns are
//! widened to f32 (in registers by `vcvtph2ps` in `f16_kernels`, else by a portable
//! loop), and a few rows at a time are multiplied with their sums held in registers while
//! every input feature is added in. The weight is read once, in order.
//! Above [`MAX_ROWS`] rows, candle's matmul (gemm) is the faster one.
//!
//! Within a panel, the weight is cut into [`Chunk`]s of [`CHUNK`] input features, and
//! each chunk into strips side by side, each strip contiguous. The strips are as wide as
//! the kernel that will run takes at a time: a whole panel for AVX-512 (four registers
//! of sums per row), [`STRIP`] columns otherwise (AVX2 has registers for 16 columns of
//! sums). Either way the kernel reads the weight front to back, which the hardware
//! prefetchers follow; an AVX2 kernel reading a quarter of every 128-byte row leaves them
//! a stride. Measured on an 8-token query: AVX2 is ~10% faster on 16-column strips than
//! on whole-panel rows, and AVX-512 ~20% slower on strips than on rows.

use std::ops::Range;

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use super::fused_ops::matmul_input;
use super::simd::simd_dispatch;
use crate::Result;

/// Up to this many rows, [`matmul`] uses the streaming kernel.
pub(crate) const MAX_ROWS: usize = 24;
/// Output columns per panel: 128 bytes of f16 weights per input feature.
pub(crate) const PANEL: usize = 64;
/// Output columns per strip for every kernel but AVX-512's: 32 bytes of f16 weights per
/// input feature.
pub(crate) const STRIP: usize = 16;
/// Input features per chunk: one strip of a chunk is 2 KiB, the whole chunk 8 KiB.
pub(crate) const CHUNK: usize = 64;
/// Below this many multiply-adds the panels are not split across two threads (the
/// caller and `spin_join`'s helper).
const PARALLEL_WORK: usize = 1 << 20;

/// A weight `[in, out]` laid out panel by panel: panel `p` holds columns
/// `p * PANEL..(p + 1) * PANEL` of every row (the last panel zero-padded), contiguous,
/// in chunks of strips `strip` columns wide (see the module docs and [`chunks`]). Values
/// are f16 bits.
#[derive(Debug, Clone)]
pub(crate) struct PanelWeight {
    values: Vec<u16>,
    inner: usize,
    out: usize,
    strip: usize,
}

impl PanelWeight {
    /// Re-lays a `[in, out]` weight (row-major values) into panels, with strips as wide
    /// as the kernel this CPU runs wants.
    pub(crate) fn new(w_t: &[f32], inner: usize, out: usize) -> Self {
        #[cfg(target_arch = "x86_64")]
        let strip = super::f16_kernels::strip_width();
        #[cfg(not(target_arch = "x86_64"))]
        let strip = STRIP;
        Self::with_strip(w_t, inner, out, strip)
    }

    /// [`PanelWeight::new`] with strips `strip` columns wide ([`STRIP`] or [`PANEL`]).
    pub(crate) fn with_strip(w_t: &[f32], inner: usize, out: usize, strip: usize) -> Self {
        let panel_size = inner * PANEL;
        let mut values = vec![0u16; out.div_ceil(PANEL) * panel_size];
        for (p, panel) in values.chunks_exact_mut(panel_size).enumerate() {
            for start in (0..inner).step_by(CHUNK) {
                let features = start..(start + CHUNK).min(inner);
                let chunk = &mut panel[start * PANEL..features.end * PANEL];
                // Strip after strip, each one feature after another (see `Chunk`).
                for (k, halves) in chunk.chunks_exact_mut(strip).enumerate() {
                    let (s, i) = (k / features.len(), start + k % features.len());
                    let from = p * PANEL + s * strip;
                    let values = &w_t[i * out..][from.min(out)..(from + strip).min(out)];
                    for (half, value) in halves.iter_mut().zip(values) {
                        *half = half::f16::from_f32(*value).to_bits();
                    }
                }
            }
        }
        PanelWeight {
            values,
            inner,
            out,
            strip,
        }
    }

    /// The laid-out values, for tests of the kernels.
    #[cfg(test)]
    pub(crate) fn halves(&self) -> &[u16] {
        &self.values
    }
}

/// One chunk of a panel: its input features, and its values, strips `width` columns
/// wide side by side, each `[feature][width]`.
pub(crate) struct Chunk<'a> {
    pub(crate) features: Range<usize>,
    values: &'a [u16],
    width: usize,
}

impl<'a> Chunk<'a> {
    /// The strips, in order of their columns.
    pub(crate) fn strips(&self) -> impl Iterator<Item = &'a [u16]> + use<'a> {
        self.values.chunks_exact(self.features.len() * self.width)
    }

    /// The halves of columns `column..column + len` (within one strip) of each of the
    /// chunk's input features, in order.
    fn columns(&self, column: usize, len: usize) -> impl Iterator<Item = &'a [u16]> + use<'a> {
        let (strip, within) = (column / self.width, column % self.width);
        let size = self.features.len() * self.width;
        self.values[strip * size..(strip + 1) * size]
            .chunks_exact(self.width)
            .map(move |row| &row[within..within + len])
    }
}

/// The chunks of `panel` (one panel of a [`PanelWeight`] of `inner` input features, in
/// strips `width` columns wide), in order.
pub(crate) fn chunks(panel: &[u16], inner: usize, width: usize) -> impl Iterator<Item = Chunk<'_>> {
    (0..inner).step_by(CHUNK).map(move |start| {
        let features = start..(start + CHUNK).min(inner);
        Chunk {
            values: &panel[start * PANEL..features.end * PANEL],
            features,
            width,
        }
    })
}

/// `x W` for `x` of `[rows, in]`: the streaming kernel over `panels` for a few rows,
/// candle's matmul over `w_t` (`[in, out]`) otherwise.
pub(crate) fn matmul(x: &Tensor, w_t: &Tensor, panels: &PanelWeight) -> Result<Tensor> {
    if x.dims()[0] <= MAX_ROWS {
        Ok(x.apply_op1_no_bwd(&StreamingMatmul { weight: panels })?)
    } else {
        Ok(x.matmul(w_t)?)
    }
}

/// `x W` computed panel by panel over the weight (see the module docs).
struct StreamingMatmul<'a> {
    weight: &'a PanelWeight,
}

impl CustomOp1 for StreamingMatmul<'_> {
    fn name(&self) -> &'static str {
        "streaming-matmul"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        x_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let (w, out, inner) = (self.weight, self.weight.out, self.weight.inner);
        let (x, rows) = matmul_input(x, x_layout, inner, out)?;
        let panels = out.div_ceil(PANEL);
        let panel_size = inner * PANEL;
        // Output panel-major, `[panel][row][PANEL]`, gathered into rows below.
        let y_panel = rows * PANEL;
        let mut y = vec![0f32; panels * y_panel];
        let product = Product::new(x, w);
        if rows * inner * out >= PARALLEL_WORK && panels >= 2 {
            let split = panels / 2;
            let (y_left, y_right) = y.split_at_mut(split * y_panel);
            let (w_left, w_right) = w.values.split_at(split * panel_size);
            super::spin_join::join(
                || product.run(w_left, y_left),
                || product.run(w_right, y_right),
            );
        } else {
            product.run(&w.values, &mut y);
        }
        let mut out_rows = vec![0f32; rows * out];
        for (p, panel) in y.chunks_exact(y_panel).enumerate() {
            let (from, to) = (p * PANEL, ((p + 1) * PANEL).min(out));
            for (row, values) in out_rows
                .chunks_exact_mut(out)
                .zip(panel.chunks_exact(PANEL))
            {
                row[from..to].copy_from_slice(&values[..to - from]);
            }
        }
        Ok((CpuStorage::F32(out_rows), Shape::from((rows, out))))
    }
}

/// `x W` for consecutive panels of the weight, with the intrinsics kernels where the CPU
/// has them (`f16_kernels`, over `x` packed once for both threads), else the portable
/// loop.
enum Product<'a> {
    #[cfg(target_arch = "x86_64")]
    Intrinsics(super::f16_kernels::PackedRows),
    Portable {
        x: &'a [f32],
        inner: usize,
        strip: usize,
    },
}

impl<'a> Product<'a> {
    /// The product of `x` and a weight laid out as `w` is.
    fn new(x: &'a [f32], w: &PanelWeight) -> Self {
        let (inner, strip) = (w.inner, w.strip);
        #[cfg(target_arch = "x86_64")]
        if let Some(packed) = super::f16_kernels::PackedRows::new(x, inner, strip) {
            return Product::Intrinsics(packed);
        }
        Product::Portable { x, inner, strip }
    }

    /// `x W` for consecutive panels `w` (each `in * PANEL` values) into `y` (`[panel]
    /// [row][PANEL]`, zeroed).
    fn run(&self, w: &[u16], y: &mut [f32]) {
        match self {
            #[cfg(target_arch = "x86_64")]
            Product::Intrinsics(packed) => packed.product(w, y),
            Product::Portable { x, inner, strip } => panel_product(x, (w, *inner, *strip), y),
        }
    }
}

simd_dispatch! {
    /// The portable [`Product`], for CPUs without the `f16_kernels` (no AVX2 with F16C,
    /// or not x86). Each panel is cut into tiles of 2 rows by 32 columns, whose sums stay
    /// in registers while every input feature is added in, so the inner loop is
    /// multiply-adds on registers, not loads and stores of the output.
    fn panel_product(x: &[f32], w: (&[u16], usize, usize), y: &mut [f32]) {
        panel_tiles::<32, 2>(x, w, y);
    }
}

/// [`panel_product`] with tiles of `R` rows by `C` columns (`C` divides [`PANEL`]): those
/// columns of a panel are widened to f32 once, then every block of rows is computed over
/// them. `w` is the panels, the input features and the strips' width.
#[inline(always)]
fn panel_tiles<const C: usize, const R: usize>(
    x: &[f32],
    (w, inner, width): (&[u16], usize, usize),
    y: &mut [f32],
) {
    // The columns of a strip a tile's columns lie in, read a strip at a time.
    let run = C.min(width);
    let rows = x.len() / inner;
    let mut strip: Vec<[f32; C]> = vec![[0.0; C]; inner];
    for (panel, y_panel) in w
        .chunks_exact(inner * PANEL)
        .zip(y.chunks_exact_mut(rows * PANEL))
    {
        let (y_rows, _) = y_panel.as_chunks_mut::<PANEL>();
        for column in (0..PANEL).step_by(C) {
            for chunk in chunks(panel, inner, width) {
                for from in (0..C).step_by(run) {
                    let wide = strip[chunk.features.clone()].iter_mut();
                    for (wide, halves) in wide.zip(chunk.columns(column + from, run)) {
                        for (value, half) in wide[from..from + run].iter_mut().zip(halves) {
                            *value = widen_f16(*half);
                        }
                    }
                }
            }
            // Blocks of `R` rows, then the last few one at a time; no allocation.
            let x_blocks = x.chunks_exact(inner * R);
            let x_rest = x_blocks.remainder();
            let mut y_blocks = y_rows.chunks_exact_mut(R);
            for (x_block, y_block) in x_blocks.zip(&mut y_blocks) {
                if let Ok(y_block) = <&mut [[f32; PANEL]; R]>::try_from(y_block) {
                    let xs = std::array::from_fn(|r| &x_block[r * inner..(r + 1) * inner]);
                    tile::<C, R>(xs, y_block, &strip, column);
                }
            }
            for (x_row, y_row) in x_rest
                .chunks_exact(inner)
                .zip(y_blocks.into_remainder().iter_mut())
            {
                tile::<C, 1>([x_row], std::array::from_mut(y_row), &strip, column);
            }
        }
    }
}

/// One tile: the `R` input rows `xs` times the `C` columns of `strip` (`[in][C]`,
/// widened), written at `column` of their output rows `ys`.
#[inline(always)]
fn tile<const C: usize, const R: usize>(
    xs: [&[f32]; R],
    ys: &mut [[f32; PANEL]; R],
    strip: &[[f32; C]],
    column: usize,
) {
    let mut sums = [[0f32; C]; R];
    for (i, wide) in strip.iter().enumerate() {
        for (row_sums, x_row) in sums.iter_mut().zip(&xs) {
            let xi = x_row.get(i).copied().unwrap_or(0.0);
            for (sum, value) in row_sums.iter_mut().zip(wide) {
                *sum += xi * value;
            }
        }
    }
    for (row_sums, y_row) in sums.iter().zip(ys.iter_mut()) {
        y_row[column..column + C].copy_from_slice(row_sums);
    }
}

/// An f16 (as bits) widened to f32, branch-free so the loop vectorises. Subnormal
/// halves (below 6.1e-5 in magnitude) read as zero; weights have no infinities or NaNs.
#[inline(always)]
fn widen_f16(half: u16) -> f32 {
    let half = u32::from(half);
    let sign = (half & 0x8000) << 16;
    let exponent = (half >> 10) & 0x1f;
    let mantissa = half & 0x3ff;
    let bits = if exponent == 0 {
        sign
    } else {
        sign | ((exponent + 112) << 23) | (mantissa << 13)
    };
    f32::from_bits(bits)
}

#[cfg(test)]
mod tests {
    use candle_core::Device;

    use super::*;

    #[test]
    fn the_streaming_kernel_equals_candle_matmul() -> Result<()> {
        // 1000 output columns: a partial last panel and two thread halves; row counts
        // that fill whole tiles of rows and leave some over.
        let (inner, out) = (96, 1000);
        let w: Vec<f32> = (0..inner * out)
            .map(|i| ((i * 104_729) % 97) as f32 / 48.0 - 1.0)
            .collect();
        let w_t = Tensor::from_vec(w.clone(), (inner, out), &Device::Cpu)?;
        // Both layouts: each runs its intrinsics kernel where the CPU (and the cap on the
        // dispatch) has it, the portable loop elsewhere.
        for strip in [PANEL, STRIP] {
            let panels = PanelWeight::with_strip(&w, inner, out, strip);
            for rows in [1, 2, 3, 4, 5, 13] {
                let x: Vec<f32> = (0..rows * inner)
                    .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
                    .collect();
                let x = Tensor::from_vec(x, (rows, inner), &Device::Cpu)?;
                let fast = x
                    .apply_op1_no_bwd(&StreamingMatmul { weight: &panels })?
                    .to_vec2::<f32>()?;
                let reference = x.matmul(&w_t)?.to_vec2::<f32>()?;
                assert_eq!(fast.len(), rows);
                // f16 weights keep 11 significant bits: sums of 96 products of size ~1
                // differ by well under 0.05 from the f32 product.
                for (a, b) in fast.iter().flatten().zip(reference.iter().flatten()) {
                    assert!(
                        (a - b).abs() < 5e-2,
                        "strips of {strip}, {rows} rows: {a} vs {b}"
                    );
                }
            }
        }
        Ok(())
    }

    #[test]
    fn halves_widen_exactly() {
        for value in [
            0.0f32,
            -0.0,
            1.0,
            -2.5,
            0.333_251_95,
            65504.0,
            -1.0e-4,
            6.1035156e-5,
        ] {
            let half = half::f16::from_f32(value);
            assert_eq!(widen_f16(half.to_bits()), half.to_f32(), "{value}");
        }
        assert_eq!(
            widen_f16(half::f16::from_f32(1.0e-6).to_bits()),
            0.0,
            "subnormals flush to zero"
        );
    }
}
