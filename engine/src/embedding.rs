//! The sentence model, as the engine's callers need it: loading and
//! fetching all-MiniLM-L6-v2's files, embedding texts (`droply embed`,
//! evaluations), and the index crate's error for those calls. Re-exported
//! here so that the service depends on the engine alone.

pub use droply_index::embedder::{
    DEFAULT_BATCH_SIZE, ModelFiles, ModelSources, Precision, default_model_dir, ensure_model,
    kernels, model_dir_in,
};
pub use droply_index::{DIMENSION, Embedder, Error, TextEmbedder};
