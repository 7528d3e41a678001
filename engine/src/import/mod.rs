//! Loading rows from JSON lines: one row per line, `{"kind": "user", "row": {...}}`,
//! written under the ids they carry (so relations in the file hold), in
//! transactions of [`BATCH_ROWS`] rows. A bad line, or a row whose id is
//! taken already, stops the import with its line number. Imported balances
//! get opening ledger rows, so they agree with the ledger.
//!
//! An import of a file, or of the demo marketplace, is resumable: the store
//! records it under way ([`ImportProgress`], in its metadata) in the same
//! transaction as every batch, so a run killed anywhere (kill -9, power
//! loss, a bad line) leaves exactly the batches it committed and a marker
//! that counts them. Run again with an input that begins with those rows,
//! it skips them and goes on; the finished store is the one a single
//! uninterrupted run makes. Another input is refused while an import is
//! unfinished ([`abandon_unfinished_import`] lets it go). The caller marks
//! the import complete ([`complete_import`]) once its own follow-up steps
//! (opening imported sales, placing files) are done, so a crash between the
//! last batch and those steps is finished by the rerun too.
//!
//! A completed import is recorded too ([`CompletedImport`]), in the
//! transaction that marks it complete, so that the same input run again is
//! recognised by its rows ([`already_imported`]) and left alone, where
//! importing it would fail on rows that are there already; an input with
//! other rows that clash with the store's is refused on them as ever.

mod completed;
#[cfg(test)]
mod imported_balances_tests;
#[cfg(test)]
mod imported_bookings_tests;
mod loader;
mod marker;
mod row;
mod rows_hash;

use std::io::BufRead;

pub(crate) use completed::carry_completed_imports;
pub use completed::{CompletedImport, already_imported};
use loader::Loader;
pub use loader::{BATCH_ROWS, ImportStats};
pub(crate) use marker::carry_import_marker;
pub use marker::{ImportProgress, abandon_unfinished_import, unfinished_import};
pub use row::ImportRow;

use crate::store::Store;
use crate::{Error, Result};

/// Imports every line of `input`, the import of `source` (the file's path,
/// in words), resuming the store's unfinished import when `input` begins
/// with its rows and refused when it does not; `progress` is told the
/// bytes read so far after each batch. A row that fails validation or
/// clashes with a unique key is reported with its line. Mark the import
/// complete with [`complete_import`] once the caller's follow-up is done.
pub fn import_lines(
    store: &Store,
    source: &str,
    input: impl BufRead,
    mut progress: impl FnMut(u64),
) -> Result<ImportStats> {
    let mut loader = Loader::tracked(store, source)?;
    for (index, line) in input.lines().enumerate() {
        let line = line?;
        loader.read_bytes(line.len() as u64 + 1);
        if !holds_row(&line) {
            continue;
        }
        let committed = loader.push(Some(index + 1), line.as_bytes(), || {
            serde_json::from_str(&line)
                .map_err(|err| Error::Invalid(format!("line {}: {err}", index + 1)))
        })?;
        if committed {
            progress(loader.stats().bytes);
        }
    }
    let stats = loader.finish()?;
    progress(stats.bytes);
    Ok(stats)
}

/// Whether `line` of an import file holds a row: blank lines hold none, and
/// are passed over by [`import_lines`] and [`already_imported`] alike.
fn holds_row(line: &str) -> bool {
    !line.trim().is_empty()
}

/// Imports rows already in memory as the import of `source` (the demo
/// marketplace), resumable as [`import_lines`] is, each row taken as its
/// JSON; `progress` is told the rows passed so far (skipped ones included)
/// after each batch. Mark it complete with [`complete_import`].
pub fn import_rows_resumable(
    store: &Store,
    source: &str,
    rows: impl IntoIterator<Item = ImportRow>,
    progress: impl FnMut(u64),
) -> Result<ImportStats> {
    load_rows(Loader::tracked(store, source)?, rows, progress)
}

/// Imports rows already in memory into a store of their own (tests,
/// benches, evaluation), keeping no marker; `progress` is told the rows
/// written so far after each batch.
pub fn import_rows(
    store: &Store,
    rows: impl IntoIterator<Item = ImportRow>,
    progress: impl FnMut(u64),
) -> Result<ImportStats> {
    load_rows(Loader::untracked(store), rows, progress)
}

/// Feeds `rows` to `loader`, telling `progress` after each batch.
fn load_rows(
    mut loader: Loader<'_>,
    rows: impl IntoIterator<Item = ImportRow>,
    mut progress: impl FnMut(u64),
) -> Result<ImportStats> {
    for row in rows {
        let text = if loader.is_tracked() {
            serde_json::to_vec(&row)
                .map_err(|err| Error::Invalid(format!("{} row: {err}", row.kind().name())))?
        } else {
            Vec::new()
        };
        if loader.push(None, &text, || Ok(row))? {
            progress(loader.offered());
        }
    }
    let offered = loader.offered();
    let stats = loader.finish()?;
    progress(offered);
    Ok(stats)
}

/// Marks the import `stats` reports complete, once the caller's follow-up
/// steps are done: the next import then starts afresh, and the same input
/// is recognised by [`already_imported`] (recorded in the same
/// transaction). Nothing to do for an import that wrote no marker (no rows,
/// or untracked). Refused when the store's marker is no longer this
/// import's.
pub fn complete_import(store: &Store, stats: &ImportStats) -> Result<()> {
    let Some(done) = &stats.progress else {
        return Ok(());
    };
    store.write(|txn| match marker::read(txn)? {
        Some(stored)
            if stored.rows_done == done.rows_done && stored.rows_hash == done.rows_hash =>
        {
            if !stored.complete {
                marker::write(
                    txn,
                    &ImportProgress {
                        complete: true,
                        ..stored.clone()
                    },
                )?;
            }
            completed::record(txn, &stored)
        }
        other => Err(Error::InvalidState(format!(
            "{done} cannot be marked complete: the store now records {}",
            other.map_or_else(|| "no import".to_owned(), |stored| stored.to_string())
        ))),
    })
}
