//! Fusing the BM25 ranking and the vector ranking into one list.
//!
//! - **Reciprocal rank fusion** scores each hit `(1 - r) / (k + rank_text) + r / (k +
//!   rank_vector)` (ranks from 1, a missing side adds nothing), divided by its largest
//!   possible value so scores lie in `0..=1`. It ignores score scales entirely.
//! - **Normalised score fusion** rescales each list's scores to `0..=1` (min-max over the
//!   list; a list of one hit scores 1) and adds them weighted by `1 - r` and `r`; a hit
//!   missing from a list gets 0 there. It keeps how far ahead a clear winner is.
//!
//! `r` is the semantic ratio. Ties break by the better text rank, then by key, so the
//! fused order is deterministic. The default method was chosen by measurement (README's
//! evaluation table).

use std::collections::HashMap;
use std::hash::Hash;

/// How two rankings become one.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Fusion {
    /// Reciprocal rank fusion with constant `k`.
    Rrf {
        /// The rank constant (60 in the literature).
        k: f32,
    },
    /// Min-max normalised scores, weighted.
    #[default]
    Normalized,
}

impl Fusion {
    /// Parses `rrf` or `normalized`.
    pub fn parse(name: &str) -> Option<Fusion> {
        match name {
            "rrf" => Some(Fusion::Rrf { k: 60.0 }),
            "normalized" | "normalised" => Some(Fusion::Normalized),
            _ => None,
        }
    }

    /// The method's name.
    pub fn name(self) -> &'static str {
        match self {
            Fusion::Rrf { .. } => "rrf",
            Fusion::Normalized => "normalized",
        }
    }
}

/// One fused hit, with where it stood in each input list.
#[derive(Debug, Clone, PartialEq)]
pub struct FusedHit<K> {
    /// The hit.
    pub key: K,
    /// The fused score, `0..=1`.
    pub score: f32,
    /// 1-based rank and raw score in the text list.
    pub text: Option<(usize, f32)>,
    /// 1-based rank and raw score (cosine) in the vector list.
    pub vector: Option<(usize, f32)>,
    /// How much of `score` came from the text list; the rest came from the vectors.
    pub text_part: f32,
}

/// Fuses `text` and `vector` (each best first) with `method`; `semantic_ratio` weighs
/// the vector list. Returns every hit of either list, best first.
pub fn fuse<K: Copy + Eq + Hash + Ord>(
    text: &[(K, f32)],
    vector: &[(K, f32)],
    semantic_ratio: f32,
    method: Fusion,
) -> Vec<FusedHit<K>> {
    let ratio = semantic_ratio.clamp(0.0, 1.0);
    let mut hits: HashMap<K, FusedHit<K>> = HashMap::with_capacity(text.len() + vector.len());
    for (rank, &(key, score)) in text.iter().enumerate() {
        hits.entry(key)
            .or_insert_with(|| empty(key))
            .text
            .get_or_insert((rank + 1, score));
    }
    for (rank, &(key, score)) in vector.iter().enumerate() {
        hits.entry(key)
            .or_insert_with(|| empty(key))
            .vector
            .get_or_insert((rank + 1, score));
    }
    let text_norm = MinMax::of(text);
    let vector_norm = MinMax::of(vector);
    for hit in hits.values_mut() {
        let (text_part, vector_part) = match method {
            Fusion::Rrf { k } => {
                let part = |side: Option<(usize, f32)>| {
                    side.map_or(0.0, |(rank, _)| (k + 1.0) / (k + rank as f32))
                };
                ((1.0 - ratio) * part(hit.text), ratio * part(hit.vector))
            }
            Fusion::Normalized => (
                (1.0 - ratio) * hit.text.map_or(0.0, |(_, s)| text_norm.apply(s)),
                ratio * hit.vector.map_or(0.0, |(_, s)| vector_norm.apply(s)),
            ),
        };
        hit.text_part = text_part;
        hit.score = text_part + vector_part;
    }
    let mut out: Vec<FusedHit<K>> = hits.into_values().collect();
    // Ties go to the stronger words, then to the key: never to the text
    // index's own order among equal scores, which changes when its segments
    // merge, so that the same query over the same rows ranks the same way
    // on every page.
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.text_part.total_cmp(&a.text_part))
            .then_with(|| a.key.cmp(&b.key))
    });
    out
}

