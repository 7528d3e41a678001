//! Multi-head self-attention over packed sequences, as a candle custom op.
//!
//! The texts of a batch are packed back to back with no padding: each sequence attends
//! only to its own tokens, which is exactly what the attention mask does in the padded
//! reference, minus the work on padding. The op reads two matmul outputs:
//!
//! - `qv`, `[tokens, 2 * hidden]`: the query and value projections, row per token;
//! - `keys_t`, `[hidden, tokens]`: the key projection computed transposed (`W_k X^T`), so
//!   the keys of a head are contiguous rows and no transpose is needed.
//!
//! Biases are exact without touching keys or values per element: a key bias adds the same
//! `q . b_k` to a query's every score, which softmax ignores; a value bias adds `b_v` to
//! every context vector, since the probabilities sum to one.
//!
//! Per head, the sequence's queries (biased and scaled) and its keys (feature by feature,
//! zero-padded to whole blocks) are copied into scratch buffers; values are read in place.
//! Scores and context vectors are then computed a tile of queries at a time, six rows with
//! AVX-512 and three with AVX2, by [`WIDTH`] keys or dimensions, with the partial sums in
//! registers and fused multiply-adds (`super::attention_kernels`); a plain loop computes
//! the same where the CPU has no AVX2 + FMA.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape};

use super::fused_ops::f32_slice;
use super::kernels::softmax;
use super::simd::simd_dispatch;

/// Attention of each packed sequence over itself.
pub(crate) struct PackedAttention<'a> {
    /// The token count of each sequence, in packing order.
    pub(crate) seq_lens: &'a [usize],
    /// The number of attention heads.
    pub(crate) heads: usize,
    /// Query biases (`hidden` values).
    pub(crate) query_bias: &'a [f32],
    /// Value biases (`hidden` values).
    pub(crate) value_bias: &'a [f32],
}

impl CustomOp2 for PackedAttention<'_> {
    fn name(&self) -> &'static str {
        "packed-attention"
    }

    fn cpu_fwd(
        &self,
        qv: &CpuStorage,
        qv_layout: &Layout,
        keys_t: &CpuStorage,
        keys_layout: &Layout,
    ) -> candle_core::Result<(CpuStorage, Shape)> {
        let qv = f32_slice(qv, qv_layout)?;
        let keys_t = f32_slice(keys_t, keys_layout)?;
        let (tokens, width) = qv_layout.shape().dims2()?;
        let hidden = self.query_bias.len();
        let fits = width == 2 * hidden
            && self.value_bias.len() == hidden
            && keys_layout.shape().dims2()? == (hidden, tokens)
            && hidden.is_multiple_of(self.heads)
            && (hidden / self.heads).is_multiple_of(WIDTH)
            && self.seq_lens.iter().sum::<usize>() == tokens;
        if !fits {
            return Err(candle_core::Error::Msg(
                "attention inputs of inconsistent shapes".to_owned(),
            ));
        }
        let mut out = vec![0f32; tokens * hidden];
        let mut scratch = Scratch::default();
        let mut start = 0;
        for &len in self.seq_lens {
            let seq = Sequence {
                qv,
                keys_t,
                tokens,
                start,
                len,
                hidden,
                dim: hidden / self.heads,
            };
            attend_sequence(
                &seq,
                self,
                &mut out[start * hidden..(start + len) * hidden],
                &mut scratch,
            );
            start += len;
        }
        Ok((CpuStorage::F32(out), Shape::from((tokens, hidden))))
    }
}

/// One sequence inside the packed inputs.
struct Sequence<'a> {
    qv: &'a [f32],
    keys_t: &'a [f32],
    /// Tokens in the whole batch: the row length of `keys_t`.
    tokens: usize,
    /// The sequence's first token in the batch.
    start: usize,
    /// Its token count.
    len: usize,
    hidden: usize,
    /// Head size.
    dim: usize,
}

impl Sequence<'_> {
    /// Row `c` of head `head`'s keys: this sequence's `len` values.
    #[inline(always)]
    fn keys(&self, head: usize, c: usize) -> &[f32] {
        let row = (head * self.dim + c) * self.tokens + self.start;
        &self.keys_t[row..row + self.len]
    }

    /// The packed batch from head `head`'s values of the sequence's first token on.
    #[inline(always)]
    fn values_from(&self, head: usize) -> &[f32] {
        &self.qv[self.start * 2 * self.hidden + self.hidden + head * self.dim..]
    }

    /// Token `i`'s query for head `head`.
    #[inline(always)]
    fn query(&self, head: usize, i: usize) -> &[f32] {
        let at = (self.start + i) * 2 * self.hidden + head * self.dim;
        &self.qv[at..at + self.dim]
    }
}

/// Buffers reused across heads and sequences.
#[derive(Default)]
struct Scratch {
    /// The head's queries, biased and scaled: `[len, dim]`.
    queries: Vec<f32>,
    /// Their rows of scores, then probabilities: `[rows, padded]`.
    scores: Vec<f32>,
    /// The head's keys, feature by feature, zero-padded to `padded` tokens: `[dim, padded]`.
    keys: Vec<f32>,
}

