//! The embedded backend: one sled tree per [`TreeId`], a writer lock that
//! lets one transaction run at a time, the id and sequence counters that
//! writer owns, and the row counts every commit keeps. Opening retries while
//! an earlier handle in this process still holds sled's file lock.

use std::collections::HashMap;
use std::ops::Bound;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use super::key::read_u64;
use super::page::Order;
use super::tree_id::{EntityKind, TreeId};
use super::txn::{ChangedRow, Staged};
use crate::{Error, Result};

/// The sled database and its open trees.
pub(crate) struct SledTrees {
    pub(super) db: sled::Db,
    trees: HashMap<TreeId, sled::Tree>,
    pub(super) writer: Mutex<WriterState>,
    /// Rows per entity, counted at open and kept by every commit, so
    /// counting is O(1).
    row_counts: HashMap<EntityKind, AtomicI64>,
    pub(super) path: PathBuf,
    /// Why the store stopped taking writes: set by the first failed disk
    /// sync. After one, the operating system may have dropped the pages it
    /// could not write, so a later sync that succeeds proves nothing about
    /// them; only reopening (sled replays its log) tells what is on disk.
    sync_failed: OnceLock<String>,
    /// Tests: the next disk sync fails.
    #[cfg(test)]
    pub(super) fail_next_sync: std::sync::atomic::AtomicBool,
}

/// Counters owned by the single writer.
pub(super) struct WriterState {
    pub next_id: u64,
    pub last_seq: u64,
}

pub(super) const META_NEXT_ID: &[u8] = b"next_id";
pub(super) const META_LAST_SEQ: &[u8] = b"last_seq";

/// How long opening waits for a previous handle in this process (whose
/// background flusher still holds the file lock for a moment) to let go.
const LOCK_WAIT: Duration = Duration::from_secs(10);

