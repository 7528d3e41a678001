//! The record of completed imports: what the store keeps of every import
//! marked complete ([`super::complete_import`]), in its metadata under the
//! key `import_completed` (sled's `meta` tree, PostgreSQL's `meta` table),
//! as a JSON list of [`CompletedImport`]s, written in the same transaction
//! that marks the import complete. It is what lets the same input, run
//! again, be recognised as imported already ([`already_imported`]) and
//! left alone, rather than failing on its own rows; an input with other
//! rows is not recognised, and is imported (and refused on a row that is
//! there already) as before.

use std::fmt;
use std::io::BufRead;

use droply_models::Timestamp;
use serde::{Deserialize, Serialize};

use crate::store::{Store, Txn};
use crate::{Error, Result};

use super::marker::{self, ImportProgress};
use super::rows_hash::RowsHash;

/// The metadata key of the record.
const META_COMPLETED: &str = "import_completed";

/// Completed imports the record keeps, the latest ones: an input older
/// than these is no longer recognised, and fails on its rows as any other.
const KEPT: usize = 1_000;

/// A completed import, as the store records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompletedImport {
    /// What was imported, in words: the file's path, or the demo marketplace.
    pub source: String,
    /// Rows the input held (blank lines aside).
    pub rows: u64,
    /// The hash chain over those rows (`rows_hash.rs`): an input with the
    /// same rows in the same order gives the same.
    pub rows_hash: String,
    /// When the import was marked complete; `None` for one known only from
    /// the import marker (completed before this record was kept).
    #[serde(default)]
    pub completed_at: Option<Timestamp>,
}

impl CompletedImport {
    /// The completed import `progress` (a marker) records.
    fn of(progress: &ImportProgress, completed_at: Option<Timestamp>) -> CompletedImport {
        CompletedImport {
            source: progress.source.clone(),
            rows: progress.rows_done,
            rows_hash: progress.rows_hash.clone(),
            completed_at,
        }
    }

    /// Whether this is the import of `rows` rows whose chain is `rows_hash`.
    fn same_rows(&self, rows: u64, rows_hash: &str) -> bool {
        self.rows == rows && self.rows_hash == rows_hash
    }
}

impl fmt::Display for CompletedImport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the import of {} ({} rows", self.source, self.rows)?;
        match &self.completed_at {
            Some(at) => write!(f, ", completed {at})"),
            None => write!(f, ")"),
        }
    }
}

/// The record as `txn` sees it, oldest first.
fn read(txn: &Txn<'_>) -> Result<Vec<CompletedImport>> {
    txn.meta(META_COMPLETED)?
        .map(|bytes| {
            serde_json::from_slice(&bytes)
                .map_err(|err| Error::Corrupt(format!("the record of completed imports: {err}")))
        })
        .transpose()
        .map(Option::unwrap_or_default)
}

/// Adds the import `progress` (the marker, marked complete in `txn`) to the
/// record, committed with the rest of `txn`; nothing to do when the record
/// holds an import of the same rows already.
pub(super) fn record(txn: &mut Txn<'_>, progress: &ImportProgress) -> Result<()> {
    let mut completed = read(txn)?;
    if completed
        .iter()
        .any(|done| done.same_rows(progress.rows_done, &progress.rows_hash))
    {
        return Ok(());
    }
    completed.push(CompletedImport::of(progress, Some(txn.now())));
    if completed.len() > KEPT {
        completed = completed.split_off(completed.len() - KEPT);
    }
    let bytes = serde_json::to_vec(&completed)
        .map_err(|err| Error::Corrupt(format!("the record of completed imports: {err}")))?;
    txn.put_meta(META_COMPLETED, bytes);
    Ok(())
}

/// Gives `to` the record of completed imports `from` holds (none when it
/// holds none), so a file imported before `droply migrate` is recognised
/// by the copy too. Its bytes move as they are.
pub(crate) fn carry_completed_imports(from: &Store, to: &Store) -> Result<()> {
    let carried = from.write(|txn| txn.meta(META_COMPLETED))?;
    to.write(|txn| {
        match carried {
            Some(bytes) => txn.put_meta(META_COMPLETED, bytes),
            None => txn.remove_meta(META_COMPLETED),
        }
        Ok(())
    })
}

