//! The BERT weights, loaded from `model.safetensors` into the layout the forward pass wants.
//!
//! Linear layers keep their weight as a candle [`Tensor`] transposed once at load time to
//! `[in, out]`, so every matmul reads it row-major; the query and value projections are
//! concatenated into one `[hidden, 2 * hidden]` matrix, and the key projection stays
//! `[out, in]` to compute the keys transposed.
//! With [`Precision::Int8`], each linear layer also keeps an int8 copy of its weight.
//! Biases, layer-norm parameters and the embedding tables are plain `Vec<f32>`: the fused
//! kernels read them directly.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{DType, Device, Tensor};
use serde::Deserialize;

use super::Precision;
use super::attention::WIDTH;
use super::forward::LayerInputs;
use super::int8_matmul::{Int8Matmul, Int8Weight};
use super::kernels::LayerNormParams;
use super::small_matmul::{self, PanelWeight};
use crate::{Error, Result};

/// The parts of `config.json` the forward pass uses.
#[derive(Debug, Clone, Deserialize)]
pub(crate) struct BertConfig {
    pub(crate) hidden_size: usize,
    pub(crate) num_attention_heads: usize,
    pub(crate) num_hidden_layers: usize,
    pub(crate) intermediate_size: usize,
    pub(crate) max_position_embeddings: usize,
    pub(crate) vocab_size: usize,
    pub(crate) layer_norm_eps: f64,
    pub(crate) hidden_act: String,
}

impl BertConfig {
    /// Reads and checks `config.json`.
    pub(crate) fn from_file(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(Error::file(path))?;
        let config: BertConfig = serde_json::from_str(&text)
            .map_err(|err| Error::ModelFormat(format!("{}: {err}", path.display())))?;
        if config.hidden_act != "gelu" {
            return Err(Error::ModelFormat(format!(
                "unsupported activation {}",
                config.hidden_act
            )));
        }
        let heads = config.num_attention_heads;
        if heads == 0
            || !config.hidden_size.is_multiple_of(heads)
            || !(config.hidden_size / heads).is_multiple_of(WIDTH)
        {
            return Err(Error::ModelFormat(format!(
                "unsupported attention shape: {heads} heads over {} dimensions",
                config.hidden_size
            )));
        }
        Ok(config)
    }
}

/// A linear layer: `y = x W^T + b`, with `W^T` stored.
#[derive(Debug, Clone)]
pub(crate) struct Linear {
    /// `W^T`, `[in, out]`, contiguous.
    pub(crate) weight_t: Tensor,
    /// `b`, `out` values.
    pub(crate) bias: Vec<f32>,
    /// `W^T` again, laid out for the few-rows kernel.
    pub(crate) panels: PanelWeight,
    /// `W^T` quantised, for more rows than the few-rows kernel takes, with
    /// [`Precision::Int8`].
    pub(crate) int8: Option<Int8Weight>,
}

impl Linear {
    fn new(weight_t: Tensor, bias: Vec<f32>) -> Result<Self> {
        let (inner, out) = weight_t.dims2()?;
        let panels = PanelWeight::new(&weight_t.flatten_all()?.to_vec1::<f32>()?, inner, out);
        Ok(Linear {
            weight_t,
            bias,
            panels,
            int8: None,
        })
    }

    /// `x W^T` (no bias): in int8 when quantised and `x` has more rows than the few-rows
    /// kernel takes.
    pub(crate) fn matmul(&self, x: &Tensor) -> Result<Tensor> {
        match &self.int8 {
            Some(weight) if x.dims()[0] > small_matmul::MAX_ROWS => {
                Ok(x.apply_op1_no_bwd(&Int8Matmul { weight })?)
            }
            _ => small_matmul::matmul(x, &self.weight_t, &self.panels),
        }
    }

    /// Quantises the weight for [`Precision::Int8`], or drops the quantised copy.
    fn set_precision(&mut self, precision: Precision, input_ranges: Option<&[f32]>) -> Result<()> {
        self.int8 = match precision {
            Precision::F32 => None,
            Precision::Int8 => {
                let (inner, out) = self.weight_t.dims2()?;
                let values = self.weight_t.flatten_all()?.to_vec1::<f32>()?;
                Some(Int8Weight::new(&values, inner, out, input_ranges))
            }
        };
        Ok(())
    }
}

