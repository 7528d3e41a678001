//! The matmul for a handful of rows (a search query), as a candle custom op.
//!
//! For a few rows, the weight is the whole cost: each of its values is used a few times
//! only, so it must stream from memory front to back. gemm's microkernel instead walks the
//! `[in, out]` weight one short column block at a time, `out` floats apart, landing on a
//! new page at every step. This op keeps a copy of the weight in panels of [`PANEL`]
//! columns, each panel contiguous (`[in, PANEL]`), and computes one panel for all rows at
//! a time, the panel's output rows (`rows * PANEL` floats) kept in L1 while every input
//! feature is added in: the weight is read once, in order. Above [`MAX_ROWS`] rows,
//! candle's matmul (gemm) is the faster one.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape, Tensor};

use super::fused_ops::f32_slice;
use super::simd::simd_dispatch;
use crate::Result;

/// Up to this many rows, [`matmul`] uses the streaming kernel.
pub(crate) const MAX_ROWS: usize = 24;
/// Output columns per panel: eight 512-bit vectors, loaded once per input feature.
const PANEL: usize = 128;
/// Below this many multiply-adds the panels are not split across two threads.
const PARALLEL_WORK: usize = 1 << 20;

/// A weight `[in, out]` laid out panel by panel: panel `p` holds columns
/// `p * PANEL..(p + 1) * PANEL` of every row, contiguous (`[in, PANEL]`, the last panel
/// zero-padded), so the kernel reads the whole weight front to back. Values are f16 bits.
#[derive(Debug, Clone)]
pub(crate) struct PanelWeight {
    values: Vec<u16>,
    inner: usize,
    out: usize,
}

impl PanelWeight {
    /// Re-lays a `[in, out]` weight (row-major values) into panels.
    pub(crate) fn new(w_t: &[f32], inner: usize, out: usize) -> Self {
        let panels = out.div_ceil(PANEL);
        let mut values = vec![0u16; panels * inner * PANEL];
        for p in 0..panels {
            let (from, to) = (p * PANEL, ((p + 1) * PANEL).min(out));
            for i in 0..inner {
                let at = (p * inner + i) * PANEL;
                for (half, value) in values[at..at + to - from]
                    .iter_mut()
                    .zip(&w_t[i * out + from..i * out + to])
                {
                    *half = half::f16::from_f32(*value).to_bits();
                }
            }
        }
        PanelWeight { values, inner, out }
    }
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
        let x = f32_slice(x, x_layout)?;
        let (rows, inner) = x_layout.shape().dims2()?;
        let (w, out) = (self.weight, self.weight.out);
        if inner != w.inner {
            return Err(candle_core::Error::Msg(format!(
                "matmul of [{rows}, {inner}] by [{}, {out}]",
                w.inner
            )));
        }
        let panels = out.div_ceil(PANEL);
        let panel_size = inner * PANEL;
        // Output panel-major, `[panel][row][PANEL]`, gathered into rows below.
        let y_panel = rows * PANEL;
        let mut y = vec![0f32; panels * y_panel];
        if rows * inner * out >= PARALLEL_WORK && panels >= 2 {
            let split = panels / 2;
            let (y_left, y_right) = y.split_at_mut(split * y_panel);
            let (w_left, w_right) = w.values.split_at(split * panel_size);
            rayon::join(
                || panel_product(x, w_left, inner, y_left),
                || panel_product(x, w_right, inner, y_right),
            );
        } else {
            panel_product(x, &w.values, inner, &mut y);
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

simd_dispatch! {
    /// `x W` for consecutive panels `w` (each `[in, PANEL]`) and `x` (`[rows, in]`), into
    /// `y` (`[panel][row][PANEL]`, zeroed).
    fn panel_product(x: &[f32], w: &[u16], inner: usize, y: &mut [f32]) {
        let rows = x.len() / inner;
        let mut wide = [0f32; PANEL];
        for (panel, y_panel) in w.chunks_exact(inner * PANEL).zip(y.chunks_exact_mut(rows * PANEL)) {
            let (y_rows, _) = y_panel.as_chunks_mut::<PANEL>();
            let (w_rows, _) = panel.as_chunks::<PANEL>();
            for (i, half_row) in w_rows.iter().enumerate() {
                for (out, half) in wide.iter_mut().zip(half_row) {
                    *out = widen_f16(*half);
                }
                let w_row = &wide;
                for (x_row, y_row) in x.chunks_exact(inner).zip(y_rows.iter_mut()) {
                    let xi = x_row[i];
                    for (acc, wv) in y_row.iter_mut().zip(w_row) {
                        *acc += xi * wv;
                    }
                }
            }
        }
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
        // 1000 output columns: a partial last panel and two thread halves.
        let (rows, inner, out) = (13, 96, 1000);
        let x: Vec<f32> = (0..rows * inner)
            .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
            .collect();
        let w: Vec<f32> = (0..inner * out)
            .map(|i| ((i * 104_729) % 97) as f32 / 48.0 - 1.0)
            .collect();
        let x = Tensor::from_vec(x, (rows, inner), &Device::Cpu)?;
        let w_t = Tensor::from_vec(w.clone(), (inner, out), &Device::Cpu)?;
        let panels = PanelWeight::new(&w, inner, out);
        let fast = x
            .apply_op1_no_bwd(&StreamingMatmul { weight: &panels })?
            .to_vec2::<f32>()?;
        let reference = x.matmul(&w_t)?.to_vec2::<f32>()?;
        // f16 weights keep 11 significant bits: sums of 96 products of size ~1 differ by
        // well under 0.05 from the f32 product.
        for (a, b) in fast.iter().flatten().zip(reference.iter().flatten()) {
            assert!((a - b).abs() < 5e-2, "{a} vs {b}");
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
