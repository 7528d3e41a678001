//! Ranking metrics as BEIR computes them (pytrec_eval): nDCG@k with graded gains
//! `grade / log2(rank + 1)` over the ideal ordering of the judged documents, recall@k
//! of the relevant documents, and reciprocal rank of the first relevant one within k.

use std::collections::HashMap;
use std::hash::Hash;

/// nDCG@k of `ranked` against `grades` (absent: 0).
pub fn ndcg_at<K: Eq + Hash>(ranked: &[K], grades: &HashMap<K, u32>, k: usize) -> f64 {
    let dcg: f64 = ranked
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, key)| f64::from(grades.get(key).copied().unwrap_or(0)) / (i as f64 + 2.0).log2())
        .sum();
    let mut ideal: Vec<u32> = grades.values().copied().filter(|g| *g > 0).collect();
    ideal.sort_unstable_by(|a, b| b.cmp(a));
    let idcg: f64 = ideal
        .iter()
        .take(k)
        .enumerate()
        .map(|(i, g)| f64::from(*g) / (i as f64 + 2.0).log2())
        .sum();
    if idcg == 0.0 { 0.0 } else { dcg / idcg }
}

/// The share of relevant documents found in the first `k`.
pub fn recall_at<K: Eq + Hash>(ranked: &[K], grades: &HashMap<K, u32>, k: usize) -> f64 {
    let relevant = grades.values().filter(|g| **g > 0).count();
    if relevant == 0 {
        return 0.0;
    }
    let found = ranked
        .iter()
        .take(k)
        .filter(|key| grades.get(key).is_some_and(|g| *g > 0))
        .count();
    found as f64 / relevant as f64
}

/// 1 / rank of the first relevant document within `k`, else 0.
pub fn mrr_at<K: Eq + Hash>(ranked: &[K], grades: &HashMap<K, u32>, k: usize) -> f64 {
    ranked
        .iter()
        .take(k)
        .position(|key| grades.get(key).is_some_and(|g| *g > 0))
        .map_or(0.0, |i| 1.0 / (i as f64 + 1.0))
}

/// The `p`-th percentile (0–100) of `values` by nearest rank; 0 when empty.
pub fn percentile(values: &[f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grades(pairs: &[(u32, u32)]) -> HashMap<u32, u32> {
        pairs.iter().copied().collect()
    }

    #[test]
    fn ndcg_matches_a_hand_computed_case() {
        let g = grades(&[(1, 3), (2, 2), (3, 1)]);
        assert!((ndcg_at(&[1, 2, 3], &g, 10) - 1.0).abs() < 1e-12);
        // Ranked 3, 9, 1: dcg = 1/1 + 0 + 3/2 = 2.5; idcg = 3 + 2/log2(3) + 1/2.
        let idcg = 3.0 + 2.0 / 3f64.log2() + 0.5;
        assert!((ndcg_at(&[3, 9, 1], &g, 10) - 2.5 / idcg).abs() < 1e-12);
        assert_eq!(ndcg_at(&[9, 8], &g, 10), 0.0);
        assert_eq!(ndcg_at(&[1], &HashMap::new(), 10), 0.0);
    }

    #[test]
    fn recall_and_mrr_count_relevant_documents() {
        let g = grades(&[(1, 1), (2, 1), (3, 0)]);
        assert!((recall_at(&[3, 2, 9], &g, 100) - 0.5).abs() < 1e-12);
        assert!((recall_at(&[3, 2, 1], &g, 2) - 0.5).abs() < 1e-12);
        assert!((mrr_at(&[3, 9, 1], &g, 10) - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(mrr_at(&[3, 9, 1], &g, 2), 0.0);
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let values: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(percentile(&values, 50.0), 50.0);
        assert_eq!(percentile(&values, 99.0), 99.0);
        assert_eq!(percentile(&values, 100.0), 100.0);
        assert_eq!(percentile(&[], 50.0), 0.0);
    }
}
