//! The matcher's decoded expert rows. Every request re-ranks at least 50 candidates,
//! and reading each one's row from the store (a sled lookup, then decoding and
//! validating every field) was a quarter of a search's time under load. Rows are kept
//! decoded and shared (`Arc<User>`) until the change feed touches their expert, with
//! the same rule as the cached stats (`freshness`).
//!
//! A row read while a change to it commits must not outlive that change: each insert
//! carries the store's last sequence number taken before the read, and is kept only
//! by `FeedMark`'s rule.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use droply_models::{User, UserId};

use super::freshness::{FeedMark, Forget};

/// The most rows kept; a full cache starts over (as the stats cache does).
const CAPACITY: usize = 100_000;

/// Decoded expert rows; see the module docs.
#[derive(Debug)]
pub(crate) struct ExpertRows {
    inner: Mutex<Rows>,
}

#[derive(Debug)]
struct Rows {
    by_id: HashMap<UserId, Arc<User>>,
    mark: FeedMark,
}

impl ExpertRows {
    /// An empty cache whose feed is forgotten through `seq`.
    pub(crate) fn new(seq: u64) -> Self {
        ExpertRows {
            inner: Mutex::new(Rows {
                by_id: HashMap::new(),
                mark: FeedMark::new(seq),
            }),
        }
    }

    /// The cached row of `id`.
    pub(crate) fn get(&self, id: UserId) -> Option<Arc<User>> {
        self.lock().by_id.get(&id).cloned()
    }

    /// Caches `row`, read after the store's change `read_after` committed, unless a
    /// later change has already been forgotten (it may have changed the row since).
    pub(crate) fn insert(&self, row: Arc<User>, read_after: u64) {
        let mut rows = self.lock();
        if !rows.mark.admits(read_after) {
            return;
        }
        if rows.by_id.len() >= CAPACITY {
            rows.by_id.clear();
        }
        rows.by_id.insert(row.id, row);
    }

    /// Drops what `forget` names; the feed is forgotten through `upto`.
    pub(crate) fn forget(&self, forget: &Forget, upto: u64) {
        let mut rows = self.lock();
        forget.apply(&mut rows.by_id);
        rows.mark.advance(upto);
    }

    fn lock(&self) -> MutexGuard<'_, Rows> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::test_rows::user;

    #[test]
    fn a_row_read_before_a_forgotten_change_is_not_kept() {
        let rows = ExpertRows::new(10);
        let mut row = user("ada", "Tax advisor");
        row.id = UserId::new(7);
        let row = Arc::new(row);
        rows.insert(Arc::clone(&row), 10);
        assert!(rows.get(UserId::new(7)).is_some());

        // Change 11 touched expert 7 and was forgotten...
        rows.forget(&Forget::Experts(HashSet::from([UserId::new(7)])), 11);
        assert!(rows.get(UserId::new(7)).is_none());
        // ...so a row read before it committed is refused; one read after is kept.
        rows.insert(Arc::clone(&row), 10);
        assert!(rows.get(UserId::new(7)).is_none());
        rows.insert(row, 11);
        assert!(rows.get(UserId::new(7)).is_some());

        rows.forget(&Forget::Everything, 12);
        assert!(rows.get(UserId::new(7)).is_none());
    }
}
