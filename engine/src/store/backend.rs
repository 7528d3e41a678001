//! The store's two backends behind one set of tree operations: the sled
//! database (embedded, the default) and PostgreSQL (the store of record when
//! several API nodes share it). Everything above this file (transactions,
//! reads, pages, the integrity check) speaks of trees and byte keys; this
//! file sends each call to the backend that holds them, and knows how each
//! one writes a row: sled in the engine's binary codec, PostgreSQL as JSON so
//! that its generated columns can read the fields.

use std::cell::RefCell;
use std::ops::Bound;

use super::page::Order;
use super::pg::{self, PgStore};
use super::record::Record;
use super::sled_trees::SledTrees;
use super::tree_id::{EntityKind, TreeId};
use crate::{Error, Result};

/// Lower and upper bounds of a key range.
pub(crate) type KeyBounds = (Bound<Vec<u8>>, Bound<Vec<u8>>);

/// Where the rows live.
pub(crate) enum Backend {
    /// sled, in one directory.
    Sled(Box<SledTrees>),
    /// A PostgreSQL database, shared by every node that opens it.
    Postgres(Box<PgStore>),
}

/// How a backend writes rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RowFormat {
    /// The engine's versioned binary codec ([`Record::encode`]).
    Codec,
    /// The record's serde form as JSON text.
    Json,
}

impl RowFormat {
    /// The bytes a row is kept as.
    pub(crate) fn encode<R: Record>(self, row: &R) -> Result<Vec<u8>> {
        match self {
            RowFormat::Codec => row.encode(),
            RowFormat::Json => serde_json::to_vec(row)
                .map_err(|err| Error::Corrupt(format!("{} row: {err}", R::KIND.name()))),
        }
    }

    /// The row kept as `bytes`.
    pub(crate) fn decode<R: Record>(self, bytes: &[u8]) -> Result<R> {
        match self {
            RowFormat::Codec => R::decode(bytes),
            RowFormat::Json => serde_json::from_slice(bytes)
                .map_err(|err| Error::Corrupt(format!("{} row: {err}", R::KIND.name()))),
        }
    }
}

impl Backend {
    /// How this backend keeps rows.
    pub(crate) fn row_format(&self) -> RowFormat {
        match self {
            Backend::Sled(_) => RowFormat::Codec,
            Backend::Postgres(_) => RowFormat::Json,
        }
    }

    /// The value under `key` in `tree`.
    pub(crate) fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            Backend::Sled(sled) => sled.get(tree, key),
            Backend::Postgres(store) => {
                pg::off_runtime(|| pg::trees::get(&mut store.client()?, tree, key))
            }
        }
    }

    /// Up to `limit` entries of `tree` within `bounds`, in `order`.
    pub(crate) fn range(
        &self,
        tree: TreeId,
        bounds: KeyBounds,
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        match self {
            Backend::Sled(sled) => sled.range(tree, bounds, order, limit),
            Backend::Postgres(store) => pg::off_runtime(|| {
                pg::trees::range(&mut store.client()?, tree, &bounds, order, limit)
            }),
        }
    }

    /// How many entries of `tree` lie within `bounds`.
    pub(crate) fn count_range(&self, tree: TreeId, bounds: KeyBounds) -> Result<usize> {
        match self {
            Backend::Sled(sled) => sled.count_range(tree, bounds),
            Backend::Postgres(store) => pg::trees::count_range(&mut store.client()?, tree, &bounds),
        }
    }

    /// Calls `visit` with every entry of `tree` in key order, reading a
    /// chunk at a time.
    pub(crate) fn for_each(
        &self,
        tree: TreeId,
        mut visit: impl FnMut(&[u8], &[u8]) -> Result<()>,
    ) -> Result<()> {
        const CHUNK: usize = 1024;
        let mut lower = Bound::Unbounded;
        loop {
            let entries = self.range(tree, (lower, Bound::Unbounded), Order::Asc, CHUNK)?;
            for (key, value) in &entries {
                visit(key, value)?;
            }
            let full = entries.len() == CHUNK;
            match entries.into_iter().last() {
                Some((key, _)) if full => lower = Bound::Excluded(key),
                _ => return Ok(()),
            }
        }
    }

    /// Rows of `kind`.
    pub(crate) fn count(&self, kind: EntityKind) -> Result<usize> {
        match self {
            Backend::Sled(sled) => Ok(sled.count(kind)),
            Backend::Postgres(store) => pg::off_runtime(|| store.count(kind)),
        }
    }
}

/// What a write transaction reads through: the committed trees for sled
/// (whose single writer holds the lock), the open database transaction for
/// PostgreSQL (so the reads see what the transaction holds locked).
pub(crate) enum Reader<'s> {
    /// sled's trees.
    Sled(&'s SledTrees),
    /// The PostgreSQL transaction this write runs in.
    Postgres(RefCell<pg::TxnSession<'s>>),
}

impl Reader<'_> {
    /// The value under `key` in `tree`.
    pub(crate) fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        match self {
            Reader::Sled(sled) => sled.get(tree, key),
            Reader::Postgres(session) => pg::trees::get(&mut *session.borrow_mut(), tree, key),
        }
    }

    /// Every key of `tree` within `bounds`, in order.
    pub(crate) fn keys(&self, tree: TreeId, bounds: KeyBounds) -> Result<Vec<Vec<u8>>> {
        let entries = match self {
            Reader::Sled(sled) => sled.range(tree, bounds, Order::Asc, usize::MAX)?,
            Reader::Postgres(tx) => {
                pg::trees::range(&mut *tx.borrow_mut(), tree, &bounds, Order::Asc, usize::MAX)?
            }
        };
        Ok(entries.into_iter().map(|(key, _)| key).collect())
    }

    /// Rows of `kind` as committed: under the write lock, every commit
    /// before this transaction's.
    pub(crate) fn count(&self, kind: EntityKind) -> Result<usize> {
        match self {
            Reader::Sled(sled) => Ok(sled.count(kind)),
            Reader::Postgres(session) => pg::row_count(&mut *session.borrow_mut(), kind),
        }
    }

    /// How this backend keeps rows.
    pub(crate) fn row_format(&self) -> RowFormat {
        match self {
            Reader::Sled(_) => RowFormat::Codec,
            Reader::Postgres(_) => RowFormat::Json,
        }
    }
}

/// The bounds of every key starting with `prefix`.
pub(crate) fn prefix_bounds(prefix: &[u8]) -> KeyBounds {
    (
        Bound::Included(prefix.to_vec()),
        prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded),
    )
}

/// The smallest key greater than every key starting with `prefix`, if any.
pub(crate) fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::prefix_end;

    #[test]
    fn prefix_end_skips_saturated_bytes() {
        assert_eq!(prefix_end(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255, 255]), None);
    }
}
