//! Turning text into something searchable: the sentence embedder (candle,
//! all-MiniLM-L6-v2), and later the tantivy text index and the hnsw_rs vector index.

pub mod embedder;
pub mod error;

pub use embedder::{DIMENSION, Embedder};
pub use error::{Error, Result};
