//! What the matcher keeps between requests, per expert, until the change feed touches
//! the expert: decoded rows (`Arc<User>`: every request re-ranks at least 50
//! candidates, and reading each row from the store, a sled lookup then decoding and
//! validating every field, was a quarter of a search's time under load) and track
//! records (`stats`). Both are a [`FeedCache`], forgotten by `freshness`.
//!
//! A value read while a change to its expert commits must not outlive that change:
//! each insert carries the store's last sequence number taken before the read, and is
//! kept only by [`FeedMark`]'s rule.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use droply_models::UserId;

use super::freshness::Forget;

/// How far a cache has forgotten the feed, and the one rule for what it may take in:
/// a value read after change `read_after` committed is kept only if no later change
/// has been forgotten yet. Such a change may have made the value stale while it was
/// being read, and forgetting it dropped nothing, as the value was not there yet.
#[derive(Debug, Clone, Copy)]
struct FeedMark {
    forgotten_through: u64,
}

impl FeedMark {
    /// Whether a value read after change `read_after` committed may be kept.
    fn admits(self, read_after: u64) -> bool {
        self.forgotten_through <= read_after
    }

    /// The feed is now forgotten through `upto`.
    fn advance(&mut self, upto: u64) {
        self.forgotten_through = self.forgotten_through.max(upto);
    }
}

/// Values per expert, kept until a change touches the expert; see the module docs.
/// A full cache starts over.
#[derive(Debug)]
pub(crate) struct FeedCache<V> {
    capacity: usize,
    inner: Mutex<Entries<V>>,
}

#[derive(Debug)]
struct Entries<V> {
    by_id: HashMap<UserId, V>,
    mark: FeedMark,
}

impl<V: Clone> FeedCache<V> {
    /// An empty cache of at most `capacity` values, caught up with the feed through `seq`.
    pub(crate) fn new(seq: u64, capacity: usize) -> Self {
        FeedCache {
            capacity,
            inner: Mutex::new(Entries {
                by_id: HashMap::new(),
                mark: FeedMark {
                    forgotten_through: seq,
                },
            }),
        }
    }

    /// The cached value of `id`.
    pub(crate) fn get(&self, id: UserId) -> Option<V> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Caches `value` as `id`'s, read after the store's change `read_after` committed,
    /// unless a later change has already been forgotten (it may have changed it since).
    pub(crate) fn insert(&self, id: UserId, value: V, read_after: u64) {
        let mut entries = self.lock();
        if !entries.mark.admits(read_after) {
            return;
        }
        if entries.by_id.len() >= self.capacity {
            entries.by_id.clear();
        }
        entries.by_id.insert(id, value);
    }

    /// Adds `values` read as of the feed this cache has seen (a value already cached is
    /// kept: it is at least as new), while there is room.
    pub(crate) fn extend(&self, values: impl IntoIterator<Item = (UserId, V)>) {
        let mut entries = self.lock();
        for (id, value) in values {
            if entries.by_id.len() >= self.capacity {
                break;
            }
            entries.by_id.entry(id).or_insert(value);
        }
    }

    /// Drops what `forget` names; the feed is forgotten through `upto`.
    pub(crate) fn forget(&self, forget: &Forget, upto: u64) {
        let mut entries = self.lock();
        forget.apply(&mut entries.by_id);
        entries.mark.advance(upto);
    }

    /// How many values are cached.
    pub(crate) fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Every cached value, in no order.
    pub(crate) fn entries(&self) -> Vec<(UserId, V)> {
        self.lock()
            .by_id
            .iter()
            .map(|(id, value)| (*id, value.clone()))
            .collect()
    }

    fn lock(&self) -> MutexGuard<'_, Entries<V>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::sync::Arc;

    use droply_models::User;

    use super::*;
    use crate::test_rows::user;

    #[test]
    fn a_row_read_before_a_forgotten_change_is_not_kept() {
        let rows: FeedCache<Arc<User>> = FeedCache::new(10, 100);
        let mut row = user("ada", "Tax advisor");
        row.id = UserId::new(7);
        let row = Arc::new(row);
        rows.insert(row.id, Arc::clone(&row), 10);
        assert!(rows.get(UserId::new(7)).is_some());

        // Change 11 touched expert 7 and was forgotten...
        rows.forget(&Forget::Experts(HashSet::from([UserId::new(7)])), 11);
        assert!(rows.get(UserId::new(7)).is_none());
        // ...so a row read before it committed is refused; one read after is kept.
        rows.insert(row.id, Arc::clone(&row), 10);
        assert!(rows.get(UserId::new(7)).is_none());
        rows.insert(row.id, row, 11);
        assert!(rows.get(UserId::new(7)).is_some());

        rows.forget(&Forget::Everything, 12);
        assert!(rows.get(UserId::new(7)).is_none());
    }
}