/// Every completed import `txn` knows of: the record, and the import
/// marker when it is complete (an import completed before the record was
/// kept).
fn known(txn: &Txn<'_>) -> Result<Vec<CompletedImport>> {
    let mut completed = read(txn)?;
    if let Some(progress) = marker::read(txn)?
        && progress.complete
        && !completed
            .iter()
            .any(|done| done.same_rows(progress.rows_done, &progress.rows_hash))
    {
        completed.push(CompletedImport::of(&progress, None));
    }
    Ok(completed)
}

/// The store's completed import whose rows are exactly `input`'s (the same
/// lines in the same order, blank lines aside, whatever the file is called),
/// if any: an input imported already, which a rerun leaves alone rather
/// than failing on its rows. Writes nothing; reads `input` only when the
/// store records a completed import, and no further than the rows of the
/// longest. An input that is not one (other rows, more or fewer) is `None`:
/// import it with [`super::import_lines`], which refuses a row that is
/// there already.
pub fn already_imported(store: &Store, input: impl BufRead) -> Result<Option<CompletedImport>> {
    // Read under the writer lock, as the marker is; a write that stages
    // nothing commits nothing.
    let completed = store.write(|txn| known(txn))?;
    let Some(most) = completed.iter().map(|done| done.rows).max() else {
        return Ok(None);
    };
    let mut hash = RowsHash::new();
    let mut rows = 0_u64;
    for line in input.lines() {
        let line = line?;
        if !super::holds_row(&line) {
            continue;
        }
        rows += 1;
        if rows > most {
            return Ok(None);
        }
        hash.add(line.as_bytes());
    }
    let rows_hash = hash.hex();
    Ok(completed
        .into_iter()
        .rev()
        .find(|done| done.same_rows(rows, &rows_hash)))
}

#[cfg(test)]
mod tests {
    use droply_models::{User, UserId};
    use droply_test_support::fixtures::full_user;

    use super::{META_COMPLETED, already_imported, read};
    use crate::import::{ImportRow, complete_import, import_lines, unfinished_import};
    use crate::records::copy_store;
    use crate::store::Store;

