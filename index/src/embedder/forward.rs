//! The inference forward pass of BERT over a packed batch: embeddings, the encoder layers,
//! pooling.
//!
//! Every token of every text in the batch is one row of a `[tokens, hidden]` candle tensor:
//! the linear layers are candle matmuls over all rows at once (the `gemm` crate), and
//! everything between two matmuls is one fused in-place custom op (see [`super::fused_ops`]
//! and [`super::attention`]). No row is padding, so no work is wasted on it.

use candle_core::{Device, Tensor};

use super::attention::PackedAttention;
use super::fused_ops::{BiasGelu, BiasResidualNorm, f32_slice};
use super::kernels;
use super::pooling::mean_pool_normalized;
use super::small_matmul;
use super::weights::{BertWeights, EncoderLayer};
use crate::{Error, Result};

/// The unit-length sentence embedding of each token sequence (ids with `[CLS]`/`[SEP]`).
pub(crate) fn embed_sequences(
    weights: &BertWeights,
    sequences: &[&[u32]],
) -> Result<Vec<Vec<f32>>> {
    let hidden = weights.config.hidden_size;
    let seq_lens: Vec<usize> = sequences.iter().map(|ids| ids.len()).collect();
    let tokens: usize = seq_lens.iter().sum();
    if tokens == 0 {
        return Ok(vec![vec![0.0; hidden]; sequences.len()]);
    }
    let mut x = Tensor::from_vec(
        embeddings(weights, sequences)?,
        (tokens, hidden),
        &Device::Cpu,
    )?;
    for layer in &weights.layers {
        x = encoder_layer(layer, &x, &seq_lens, weights.config.num_attention_heads)?;
    }
    let (storage, layout) = x.storage_and_layout();
    let candle_core::Storage::Cpu(storage) = &*storage else {
        return Err(Error::ModelFormat(
            "the forward pass left the CPU".to_owned(),
        ));
    };
    Ok(mean_pool_normalized(
        f32_slice(storage, layout)?,
        hidden,
        &seq_lens,
    ))
}

/// Word + position + token-type embeddings of every token, layer-normed: `[tokens, hidden]`.
fn embeddings(weights: &BertWeights, sequences: &[&[u32]]) -> Result<Vec<f32>> {
    let hidden = weights.config.hidden_size;
    let mut out = Vec::with_capacity(sequences.iter().map(|ids| ids.len()).sum::<usize>() * hidden);
    for ids in sequences {
        if ids.len() > weights.config.max_position_embeddings {
            return Err(Error::ModelFormat(format!(
                "a sequence of {} tokens is too long",
                ids.len()
            )));
        }
        for (position, &id) in ids.iter().enumerate() {
            let id = id as usize;
            let word = weights
                .word_embeddings
                .get(id * hidden..(id + 1) * hidden)
                .ok_or_else(|| {
                    Error::ModelFormat(format!("token id {id} outside the vocabulary"))
                })?;
            let position = &weights.position_embeddings[position * hidden..(position + 1) * hidden];
            out.extend(
                word.iter()
                    .zip(position)
                    .zip(&weights.token_type_embedding)
                    .map(|((w, p), t)| w + p + t),
            );
        }
    }
    kernels::layer_norm(&mut out, &weights.embedding_norm);
    Ok(out)
}

/// One encoder layer: attention, then feed-forward, each closed by residual + layer norm.
fn encoder_layer(
    layer: &EncoderLayer,
    x: &Tensor,
    seq_lens: &[usize],
    heads: usize,
) -> Result<Tensor> {
    let query_value = layer.query_value.matmul(x)?;
    let keys_t = if x.dims()[0] <= small_matmul::MAX_ROWS {
        layer.key_t.matmul(x)?.t()?.contiguous()?
    } else {
        layer.key_weight.matmul(&x.t()?)?
    };
    let hidden = layer.key_weight.dims()[0];
    let (query_bias, value_bias) = layer.query_value.bias.split_at(hidden);
    let attention = PackedAttention {
        seq_lens,
        heads,
        query_bias,
        value_bias,
    };
    let context = query_value.apply_op2_no_bwd(&keys_t, &attention)?;
    drop((query_value, keys_t));
    let attended = layer.attention_out.matmul(&context)?;
    attended.inplace_op2(
        x,
        &BiasResidualNorm {
            bias: &layer.attention_out.bias,
            norm: &layer.attention_norm,
        },
    )?;
    let intermediate = layer.ff_in.matmul(&attended)?;
    intermediate.inplace_op1(&BiasGelu {
        bias: &layer.ff_in.bias,
    })?;
    let out = layer.ff_out.matmul(&intermediate)?;
    out.inplace_op2(
        &attended,
        &BiasResidualNorm {
            bias: &layer.ff_out.bias,
            norm: &layer.ff_norm,
        },
    )?;
    Ok(out)
}
