//! Reads outside a transaction: one row, a page of a relationship index, a
//! page of a whole entity tree, and unique-key lookups. They see every write
//! committed before them and never wait for the writer.

use std::ops::Bound;
use std::sync::atomic::Ordering;

use super::Store;
use super::key::{read_u64, trailing_u64};
use super::page::{Cursor, Order, Page, PageRequest};
use super::record::{Record, RecordId, not_found};
use super::tree_id::{IndexName, TreeId, UniqueName};
use crate::{Error, Result};

impl Store {
    /// The row with this id, if it exists.
    pub fn get<R: Record>(&self, id: R::Id) -> Result<Option<R>> {
        self.tree(R::KIND.tree())
            .get(id.raw().to_be_bytes())?
            .map(|bytes| R::decode(&bytes))
            .transpose()
    }

    /// The row with this id, or `NotFound`.
    pub fn require<R: Record>(&self, id: R::Id) -> Result<R> {
        self.get::<R>(id)?.ok_or_else(|| not_found::<R>(id))
    }

    /// The id holding `key` in a unique index, if any.
    pub fn lookup_unique(&self, unique: UniqueName, key: &[u8]) -> Result<Option<u64>> {
        Ok(self
            .tree(TreeId::Unique(unique))
            .get(key)?
            .as_deref()
            .and_then(read_u64))
    }

    /// One page of the rows listed in `index` under `prefix`.
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
            items.push(self.require::<R>(R::Id::from_raw(id))?);
        }
        Ok(Page {
            items,
            next: keys.next,
        })
    }

    /// Counts the entries of `index` under `prefix`.
    pub fn count_index(&self, index: IndexName, prefix: &[u8]) -> Result<usize> {
        let mut count = 0;
        for item in self.tree(TreeId::Index(index)).scan_prefix(prefix) {
            item?;
            count += 1;
        }
        Ok(count)
    }

    /// One page of every row of an entity, in id order.
    pub fn scan<R: Record>(&self, page: &PageRequest) -> Result<Page<R>> {
        let tree = self.tree(R::KIND.tree());
        let limit = page.capped_limit();
        let after = page.after.as_ref().map(|c| c.0.clone());
        let range = match (&after, page.order) {
            (Some(after), Order::Asc) => (Bound::Excluded(after.clone()), Bound::Unbounded),
            (Some(after), Order::Desc) => (Bound::Unbounded, Bound::Excluded(after.clone())),
            (None, _) => (Bound::Unbounded, Bound::Unbounded),
        };
        let iter = tree.range::<Vec<u8>, _>(range);
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            match page.order {
                Order::Asc => Box::new(iter),
                Order::Desc => Box::new(iter.rev()),
            };
        let mut items = Vec::new();
        let mut last_key = None;
        for item in iter.take(limit) {
            let (key, value) = item?;
            items.push(R::decode(&value)?);
            last_key = Some(key.to_vec());
        }
        let next = if items.len() == limit {
            last_key.map(Cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }

    /// Every row of an entity, in id order, decoded lazily.
    pub fn iter<R: Record>(&self) -> impl Iterator<Item = Result<R>> + use<R> {
        self.tree(R::KIND.tree()).iter().map(|item| {
            let (_, value) = item?;
            R::decode(&value)
        })
    }

    /// How many rows of an entity exist.
    pub fn count<R: Record>(&self) -> usize {
        self.inner.row_counts.get(&R::KIND).map_or(0, |count| {
            usize::try_from(count.load(Ordering::Acquire)).unwrap_or(0)
        })
    }

    /// The keys of one page of a tree under `prefix`.
    fn page_keys(&self, tree: TreeId, prefix: &[u8], page: &PageRequest) -> Result<Page<Vec<u8>>> {
        let limit = page.capped_limit();
        if let Some(cursor) = &page.after
            && !cursor.0.starts_with(prefix)
        {
            return Err(Error::Invalid("cursor belongs to another list".to_owned()));
        }
        let lower = match (&page.after, page.order) {
            (Some(cursor), Order::Asc) => Bound::Excluded(cursor.0.clone()),
            _ => Bound::Included(prefix.to_vec()),
        };
        let upper = match (&page.after, page.order) {
            (Some(cursor), Order::Desc) => Bound::Excluded(cursor.0.clone()),
            _ => prefix_end(prefix).map_or(Bound::Unbounded, Bound::Excluded),
        };
        let iter = self.tree(tree).range::<Vec<u8>, _>((lower, upper));
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> =
            match page.order {
                Order::Asc => Box::new(iter),
                Order::Desc => Box::new(iter.rev()),
            };
        let mut items = Vec::new();
        for item in iter.take(limit) {
            let (key, _) = item?;
            items.push(key.to_vec());
        }
        let next = if items.len() == limit {
            items.last().cloned().map(Cursor)
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

/// The smallest key greater than every key starting with `prefix`, if any.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
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
