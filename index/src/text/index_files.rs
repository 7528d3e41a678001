//! What every keyed text index (experts, content) does the same way with its directory:
//! create it empty, open it (refusing a missing, damaged or foreign one), commit with
//! the caller's sequence number in the payload, and list every document's id and
//! version from the `id` and `version` fast fields.

use std::path::Path;

use tantivy::directory::MmapDirectory;
use tantivy::schema::Schema;
use tantivy::{Index, IndexWriter, Searcher};

use super::commit_payload::CommitPayload;
use crate::{Error, ExternalId, Result};

/// An empty index of `schema` in `dir`, replacing whatever was there.
pub(crate) fn create_in_dir(dir: &Path, schema: Schema) -> Result<Index> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(Error::file(dir))?;
    }
    std::fs::create_dir_all(dir).map_err(Error::file(dir))?;
    let directory = MmapDirectory::open(dir).map_err(|err| Error::Text(err.into()))?;
    Ok(Index::create(directory, schema, Default::default())?)
}

/// Opens the index in `dir` with the sequence number of its last commit. A missing or
/// damaged index, or one of another schema or schema version, is an
/// [`Error::IndexCorrupt`].
pub(crate) fn open_in_dir(dir: &Path, schema: &Schema, version: u32) -> Result<(Index, u64)> {
    let corrupt = |reason: String| Error::IndexCorrupt {
        path: dir.to_owned(),
        reason,
    };
    if !dir.join("meta.json").is_file() {
        return Err(corrupt("no index".to_owned()));
    }
    let index = Index::open_in_dir(dir).map_err(|err| corrupt(err.to_string()))?;
    if index.schema() != *schema {
        return Err(corrupt("another schema".to_owned()));
    }
    let payload = CommitPayload::read(&index).map_err(|err| corrupt(err.to_string()))?;
    match payload {
        Some(payload) if payload.schema == version => Ok((index, payload.seq)),
        Some(payload) => Err(corrupt(format!(
            "schema version {}, expected {version}",
            payload.schema
        ))),
        None => Err(corrupt("never committed".to_owned())),
    }
}

/// Commits every change in `writer` as the state at `seq`, durably and atomically with
/// the sequence number and `schema` version.
pub(crate) fn commit_with_seq(writer: &mut IndexWriter, seq: u64, schema: u32) -> Result<()> {
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&CommitPayload { seq, schema }.to_json());
    prepared.commit()?;
    Ok(())
}

/// Every live document's id with its version.
pub(crate) fn versioned_entries<K: ExternalId>(searcher: &Searcher) -> Result<Vec<(K, u64)>> {
    let mut out = Vec::with_capacity(searcher.num_docs() as usize);
    for segment in searcher.segment_readers() {
        let ids = segment.fast_fields().u64("id")?;
        let versions = segment.fast_fields().u64("version")?;
        for doc in segment.doc_ids_alive() {
            if let (Some(id), Some(version)) = (ids.first(doc), versions.first(doc)) {
                out.push((K::from_raw(id), version));
            }
        }
    }
    Ok(out)
}
