//! A deterministic stand-in for the sentence model: each word hashed into one of 384
//! dimensions (a bag of words), normalised. Texts that share words are close, so
//! searches behave plausibly, and it costs nothing, so parity tests can write thousands
//! of profiles. The freshness test uses the real model.

use droply_engine::embedding::{Error, TextEmbedder};
use droply_engine::search_index::stable_hash;

/// The bag-of-words embedder; `fingerprint` names its "model".
#[derive(Debug, Clone)]
pub struct HashEmbedder {
    /// The "model" name the indexes record; another one forces a rebuild.
    pub fingerprint: String,
}

impl Default for HashEmbedder {
    fn default() -> Self {
        HashEmbedder {
            fingerprint: "hash-bow-384@1".to_owned(),
        }
    }
}

impl TextEmbedder for HashEmbedder {
    fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    fn dimension(&self) -> usize {
        384
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, Error> {
        Ok(texts
            .iter()
            .map(|text| {
                let mut v = vec![0.0f32; 384];
                for word in text
                    .split(|c: char| !c.is_alphanumeric())
                    .filter(|w| !w.is_empty())
                {
                    let h = stable_hash(word.to_lowercase().as_bytes());
                    v[(h % 384) as usize] += if h & (1 << 40) == 0 { 1.0 } else { -1.0 };
                }
                let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
                if norm > 0.0 {
                    v.iter_mut().for_each(|x| *x /= norm);
                }
                v
            })
            .collect())
    }
}
