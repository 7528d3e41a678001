//! `search/manifest.json`: what built the indexes in a data directory (schema versions
//! of the search index and of its expert and content text indexes, embedder
//! fingerprint, vector length). Written last by a rebuild and removed first,
//! so an index whose rebuild did not finish, or that another model or schema built, is
//! rebuilt on open.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{Error, Result};

/// The search index's own schema version (document layout, profile text, file layout).
/// Bump it to have every index rebuilt. Version 2 added the content indexes.
pub const SEARCH_SCHEMA_VERSION: u32 = 2;

const FILE: &str = "manifest.json";

/// What built an index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`SEARCH_SCHEMA_VERSION`] of the build that made it.
    pub schema_version: u32,
    /// The expert text index's schema version.
    pub text_schema_version: u32,
    /// The content text index's schema version (0 in manifests written before content
    /// was indexed).
    #[serde(default)]
    pub content_schema_version: u32,
    /// The embedder's fingerprint.
    pub embedder: String,
    /// The vectors' length.
    pub dimension: usize,
}

impl Manifest {
    fn path(dir: &Path) -> PathBuf {
        dir.join(FILE)
    }

    /// Reads the manifest in `dir`, `None` when missing or unreadable.
    pub fn read(dir: &Path) -> Option<Manifest> {
        let text = std::fs::read_to_string(Self::path(dir)).ok()?;
        serde_json::from_str(&text).ok()
    }

    /// Writes the manifest into `dir` atomically.
    pub fn write(&self, dir: &Path) -> Result<()> {
        let text =
            serde_json::to_vec_pretty(self).map_err(|err| Error::Storage(err.to_string()))?;
        Ok(droply_index::durable_file::write_atomically(
            &Self::path(dir),
            &text,
        )?)
    }

    /// Removes the manifest from `dir` (before a rebuild).
    pub fn remove(dir: &Path) -> Result<()> {
        match std::fs::remove_file(Self::path(dir)) {
            Ok(()) => Ok(()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(err) => Err(err.into()),
        }
    }
}
