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
    if seq_lens.iter().sum::<usize>() == 0 {
        return Ok(vec![vec![0.0; hidden]; sequences.len()]);
    }
    let x = encode(weights, sequences, &seq_lens, None)?;
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

/// The last hidden states of the packed `sequences` (`[tokens, hidden]`). `inputs`, when
/// given, receives the inputs of every layer's linear layers, four per layer in the order
/// of [`LayerInputs`].
fn encode(
    weights: &BertWeights,
    sequences: &[&[u32]],
    seq_lens: &[usize],
    mut inputs: Option<&mut Vec<Tensor>>,
) -> Result<Tensor> {
    let hidden = weights.config.hidden_size;
    let tokens: usize = seq_lens.iter().sum();
    let mut x = Tensor::from_vec(
        embeddings(weights, sequences)?,
        (tokens, hidden),
        &Device::Cpu,
    )?;
    for layer in &weights.layers {
        let heads = weights.config.num_attention_heads;
        x = encoder_layer(layer, &x, seq_lens, heads, inputs.as_deref_mut())?;
    }
    Ok(x)
}

/// The largest magnitude of each input feature of each linear layer's input, over
/// `sequences`: per layer, those of [`LayerInputs`].
pub(crate) fn input_ranges(
    weights: &BertWeights,
    sequences: &[&[u32]],
) -> Result<Vec<LayerInputs<Vec<f32>>>> {
    let seq_lens: Vec<usize> = sequences.iter().map(|ids| ids.len()).collect();
    let mut inputs = Vec::with_capacity(4 * weights.layers.len());
    encode(weights, sequences, &seq_lens, Some(&mut inputs))?;
    let maxima =
        |input: &Tensor| -> Result<Vec<f32>> { Ok(input.abs()?.max(0)?.to_vec1::<f32>()?) };
    inputs
        .chunks_exact(4)
        .map(|layer| {
            Ok(LayerInputs {
                attention_in: maxima(&layer[0])?,
                attention_out: maxima(&layer[1])?,
                ff_in: maxima(&layer[2])?,
                ff_out: maxima(&layer[3])?,
            })
        })
        .collect()
}

/// Something about each distinct input of an encoder layer's linear layers.
#[derive(Debug, Clone)]
pub(crate) struct LayerInputs<T> {
    /// The layer's input, which the query, key and value projections read.
    pub(crate) attention_in: T,
    /// The attention's context vectors.
    pub(crate) attention_out: T,
    /// The attention block's output, which the feed-forward expansion reads.
    pub(crate) ff_in: T,
    /// The feed-forward activations, which its projection back reads.
    pub(crate) ff_out: T,
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
/// `inputs`, when given, receives the four inputs of its linear layers, in the order of
/// [`LayerInputs`].
fn encoder_layer(
    layer: &EncoderLayer,
    x: &Tensor,
    seq_lens: &[usize],
    heads: usize,
    mut inputs: Option<&mut Vec<Tensor>>,
) -> Result<Tensor> {
    let mut keep = |input: &Tensor| {
        if let Some(inputs) = inputs.as_mut() {
            inputs.push(input.clone());
        }
    };
    keep(x);
    let query_value = layer.query_value.matmul(x)?;
    let keys_t = if x.dims()[0] <= small_matmul::MAX_ROWS || layer.key_t.int8.is_some() {
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
    keep(&context);
    let attended = layer.attention_out.matmul(&context)?;
    attended.inplace_op2(
        x,
        &BiasResidualNorm {
            bias: &layer.attention_out.bias,
            norm: &layer.attention_norm,
        },
    )?;
    keep(&attended);
    let intermediate = layer.ff_in.matmul(&attended)?;
    intermediate.inplace_op1(&BiasGelu {
        bias: &layer.ff_in.bias,
    })?;
    keep(&intermediate);
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
