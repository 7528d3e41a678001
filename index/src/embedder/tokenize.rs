//! Tokenizer setup: the model's WordPiece tokenizer, truncating at [`MAX_TOKENS`] and
//! never padding.
//!
//! The shipped `tokenizer.json` truncates at 128 tokens and pads every text to 128; the
//! reference pipeline (sentence-transformers, `max_seq_length` 256) truncates at 256 and
//! pads per batch. The forward pass packs the texts of a batch back to back, so no padding
//! is needed at all: each text yields exactly its own token ids.

use std::path::Path;

use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

use crate::{Error, Result};

/// The most tokens a text keeps, `[CLS]` and `[SEP]` included; the rest is cut off.
pub const MAX_TOKENS: usize = 256;

/// The model's tokenizer, set up for the embedder.
#[derive(Debug, Clone)]
pub(crate) struct TextTokenizer {
    inner: Tokenizer,
}

impl TextTokenizer {
    /// Loads `tokenizer.json`, truncating at [`MAX_TOKENS`] without padding.
    pub(crate) fn from_file(path: &Path) -> Result<Self> {
        let mut inner = Tokenizer::from_file(path)
            .map_err(|err| Error::Tokenizer(format!("{}: {err}", path.display())))?;
        inner.with_padding(None);
        inner
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: MAX_TOKENS,
                strategy: TruncationStrategy::LongestFirst,
                stride: 0,
            }))
            .map_err(|err| Error::Tokenizer(err.to_string()))?;
        Ok(TextTokenizer { inner })
    }

    /// The token ids of one text, `[CLS]` and `[SEP]` included.
    pub(crate) fn encode(&self, text: &str) -> Result<Vec<u32>> {
        let encoding = self
            .inner
            .encode_fast(text, true)
            .map_err(|err| Error::Tokenizer(err.to_string()))?;
        Ok(encoding.get_ids().to_vec())
    }
}
