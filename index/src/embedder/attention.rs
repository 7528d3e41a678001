//! Multi-head self-attention over packed sequences, as a candle custom op.
//!
//! The texts of a batch are packed back to back, `[tokens, 3 * hidden]` rows of query, key
//! and value projections, with no padding: each sequence attends only to its own tokens,
//! which is exactly what the attention mask does in the padded reference, minus the work
//! on padding. The projection biases are added here, and one scratch buffer serves every
//! head, so the op allocates only its output.

use candle_core::{CpuStorage, CustomOp1, Layout, Shape};

use super::fused_ops::f32_slice;
use super::kernels::softmax;
use super::simd::simd_dispatch;

/// Attention of each packed sequence over itself.
pub(crate) struct PackedAttention<'a> {
    /// The token count of each sequence, in packing order.
    pub(crate) seq_lens: &'a [usize],
    /// The number of attention heads.
    pub(crate) heads: usize,
    /// Query, key and value biases, concatenated (`3 * hidden` values).
    pub(crate) bias: &'a [f32],
}

impl CustomOp1 for PackedAttention<'_> {
    fn name(&self) -> &'static str {
        "packed-attention"
    }

    fn cpu_fwd(&self, storage: &CpuStorage, layout: &Layout) -> candle_core::Result<(CpuStorage, Shape)> {
        let qkv = f32_slice(storage, layout)?;
        let (tokens, width) = layout.shape().dims2()?;
        let hidden = width / 3;
        if width != self.bias.len() || hidden % self.heads != 0 || (hidden / self.heads) % LANES != 0 {
            return Err(candle_core::Error::Msg("attention input of the wrong width".to_owned()));
        }
        if self.seq_lens.iter().sum::<usize>() != tokens {
            return Err(candle_core::Error::Msg("sequence lengths do not add up".to_owned()));
        }
        let mut out = vec![0f32; tokens * hidden];
        let mut scratch = Scratch::default();
        let mut start = 0;
        for &len in self.seq_lens {
            let end = start + len;
            attend_sequence(
                &qkv[start * width..end * width],
                &mut out[start * hidden..end * hidden],
                self.heads,
                self.bias,
                &mut scratch,
            );
            start = end;
        }
        Ok((CpuStorage::F32(out), Shape::from((tokens, hidden))))
    }
}

/// Keys per score block and head-dimension values per context block: one 512-bit vector.
const LANES: usize = 16;
/// Query rows computed together, sharing every key and value load.
const ROWS: usize = 4;

/// Buffers reused across heads and sequences.
#[derive(Default)]
struct Scratch {
    /// Keys of one head, transposed and zero-padded: `[head_dim, padded_len]`.
    keys_t: Vec<f32>,
    /// Values of one head: `[len, head_dim]`.
    values: Vec<f32>,
    /// Up to [`ROWS`] queries, scaled: `[ROWS, head_dim]`.
    queries: Vec<f32>,
    /// Their rows of scores, then probabilities: `[ROWS, padded_len]`.
    scores: Vec<f32>,
}

