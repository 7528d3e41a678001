//! The search index: the tantivy text index and the hnsw_rs vector index of every
//! expert, derived from the store and kept in step with it.
//!
//! A background indexer follows the store's change feed: it batches the users that
//! changed, builds their text documents, embeds the profiles whose embedded text
//! changed (off the request path, many at once), and commits both indexes with the last
//! sequence number applied. After a restart it resumes from that number. An index that
//! is missing, damaged, or was built by another model or schema version is rebuilt from
//! the store, reporting progress; `droply reindex` forces a rebuild.
//!
//! `profile_text` decides what is embedded and who is an expert; `expert_document` what
//! the text index holds; `manifest` what built the indexes; `indexer` follows the feed;
//! `rebuild` builds from scratch; `shared` is what the indexer thread and the handle
//! share; `handle` is the [`SearchIndex`] callers hold; `parity` compares it
//! with a rebuild; `status` and `config` are what they say.

mod config;
mod expert_document;
mod handle;
mod index_error;
mod indexer;
mod manifest;
mod parity;
mod profile_text;
mod rebuild;
mod shared;
mod status;

pub use config::{ProgressCallback, SearchIndexConfig};
pub use expert_document::{document_version, expert_document};
pub use handle::{SearchIndex, VersionedIds, search_dir};
pub use manifest::{Manifest, SEARCH_SCHEMA_VERSION};
pub use parity::{IndexParity, expected_entries};
pub use profile_text::{embedding_text, embedding_version, stable_hash};
pub use status::{IndexState, IndexStatus, RebuildProgress};
