//! Turning text into something searchable: the sentence embedder (candle,
//! all-MiniLM-L6-v2), the tantivy text index (`text`), the HNSW vector index (`vector`)
//! with the id map between external and internal ids (`id_map`), and the
//! [`TextEmbedder`] trait the indexes embed through.

pub mod durable_file;
pub mod embedder;
pub mod error;
pub mod external_id;
pub(crate) mod id_map;
pub mod text;
pub mod text_embedder;
pub mod vector;

pub use embedder::{DIMENSION, Embedder};
pub use error::{Error, Result};
pub use external_id::{DocNumber, ExternalId};
pub use text::{
    ContentDoc, ContentFacet, ContentFilters, ContentTextIndex, CountedSearch, DocumentIndex,
    ExpertDoc, ExpertFilters, ExpertTextIndex, FacetCounts, FacetField, PriceRange,
};
pub use text_embedder::TextEmbedder;
pub use vector::{VectorConfig, VectorEntry, VectorHit, VectorIndex, has_direction};