simd_dispatch! {
    /// Self-attention of one sequence: `qkv` holds its `[len, 3 * hidden]` projections
    /// (without bias), `out` receives its `[len, hidden]` context vectors. The head size
    /// must be a multiple of [`LANES`] (checked when the weights are loaded).
    fn attend_sequence(qkv: &[f32], out: &mut [f32], heads: usize, bias: &[f32], scratch: &mut Scratch) {
        let width = bias.len();
        let hidden = width / 3;
        let dim = hidden / heads;
        let len = qkv.len() / width;
        let padded = len.div_ceil(LANES) * LANES;
        let scale = 1.0 / (dim as f32).sqrt();
        scratch.keys_t.clear();
        scratch.keys_t.resize(dim * padded, 0.0);
        scratch.values.resize(len * dim, 0.0);
        scratch.queries.resize(ROWS * dim, 0.0);
        scratch.scores.resize(ROWS * padded, 0.0);
        for head in 0..heads {
            let q_at = head * dim;
            let k_at = hidden + head * dim;
            let v_at = 2 * hidden + head * dim;
            for (j, row) in qkv.chunks_exact(width).enumerate() {
                for c in 0..dim {
                    scratch.keys_t[c * padded + j] = row[k_at + c] + bias[k_at + c];
                }
                let values = &mut scratch.values[j * dim..(j + 1) * dim];
                for ((v, x), b) in values.iter_mut().zip(&row[v_at..v_at + dim]).zip(&bias[v_at..v_at + dim]) {
                    *v = x + b;
                }
            }
            let mut first = 0;
            while first < len {
                let rows = (len - first).min(ROWS);
                for r in 0..rows {
                    let row = &qkv[(first + r) * width + q_at..(first + r) * width + q_at + dim];
                    let query = &mut scratch.queries[r * dim..(r + 1) * dim];
                    for ((q, x), b) in query.iter_mut().zip(row).zip(&bias[q_at..q_at + dim]) {
                        *q = (x + b) * scale;
                    }
                }
                if rows == ROWS {
                    scores_block::<ROWS>(scratch, dim, padded);
                } else {
                    for r in 0..rows {
                        scores_row(scratch, r, dim, padded);
                    }
                }
                for r in 0..rows {
                    softmax(&mut scratch.scores[r * padded..r * padded + len]);
                }
                let out_rows = &mut out[first * hidden..(first + rows) * hidden];
                let shape = ContextShape { hidden, q_at, dim, len, padded };
                if rows == ROWS {
                    context_block::<ROWS>(&scratch.values, &scratch.scores, out_rows, &shape);
                } else {
                    for (r, out_row) in out_rows.chunks_exact_mut(hidden).enumerate() {
                        let scores = &scratch.scores[r * padded..(r + 1) * padded];
                        context_block::<1>(&scratch.values, scores, out_row, &shape);
                    }
                }
                first += rows;
            }
        }
    }
}

/// Scores of `R` queries against every key, [`LANES`] keys at a time, kept in registers.
#[inline(always)]
fn scores_block<const R: usize>(scratch: &mut Scratch, dim: usize, padded: usize) {
    let blocks = padded / LANES;
    let (keys, _) = scratch.keys_t.as_chunks::<LANES>();
    for block in 0..blocks {
        let mut acc = [[0f32; LANES]; R];
        for c in 0..dim {
            let k = &keys[c * blocks + block];
            for (r, acc) in acc.iter_mut().enumerate() {
                let q = scratch.queries[r * dim + c];
                for (a, k) in acc.iter_mut().zip(k) {
                    *a += q * k;
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            scratch.scores[r * padded + block * LANES..r * padded + (block + 1) * LANES].copy_from_slice(acc);
        }
    }
}

/// Scores of query `r` alone.
#[inline(always)]
fn scores_row(scratch: &mut Scratch, r: usize, dim: usize, padded: usize) {
    let blocks = padded / LANES;
    let (keys, _) = scratch.keys_t.as_chunks::<LANES>();
    for block in 0..blocks {
        let mut acc = [0f32; LANES];
        for c in 0..dim {
            let q = scratch.queries[r * dim + c];
            for (a, k) in acc.iter_mut().zip(&keys[c * blocks + block]) {
                *a += q * k;
            }
        }
        scratch.scores[r * padded + block * LANES..r * padded + (block + 1) * LANES].copy_from_slice(&acc);
    }
}

/// Where a head's context vectors go and how big its buffers are.
struct ContextShape {
    /// Width of an output row.
    hidden: usize,
    /// First column of the head in an output row.
    q_at: usize,
    /// Head size.
    dim: usize,
    /// Tokens in the sequence.
    len: usize,
    /// Length of a score row.
    padded: usize,
}

/// Context vectors of `R` queries: probability-weighted sums of `values` (`[len, dim]`),
/// [`LANES`] dimensions at a time, written to the head's columns of `out` (`R` rows).
#[inline(always)]
fn context_block<const R: usize>(values: &[f32], scores: &[f32], out: &mut [f32], shape: &ContextShape) {
    let blocks = shape.dim / LANES;
    let (values, _) = values.as_chunks::<LANES>();
    for block in 0..blocks {
        let mut acc = [[0f32; LANES]; R];
        for j in 0..shape.len {
            let v = &values[j * blocks + block];
            for (r, acc) in acc.iter_mut().enumerate() {
                let p = scores[r * shape.padded + j];
                for (a, v) in acc.iter_mut().zip(v) {
                    *a += p * v;
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let at = r * shape.hidden + shape.q_at + block * LANES;
            out[at..at + LANES].copy_from_slice(acc);
        }
    }
}
