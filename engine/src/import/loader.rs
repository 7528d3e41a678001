//! Rows on their way into the store, [`BATCH_ROWS`] to a transaction. A
//! tracked (resumable) import commits its marker with every batch: the rows
//! committed so far and the hash chain over them. Taking up an unfinished
//! import, it hashes the input's rows without writing them until it has
//! passed the rows the store holds, checks that they are the same rows, and
//! only then writes on; an input that does not begin with them is refused
//! before anything is written.

use crate::store::{EntityKind, Store};
use crate::{Error, Result};

use super::marker::{self, ImportProgress};
use super::row::ImportRow;
use super::rows_hash::RowsHash;

/// Rows committed per transaction.
pub const BATCH_ROWS: usize = 500;

/// What an import did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportStats {
    /// Rows written by this run, per kind, in [`EntityKind::ALL`] order.
    pub rows_by_kind: Vec<(EntityKind, u64)>,
    /// Rows written by this run, in all.
    pub rows: u64,
    /// Rows an earlier, unfinished run of the same import had committed,
    /// which this run took as they were.
    pub skipped: u64,
    /// Input bytes read.
    pub bytes: u64,
    /// The marker this run left (a tracked import with at least one row):
    /// what [`super::complete_import`] marks complete.
    pub progress: Option<ImportProgress>,
}

impl ImportStats {
    fn count(&mut self, kind: EntityKind) {
        self.rows += 1;
        match self.rows_by_kind.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.rows_by_kind.push((kind, 1)),
        }
    }
}

/// What a tracked import knows of itself.
struct Tracking {
    /// The import's source, in words.
    source: String,
    /// The chain over every row offered so far.
    hash: RowsHash,
    /// Rows offered so far (skipped or batched).
    offered: u64,
    /// The unfinished import this run takes up, until its rows are passed.
    resuming: Option<ImportProgress>,
    /// The marker as the store holds it after the last commit this run made
    /// or took up; `None` before the first batch of a fresh import.
    committed: Option<ImportProgress>,
}

/// Batches rows and commits them; see the module docs.
pub(super) struct Loader<'s> {
    store: &'s Store,
    batch: Vec<(Option<usize>, ImportRow)>,
    stats: ImportStats,
    tracking: Option<Tracking>,
}