/// Keys per score block and head dimensions per context block: two 512-bit vectors.
pub(crate) const WIDTH: usize = 32;

/// Query rows per tile on a CPU with AVX-512: two 16-lane sums per row, 12 registers of
/// sums in all. With 8-lane AVX2 registers a row takes four, so tiles have 3 rows there.
const MOST_ROWS: usize = 6;

/// How many rows the next tile takes, of `left` rows, at most `most` ([`MOST_ROWS`] or
/// 3): `most`, 3, 2 or 1.
fn tile_rows(left: usize, most: usize) -> usize {
    match left {
        left if left >= most => most,
        3.. => 3,
        left => left,
    }
}

simd_dispatch! {
    /// Self-attention of one sequence; `out` receives its `[len, hidden]` context vectors.
    fn attend_sequence(seq: &Sequence<'_>, op: &PackedAttention<'_>, out: &mut [f32], scratch: &mut Scratch) {
        #[cfg(target_arch = "x86_64")]
        let most = if super::simd::has_avx512() { MOST_ROWS } else { 3 };
        #[cfg(not(target_arch = "x86_64"))]
        let most = 3;
        let (dim, len) = (seq.dim, seq.len);
        if len == 0 {
            return;
        }
        let padded = len.div_ceil(WIDTH) * WIDTH;
        let scale = 1.0 / (dim as f32).sqrt();
        scratch.queries.resize(len * dim, 0.0);
        scratch.scores.resize(MOST_ROWS * padded, 0.0);
        scratch.keys.resize(dim * padded, 0.0);
        for index in 0..op.heads {
            for (c, keys) in scratch.keys.chunks_exact_mut(padded).enumerate() {
                keys[..len].copy_from_slice(seq.keys(index, c));
                keys[len..].fill(0.0);
            }
            let column = index * dim;
            let bias = &op.query_bias[column..column + dim];
            for (i, query) in scratch.queries.chunks_exact_mut(dim).enumerate() {
                for ((q, x), b) in query.iter_mut().zip(seq.query(index, i)).zip(bias) {
                    *q = (x + b) * scale;
                }
            }
            let head = Head {
                dim,
                len,
                padded,
                values: seq.values_from(index),
                stride: 2 * seq.hidden,
                value_bias: &op.value_bias[column..column + dim],
                column,
                hidden: seq.hidden,
            };
            let mut first = 0;
            while first < len {
                let rows = tile_rows(len - first, most);
                let out_rows = &mut out[first * seq.hidden..(first + rows) * seq.hidden];
                match rows {
                    MOST_ROWS => tile::<MOST_ROWS>(&head, first, scratch, out_rows),
                    3 => tile::<3>(&head, first, scratch, out_rows),
                    2 => tile::<2>(&head, first, scratch, out_rows),
                    _ => tile::<1>(&head, first, scratch, out_rows),
                }
                first += rows;
            }
        }
    }
}

/// One head of one sequence, its queries and keys copied into the scratch buffers.
struct Head<'a> {
    /// Head size.
    dim: usize,
    /// Tokens in the sequence.
    len: usize,
    /// `len` rounded up to whole [`WIDTH`] blocks.
    padded: usize,
    /// The packed batch from the head's values of the sequence's first token on: token
    /// `j`'s at `j * stride`.
    values: &'a [f32],
    /// The distance between two tokens' values.
    stride: usize,
    /// The head's value biases.
    value_bias: &'a [f32],
    /// The head's first column in a row of the output.
    column: usize,
    /// Output row length.
    hidden: usize,
}

/// Attention of the `R` queries from `first` (in `scratch.queries`) over the head:
/// scores, softmax, and context vectors plus the value bias into the head's columns of
/// `out` (`R` rows of `hidden`).
#[inline(always)]
fn tile<const R: usize>(head: &Head<'_>, first: usize, scratch: &mut Scratch, out: &mut [f32]) {
    let (dim, len, padded) = (head.dim, head.len, head.padded);
    let queries: [&[f32]; R] = std::array::from_fn(|r| {
        let at = (first + r) * dim;
        &scratch.queries[at..at + dim]
    });
    for at in (0..padded).step_by(WIDTH) {
        let sums = weighted_sums::<R>(queries, &scratch.keys, padded, at);
        for (row, sums) in scratch.scores.chunks_exact_mut(padded).zip(&sums) {
            row[at..at + WIDTH].copy_from_slice(sums);
        }
    }
    for row in scratch.scores.chunks_exact_mut(padded).take(R) {
        softmax(&mut row[..len]);
    }
    let probabilities: [&[f32]; R] =
        std::array::from_fn(|r| &scratch.scores[r * padded..r * padded + len]);
    for block in (0..dim).step_by(WIDTH) {
        let sums = weighted_sums::<R>(probabilities, head.values, head.stride, block);
        let columns = head.column + block..head.column + block + WIDTH;
        for (row, sums) in out.chunks_exact_mut(head.hidden).zip(&sums) {
            for ((o, s), b) in row[columns.clone()]
                .iter_mut()
                .zip(sums)
                .zip(&head.value_bias[block..block + WIDTH])
            {
                *o = s + b;
            }
        }
    }
}

