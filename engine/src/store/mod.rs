//! The store: Droply's source of truth on sled. One tree per entity, one per
//! relationship index and unique key, a change feed and a metadata tree.
//!
//! Writes go through [`Store::write`]: one writer at a time stages rows in a
//! [`Txn`], commits them with their index entries and change-feed entries in one
//! sled transaction, then flushes to disk before returning, so a write that was
//! acknowledged survives a crash. Reads never block on writers.

mod change_feed;
pub(crate) mod codec;
mod instance;
mod integrity;
mod key;
mod page;
mod read;
mod record;
mod schema;
mod tree_id;
mod txn;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use change_feed::{Change, ChangeOp};
pub(crate) use integrity::IntegrityCheck;
pub use integrity::IntegrityReport;
pub use key::KeyBuilder;
pub use page::{Cursor, MAX_PAGE_SIZE, Order, Page, PageRequest};
pub use record::{IndexEntry, Record, RecordId, UniqueEntry};
pub use tree_id::{EntityKind, IndexName, TreeId, UniqueName};
pub use txn::Txn;

use crate::{Error, Result};
use change_feed::FeedSignal;
use key::read_u64;

/// Opening options.
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Directory of the sled database.
    pub path: PathBuf,
    /// Page cache size in bytes.
    pub cache_capacity: u64,
    /// A throw-away database removed on drop (tests).
    pub temporary: bool,
}

impl StoreConfig {
    /// Defaults for a database at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        StoreConfig {
            path: path.into(),
            cache_capacity: 256 * 1024 * 1024,
            temporary: false,
        }
    }
}

/// A handle to the store; cheap to clone and shared between threads.
#[derive(Clone)]
pub struct Store {
    inner: Arc<StoreInner>,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("path", &self.inner.path)
            .finish()
    }
}

pub(crate) struct StoreInner {
    db: sled::Db,
    trees: HashMap<TreeId, sled::Tree>,
    writer: Mutex<WriterState>,
    /// The last committed change, readable without the writer lock.
    committed_seq: AtomicU64,
    /// Rows per entity, counted at open and
    /// kept by every commit, so counting is O(1).
    row_counts: HashMap<EntityKind, AtomicI64>,
    feed: FeedSignal,
    path: PathBuf,
}

/// Counters owned by the single writer.
struct WriterState {
    next_id: u64,
    last_seq: u64,
}

const META_NEXT_ID: &[u8] = b"next_id";
const META_LAST_SEQ: &[u8] = b"last_seq";

impl StoreInner {
    fn tree(&self, id: TreeId) -> &sled::Tree {
        // Every TreeId is opened in `Store::open`, so the lookup cannot miss.
        #[allow(clippy::expect_used)]
        self.trees.get(&id).expect("every tree is opened at start")
    }
}

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

