//! Candle custom ops that fuse the element-wise work after each matmul into one in-place
//! pass: bias + GELU after the feed-forward expansion, and bias + residual + layer norm at
//! the end of each sub-layer. They replace four to six allocating candle ops each.

use candle_core::{CpuStorage, InplaceOp1, InplaceOp2, Layout};

use super::kernels::{self, LayerNormParams};

/// The contiguous `f32` values of a tensor's storage.
pub(crate) fn f32_slice<'a>(
    storage: &'a CpuStorage,
    layout: &Layout,
) -> candle_core::Result<&'a [f32]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("fused op on a non-contiguous tensor".to_owned()))?;
    Ok(&storage.as_slice::<f32>()?[start..end])
}

/// The input of a matmul by a `[inner, out]` weight: its values and row count, or an
/// error when its rows are not `inner` wide.
pub(crate) fn matmul_input<'a>(
    x: &'a CpuStorage,
    layout: &Layout,
    inner: usize,
    out: usize,
) -> candle_core::Result<(&'a [f32], usize)> {
    let x = f32_slice(x, layout)?;
    let (rows, width) = layout.shape().dims2()?;
    if width != inner {
        return Err(candle_core::Error::Msg(format!(
            "matmul of [{rows}, {width}] by [{inner}, {out}]"
        )));
    }
    Ok((x, rows))
}

fn f32_slice_mut<'a>(
    storage: &'a mut CpuStorage,
    layout: &Layout,
) -> candle_core::Result<&'a mut [f32]> {
    let (start, end) = layout
        .contiguous_offsets()
        .ok_or_else(|| candle_core::Error::Msg("fused op on a non-contiguous tensor".to_owned()))?;
    match storage {
        CpuStorage::F32(values) => Ok(&mut values[start..end]),
        _ => Err(candle_core::Error::Msg(
            "fused op on a non-f32 tensor".to_owned(),
        )),
    }
}

fn check_width(values: usize, width: usize) -> candle_core::Result<()> {
    if width == 0 || !values.is_multiple_of(width) {
        return Err(candle_core::Error::Msg(format!(
            "{values} values are not rows of {width}"
        )));
    }
    Ok(())
}

/// `x = GELU(x + bias)`, in place, over rows of `bias.len()` values.
pub(crate) struct BiasGelu<'a> {
    pub(crate) bias: &'a [f32],
}

impl InplaceOp1 for BiasGelu<'_> {
    fn name(&self) -> &'static str {
        "bias-gelu"
    }

    fn cpu_fwd(&self, storage: &mut CpuStorage, layout: &Layout) -> candle_core::Result<()> {
        let rows = f32_slice_mut(storage, layout)?;
        check_width(rows.len(), self.bias.len())?;
        kernels::bias_gelu(rows, self.bias);
        Ok(())
    }
}

/// `x = LayerNorm(x + bias + residual)`, in place; the residual is the op's second input.
pub(crate) struct BiasResidualNorm<'a> {
    pub(crate) bias: &'a [f32],
    pub(crate) norm: &'a LayerNormParams,
}

impl InplaceOp2 for BiasResidualNorm<'_> {
    fn name(&self) -> &'static str {
        "bias-residual-layer-norm"
    }

    fn cpu_fwd(
        &self,
        storage: &mut CpuStorage,
        layout: &Layout,
        residual: &CpuStorage,
        residual_layout: &Layout,
    ) -> candle_core::Result<()> {
        let residual = f32_slice(residual, residual_layout)?;
        let rows = f32_slice_mut(storage, layout)?;
        check_width(rows.len(), self.bias.len())?;
        if residual.len() != rows.len() || self.norm.gamma.len() != self.bias.len() {
            return Err(candle_core::Error::Msg(
                "residual of another shape".to_owned(),
            ));
        }
        kernels::bias_residual_layer_norm(rows, residual, self.bias, self.norm);
        Ok(())
    }
}