/// `R` rows of weighted sums over [`WIDTH`] columns: row `r` is `Σ_i weights[r][i] *
/// source[i * stride + at..][..WIDTH]`, the x86 kernel where there is one, else a plain
/// loop. Scores are this with a query's features as weights over the keys (`[dim,
/// padded]`, stride `padded`, `at` the first key); context sums, with a query's
/// probabilities as weights over the values (token `j`'s at `j * stride`, `at` the first
/// head dimension).
#[inline(always)]
fn weighted_sums<const R: usize>(
    weights: [&[f32]; R],
    source: &[f32],
    stride: usize,
    at: usize,
) -> [[f32; WIDTH]; R] {
    #[cfg(target_arch = "x86_64")]
    if let Some(sums) = super::attention_kernels::weighted_sums::<R>(weights, source, stride, at) {
        return sums;
    }
    let mut acc = [[0f32; WIDTH]; R];
    for (acc, weights) in acc.iter_mut().zip(weights) {
        for (i, w) in weights.iter().enumerate() {
            for (a, v) in acc.iter_mut().zip(block(source, i * stride + at)) {
                *a += w * v;
            }
        }
    }
    acc
}

/// The [`WIDTH`] values at `at` of `values`, zeros past its end: a whole array, so that
/// the loops over it have a constant length and vectorise.
#[inline(always)]
pub(crate) fn block(values: &[f32], at: usize) -> &[f32; WIDTH] {
    values
        .get(at..)
        .and_then(|rest| rest.first_chunk())
        .unwrap_or(&[0.0; WIDTH])
}

#[cfg(test)]
mod tests {
    use candle_core::{Device, Tensor};

    use super::*;

    fn values(count: usize, seed: usize) -> Vec<f32> {
        (0..count)
            .map(|i| ((i * 7919 + seed * 104_729) % 211) as f32 / 105.0 - 1.0)
            .collect()
    }

    /// Attention of each sequence by the textbook formula, in f64.
    fn reference(op: &PackedAttention<'_>, qv: &[f32], keys_t: &[f32]) -> Vec<f32> {
        let hidden = op.query_bias.len();
        let (tokens, dim) = (qv.len() / (2 * hidden), hidden / op.heads);
        let mut out = vec![0f32; tokens * hidden];
        let mut start = 0;
        for &len in op.seq_lens {
            for head in 0..op.heads {
                for i in start..start + len {
                    let query = |c: usize| {
                        let h = head * dim + c;
                        f64::from(qv[i * 2 * hidden + h] + op.query_bias[h])
                    };
                    let scores: Vec<f64> = (start..start + len)
                        .map(|j| {
                            let key = |c: usize| f64::from(keys_t[(head * dim + c) * tokens + j]);
                            (0..dim).map(|c| query(c) * key(c)).sum::<f64>() / (dim as f64).sqrt()
                        })
                        .collect();
                    let max = scores.iter().copied().fold(f64::MIN, f64::max);
                    let weights: Vec<f64> = scores.iter().map(|s| (s - max).exp()).collect();
                    let total: f64 = weights.iter().sum();
                    for c in 0..dim {
                        let h = head * dim + c;
                        let context: f64 = (start..start + len)
                            .zip(&weights)
                            .map(|(j, w)| w / total * f64::from(qv[j * 2 * hidden + hidden + h]))
                            .sum();
                        out[i * hidden + h] = (context + f64::from(op.value_bias[h])) as f32;
                    }
                }
            }
            start += len;
        }
        out
    }

    #[test]
    fn packed_attention_matches_the_textbook_formula_for_every_tile_shape()
    -> candle_core::Result<()> {
        // Lengths that fill whole tiles, leave 1 to 5 rows over, and end inside a block of
        // keys or exactly on one; and an empty sequence.
        let seq_lens = [1, 2, 3, 5, 0, 7, 13, 32, 33, 70];
        let (heads, hidden) = (2, 2 * WIDTH);
        let tokens: usize = seq_lens.iter().sum();
        let qv = values(tokens * 2 * hidden, 1);
        let keys_t = values(hidden * tokens, 2);
        let (query_bias, value_bias) = (values(hidden, 3), values(hidden, 4));
        let op = PackedAttention {
            seq_lens: &seq_lens,
            heads,
            query_bias: &query_bias,
            value_bias: &value_bias,
        };
        let want = reference(&op, &qv, &keys_t);
        let qv_tensor = Tensor::from_vec(qv, (tokens, 2 * hidden), &Device::Cpu)?;
        let keys_tensor = Tensor::from_vec(keys_t, (hidden, tokens), &Device::Cpu)?;
        let got = qv_tensor
            .apply_op2_no_bwd(&keys_tensor, &op)?
            .flatten_all()?
            .to_vec1::<f32>()?;
        assert_eq!(got.len(), want.len());
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            assert!((g - w).abs() < 1e-5, "value {i}: {g} against {w}");
        }
        Ok(())
    }
}
