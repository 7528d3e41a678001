//! Checking that every index and unique tree agrees with the rows: each row's
//! entries are present, and no entry exists without the row that makes it.
//! Run after a crash in tests, and by `droply check`.

use std::collections::{BTreeMap, BTreeSet};

use super::Store;
use super::key::read_u64;
use super::record::{Record, RecordId};
use super::tree_id::{IndexName, TreeId, UniqueName};
use super::txn::index_key;
use crate::Result;

/// What an integrity check found.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct IntegrityReport {
    /// Rows read, all entities together.
    pub rows: usize,
    /// Index and unique entries compared.
    pub entries: usize,
    /// Every disagreement, in words; empty when the store is consistent.
    pub problems: Vec<String>,
}

impl IntegrityReport {
    /// True when nothing disagrees.
    pub fn is_consistent(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Collects the entries every row implies, then compares them with the trees.
#[derive(Default)]
pub struct IntegrityCheck {
    index: BTreeSet<(IndexName, Vec<u8>)>,
    unique: BTreeMap<(UniqueName, Vec<u8>), u64>,
    report: IntegrityReport,
}

impl IntegrityCheck {
    /// Reads every row of `R` and records the entries it implies.
    pub fn add<R: Record>(&mut self, store: &Store) -> Result<()> {
        let backend = &store.inner.backend;
        let format = backend.row_format();
        backend.for_each(R::KIND.tree(), |key, value| {
            self.report.rows += 1;
            let row: R = match format.decode(value) {
                Ok(row) => row,
                Err(err) => {
                    self.report
                        .problems
                        .push(format!("{} row {key:?}: {err}", R::KIND.name()));
                    return Ok(());
                }
            };
            let raw = row.id().raw();
            if read_u64(key) != Some(raw) {
                self.report.problems.push(format!(
                    "{} row stored under {key:?} has id {raw}",
                    R::KIND.name()
                ));
            }
            for entry in row.index_entries() {
                self.index
                    .insert((entry.index, index_key(&entry.prefix, raw)));
            }
            for entry in row.unique_entries() {
                if let Some(other) = self.unique.insert((entry.unique, entry.key), raw) {
                    self.report.problems.push(format!(
                        "{} {:?} held by rows {other} and {raw}",
                        entry.unique.field(),
                        entry.shown
                    ));
                }
            }
            Ok(())
        })
    }

    /// Compares the recorded entries with the index and unique trees.
    pub fn finish(mut self, store: &Store) -> Result<IntegrityReport> {
        let backend = &store.inner.backend;
        for index in IndexName::ALL {
            backend.for_each(TreeId::Index(index), |key, _| {
                self.report.entries += 1;
                if !self.index.remove(&(index, key.to_vec())) {
                    self.report
                        .problems
                        .push(format!("{}: entry {key:?} has no row", index.name()));
                }
                Ok(())
            })?;
        }
        for (index, key) in &self.index {
            self.report
                .problems
                .push(format!("{}: missing entry {key:?}", index.name()));
        }
        for unique in UniqueName::ALL {
            backend.for_each(TreeId::Unique(unique), |key, value| {
                self.report.entries += 1;
                match self.unique.remove(&(unique, key.to_vec())) {
                    Some(owner) if read_u64(value) == Some(owner) => {}
                    Some(owner) => self.report.problems.push(format!(
                        "{} {key:?} points to {:?}, row {owner} holds it",
                        unique.field(),
                        read_u64(value)
                    )),
                    None => self
                        .report
                        .problems
                        .push(format!("{} {key:?} has no row", unique.field())),
                }
                Ok(())
            })?;
        }
        for ((unique, key), owner) in &self.unique {
            self.report.problems.push(format!(
                "{} {key:?} of row {owner} is missing",
                unique.field()
            ));
        }
        Ok(self.report)
    }
}