impl Store {
    /// Opens (or creates) the store at `path` with default options.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        Store::open_with(StoreConfig::new(path.as_ref()))
    }

    /// Opens a throw-away store, removed when the last handle drops.
    pub fn open_temporary() -> Result<Store> {
        let mut config = StoreConfig::new(std::env::temp_dir());
        config.temporary = true;
        Store::open_with(config)
    }

    /// Opens (or creates) the store, checking and migrating its schema.
    pub fn open_with(config: StoreConfig) -> Result<Store> {
        let mut sled_config = sled::Config::new()
            .cache_capacity(config.cache_capacity)
            .flush_every_ms(Some(500));
        sled_config = if config.temporary {
            sled_config.temporary(true)
        } else {
            sled_config.path(&config.path)
        };
        let db = open_when_unlocked(&sled_config)?;
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
        let store = Store {
            inner: Arc::new(StoreInner {
                db,
                trees,
                writer: Mutex::new(WriterState { next_id, last_seq }),
                committed_seq: AtomicU64::new(last_seq),
                row_counts,
                feed: FeedSignal::new(last_seq),
                path: config.path,
            }),
        };
        schema::check_and_migrate(&store)?;
        tracing::debug!(path = %store.inner.path.display(), last_seq, "store opened");
        Ok(store)
    }

    /// Where the database lives.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `body` as the only writer, commits what it staged atomically and
    /// durably, and returns its result. If `body` fails nothing is written.
    pub fn write<T>(&self, body: impl FnOnce(&mut Txn<'_>) -> Result<T>) -> Result<T> {
        let mut writer = self.inner.writer.lock().unwrap_or_else(|e| e.into_inner());
        let mut txn = Txn::new(&self.inner, writer.next_id);
        let out = body(&mut txn)?;
        let now = txn.now();
        let (staged, changes, next_id) = txn.into_parts();
        if staged.is_empty() {
            return Ok(out);
        }
        let mut seq = writer.last_seq;
        let mut writes = staged;
        for row in &changes {
            seq += 1;
            let change = Change {
                seq,
                at: now,
                kind: row.kind,
                id: row.id,
                op: row.op,
                owner: row.owner,
            };
            writes.insert(
                (TreeId::Changes, change.key().to_vec()),
                Some(change.encode_value()),
            );
        }
        writes.insert(
            (TreeId::Meta, META_NEXT_ID.to_vec()),
            Some(next_id.to_be_bytes().to_vec()),
        );
        writes.insert(
            (TreeId::Meta, META_LAST_SEQ.to_vec()),
            Some(seq.to_be_bytes().to_vec()),
        );
        self.commit(&writes)?;
        writer.next_id = next_id;
        writer.last_seq = seq;
        for row in &changes {
            if let Some(count) = self.inner.row_counts.get(&row.kind) {
                count.fetch_add(row.rows_added, Ordering::AcqRel);
            }
        }
        self.inner.committed_seq.store(seq, Ordering::Release);
        drop(writer);
        // Group commit: the flush runs outside the writer lock, so writers that
        // committed meanwhile share one disk sync.
        self.inner.db.flush()?;
        self.inner.feed.publish(seq);
        Ok(out)
    }

    fn commit(
        &self,
        writes: &std::collections::BTreeMap<(TreeId, Vec<u8>), Option<Vec<u8>>>,
    ) -> Result<()> {
        use sled::transaction::{TransactionError, Transactional};
        let mut touched: Vec<TreeId> = writes.keys().map(|(tree, _)| *tree).collect();
        touched.dedup();
        let trees: Vec<sled::Tree> = touched
            .iter()
            .map(|id| self.inner.tree(*id).clone())
            .collect();
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
            Ok(()) => Ok(()),
            Err(TransactionError::Storage(err)) => Err(err.into()),
            Err(TransactionError::Abort(())) => {
                Err(Error::Storage("transaction aborted".to_owned()))
            }
        }
    }

    /// The sequence number of the last committed change (0 when none).
    pub fn last_seq(&self) -> u64 {
        // An atomic, not the writer lock: readers never wait behind a write.
        self.inner.committed_seq.load(Ordering::Acquire)
    }

    /// Change-feed entries after `after`, at most `limit`, in order.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
        let start = after.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for item in self.inner.tree(TreeId::Changes).range(start..).take(limit) {
            let (key, value) = item?;
            out.push(Change::decode(&key, &value)?);
        }
        Ok(out)
    }

    /// The oldest sequence number still in the feed, if any; a reader behind it must rebuild.
    pub fn oldest_change(&self) -> Result<Option<u64>> {
        Ok(self
            .inner
            .tree(TreeId::Changes)
            .first()?
            .as_ref()
            .and_then(|(key, _)| read_u64(key)))
    }

    /// Drops feed entries up to and including `through`, once every reader has applied them.
    pub fn truncate_changes(&self, through: u64) -> Result<usize> {
        let tree = self.inner.tree(TreeId::Changes);
        let mut removed = 0;
        for item in tree.range(..=through.to_be_bytes()) {
            let (key, _) = item?;
            tree.remove(key)?;
            removed += 1;
        }
        self.inner.db.flush()?;
        Ok(removed)
    }

    /// Blocks until the feed passes `after` or `timeout` elapses; returns the last sequence number.
    pub fn wait_for_changes(&self, after: u64, timeout: Duration) -> u64 {
        self.inner.feed.wait_past(after, timeout)
    }

    /// Flushes everything to disk (also done after every write).
    pub fn flush(&self) -> Result<()> {
        self.inner.db.flush()?;
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        Ok(self.inner.db.size_on_disk()?)
    }

    fn tree(&self, id: TreeId) -> &sled::Tree {
        self.inner.tree(id)
    }
}
