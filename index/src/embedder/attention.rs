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
//! Scores and context vectors are computed [`ROWS`] queries at a time, [`LANES`] keys or
//! dimensions per vector, with the partial sums held in registers.

use candle_core::{CpuStorage, CustomOp2, Layout, Shape};

use super::fused_ops::f32_slice;
use super::kernels::softmax;
use super::simd::simd_dispatch;

/// Keys per score block and head dimensions per context block: one 512-bit vector.
pub(crate) const LANES: usize = 16;
/// Query rows computed together, sharing every key and value load.
const ROWS: usize = 4;

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
            && (hidden / self.heads).is_multiple_of(LANES)
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

    /// Token `j`'s values for head `head`.
    #[inline(always)]
    fn values(&self, head: usize, j: usize) -> &[f32] {
        let at = (self.start + j) * 2 * self.hidden + self.hidden + head * self.dim;
        &self.qv[at..at + self.dim]
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
    /// Up to [`ROWS`] queries, biased and scaled: `[ROWS, dim]`.
    queries: Vec<f32>,
    /// Their rows of scores, then probabilities: `[ROWS, padded_len]`.
    scores: Vec<f32>,
    /// The last, partial block of keys, zero-padded: `[dim, LANES]`.
    tail_keys: Vec<f32>,
}

simd_dispatch! {
    /// Self-attention of one sequence; `out` receives its `[len, hidden]` context vectors.
    fn attend_sequence(seq: &Sequence<'_>, op: &PackedAttention<'_>, out: &mut [f32], scratch: &mut Scratch) {
        let (dim, len) = (seq.dim, seq.len);
        let padded = len.div_ceil(LANES) * LANES;
        let scale = 1.0 / (dim as f32).sqrt();
        scratch.queries.resize(ROWS * dim, 0.0);
        scratch.scores.resize(ROWS * padded, 0.0);
        scratch.tail_keys.resize(dim * LANES, 0.0);
        for head in 0..op.heads {
            let full = len / LANES * LANES;
            if full < len {
                for c in 0..dim {
                    let tail = &mut scratch.tail_keys[c * LANES..(c + 1) * LANES];
                    tail.fill(0.0);
                    tail[..len - full].copy_from_slice(&seq.keys(head, c)[full..]);
                }
            }
            let bias = &op.query_bias[head * dim..(head + 1) * dim];
            let mut first = 0;
            while first < len {
                let rows = (len - first).min(ROWS);
                for r in 0..rows {
                    let query = &mut scratch.queries[r * dim..(r + 1) * dim];
                    for ((q, x), b) in query.iter_mut().zip(seq.query(head, first + r)).zip(bias) {
                        *q = (x + b) * scale;
                    }
                }
                let tail = &scratch.tail_keys;
                if rows == ROWS {
                    scores::<ROWS>(seq, head, &scratch.queries, tail, &mut scratch.scores, padded);
                } else {
                    for r in 0..rows {
                        let query = &scratch.queries[r * dim..(r + 1) * dim];
                        let row = &mut scratch.scores[r * padded..(r + 1) * padded];
                        scores::<1>(seq, head, query, tail, row, padded);
                    }
                }
                for r in 0..rows {
                    softmax(&mut scratch.scores[r * padded..r * padded + len]);
                }
                let value_bias = &op.value_bias[head * dim..(head + 1) * dim];
                let out_rows = &mut out[first * seq.hidden..(first + rows) * seq.hidden];
                if rows == ROWS {
                    context::<ROWS>(seq, head, &scratch.scores, padded, value_bias, out_rows);
                } else {
                    for (r, out_row) in out_rows.chunks_exact_mut(seq.hidden).enumerate() {
                        let scores = &scratch.scores[r * padded..(r + 1) * padded];
                        context::<1>(seq, head, scores, padded, value_bias, out_row);
                    }
                }
                first += rows;
            }
        }
    }
}

/// Scores of `R` queries (`[R, dim]`) against the sequence's keys for `head`, [`LANES`]
/// keys at a time, into `R` rows of `padded` scores (those past the sequence are junk).
#[inline(always)]
fn scores<const R: usize>(
    seq: &Sequence<'_>,
    head: usize,
    queries: &[f32],
    tail_keys: &[f32],
    out: &mut [f32],
    padded: usize,
) {
    let dim = seq.dim;
    for block in 0..padded / LANES {
        let at = block * LANES;
        let mut acc = [[0f32; LANES]; R];
        for c in 0..dim {
            // Whole arrays, so that every loop below has a constant length and vectorises.
            let keys: &[f32; LANES] = if at + LANES <= seq.len {
                seq.keys(head, c)[at..]
                    .first_chunk()
                    .unwrap_or(&[0.0; LANES])
            } else {
                tail_keys[c * LANES..]
                    .first_chunk()
                    .unwrap_or(&[0.0; LANES])
            };
            let q: [f32; R] = std::array::from_fn(|r| queries[r * dim + c]);
            for (acc, q) in acc.iter_mut().zip(q) {
                for (a, k) in acc.iter_mut().zip(keys) {
                    *a += q * k;
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            out[r * padded + at..r * padded + at + LANES].copy_from_slice(acc);
        }
    }
}

/// Context vectors of `R` queries for `head`: their probabilities (`R` rows of `padded`)
/// times the sequence's values, plus the value bias, [`LANES`] dimensions at a time,
/// written to the head's columns of `out` (`R` rows of `hidden`).
#[inline(always)]
fn context<const R: usize>(
    seq: &Sequence<'_>,
    head: usize,
    probabilities: &[f32],
    padded: usize,
    value_bias: &[f32],
    out: &mut [f32],
) {
    for block in 0..seq.dim / LANES {
        let lanes = block * LANES..(block + 1) * LANES;
        let mut acc = [[0f32; LANES]; R];
        for j in 0..seq.len {
            // A whole array, so that the loop below has a constant length and vectorises.
            let values: &[f32; LANES] = seq.values(head, j)[lanes.start..]
                .first_chunk()
                .unwrap_or(&[0.0; LANES]);
            let p: [f32; R] = std::array::from_fn(|r| probabilities[r * padded + j]);
            for (acc, p) in acc.iter_mut().zip(p) {
                for (a, v) in acc.iter_mut().zip(values) {
                    *a += p * v;
                }
            }
        }
        for (r, acc) in acc.iter().enumerate() {
            let at = r * seq.hidden + head * seq.dim + block * LANES;
            for ((o, a), b) in out[at..at + LANES]
                .iter_mut()
                .zip(acc)
                .zip(&value_bias[lanes.clone()])
            {
                *o = a + b;
            }
        }
    }
}