/// One transformer encoder layer.
#[derive(Debug, Clone)]
pub(crate) struct EncoderLayer {
    /// Query and value projections, concatenated on the output side.
    pub(crate) query_value: Linear,
    /// Key projection weight `W_k`, `[out, in]` as stored: `W_k X^T` gives the keys
    /// transposed. Its bias is not needed (see [`super::attention`]).
    pub(crate) key_weight: Tensor,
    /// `W_k^T`, `[in, out]`: the few-rows path computes the keys row by row, then
    /// transposes them.
    pub(crate) key_t: Linear,
    /// Projection of the attention output.
    pub(crate) attention_out: Linear,
    /// Layer norm after the attention block.
    pub(crate) attention_norm: LayerNormParams,
    /// Feed-forward expansion (`hidden -> intermediate`), followed by GELU.
    pub(crate) ff_in: Linear,
    /// Feed-forward projection back (`intermediate -> hidden`).
    pub(crate) ff_out: Linear,
    /// Layer norm after the feed-forward block.
    pub(crate) ff_norm: LayerNormParams,
}

/// Every weight of the model.
#[derive(Debug, Clone)]
pub(crate) struct BertWeights {
    pub(crate) config: BertConfig,
    /// `[vocab, hidden]` word embeddings.
    pub(crate) word_embeddings: Vec<f32>,
    /// `[max_positions, hidden]` position embeddings.
    pub(crate) position_embeddings: Vec<f32>,
    /// Token-type 0 embedding (every text is a single segment).
    pub(crate) token_type_embedding: Vec<f32>,
    /// Layer norm of the embeddings.
    pub(crate) embedding_norm: LayerNormParams,
    /// The encoder layers, in order.
    pub(crate) layers: Vec<EncoderLayer>,
}

impl BertWeights {
    /// Sets the arithmetic of every linear layer; `Int8` takes the largest magnitude of
    /// each layer's input features (from [`super::forward::input_ranges`]).
    pub(crate) fn set_precision(
        &mut self,
        precision: Precision,
        ranges: &[LayerInputs<Vec<f32>>],
    ) -> Result<()> {
        for (l, layer) in self.layers.iter_mut().enumerate() {
            let range = ranges.get(l);
            let input = |pick: fn(&LayerInputs<Vec<f32>>) -> &Vec<f32>| {
                range.map(|range| pick(range).as_slice())
            };
            let attention_in = input(|range| &range.attention_in);
            layer.query_value.set_precision(precision, attention_in)?;
            layer.key_t.set_precision(precision, attention_in)?;
            let attention_out = input(|range| &range.attention_out);
            layer
                .attention_out
                .set_precision(precision, attention_out)?;
            layer
                .ff_in
                .set_precision(precision, input(|range| &range.ff_in))?;
            layer
                .ff_out
                .set_precision(precision, input(|range| &range.ff_out))?;
        }
        Ok(())
    }

    /// The arithmetic of the linear layers.
    pub(crate) fn precision(&self) -> Precision {
        match self
            .layers
            .first()
            .and_then(|layer| layer.ff_in.int8.as_ref())
        {
            Some(_) => Precision::Int8,
            None => Precision::F32,
        }
    }

