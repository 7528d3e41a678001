//! The import marker: what the store records of the import under way, in
//! its metadata under the key `import` (sled's `meta` tree, PostgreSQL's
//! `meta` table), as JSON. Written in the transaction of an import's first
//! batch, moved on in the transaction of every later one (so the marker and
//! the rows it counts are committed together or not at all), and marked
//! complete once the import and its follow-up steps are done. An unfinished
//! marker is what lets a rerun take an import up where it stopped, and what
//! refuses another input meanwhile.

use std::fmt;

use droply_models::Timestamp;
use serde::{Deserialize, Serialize};

use crate::store::{Store, Txn};
use crate::{Error, Result};

/// The metadata key of the marker.
const META_IMPORT: &str = "import";

/// An import as the store records it: the last one, finished or not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    /// What is imported, in words: the file's path, or the demo marketplace.
    pub source: String,
    /// Rows committed so far: the input's first `rows_done` rows.
    pub rows_done: u64,
    /// Transactions (batches) committed so far.
    pub batches_done: u64,
    /// The hash chain over those rows (`rows_hash.rs`): a rerun whose input
    /// begins with the same rows gives the same, and only then resumes.
    pub rows_hash: String,
    /// When the first batch was committed.
    pub started_at: Timestamp,
    /// Whether the import is done: every row, the opening ledger rows and
    /// the caller's follow-up steps ([`super::complete_import`]).
    pub complete: bool,
}

impl fmt::Display for ImportProgress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let batches = if self.batches_done == 1 {
            "batch"
        } else {
            "batches"
        };
        write!(
            f,
            "the import of {} ({} rows committed in {} {batches} since {})",
            self.source, self.rows_done, self.batches_done, self.started_at
        )
    }
}

/// The marker as `txn` sees it.
pub(super) fn read(txn: &Txn<'_>) -> Result<Option<ImportProgress>> {
    txn.meta(META_IMPORT)?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|err| Error::Corrupt(format!("the import marker: {err}")))
        })
        .transpose()
}

/// Stages `progress` as the marker, committed with the rest of `txn`.
pub(super) fn write(txn: &mut Txn<'_>, progress: &ImportProgress) -> Result<()> {
    let bytes = serde_json::to_vec(progress)
        .map_err(|err| Error::Corrupt(format!("the import marker: {err}")))?;
    txn.put_meta(META_IMPORT, bytes);
    Ok(())
}

/// The store's unfinished import, if any: one cut short (a crash, a bad
/// line, a broken input) before [`super::complete_import`]. Read under the
/// writer lock, so no batch commits halfway through the read.
pub fn unfinished_import(store: &Store) -> Result<Option<ImportProgress>> {
    store.write(|txn| Ok(read(txn)?.filter(|progress| !progress.complete)))
}

/// Forgets the store's unfinished import, when its input is lost or is not
/// to be finished: the rows it committed stay, and the next import starts
/// afresh. Returns what was forgotten.
pub fn abandon_unfinished_import(store: &Store) -> Result<Option<ImportProgress>> {
    store.write(|txn| {
        let unfinished = read(txn)?.filter(|progress| !progress.complete);
        if let Some(progress) = &unfinished {
            tracing::warn!(%progress, "abandoning an unfinished import; its committed rows stay");
            txn.remove_meta(META_IMPORT);
        }
        Ok(unfinished)
    })
}

/// Makes `to`'s import marker `from`'s, as it is (unfinished or complete),
/// or none when `from` has none: for a copy of `from`'s rows (`droply
/// migrate`), so that an import cut short before the copy is taken up by a
/// rerun against the copy. Returns the marker carried.
pub(crate) fn carry_import_marker(from: &Store, to: &Store) -> Result<Option<ImportProgress>> {
    let carried = from.write(|txn| read(txn))?;
    to.write(|txn| {
        match &carried {
            Some(progress) => write(txn, progress)?,
            None if txn.meta(META_IMPORT)?.is_some() => txn.remove_meta(META_IMPORT),
            None => {}
        }
        Ok(())
    })?;
    Ok(carried)
}

/// Why `source` may not go on while `unfinished` is under way: `why` says
/// how its input differs; the rest says how to proceed.
pub(super) fn refusal(unfinished: &ImportProgress, source: &str, why: &str) -> Error {
    Error::InvalidState(format!(
        "the store holds an unfinished import: {unfinished}, and {source} does not continue it \
         ({why}). Finish that import by running it again with the same input (it resumes after \
         the committed rows), or abandon it (`droply import --abandon-unfinished`; the rows it \
         committed stay) before importing anything else"
    ))
}
