//! The search index: the tantivy text index and the HNSW vector index of every
//! expert, and a second pair of each for every published content item (content ids
//! and user ids are separate id spaces), derived from the store and kept in step with
//! it.
//!
//! A background indexer follows the store's change feed: it batches the users and
//! content items that changed, builds their text documents, embeds those whose
//! embedded text changed (off the request path, many at once), and commits the indexes
//! with the last sequence number applied. After a restart it resumes from that number. An index that
//! is missing, damaged, or was built by another model or schema version is rebuilt from
//! the store, reporting progress; `droply reindex` forces a rebuild.
//!
//! `profile_text` decides what is embedded and who is an expert; `expert_document` what
//! the text index holds; `content_document` which content is searchable, its document
//! and its embedded text; `content_search` the handle's content searches; `manifest`
//! what built the indexes; `change_mark` the last change they applied, checked against
//! the store on open; `indexer` follows the feed;
//! `rebuild` builds from scratch; `shared` is what the indexer thread and the handle
//! share; `handle` is the [`SearchIndex`] callers hold; `parity` compares it
//! with a rebuild; `status` and `config` are what they say.

mod change_mark;
mod config;
mod content_document;
mod content_search;
mod expert_document;
mod handle;
mod index_error;
mod indexer;
pub(crate) mod manifest;
mod parity;
mod profile_text;
mod rebuild;
mod shared;
mod status;

pub use change_mark::ChangeMark;
pub use config::{ProgressCallback, SearchIndexConfig};
pub use content_document::{
    content_document, content_embedding_text, content_embedding_version, is_searchable,
};
pub use content_search::VersionedContentIds;
pub use expert_document::{document_version, expert_document};
pub use handle::{SearchIndex, VersionedIds, search_dir};
pub use manifest::{Manifest, SEARCH_SCHEMA_VERSION};
pub use parity::{IndexParity, expected_content_entries, expected_entries};
pub use profile_text::{embedding_text, embedding_version, stable_hash};
pub use status::{IndexState, IndexStatus, RebuildProgress};