    /// An import file of one user per `(name, id)`.
    fn file_of(users: &[(&str, u64)]) -> String {
        users
            .iter()
            .map(|(name, id)| {
                let mut user = full_user(name);
                user.id = UserId::new(*id);
                serde_json::to_string(&ImportRow::User(user)).expect("json")
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Rows per entity, every entity the store keeps (counted by a copy).
    fn entity_counts(store: &Store) -> Vec<(&'static str, usize)> {
        let copy = Store::open_temporary().expect("a store to count into");
        copy_store(store, &copy).expect("copy").rows
    }

    fn users(store: &Store) -> usize {
        store.try_count::<User>().expect("count users")
    }

    /// Imports `text` as `droply import` does: left alone when imported
    /// already (returned), else imported and marked complete.
    fn import_once(store: &Store, source: &str, text: &str) -> crate::Result<bool> {
        if already_imported(store, text.as_bytes())?.is_some() {
            return Ok(false);
        }
        let stats = import_lines(store, source, text.as_bytes(), |_| {})?;
        complete_import(store, &stats)?;
        Ok(true)
    }

    /// Regression: running a completed import of the same file again failed
    /// on its first row ("user 10 already exists"). It is recognised, by
    /// its rows, and writes nothing.
    #[test]
    fn the_same_file_imported_twice_is_recognised_and_writes_nothing() {
        let store = Store::open_temporary().expect("store");
        let text = file_of(&[("ann", 10), ("bea", 11), ("cid", 12)]);
        assert_eq!(
            already_imported(&store, text.as_bytes()).expect("check"),
            None,
            "nothing imported yet"
        );
        let stats = import_lines(&store, "rows.jsonl", text.as_bytes(), |_| {}).expect("import");
        assert_eq!(stats.rows, 3);
        assert_eq!(
            already_imported(&store, text.as_bytes()).expect("check"),
            None,
            "not complete until the caller completes it"
        );
        complete_import(&store, &stats).expect("complete");
        let counts = entity_counts(&store);

        let done = already_imported(&store, text.as_bytes())
            .expect("check")
            .expect("the same file is imported already");
        assert_eq!((done.source.as_str(), done.rows), ("rows.jsonl", 3));
        assert!(done.completed_at.is_some());
        assert!(!import_once(&store, "rows.jsonl", &text).expect("the second run"));
        // The same rows under another name, with blank lines and a final
        // newline, are the same import.
        let spaced = format!("\n{}\n\n", text.replace('\n', "\n\n"));
        assert!(!import_once(&store, "copy.jsonl", &spaced).expect("a copy"));
        assert_eq!(entity_counts(&store), counts, "nothing written");
        assert_eq!(unfinished_import(&store).expect("read"), None);
        let report = store.verify_integrity().expect("check");
        assert!(report.is_consistent(), "{:?}", report.problems);
    }

    /// A file that is not the one imported (other rows, the same rows
    /// reordered, fewer or more) is not recognised, and still fails on the
    /// row that is there already, with its line.
    #[test]
    fn a_different_file_with_overlapping_rows_still_fails_as_a_duplicate() {
        let store = Store::open_temporary().expect("store");
        let text = file_of(&[("ann", 10), ("bea", 11)]);
        assert!(import_once(&store, "rows.jsonl", &text).expect("first import"));
        let counts = entity_counts(&store);
        for (what, other) in [
            ("overlapping", file_of(&[("ann", 10), ("dan", 13)])),
            ("reordered", file_of(&[("bea", 11), ("ann", 10)])),
            ("fewer", file_of(&[("ann", 10)])),
            ("more", file_of(&[("ann", 10), ("bea", 11), ("dan", 13)])),
        ] {
            assert_eq!(
                already_imported(&store, other.as_bytes()).expect("check"),
                None,
                "{what}"
            );
            let err = import_once(&store, "other.jsonl", &other).expect_err(what);
            let message = err.to_string();
            assert!(
                message.contains("line 1") && message.contains("already exists"),
                "{what}: {message}"
            );
            assert_eq!(users(&store), 2, "{what}");
        }
        // The batch that failed wrote nothing, and left no marker behind it.
        assert_eq!(entity_counts(&store), counts);
        assert_eq!(unfinished_import(&store).expect("read"), None);
        assert!(!import_once(&store, "rows.jsonl", &text).expect("the first file again"));
    }

    /// Every completed import is recognised, not only the last; completing
    /// one twice records it once; and an import completed before the record
    /// was kept is recognised by its complete marker.
    #[test]
    fn every_completed_import_is_recognised_once_recorded() {
        let store = Store::open_temporary().expect("store");
        let ann = file_of(&[("ann", 10), ("bea", 11)]);
        let dan = file_of(&[("dan", 20), ("eve", 21)]);
        let stats = import_lines(&store, "ann.jsonl", ann.as_bytes(), |_| {}).expect("ann");
        complete_import(&store, &stats).expect("complete");
        complete_import(&store, &stats).expect("complete again");
        assert!(import_once(&store, "dan.jsonl", &dan).expect("dan"));
        let recorded = store.write(|txn| read(txn)).expect("read");
        let sources: Vec<&str> = recorded.iter().map(|done| done.source.as_str()).collect();
        assert_eq!(sources, ["ann.jsonl", "dan.jsonl"]);

        assert!(!import_once(&store, "ann.jsonl", &ann).expect("ann again"));
        assert!(!import_once(&store, "dan.jsonl", &dan).expect("dan again"));

        // As a store completed its import before the record was kept.
        store
            .write(|txn| {
                txn.remove_meta(META_COMPLETED);
                Ok(())
            })
            .expect("forget the record");
        let done = already_imported(&store, dan.as_bytes())
            .expect("check")
            .expect("the complete marker's import");
        assert_eq!(
            (done.source.as_str(), done.completed_at),
            ("dan.jsonl", None)
        );
        assert_eq!(
            already_imported(&store, ann.as_bytes()).expect("check"),
            None,
            "only the last import is in the marker"
        );
        assert_eq!(users(&store), 4);
    }
}