fn empty<K>(key: K) -> FusedHit<K> {
    FusedHit {
        key,
        score: 0.0,
        text: None,
        vector: None,
        text_part: 0.0,
    }
}

/// Min-max scaling of one list's scores.
struct MinMax {
    min: f32,
    span: f32,
}

impl MinMax {
    fn of<K>(list: &[(K, f32)]) -> MinMax {
        let (min, max) = list.iter().fold((f32::MAX, f32::MIN), |(lo, hi), (_, s)| {
            (lo.min(*s), hi.max(*s))
        });
        MinMax {
            min,
            span: max - min,
        }
    }

    fn apply(&self, score: f32) -> f32 {
        if self.span <= f32::EPSILON {
            1.0
        } else {
            ((score - self.min) / self.span).clamp(0.0, 1.0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RRF: Fusion = Fusion::Rrf { k: 60.0 };

    #[test]
    fn rrf_adds_reciprocal_ranks_and_scales_to_one() {
        let text = [(1u32, 9.0), (2, 5.0)];
        let vector = [(2u32, 0.9), (3, 0.8)];
        let fused = fuse(&text, &vector, 0.5, RRF);
        let score = |key| fused.iter().find(|h| h.key == key).expect("hit").score;
        // key 2: 0.5/62 + 0.5/61; key 1: 0.5/61; key 3: 0.5/62; all times 61.
        assert!((score(2) - (0.5 / 62.0 + 0.5 / 61.0) * 61.0).abs() < 1e-6);
        assert!((score(1) - 0.5).abs() < 1e-6);
        assert!((score(3) - 0.5 * 61.0 / 62.0).abs() < 1e-6);
        assert_eq!(fused[0].key, 2, "found by both ranks first");
        assert_eq!(fused[0].text, Some((2, 5.0)));
        assert_eq!(fused[0].vector, Some((1, 0.9)));
        // The same hit ranked first by both sides scores exactly 1.
        let top = fuse(&[(7u32, 1.0)], &[(7u32, 0.3)], 0.3, RRF);
        assert!((top[0].score - 1.0).abs() < 1e-6);
    }

    #[test]
    fn normalized_fusion_rescales_each_list() {
        let text = [(1u32, 10.0), (2, 6.0), (3, 2.0)];
        let vector = [(3u32, 0.8), (4, 0.4)];
        let fused = fuse(&text, &vector, 0.25, Fusion::Normalized);
        let score = |key| fused.iter().find(|h| h.key == key).expect("hit").score;
        assert!((score(1) - 0.75).abs() < 1e-6);
        assert!((score(2) - 0.75 * 0.5).abs() < 1e-6);
        assert!(
            (score(3) - 0.25).abs() < 1e-6,
            "text min 0 + vector max 1 * 0.25"
        );
        assert!(score(4).abs() < 1e-6);
        let three = fused.iter().find(|h| h.key == 3).expect("hit");
        assert!(
            three.text_part.abs() < 1e-6,
            "all of key 3's score came from vectors"
        );
        assert_eq!(
            fused.iter().map(|h| h.key).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
    }

    #[test]
    fn the_ratio_picks_a_side() {
        let text = [(1u32, 3.0), (2, 1.0)];
        let vector = [(2u32, 0.9), (1, 0.1)];
        for method in [RRF, Fusion::Normalized] {
            assert_eq!(fuse(&text, &vector, 0.0, method)[0].key, 1);
            assert_eq!(fuse(&text, &vector, 1.0, method)[0].key, 2);
        }
    }

    #[test]
    fn ties_break_by_text_rank_then_key() {
        let fused = fuse(&[(5u32, 1.0)], &[(4u32, 1.0)], 0.5, Fusion::Normalized);
        assert_eq!(
            fused[0].key, 5,
            "equal scores: the one with a text rank first"
        );
        let fused = fuse::<u32>(&[], &[(9, 0.5), (8, 0.5)], 1.0, Fusion::Normalized);
        assert_eq!(fused.iter().map(|h| h.key).collect::<Vec<_>>(), [8, 9]);
        assert!(fuse::<u32>(&[], &[], 0.5, RRF).is_empty());
    }
}
