//! Sentence pooling: the mean of each sequence's token vectors (the reference's mean
//! pooling over the attention mask: packed sequences have no padding to mask), then L2
//! normalisation, as sentence-transformers' `Normalize` does (`x / max(|x|, 1e-12)`).

/// The unit-length mean vector of each sequence of `hidden` (`[tokens, width]`, the
/// sequences packed back to back with lengths `seq_lens`).
pub(crate) fn mean_pool_normalized(
    hidden: &[f32],
    width: usize,
    seq_lens: &[usize],
) -> Vec<Vec<f32>> {
    let mut pooled = Vec::with_capacity(seq_lens.len());
    let mut start = 0;
    for &len in seq_lens {
        let mut sum = vec![0f32; width];
        for row in hidden[start * width..(start + len) * width].chunks_exact(width) {
            for (s, v) in sum.iter_mut().zip(row) {
                *s += v;
            }
        }
        // Scaling by 1/len before normalising changes nothing but keeps the sum's magnitude.
        let inv_len = 1.0 / len.max(1) as f32;
        let norm = sum
            .iter()
            .map(|v| (v * inv_len) * (v * inv_len))
            .sum::<f32>()
            .sqrt();
        let scale = inv_len / norm.max(1e-12);
        for s in &mut sum {
            *s *= scale;
        }
        pooled.push(sum);
        start += len;
    }
    pooled
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_each_sequence_to_a_unit_vector() {
        let hidden = [1.0, 0.0, 3.0, 0.0, 0.0, 2.0];
        let pooled = mean_pool_normalized(&hidden, 2, &[2, 1]);
        assert_eq!(pooled, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
    }

    #[test]
    fn a_zero_vector_stays_zero() {
        let pooled = mean_pool_normalized(&[0.0, 0.0], 2, &[1]);
        assert_eq!(pooled, vec![vec![0.0, 0.0]]);
    }
}
