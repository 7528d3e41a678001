//! Reads outside a transaction: one row, a page of a relationship index or
//! the rows of one key range of it, a page of a whole entity tree, and
//! unique-key lookups. They see every write committed before them and never
//! wait for the writer.

use std::collections::VecDeque;
use std::ops::Bound;

use super::Store;
use super::backend::{KeyBounds, prefix_bounds, prefix_end};
use super::key::{read_u64, trailing_u64};
use super::page::{Cursor, Order, Page, PageRequest};
use super::record::{Record, RecordId, not_found};
use super::tree_id::{IndexName, TreeId, UniqueName};
use crate::{Error, Result};

/// Rows read per round when iterating a whole entity.
const ITER_CHUNK: usize = 512;

impl Store {
    /// The row with this id, if it exists.
    pub fn get<R: Record>(&self, id: R::Id) -> Result<Option<R>> {
        let backend = &self.inner.backend;
        backend
            .get(R::KIND.tree(), &id.raw().to_be_bytes())?
            .map(|bytes| backend.row_format().decode(&bytes))
            .transpose()
    }

    /// The row with this id, or `NotFound`.
    pub fn require<R: Record>(&self, id: R::Id) -> Result<R> {
        self.get::<R>(id)?.ok_or_else(|| not_found::<R>(id))
    }

    /// The id holding `key` in a unique index, if any.
    pub fn lookup_unique(&self, unique: UniqueName, key: &[u8]) -> Result<Option<u64>> {
        Ok(self
            .inner
            .backend
            .get(TreeId::Unique(unique), key)?
            .as_deref()
            .and_then(read_u64))
    }

    /// One page of the rows listed in `index` under `prefix`. The keys and
    /// the rows are read one after the other, not at one point in time: a
    /// row deleted in between is left out (its entry went with it), and the
    /// next page still starts after the last key read.
    pub fn list_index<R: Record>(
        &self,
        index: IndexName,
        prefix: &[u8],
        page: &PageRequest,
    ) -> Result<Page<R>> {
        let keys = self.page_keys(TreeId::Index(index), prefix, page)?;
        let mut items = Vec::with_capacity(keys.items.len());
        for key in &keys.items {
            let id = trailing_u64(key)
                .ok_or_else(|| Error::Corrupt(format!("short key in {}", index.name())))?;
            items.extend(self.get::<R>(R::Id::from_raw(id))?);
        }
        Ok(Page {
            items,
            next: keys.next,
        })
    }

    /// The rows of `index` whose keys lie in `[lower, upper)`, in key order
    /// (an empty or inverted range holds nothing): the committed twin of
    /// [`super::Txn::list_index_range`], for an index keyed by owner and
    /// time, one owner's rows within a time window, read without paging
    /// through the owner's whole history. As with [`Store::list_index`], the
    /// keys and the rows are read one after the other: a row deleted in
    /// between is left out.
    pub fn list_index_range<R: Record>(
        &self,
        index: IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<Vec<R>> {
        if lower >= upper {
            return Ok(Vec::new());
        }
        let keys = self.inner.backend.range(
            TreeId::Index(index),
            (
                Bound::Included(lower.to_vec()),
                Bound::Excluded(upper.to_vec()),
            ),
            Order::Asc,
            usize::MAX,
        )?;
        let mut rows = Vec::with_capacity(keys.len());
        for (key, _) in &keys {
            let id = trailing_u64(key)
                .ok_or_else(|| Error::Corrupt(format!("short key in {}", index.name())))?;
            rows.extend(self.get::<R>(R::Id::from_raw(id))?);
        }
        Ok(rows)
    }

    /// Counts the entries of `index` under `prefix`.
    pub fn count_index(&self, index: IndexName, prefix: &[u8]) -> Result<usize> {
        self.inner
            .backend
            .count_range(TreeId::Index(index), prefix_bounds(prefix))
    }

    /// One page of every row of an entity, in id order.
    pub fn scan<R: Record>(&self, page: &PageRequest) -> Result<Page<R>> {
        let limit = page.capped_limit();
        let bounds: KeyBounds = match (&page.after, page.order) {
            (Some(after), Order::Asc) => (Bound::Excluded(after.0.clone()), Bound::Unbounded),
            (Some(after), Order::Desc) => (Bound::Unbounded, Bound::Excluded(after.0.clone())),
            (None, _) => (Bound::Unbounded, Bound::Unbounded),
        };
        let backend = &self.inner.backend;
        let entries = backend.range(R::KIND.tree(), bounds, page.order, limit)?;
        let next = if entries.len() == limit {
            entries.last().map(|(key, _)| Cursor(key.clone()))
        } else {
            None
        };
        let items = entries
            .iter()
            .map(|(_, value)| backend.row_format().decode(value))
            .collect::<Result<_>>()?;
        Ok(Page { items, next })
    }

    /// Every row of an entity, in id order, read a chunk at a time.
    pub fn iter<R: Record>(&self) -> impl Iterator<Item = Result<R>> + use<R> {
        let store = self.clone();
        let mut after: Option<Vec<u8>> = None;
        let mut chunk: VecDeque<(Vec<u8>, Vec<u8>)> = VecDeque::new();
        let mut exhausted = false;
        std::iter::from_fn(move || {
            let backend = &store.inner.backend;
            if chunk.is_empty() && !exhausted {
                let lower = after.clone().map_or(Bound::Unbounded, Bound::Excluded);
                match backend.range(
                    R::KIND.tree(),
                    (lower, Bound::Unbounded),
                    Order::Asc,
                    ITER_CHUNK,
                ) {
                    Ok(entries) => {
                        exhausted = entries.len() < ITER_CHUNK;
                        after = entries.last().map(|(key, _)| key.clone());
                        chunk.extend(entries);
                    }
                    Err(err) => {
                        exhausted = true;
                        return Some(Err(err));
                    }
                }
            }
            let (_, value) = chunk.pop_front()?;
            Some(backend.row_format().decode(&value))
        })
    }

    /// How many rows of an entity exist (0, logged, when the database cannot
    /// say: for figures shown; a decision takes [`Store::try_count`]).
    pub fn count<R: Record>(&self) -> usize {
        self.try_count::<R>().unwrap_or_else(|err| {
            tracing::warn!(error = %err, entity = R::KIND.name(), "counting rows failed");
            0
        })
    }

    /// How many rows of an entity exist, or why the database cannot say.
    pub fn try_count<R: Record>(&self) -> Result<usize> {
        self.inner.backend.count(R::KIND)
    }

    /// The keys of one page of a tree under `prefix`.
    fn page_keys(&self, tree: TreeId, prefix: &[u8], page: &PageRequest) -> Result<Page<Vec<u8>>> {
        let limit = page.capped_limit();
        if let Some(cursor) = &page.after
            && !cursor.0.starts_with(prefix)
        {
            return Err(Error::InvalidCursor);
        }
        let lower = match (&page.after, page.order) {
            (Some(cursor), Order::Asc) => Bound::Excluded(cursor.0.clone()),
            _ => Bound::Included(prefix.to_vec()),
        };
        let upper = match (&page.after, page.order) {
            (Some(cursor), Order::Desc) => Bound::Excluded(cursor.0.clone()),
            _ => prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded),
        };
        let items: Vec<Vec<u8>> = self
            .inner
            .backend
            .range(tree, (lower, upper), page.order, limit)?
            .into_iter()
            .map(|(key, _)| key)
            .collect();
        let next = if items.len() == limit {
            items.last().cloned().map(Cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }
}
