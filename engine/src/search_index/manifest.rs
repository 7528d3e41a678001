//! `search/manifest.json`: what built the indexes in a data directory (schema versions
//! of the search index and of its expert and content text indexes, embedder
//! fingerprint, vector length) and the mark of the last change they applied. Written
//! last by a rebuild and removed first, so an index whose rebuild did not finish, or
//! that another model or schema built, is rebuilt on open; rewritten with the new mark
//! before each batch the indexer commits, so the mark is never behind the indexes.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::change_mark::ChangeMark;
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
    /// The last change the indexes applied, as the store had it; `None` when unknown:
    /// an empty store, a change the feed no longer held, or a manifest written before
    /// marks were kept. An unknown mark is checked by sequence number alone, as such
    /// manifests always were, so that upgrading does not rebuild every index.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_change: Option<ChangeMark>,
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

    /// Removes the manifest from `dir` (before a rebuild), durably: the directory is
    /// synced, so that after a crash during the rebuild the old manifest cannot
    /// reappear beside half-rebuilt indexes and have them loaded as finished.
    pub fn remove(dir: &Path) -> Result<()> {
        match std::fs::remove_file(Self::path(dir)) {
            Ok(()) => {}
            // Synced all the same: an earlier removal may not be on disk yet.
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
        std::fs::File::open(dir).and_then(|dir| dir.sync_all())?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_written_before_change_marks_reads_with_an_unknown_mark() {
        let dir = tempfile::tempdir().expect("dir");
        let old = r#"{"schema_version": 2, "text_schema_version": 3,
            "content_schema_version": 1, "embedder": "m1", "dimension": 8}"#;
        std::fs::write(dir.path().join(FILE), old).expect("write");
        let manifest = Manifest::read(dir.path()).expect("an old manifest still reads");
        assert_eq!(manifest.last_change, None);
        assert_eq!(manifest.embedder, "m1");
    }

    #[test]
    fn the_change_mark_survives_a_write_and_a_read() {
        let dir = tempfile::tempdir().expect("dir");
        let manifest = Manifest {
            schema_version: SEARCH_SCHEMA_VERSION,
            text_schema_version: 1,
            content_schema_version: 1,
            embedder: "m1".to_owned(),
            dimension: 8,
            last_change: Some(ChangeMark {
                seq: 1000,
                at_micros: 1_700_000_000_123_456,
                kind: 1,
                id: 42,
                delete: false,
            }),
        };
        manifest.write(dir.path()).expect("write");
        assert_eq!(Manifest::read(dir.path()), Some(manifest));
    }

    #[test]
    fn removing_the_manifest_twice_is_fine() {
        let dir = tempfile::tempdir().expect("dir");
        std::fs::write(dir.path().join(FILE), b"{}").expect("write");
        Manifest::remove(dir.path()).expect("remove");
        assert!(!dir.path().join(FILE).exists());
        Manifest::remove(dir.path()).expect("a missing manifest is not an error");
    }
}
