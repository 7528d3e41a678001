//! [`TextEmbedder`]: what the indexes need from a sentence embedder. The candle
//! [`Embedder`](crate::Embedder) implements it; tests may use a deterministic stand-in.

use crate::Result;

/// Turns texts into unit-length vectors of one fixed dimension.
pub trait TextEmbedder: Send + Sync {
    /// Names the model and its weights. An index built with one model is rebuilt when
    /// opened with another: two embedders with the same fingerprint must give the same
    /// vectors for the same texts, up to the rounding of their arithmetic (the candle
    /// embedder's int8 path stays within cosine 0.995 of its f32 path and keeps its
    /// fingerprint, so an index built in int8 serves f32 queries).
    fn fingerprint(&self) -> &str;

    /// The length of every vector.
    fn dimension(&self) -> usize;

    /// The embeddings of `texts`, in order, each [`TextEmbedder::dimension`] long and of
    /// unit length (or all zeros for a text without meaning, which the vector index
    /// leaves out: see [`crate::has_direction`]).
    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>>;

    /// The embedding of a search query (implementations may cache it).
    fn embed_query_text(&self, text: &str) -> Result<Vec<f32>> {
        let mut out = self.embed_texts(&[text])?;
        out.pop()
            .ok_or_else(|| crate::Error::Invalid("the embedder returned nothing".to_owned()))
    }
}

impl TextEmbedder for crate::Embedder {
    fn fingerprint(&self) -> &str {
        self.model_id()
    }

    fn dimension(&self) -> usize {
        crate::DIMENSION
    }

    fn embed_texts(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>> {
        self.embed_batch(texts)
    }

    fn embed_query_text(&self, text: &str) -> Result<Vec<f32>> {
        Ok(self.embed_query(text)?.to_vec())
    }
}