impl<'s> Loader<'s> {
    /// A load that keeps no marker (rows for a store of their own: tests,
    /// benches, evaluation).
    pub(super) fn untracked(store: &'s Store) -> Loader<'s> {
        Loader {
            store,
            batch: Vec::with_capacity(BATCH_ROWS),
            stats: ImportStats::default(),
            tracking: None,
        }
    }

    /// A resumable import of `source`, taking up the store's unfinished
    /// import if there is one (whether this input continues it shows once
    /// its rows are read).
    pub(super) fn tracked(store: &'s Store, source: &str) -> Result<Loader<'s>> {
        let unfinished = marker::unfinished_import(store)?;
        let (resuming, committed) = match unfinished {
            Some(progress) if progress.rows_done > 0 => {
                tracing::info!(%progress, source, "taking up an unfinished import");
                (Some(progress), None)
            }
            // A marker without rows holds nothing to skip or to check.
            other => (None, other),
        };
        Ok(Loader {
            tracking: Some(Tracking {
                source: source.to_owned(),
                hash: RowsHash::new(),
                offered: 0,
                resuming,
                committed,
            }),
            ..Loader::untracked(store)
        })
    }

    /// Whether rows need their text for the hash chain.
    pub(super) fn is_tracked(&self) -> bool {
        self.tracking.is_some()
    }

    /// The statistics so far (for progress reports).
    pub(super) fn stats(&self) -> &ImportStats {
        &self.stats
    }

    /// Counts input bytes read.
    pub(super) fn read_bytes(&mut self, bytes: u64) {
        self.stats.bytes += bytes;
    }

    /// Rows offered so far, skipped ones included.
    pub(super) fn offered(&self) -> u64 {
        match &self.tracking {
            Some(tracking) => tracking.offered,
            None => self.stats.rows + self.batch.len() as u64,
        }
    }

    /// Takes the input's next row: `text` is what the hash chain takes of it
    /// (unused when untracked), `row` makes it (not called for a row an
    /// earlier run committed), `line` names it in errors. Commits a batch
    /// when one is full; returns whether it did.
    pub(super) fn push(
        &mut self,
        line: Option<usize>,
        text: &[u8],
        row: impl FnOnce() -> Result<ImportRow>,
    ) -> Result<bool> {
        if let Some(tracking) = &mut self.tracking {
            tracking.hash.add(text);
            tracking.offered += 1;
            if let Some(resuming) = &tracking.resuming {
                if tracking.offered < resuming.rows_done {
                    self.stats.skipped += 1;
                    return Ok(false);
                }
                if tracking.hash.hex() != resuming.rows_hash {
                    return Err(marker::refusal(
                        resuming,
                        &tracking.source,
                        &format!(
                            "its first {} rows are not the rows committed",
                            resuming.rows_done
                        ),
                    ));
                }
                self.stats.skipped += 1;
                tracking.committed = tracking.resuming.take();
                return Ok(false);
            }
        }
        self.batch.push((line, row()?));
        if self.batch.len() < BATCH_ROWS {
            return Ok(false);
        }
        self.commit()?;
        Ok(true)
    }

    /// Commits what is left, refuses an input that ended before the rows of
    /// the import it took up, and opens the ledger rows of imported
    /// balances.
    pub(super) fn finish(mut self) -> Result<ImportStats> {
        if let Some(tracking) = &self.tracking
            && let Some(resuming) = &tracking.resuming
        {
            return Err(marker::refusal(
                resuming,
                &tracking.source,
                &format!("it has only {} rows", tracking.offered),
            ));
        }
        self.commit()?;
        crate::payments::ledger::open_imported_balances(self.store)?;
        let mut stats = self.stats;
        stats.progress = self.tracking.and_then(|tracking| tracking.committed);
        stats.rows_by_kind.sort_by_key(|(kind, _)| *kind);
        Ok(stats)
    }

    /// Writes the batch in one transaction, with the marker moved on when
    /// tracked; a row's user error names its input line.
    fn commit(&mut self) -> Result<()> {
        if self.batch.is_empty() {
            return Ok(());
        }
        let rows = std::mem::take(&mut self.batch);
        let kinds: Vec<EntityKind> = rows.iter().map(|(_, row)| row.kind()).collect();
        let tracking = self.tracking.as_ref();
        let moved_on = self.store.write(|txn| {
            let moved_on = match tracking {
                Some(tracking) => {
                    let stored = marker::read(txn)?.filter(|progress| !progress.complete);
                    check_unmoved(tracking, stored.as_ref())?;
                    let next = ImportProgress {
                        source: tracking.source.clone(),
                        rows_done: tracking.offered,
                        batches_done: stored.as_ref().map_or(0, |p| p.batches_done) + 1,
                        rows_hash: tracking.hash.hex(),
                        started_at: stored.as_ref().map_or(txn.now(), |p| p.started_at),
                        complete: false,
                    };
                    marker::write(txn, &next)?;
                    Some(next)
                }
                None => None,
            };
            rows.into_iter().try_for_each(|(line, row)| {
                row.put(txn).map_err(|err| match line {
                    Some(line) if err.is_user_error() => {
                        Error::Invalid(format!("line {line}: {err}"))
                    }
                    _ => err,
                })
            })?;
            Ok(moved_on)
        })?;
        if let (Some(tracking), Some(next)) = (&mut self.tracking, moved_on) {
            tracking.committed = Some(next);
        }
        kinds.into_iter().for_each(|kind| self.stats.count(kind));
        Ok(())
    }
}

/// Refuses a batch when the store's marker is no longer the one this run
/// committed or took up: another process imported meanwhile.
fn check_unmoved(tracking: &Tracking, stored: Option<&ImportProgress>) -> Result<()> {
    let same = match (stored, tracking.committed.as_ref()) {
        (None, None) => true,
        (Some(stored), Some(ours)) => {
            stored.rows_done == ours.rows_done && stored.rows_hash == ours.rows_hash
        }
        _ => false,
    };
    if same {
        return Ok(());
    }
    let found = stored.map_or_else(|| "no unfinished import".to_owned(), ToString::to_string);
    Err(Error::InvalidState(format!(
        "the import of {} stopped: another process changed the store's import meanwhile (it now \
         records {found}); run it again to take it up",
        tracking.source
    )))
}
