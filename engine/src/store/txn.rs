//! A write transaction: reads see the committed store plus the transaction's
//! own writes; writes are staged and committed all at once (rows, their index
//! and unique entries, and their change-feed entries) in one backend
//! transaction. Only one transaction runs at a time (sled's writer lock,
//! PostgreSQL's advisory lock), so checks made inside it, such as "is this
//! slot still free", hold until it commits.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;

use droply_models::Timestamp;

use super::backend::{Reader, prefix_bounds};
use super::change_feed::ChangeOp;
use super::key::{read_u64, trailing_u64};
use super::record::{Record, RecordId, not_found};
use super::tree_id::{EntityKind, TreeId};
use crate::{Error, Result};

/// The largest row id. PostgreSQL keeps ids, and the counter of the next
/// one, as `bigint`, so every backend stops one short of `i64::MAX`: an id
/// past it is refused on import and never made.
pub const MAX_ID: u64 = i64::MAX as u64 - 1;

/// A staged write: `None` removes the key.
pub(crate) type Staged = BTreeMap<(TreeId, Vec<u8>), Option<Vec<u8>>>;

/// How far ahead of a node's wall clock the last commit may be stamped for
/// the write clock to follow it ([`Txn::now_after`]): clock steps and skew
/// between nodes are seconds; a clock an hour ahead is a broken one.
pub(crate) const MAX_CLOCK_LEAD_MICROS: i64 = 5 * 60 * 1_000_000;

/// A write transaction; see the module docs. Made by [`super::Store::write`].
pub struct Txn<'s> {
    reader: Reader<'s>,
    staged: Staged,
    changes: Vec<ChangedRow>,
    next_id: u64,
    now: Timestamp,
    /// The instant it commits at, which [`Txn::backdate`] leaves alone.
    committed_at: Timestamp,
}

impl<'s> Txn<'s> {
    /// A transaction reading through `reader`, allocating ids from
    /// `next_id`, running at [`Txn::now_after`] `floor`: the instant the
    /// last commit ran at, as the store recorded it (`None` when unknown).
    pub(crate) fn new(reader: Reader<'s>, next_id: u64, floor: Option<Timestamp>) -> Self {
        let now = Txn::now_after(floor, wall_clock());
        Txn {
            reader,
            staged: BTreeMap::new(),
            changes: Vec::new(),
            next_id,
            now,
            committed_at: now,
        }
    }

    /// The instant a transaction runs at: the wall clock, unless it is not
    /// past `floor` (the last commit's instant), then one microsecond past
    /// it. Rows are stamped with it and listed oldest first by keyset
    /// cursors, so a clock stepped back (NTP) or behind another node's
    /// sharing the database must not stamp a new row before a committed
    /// one: a reader past that one would skip it for good.
    /// A floor more than [`MAX_CLOCK_LEAD_MICROS`] ahead of the wall clock
    /// (a node whose clock ran far ahead committed it) is not followed: the
    /// rules that read `now` (holds, sign-ins, seats) would run that far in
    /// the future for every write until the wall clock caught up.
    pub(crate) fn now_after(floor: Option<Timestamp>, wall: Timestamp) -> Timestamp {
        let Some(floor) = floor else {
            return wall;
        };
        let lead = floor.as_micros().saturating_sub(wall.as_micros());
        if lead > MAX_CLOCK_LEAD_MICROS {
            tracing::error!(
                lead_seconds = lead / 1_000_000,
                "the last commit is stamped far ahead of this node's clock; writing at the wall clock"
            );
            return wall;
        }
        let next = Timestamp::from_micros(floor.as_micros().saturating_add(1)).unwrap_or(floor);
        wall.max(next)
    }

    /// The instant this transaction runs at; use it for `created_at` fields.
    pub fn now(&self) -> Timestamp {
        self.now
    }

    /// The instant this transaction commits at, whatever it was backdated
    /// to: its change-feed entries carry it, and the next transaction runs
    /// after it, so the store's write clock never goes back.
    pub(crate) fn committed_at(&self) -> Timestamp {
        self.committed_at
    }

    /// Runs the rest of this transaction as of `at`: for history imported
    /// from before the store, whose rows must carry the instant they
    /// happened, not the import's. The commit itself stays at its own
    /// instant ([`Txn::committed_at`]).
    pub(crate) fn backdate(&mut self, at: Timestamp) {
        self.now = at;
    }

