//! Integration tests of the sentence embedder, one module per concern, in one binary so
//! the model is loaded once.

mod batching;
mod golden;
mod model_files;
mod support;