    /// Loads `model.safetensors` and checks every shape against the configuration.
    pub(crate) fn load(path: &Path, config: BertConfig) -> Result<Self> {
        let tensors = candle_core::safetensors::load(path, &Device::Cpu)?;
        let store = Store {
            tensors,
            config: &config,
        };
        let hidden = config.hidden_size;
        let word_embeddings = store.vec(
            "embeddings.word_embeddings.weight",
            &[config.vocab_size, hidden],
        )?;
        let position_embeddings = store.vec(
            "embeddings.position_embeddings.weight",
            &[config.max_position_embeddings, hidden],
        )?;
        let token_types = store.tensor("embeddings.token_type_embeddings.weight")?;
        let token_type_embedding = token_types.get(0)?.to_dtype(DType::F32)?.to_vec1::<f32>()?;
        if token_type_embedding.len() != hidden {
            return Err(Error::ModelFormat(
                "token type embedding of the wrong width".to_owned(),
            ));
        }
        let embedding_norm = store.layer_norm("embeddings.LayerNorm")?;
        let layers = (0..config.num_hidden_layers)
            .map(|i| store.encoder_layer(&format!("encoder.layer.{i}")))
            .collect::<Result<Vec<_>>>()?;
        Ok(BertWeights {
            word_embeddings,
            position_embeddings,
            token_type_embedding,
            embedding_norm,
            layers,
            config,
        })
    }
}

/// The loaded tensors, looked up by name with shape checks.
struct Store<'a> {
    tensors: HashMap<String, Tensor>,
    config: &'a BertConfig,
}

impl Store<'_> {
    fn tensor(&self, name: &str) -> Result<Tensor> {
        let tensor = self
            .tensors
            .get(name)
            .ok_or_else(|| Error::ModelFormat(format!("missing tensor {name}")))?;
        Ok(tensor.to_dtype(DType::F32)?)
    }

    fn checked(&self, name: &str, dims: &[usize]) -> Result<Tensor> {
        let tensor = self.tensor(name)?;
        if tensor.dims() != dims {
            return Err(Error::ModelFormat(format!(
                "tensor {name} has shape {:?}, expected {dims:?}",
                tensor.dims()
            )));
        }
        Ok(tensor)
    }

    fn vec(&self, name: &str, dims: &[usize]) -> Result<Vec<f32>> {
        Ok(self.checked(name, dims)?.flatten_all()?.to_vec1::<f32>()?)
    }

    fn layer_norm(&self, prefix: &str) -> Result<LayerNormParams> {
        let hidden = self.config.hidden_size;
        Ok(LayerNormParams {
            gamma: self.vec(&format!("{prefix}.weight"), &[hidden])?,
            beta: self.vec(&format!("{prefix}.bias"), &[hidden])?,
            eps: self.config.layer_norm_eps as f32,
        })
    }

    /// The linear layers `names` (each `[out_i, in]`), stacked on the output side.
    fn linear(&self, names: &[String], input: usize, output: usize) -> Result<Linear> {
        let weights = names
            .iter()
            .map(|name| self.checked(&format!("{name}.weight"), &[output, input]))
            .collect::<Result<Vec<_>>>()?;
        let weight = Tensor::cat(&weights, 0)?;
        let mut bias = Vec::with_capacity(output * names.len());
        for name in names {
            bias.extend(self.vec(&format!("{name}.bias"), &[output])?);
        }
        Linear::new(weight.t()?.contiguous()?, bias)
    }

    fn encoder_layer(&self, prefix: &str) -> Result<EncoderLayer> {
        let hidden = self.config.hidden_size;
        let inter = self.config.intermediate_size;
        let qv_names: Vec<String> = ["query", "value"]
            .iter()
            .map(|p| format!("{prefix}.attention.self.{p}"))
            .collect();
        Ok(EncoderLayer {
            query_value: self.linear(&qv_names, hidden, hidden)?,
            key_weight: self.checked(
                &format!("{prefix}.attention.self.key.weight"),
                &[hidden, hidden],
            )?,
            key_t: Linear::new(
                self.checked(
                    &format!("{prefix}.attention.self.key.weight"),
                    &[hidden, hidden],
                )?
                .t()?
                .contiguous()?,
                Vec::new(),
            )?,
            attention_out: self.linear(
                &[format!("{prefix}.attention.output.dense")],
                hidden,
                hidden,
            )?,
            attention_norm: self.layer_norm(&format!("{prefix}.attention.output.LayerNorm"))?,
            ff_in: self.linear(&[format!("{prefix}.intermediate.dense")], hidden, inter)?,
            ff_out: self.linear(&[format!("{prefix}.output.dense")], inter, hidden)?,
            ff_norm: self.layer_norm(&format!("{prefix}.output.LayerNorm"))?,
        })
    }
}
