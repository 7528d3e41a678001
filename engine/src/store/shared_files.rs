//! Files every node of a shared store serves: with PostgreSQL, the content
//! files live in the database beside the rows that point at them
//! ([`Store::shared_files`]), so an upload received by one API node is
//! served by all. sled is opened by one process and keeps its files in its
//! data directory, so it has none.

use std::io::{Read, Write};

use droply_models::Timestamp;

use super::Store;
use super::backend::Backend;
use super::pg::{PgStore, off_runtime};
use crate::Result;

/// The files of a store shared by several nodes.
#[derive(Clone, Copy)]
pub struct SharedFiles<'s> {
    pg: &'s PgStore,
}

impl Store {
    /// The store's shared files, when several nodes share it (PostgreSQL).
    pub fn shared_files(&self) -> Option<SharedFiles<'_>> {
        match &self.inner.backend {
            Backend::Sled(_) => None,
            Backend::Postgres(pg) => Some(SharedFiles { pg }),
        }
    }
}

impl SharedFiles<'_> {
    /// Stores the `size` bytes of `bytes` (hashing to `sha256`, hex) as
    /// `path`, durably, replacing what was there.
    pub fn put(
        &self,
        path: &str,
        bytes: &mut (dyn Read + Send),
        size: u64,
        sha256: &str,
    ) -> Result<()> {
        off_runtime(|| self.pg.put_file(path, bytes, size, sha256))
    }

    /// Writes the file at `path` into `out`; `false` when there is none.
    pub fn fetch(&self, path: &str, out: &mut (dyn Write + Send)) -> Result<bool> {
        off_runtime(|| self.pg.fetch_file(path, out))
    }

    /// Deletes the file at `path`, if there is one.
    pub fn delete(&self, path: &str) -> Result<()> {
        off_runtime(|| self.pg.delete_file(path))
    }

    /// The paths of the files stored before `cutoff`.
    pub fn stored_before(&self, cutoff: Timestamp) -> Result<Vec<String>> {
        off_runtime(|| self.pg.files_stored_before(cutoff))
    }
}