    /// The row with this id, if it exists.
    pub fn get<R: Record>(&self, id: R::Id) -> Result<Option<R>> {
        self.get_raw(R::KIND.tree(), &id.raw().to_be_bytes())?
            .map(|bytes| self.reader.row_format().decode(&bytes))
            .transpose()
    }

    /// The row with this id, or `NotFound`.
    pub fn require<R: Record>(&self, id: R::Id) -> Result<R> {
        self.get::<R>(id)?.ok_or_else(|| not_found::<R>(id))
    }

    /// Writes a new row under a freshly allocated id and returns it.
    pub fn create<R: Record>(&mut self, mut row: R) -> Result<R> {
        let id = self.allocate_id()?;
        row.set_id(R::Id::from_raw(id));
        self.write_row(None, &row)?;
        Ok(row)
    }

    /// Writes a row under the id it carries, replacing any row with that id.
    /// Used by import, where ids come from the input and relations refer to them.
    /// Ids run from 1 to [`MAX_ID`] on every backend.
    pub fn put<R: Record>(&mut self, row: R) -> Result<R> {
        let raw = row.id().raw();
        if raw == 0 || raw > MAX_ID {
            return Err(Error::Invalid(format!(
                "{} id {raw} is out of range: ids run from 1 to {MAX_ID}",
                R::KIND.name()
            )));
        }
        self.next_id = self.next_id.max(raw + 1);
        let old = self.get::<R>(row.id())?;
        self.write_row(old.as_ref(), &row)?;
        Ok(row)
    }

    /// Replaces an existing row; `NotFound` if it does not exist.
    pub fn update<R: Record>(&mut self, row: R) -> Result<R> {
        let old = self.require::<R>(row.id())?;
        self.write_row(Some(&old), &row)?;
        Ok(row)
    }

    /// Deletes a row and its index entries; returns what was deleted.
    pub fn delete<R: Record>(&mut self, id: R::Id) -> Result<R> {
        let old = self.require::<R>(id)?;
        let key = id.raw().to_be_bytes().to_vec();
        for entry in old.index_entries() {
            self.stage(
                TreeId::Index(entry.index),
                index_key(&entry.prefix, id.raw()),
                None,
            );
        }
        for entry in old.unique_entries() {
            self.let_go_unique(entry.unique, entry.key, id.raw())?;
        }
        self.stage(R::KIND.tree(), key, None);
        self.changes.push(ChangedRow {
            kind: R::KIND,
            id: id.raw(),
            op: ChangeOp::Delete,
            owner: old.owner(),
            rows_added: -1,
        });
        Ok(old)
    }

    /// Rows listed in `index` under `prefix`, in key order, including this
    /// transaction's own writes.
    pub fn list_index<R: Record>(&self, index: super::IndexName, prefix: &[u8]) -> Result<Vec<R>> {
        self.rows_of(index, self.index_keys(index, prefix)?)
    }

