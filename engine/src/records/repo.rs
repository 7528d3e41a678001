//! A typed repository over one entity: create, get, update, list, and delete
//! where the domain allows it. Relationship queries are added per entity in
//! the entity's own module.

use std::marker::PhantomData;

use crate::Result;
use crate::store::{IndexName, Page, PageRequest, Record, Store};

/// Marks entities whose rows may be deleted. Money records (bookings,
/// payouts, purchases, rewards) are never deleted, only moved through states.
pub trait Deletable: Record {}

/// The typed repository of entity `R`; made by `store.users()` and friends.
#[derive(Debug)]
pub struct Repo<'s, R> {
    pub(super) store: &'s Store,
    marker: PhantomData<fn() -> R>,
}

impl<'s, R: Record> Repo<'s, R> {
    pub(super) fn new(store: &'s Store) -> Self {
        Repo {
            store,
            marker: PhantomData,
        }
    }

    /// Validates and writes a new row under a fresh id; returns it with its id.
    pub fn create(&self, row: R) -> Result<R> {
        self.store.write(|txn| txn.create(row))
    }

    /// The row with this id, or `NotFound`.
    pub fn get(&self, id: R::Id) -> Result<R> {
        self.store.require::<R>(id)
    }

    /// The row with this id, if it exists.
    pub fn find(&self, id: R::Id) -> Result<Option<R>> {
        self.store.get::<R>(id)
    }

    /// Validates and replaces an existing row; `NotFound` if it does not exist.
    pub fn update(&self, row: R) -> Result<R> {
        self.store.write(|txn| txn.update(row))
    }

    /// Reads the row, applies `change` and writes it back, as one transaction.
    pub fn modify(&self, id: R::Id, change: impl FnOnce(&mut R) -> Result<()>) -> Result<R> {
        self.store.write(|txn| {
            let mut row = txn.require::<R>(id)?;
            change(&mut row)?;
            txn.update(row)
        })
    }

    /// One page of all rows, in id order.
    pub fn list(&self, page: &PageRequest) -> Result<Page<R>> {
        self.store.scan::<R>(page)
    }

    /// How many rows exist.
    pub fn count(&self) -> usize {
        self.store.count::<R>()
    }

    pub(super) fn by_index(
        &self,
        index: IndexName,
        prefix: &[u8],
        page: &PageRequest,
    ) -> Result<Page<R>> {
        self.store.list_index::<R>(index, prefix, page)
    }
}

impl<R: Deletable> Repo<'_, R> {
    /// Deletes the row and its index entries; returns what was deleted.
    pub fn delete(&self, id: R::Id) -> Result<R> {
        self.store.write(|txn| txn.delete::<R>(id))
    }
}