/// Opens sled, retrying while another handle still holds the database's file lock.
fn open_when_unlocked(config: &sled::Config) -> Result<sled::Db> {
    let started = std::time::Instant::now();
    loop {
        match config.open() {
            Ok(db) => return Ok(db),
            Err(sled::Error::Io(err))
                if err.to_string().contains("could not acquire lock")
                    && started.elapsed() < LOCK_WAIT =>
            {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(err) => return Err(err.into()),
        }
    }
}

impl SledTrees {
    /// Opens every tree of the database `config` names.
    pub(super) fn open(config: &sled::Config, path: PathBuf) -> Result<SledTrees> {
        let db = open_when_unlocked(config)?;
        let mut trees = HashMap::new();
        for id in TreeId::all() {
            trees.insert(id, db.open_tree(id.name())?);
        }
        let meta = &trees[&TreeId::Meta];
        let next_id = meta
            .get(META_NEXT_ID)?
            .as_deref()
            .and_then(read_u64)
            .unwrap_or(1);
        let last_seq = meta
            .get(META_LAST_SEQ)?
            .as_deref()
            .and_then(read_u64)
            .unwrap_or(0);
        let row_counts = EntityKind::ALL
            .into_iter()
            .map(|kind| {
                let rows = trees[&kind.tree()].len();
                (
                    kind,
                    AtomicI64::new(i64::try_from(rows).unwrap_or(i64::MAX)),
                )
            })
            .collect();
        Ok(SledTrees {
            db,
            trees,
            writer: Mutex::new(WriterState { next_id, last_seq }),
            row_counts,
            path,
            sync_failed: OnceLock::new(),
            #[cfg(test)]
            fail_next_sync: std::sync::atomic::AtomicBool::new(false),
        })
    }

    /// Syncs everything written to disk. The first failure stops every
    /// later write (see [`SledTrees::check_writable`]) and is logged once.
    pub(super) fn sync(&self) -> Result<()> {
        self.check_writable()?;
        let synced = self.db.flush().map(drop).map_err(Error::from);
        #[cfg(test)]
        let synced = match self.fail_next_sync.swap(false, Ordering::AcqRel) {
            true => Err(Error::Io(std::io::Error::other("injected sync failure"))),
            false => synced,
        };
        if let Err(err) = synced {
            let reason = err.to_string();
            if self.sync_failed.set(reason.clone()).is_ok() {
                tracing::error!(
                    err = %reason,
                    path = %self.path.display(),
                    "a disk sync failed: the store takes no more writes until droply is restarted"
                );
            }
            return Err(Error::WritesStopped(reason));
        }
        Ok(())
    }

    /// Refuses a write once a disk sync has failed.
    pub(super) fn check_writable(&self) -> Result<()> {
        match self.sync_failed.get() {
            Some(reason) => Err(Error::WritesStopped(reason.clone())),
            None => Ok(()),
        }
    }

    /// One tree.
    pub(crate) fn tree(&self, id: TreeId) -> &sled::Tree {
        // Every TreeId is opened in `open`, so the lookup cannot miss.
        #[allow(clippy::expect_used)]
        self.trees.get(&id).expect("every tree is opened at start")
    }

    /// The value under `key`.
    pub(super) fn get(&self, tree: TreeId, key: &[u8]) -> Result<Option<Vec<u8>>> {
        Ok(self.tree(tree).get(key)?.map(|v| v.to_vec()))
    }

    /// Up to `limit` entries of `tree` within the bounds, in `order`.
    pub(super) fn range(
        &self,
        tree: TreeId,
        bounds: (Bound<Vec<u8>>, Bound<Vec<u8>>),
        order: Order,
        limit: usize,
    ) -> Result<Vec<(Vec<u8>, Vec<u8>)>> {
        if is_empty_range(&bounds) {
            return Ok(Vec::new());
        }
        let iter = self.tree(tree).range::<Vec<u8>, _>(bounds);
        let iter: Box<dyn Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>> = match order {
            Order::Asc => Box::new(iter),
            Order::Desc => Box::new(iter.rev()),
        };
        let mut out = Vec::new();
        for item in iter.take(limit) {
            let (key, value) = item?;
            out.push((key.to_vec(), value.to_vec()));
        }
        Ok(out)
    }

    /// How many entries of `tree` lie within `bounds`, counted without
    /// copying them.
    pub(super) fn count_range(
        &self,
        tree: TreeId,
        bounds: (Bound<Vec<u8>>, Bound<Vec<u8>>),
    ) -> Result<usize> {
        if is_empty_range(&bounds) {
            return Ok(0);
        }
        let mut count = 0;
        for item in self.tree(tree).range::<Vec<u8>, _>(bounds) {
            item?;
            count += 1;
        }
        Ok(count)
    }

    /// Rows of `kind`, as counted.
    pub(super) fn count(&self, kind: EntityKind) -> usize {
        self.row_counts.get(&kind).map_or(0, |count| {
            usize::try_from(count.load(Ordering::Acquire)).unwrap_or(0)
        })
    }

    /// Writes everything staged (and the counters) in one sled transaction,
    /// then moves the row counts.
    pub(super) fn commit(&self, writes: &Staged, changes: &[ChangedRow]) -> Result<()> {
        use sled::transaction::{TransactionError, Transactional};
        let mut touched: Vec<TreeId> = writes.keys().map(|(tree, _)| *tree).collect();
        touched.dedup();
        let trees: Vec<sled::Tree> = touched.iter().map(|id| self.tree(*id).clone()).collect();
        let result: std::result::Result<(), TransactionError<()>> = trees[..].transaction(|txs| {
            let mut position = 0;
            for ((tree, key), value) in writes {
                while touched[position] != *tree {
                    position += 1;
                }
                let tx = &txs[position];
                match value {
                    Some(value) => tx.insert(key.as_slice(), value.as_slice())?,
                    None => tx.remove(key.as_slice())?,
                };
            }
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TransactionError::Storage(err)) => return Err(err.into()),
            Err(TransactionError::Abort(())) => {
                return Err(Error::Storage("transaction aborted".to_owned()));
            }
        }
        for row in changes {
            if let Some(count) = self.row_counts.get(&row.kind) {
                count.fetch_add(row.rows_added, Ordering::AcqRel);
            }
        }
        Ok(())
    }
}

/// Whether the bounds hold no key at all (sled panics on an inverted range).
pub(super) fn is_empty_range(bounds: &(Bound<Vec<u8>>, Bound<Vec<u8>>)) -> bool {
    match bounds {
        (Bound::Included(low), Bound::Included(high)) => low > high,
        (Bound::Included(low) | Bound::Excluded(low), Bound::Excluded(high))
        | (Bound::Excluded(low), Bound::Included(high)) => low >= high,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::Ordering;
    use std::time::Duration;

    use crate::Error;
    use crate::store::Store;
    use crate::store::backend::Backend;
    use crate::test_rows::user;

    fn fail_next_sync(store: &Store) {
        let Backend::Sled(trees) = &store.inner.backend else {
            unreachable!("Store::open is sled");
        };
        trees.fail_next_sync.store(true, Ordering::Release);
    }

    #[test]
    fn a_failed_disk_sync_stops_writes_until_the_store_is_reopened() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("store");
        let ann_id = {
            let store = Store::open(&path).expect("open");
            let ann = store
                .users()
                .create(user("ann", "Tax Advisor"))
                .expect("ann");
            let before = store.last_seq();
            fail_next_sync(&store);
            let bob = store.users().create(user("bob", ""));
            assert!(matches!(bob, Err(Error::WritesStopped(_))), "{bob:?}");
            // Readers see the committed rows, so the feed's followers are told.
            assert_eq!(store.users().count(), 2, "bob is readable in memory");
            let seq = store.wait_for_changes(before, Duration::from_secs(5));
            assert!(
                seq > before,
                "the feed was not published: {seq} <= {before}"
            );
            // No write is taken after a failed sync, even one that would sync.
            let carl = store.users().create(user("carl", ""));
            assert!(matches!(carl, Err(Error::WritesStopped(_))), "{carl:?}");
            assert_eq!(store.users().count(), 2, "carl was not written");
            assert!(matches!(
                store.check_writable(),
                Err(Error::WritesStopped(_))
            ));
            assert!(matches!(store.flush(), Err(Error::WritesStopped(_))));
            ann.id
        };
        let store = Store::open(&path).expect("reopen");
        store
            .check_writable()
            .expect("a reopened store takes writes");
        assert!(
            store
                .get::<droply_models::User>(ann_id)
                .expect("read")
                .is_some()
        );
        store
            .users()
            .create(user("carl", ""))
            .expect("carl after a restart");
    }
}