    /// Rows of `index` whose keys lie in `[lower, upper)`, in key order,
    /// including this transaction's own writes: for an index keyed by owner
    /// and time, one owner's rows within a time window, read without
    /// loading the owner's whole history.
    pub fn list_index_range<R: Record>(
        &self,
        index: super::IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<Vec<R>> {
        self.rows_of(index, self.index_keys_in(index, lower, upper)?)
    }

    /// The rows `keys` of `index` name, in key order.
    fn rows_of<R: Record>(
        &self,
        index: super::IndexName,
        keys: BTreeSet<Vec<u8>>,
    ) -> Result<Vec<R>> {
        let mut rows = Vec::with_capacity(keys.len());
        for key in keys {
            let id = trailing_u64(&key)
                .ok_or_else(|| Error::Corrupt(format!("short key in {}", index.name())))?;
            rows.push(self.require::<R>(R::Id::from_raw(id))?);
        }
        Ok(rows)
    }

    /// How many entries of `index` lie in `[lower, upper)`, including this
    /// transaction's own writes (no row is read).
    pub fn count_index_range(
        &self,
        index: super::IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<usize> {
        Ok(self.index_keys_in(index, lower, upper)?.len())
    }

    /// The keys of `index` in `[lower, upper)` as this transaction sees them.
    fn index_keys_in(
        &self,
        index: super::IndexName,
        lower: &[u8],
        upper: &[u8],
    ) -> Result<BTreeSet<Vec<u8>>> {
        // An empty or inverted range (an owner at the last id has no next
        // owner to bound it) holds nothing; range reads would panic on it.
        if lower >= upper {
            return Ok(BTreeSet::new());
        }
        let tree = TreeId::Index(index);
        let mut keys: BTreeSet<Vec<u8>> = self
            .reader
            .keys(
                tree,
                (
                    Bound::Included(lower.to_vec()),
                    Bound::Excluded(upper.to_vec()),
                ),
            )?
            .into_iter()
            .collect();
        let bounds = (
            Bound::Included((tree, lower.to_vec())),
            Bound::Excluded((tree, upper.to_vec())),
        );
        for ((_, key), value) in self.staged.range(bounds) {
            match value {
                Some(_) => keys.insert(key.clone()),
                None => keys.remove(key),
            };
        }
        Ok(keys)
    }

    /// How many entries `index` holds under `prefix`, including this
    /// transaction's own writes (no row is read).
    pub fn count_index(&self, index: super::IndexName, prefix: &[u8]) -> Result<usize> {
        Ok(self.index_keys(index, prefix)?.len())
    }

    /// How many rows of `R` exist, including this transaction's own creates
    /// and deletes (the counts each backend keeps: no row is read). Only one
    /// transaction runs at a time, so a bound checked here holds until it
    /// commits.
    pub fn count<R: Record>(&self) -> Result<usize> {
        let committed = i64::try_from(self.reader.count(R::KIND)?).unwrap_or(i64::MAX);
        let added: i64 = self
            .changes
            .iter()
            .filter(|change| change.kind == R::KIND)
            .map(|change| change.rows_added)
            .sum();
        Ok(usize::try_from(committed.saturating_add(added)).unwrap_or(0))
    }

    /// The keys of `index` under `prefix` as this transaction sees them.
    fn index_keys(&self, index: super::IndexName, prefix: &[u8]) -> Result<BTreeSet<Vec<u8>>> {
        let tree = TreeId::Index(index);
        let mut keys: BTreeSet<Vec<u8>> = self
            .reader
            .keys(tree, prefix_bounds(prefix))?
            .into_iter()
            .collect();
        let start = (tree, prefix.to_vec());
        for ((staged_tree, key), value) in self
            .staged
            .range((Bound::Included(start), Bound::Unbounded))
        {
            if *staged_tree != tree || !key.starts_with(prefix) {
                break;
            }
            match value {
                Some(_) => keys.insert(key.clone()),
                None => keys.remove(key),
            };
        }
        Ok(keys)
    }

    /// The store metadata value under `key` (an engine-chosen text key, not
    /// one of the counters the commit keeps itself), as this transaction
    /// sees it.
    pub(crate) fn meta(&self, key: &str) -> Result<Option<Vec<u8>>> {
        self.get_raw(TreeId::Meta, key.as_bytes())
    }

    /// Sets the store metadata `key` to `value`, committed with the rest of
    /// this transaction (on both backends), so that a record of progress
    /// moves with the rows it describes.
    pub(crate) fn put_meta(&mut self, key: &str, value: Vec<u8>) {
        self.stage(TreeId::Meta, key.as_bytes().to_vec(), Some(value));
    }

    /// Removes the store metadata `key` when this transaction commits.
    pub(crate) fn remove_meta(&mut self, key: &str) {
        self.stage(TreeId::Meta, key.as_bytes().to_vec(), None);
    }

    /// Removes `key` from a unique index if row `raw` holds it: a key another
    /// row holds stays (an upgrade that met two rows with one value, such as
    /// a Stripe account held twice, keyed it to the first; the second letting
    /// the value go must not free the first's key).
    fn let_go_unique(&mut self, unique: super::UniqueName, key: Vec<u8>, raw: u64) -> Result<()> {
        if self.lookup_unique(unique, &key)? == Some(raw) {
            self.stage(TreeId::Unique(unique), key, None);
        }
        Ok(())
    }

    /// The id of the row holding `key` in a unique index, if any.
    pub fn lookup_unique(&self, unique: super::UniqueName, key: &[u8]) -> Result<Option<u64>> {
        Ok(self
            .get_raw(TreeId::Unique(unique), key)?
            .as_deref()
            .and_then(read_u64))
    }

    fn write_row<R: Record>(&mut self, old: Option<&R>, new: &R) -> Result<()> {
        new.validate()?;
        let raw = new.id().raw();
        let old_index: BTreeSet<_> = old
            .map(|o| o.index_entries())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let new_index: BTreeSet<_> = new.index_entries().into_iter().collect();
        let old_unique: BTreeSet<_> = old
            .map(|o| o.unique_entries())
            .unwrap_or_default()
            .into_iter()
            .collect();
        let new_unique: BTreeSet<_> = new.unique_entries().into_iter().collect();

        for entry in new_unique.difference(&old_unique) {
            if let Some(holder) = self.lookup_unique(entry.unique, &entry.key)?
                && holder != raw
            {
                return Err(Error::Conflict {
                    field: entry.unique.field(),
                    value: entry.shown.clone(),
                });
            }
        }
        for entry in old_unique.difference(&new_unique) {
            self.let_go_unique(entry.unique, entry.key.clone(), raw)?;
        }
        for entry in new_unique.difference(&old_unique) {
            let value = raw.to_be_bytes().to_vec();
            self.stage(TreeId::Unique(entry.unique), entry.key.clone(), Some(value));
        }
        for entry in old_index.difference(&new_index) {
            self.stage(
                TreeId::Index(entry.index),
                index_key(&entry.prefix, raw),
                None,
            );
        }
        for entry in new_index.difference(&old_index) {
            self.stage(
                TreeId::Index(entry.index),
                index_key(&entry.prefix, raw),
                Some(Vec::new()),
            );
        }
        self.stage(
            R::KIND.tree(),
            raw.to_be_bytes().to_vec(),
            Some(self.reader.row_format().encode(new)?),
        );
        self.changes.push(ChangedRow {
            kind: R::KIND,
            id: raw,
            op: ChangeOp::Put,
            owner: None,
            rows_added: i64::from(old.is_none()),
        });
        Ok(())
    }

    fn allocate_id(&mut self) -> Result<u64> {
        let id = self.next_id;
        if id == 0 || id > MAX_ID {
            return Err(Error::Storage(format!(
                "no row ids left (the next would be {id}, past {MAX_ID})"
            )));
        }
        self.next_id = id + 1;
        Ok(id)
    }

    fn stage(&mut self, tree: TreeId, key: Vec<u8>, value: Option<Vec<u8>>) {
        self.staged.insert((tree, key), value);
    }

    fn get_raw(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        if let Some(staged) = self.staged.get(&(tree, key.to_vec())) {
            return Ok(staged.clone());
        }
        self.reader.get(tree, key)
    }

    /// Everything the commit needs: what it read through, the staged
    /// writes, the rows changed, the next free id.
    pub(crate) fn into_parts(self) -> (Reader<'s>, Staged, Vec<ChangedRow>, u64) {
        (self.reader, self.staged, self.changes, self.next_id)
    }
}

/// The wall clock a transaction starts from.
#[cfg(not(test))]
fn wall_clock() -> Timestamp {
    Timestamp::now()
}

/// The wall clock a transaction starts from, moved as far ahead as this
/// thread's tests set it (to play a clock that later steps back).
#[cfg(test)]
fn wall_clock() -> Timestamp {
    let now = Timestamp::now();
    let ahead = tests::WALL_CLOCK_AHEAD_MICROS.get();
    Timestamp::from_micros(now.as_micros().saturating_add(ahead)).unwrap_or(now)
}

/// A row a transaction changed, for the change feed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ChangedRow {
    pub kind: EntityKind,
    pub id: u64,
    pub op: ChangeOp,
    /// For a delete, whose the row was ([`Record::owner`]).
    pub owner: Option<u64>,
    /// How the entity's row count moves: 1 for a new row, -1 for a deleted
    /// one, 0 for an update.
    pub rows_added: i64,
}

/// The full key of an index entry: its prefix, then the row id.
pub(crate) fn index_key(prefix: &[u8], row: u64) -> Vec<u8> {
    let mut key = Vec::with_capacity(prefix.len() + 8);
    key.extend_from_slice(prefix);
    key.extend_from_slice(&row.to_be_bytes());
    key
}

#[cfg(test)]
mod tests;
