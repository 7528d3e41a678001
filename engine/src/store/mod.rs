//! The store: Droply's source of truth. One tree per entity, one per
//! relationship index and unique key, a change feed and metadata, kept by one
//! of two backends (`backend.rs`): sled in one directory, the embedded
//! default, or a PostgreSQL database that several API nodes share.
//!
//! Writes go through [`Store::write`]: one writer at a time stages rows in a
//! [`Txn`], commits them with their index entries and change-feed entries in one
//! backend transaction, durably (sled flushes, PostgreSQL commits) before
//! returning, so a write that was acknowledged survives a crash. Reads never
//! block on writers. The nodes sharing a PostgreSQL store can also tell each
//! other what is kept on one node only ([`Store::tell_nodes`]).

mod backend;
mod change_feed;
pub(crate) mod codec;
mod instance;
mod integrity;
mod key;
mod location;
mod page;
mod pg;
mod read;
mod record;
mod schema;
mod secret_key;
mod shared_files;
mod sled_trees;
mod tree_id;
mod turns;
mod txn;

use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

pub use change_feed::{Change, ChangeOp};
pub(crate) use integrity::IntegrityCheck;
pub use integrity::IntegrityReport;
pub use key::KeyBuilder;
pub use location::StoreLocation;
pub use page::{Cursor, MAX_PAGE_SIZE, Order, Page, PageRequest};
pub use pg::{MAX_NODE_MESSAGE, NodeListener};
pub use record::{IndexEntry, Record, RecordId, UniqueEntry};
pub(crate) use secret_key::SecretKeyCell;
pub use shared_files::SharedFiles;
pub use tree_id::{EntityKind, IndexName, TreeId, UniqueName};
pub use turns::{TURN_WAIT, TurnGuard, TurnName};
pub use txn::{MAX_ID, Txn};

use droply_models::Timestamp;

use crate::Result;
use backend::{Backend, Reader};
use change_feed::FeedSignal;
pub(crate) use pg::error_of as postgres_error;
use sled_trees::{META_LAST_SEQ, META_NEXT_ID, SledTrees};

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
            .field("at", &self.describe())
            .finish()
    }
}

pub(crate) struct StoreInner {
    backend: Backend,
    /// The last committed change, readable without the writer lock.
    committed_seq: AtomicU64,
    feed: FeedSignal,
    /// sled: the instant the last commit ran at, in microseconds since the
    /// epoch ([`NO_COMMIT`] when none is known), which the next write runs
    /// after ([`Txn::now_after`]). PostgreSQL reads it from the database
    /// in each write instead, since other nodes commit too.
    last_commit_micros: AtomicI64,
}

/// [`StoreInner::last_commit_micros`] before any commit is known.
const NO_COMMIT: i64 = i64::MIN;

impl StoreInner {
    fn new(backend: Backend, last_seq: u64, last_commit: Option<Timestamp>) -> Arc<StoreInner> {
        Arc::new(StoreInner {
            backend,
            committed_seq: AtomicU64::new(last_seq),
            feed: FeedSignal::new(last_seq),
            last_commit_micros: AtomicI64::new(last_commit.map_or(NO_COMMIT, Timestamp::as_micros)),
        })
    }

    /// The instant the last commit ran at, if known (sled).
    fn last_commit(&self) -> Option<Timestamp> {
        match self.last_commit_micros.load(Ordering::Acquire) {
            NO_COMMIT => None,
            micros => Timestamp::from_micros(micros).ok(),
        }
    }

    /// Records that the feed now ends at `seq` (or later) and wakes its followers.
    fn published(&self, seq: u64) {
        self.committed_seq.fetch_max(seq, Ordering::AcqRel);
        self.feed.publish(seq);
    }
}

/// The instant of the newest entry of a sled store's change feed, if it
/// holds any: every commit's entries carry its instant, never backdated, so
/// the store's write clock resumes after it when the store reopens. A feed
/// pruned to nothing leaves it unknown (the wall clock then).
fn newest_change_at(trees: &SledTrees) -> Result<Option<Timestamp>> {
    match trees.tree(TreeId::Changes).last()? {
        Some((key, value)) => Ok(Some(Change::decode(&key, &value)?.at)),
        None => Ok(None),
    }
}

impl Store {
    /// Opens (or creates) the sled store at `path` with default options.
    pub fn open(path: impl AsRef<std::path::Path>) -> Result<Store> {
        Store::open_with(StoreConfig::new(path.as_ref()))
    }

    /// Opens a throw-away sled store, removed when the last handle drops.
    pub fn open_temporary() -> Result<Store> {
        let mut config = StoreConfig::new(std::env::temp_dir());
        config.temporary = true;
        Store::open_with(config)
    }

    /// Opens the store `location` names: a sled directory or a PostgreSQL database.
    pub fn open_at(location: &StoreLocation) -> Result<Store> {
        match location {
            StoreLocation::Sled(path) => Store::open(path),
            StoreLocation::Postgres(url) => Store::open_postgres(url),
        }
    }

    /// Opens (or creates) the sled store, checking and migrating its schema.
    pub fn open_with(config: StoreConfig) -> Result<Store> {
        let mut sled_config = sled::Config::new()
            .cache_capacity(config.cache_capacity)
            .flush_every_ms(Some(500));
        sled_config = if config.temporary {
            sled_config.temporary(true)
        } else {
            sled_config.path(&config.path)
        };
        let trees = SledTrees::open(&sled_config, config.path)?;
        let last_seq = trees
            .writer
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .last_seq;
        let last_commit = newest_change_at(&trees)?;
        let store = Store {
            inner: StoreInner::new(Backend::Sled(Box::new(trees)), last_seq, last_commit),
        };
        if let Backend::Sled(trees) = &store.inner.backend {
            schema::check_and_migrate(&store, trees)?;
        }
        tracing::debug!(at = %store.describe(), last_seq, "store opened");
        Ok(store)
    }

    /// Opens the store in the PostgreSQL database at `url`, applying its
    /// migrations, and starts following the feed other nodes write.
    pub fn open_postgres(url: &str) -> Result<Store> {
        let pg = pg::PgStore::open(url)?;
        let last_seq = pg.last_seq()?;
        let store = Store {
            inner: StoreInner::new(Backend::Postgres(Box::new(pg)), last_seq, None),
        };
        pg::spawn_listener(Arc::downgrade(&store.inner))?;
        Ok(store)
    }

    /// Where the store lives, in words (a PostgreSQL URL without its password).
    pub fn describe(&self) -> String {
        match &self.inner.backend {
            Backend::Sled(trees) => format!("sled:{}", trees.path.display()),
            Backend::Postgres(pg) => pg.shown().to_owned(),
        }
    }

    /// Runs `body` as the only writer, commits what it staged atomically and
    /// durably, and returns its result. If `body` fails nothing is written.
    pub fn write<T>(&self, body: impl FnOnce(&mut Txn<'_>) -> Result<T>) -> Result<T> {
        match &self.inner.backend {
            Backend::Sled(trees) => self.write_sled(trees, body),
            Backend::Postgres(pg) => {
                let (out, seq) = pg::blocking_allowed(|| pg.write(body))?;
                if let Some(seq) = seq {
                    self.inner.published(seq);
                }
                Ok(out)
            }
        }
    }

    fn write_sled<T>(
        &self,
        trees: &SledTrees,
        body: impl FnOnce(&mut Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut writer = trees.writer.lock().unwrap_or_else(|e| e.into_inner());
        trees.check_writable()?;
        let mut txn = Txn::new(
            Reader::Sled(trees),
            writer.next_id,
            self.inner.last_commit(),
        );
        let out = body(&mut txn)?;
        let committed_at = txn.committed_at();
        let (_, staged, changes, next_id) = txn.into_parts();
        if staged.is_empty() {
            return Ok(out);
        }
        let entries = change_feed::entries(writer.last_seq, committed_at, &changes);
        let seq = entries.last().map_or(writer.last_seq, |change| change.seq);
        let mut writes = staged;
        for change in &entries {
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
        trees.commit(&writes, &changes)?;
        writer.next_id = next_id;
        writer.last_seq = seq;
        // The next write runs after this one, whatever the wall clock says.
        self.inner
            .last_commit_micros
            .fetch_max(committed_at.as_micros(), Ordering::AcqRel);
        self.inner.committed_seq.store(seq, Ordering::Release);
        drop(writer);
        // Group commit: the sync runs outside the writer lock, so writers that
        // committed meanwhile share one disk sync. Readers already see the
        // rows, so the feed's followers are told even when the sync fails;
        // the caller is not told the write is durable, and no later write is
        // taken (`SledTrees::sync`).
        let synced = trees.sync();
        self.inner.feed.publish(seq);
        synced?;
        Ok(out)
    }

    /// The sequence number of the last committed change (0 when none).
    pub fn last_seq(&self) -> u64 {
        // An atomic, not the writer lock: readers never wait behind a write.
        self.inner.committed_seq.load(Ordering::Acquire)
    }

    /// The last committed change's sequence number as the backend keeps
    /// it: PostgreSQL's read from the database, where other nodes commit
    /// too (a copy checks that its source did not move meanwhile).
    pub(crate) fn stored_last_seq(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Sled(trees) => Ok(trees
                .writer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .last_seq),
            Backend::Postgres(pg) => pg::off_runtime(|| pg.last_seq()),
        }
    }

    /// The id the next new row gets: the store's id counter, which stays
    /// past the ids of rows since deleted.
    pub(crate) fn next_id(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Sled(trees) => Ok(trees
                .writer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .next_id),
            Backend::Postgres(pg) => pg::off_runtime(|| pg.next_id()),
        }
    }

    /// Raises the id counter to `at_least` (never lowers it), durably and
    /// under the writer lock: no row created afterwards gets an id below
    /// it. For a copy (`droply migrate`), whose ids must go on from the
    /// source's counter, not from its largest remaining id.
    pub(crate) fn adopt_next_id(&self, at_least: u64) -> Result<()> {
        match &self.inner.backend {
            Backend::Sled(trees) => {
                let mut writer = trees.writer.lock().unwrap_or_else(|e| e.into_inner());
                trees.check_writable()?;
                if writer.next_id >= at_least {
                    return Ok(());
                }
                trees
                    .tree(TreeId::Meta)
                    .insert(META_NEXT_ID, at_least.to_be_bytes().to_vec())?;
                trees.sync()?;
                writer.next_id = at_least;
                Ok(())
            }
            Backend::Postgres(pg) => pg::off_runtime(|| pg.adopt_next_id(at_least)),
        }
    }

    /// Change-feed entries after `after`, at most `limit`, in order.
    pub fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
        let trees = match &self.inner.backend {
            Backend::Sled(trees) => trees,
            Backend::Postgres(pg) => return pg::off_runtime(|| pg.changes_since(after, limit)),
        };
        let start = after.saturating_add(1).to_be_bytes();
        let mut out = Vec::new();
        for item in trees.tree(TreeId::Changes).range(start..).take(limit) {
            let (key, value) = item?;
            out.push(Change::decode(&key, &value)?);
        }
        Ok(out)
    }

    /// The oldest sequence number still in the feed, if any; a reader behind it must rebuild.
    pub fn oldest_change(&self) -> Result<Option<u64>> {
        match &self.inner.backend {
            Backend::Sled(trees) => Ok(trees
                .tree(TreeId::Changes)
                .first()?
                .as_ref()
                .and_then(|(key, _)| key::read_u64(key))),
            Backend::Postgres(pg) => pg::off_runtime(|| pg.oldest_change()),
        }
    }

    /// Drops feed entries up to and including `through`, once every reader has applied them.
    pub fn truncate_changes(&self, through: u64) -> Result<usize> {
        let trees = match &self.inner.backend {
            Backend::Sled(trees) => trees,
            Backend::Postgres(pg) => return pg::off_runtime(|| pg.truncate_changes(through)),
        };
        let tree = trees.tree(TreeId::Changes);
        let mut removed = 0;
        for item in tree.range(..=through.to_be_bytes()) {
            let (key, _) = item?;
            tree.remove(key)?;
            removed += 1;
        }
        trees.sync()?;
        Ok(removed)
    }

    /// Blocks until the feed passes `after` or `timeout` elapses; returns the last sequence number.
    pub fn wait_for_changes(&self, after: u64, timeout: Duration) -> u64 {
        self.inner.feed.wait_past(after, timeout)
    }

    /// [`Error::WritesStopped`] once a disk sync has failed (sled; a
    /// PostgreSQL store always takes writes while its database does).
    pub fn check_writable(&self) -> Result<()> {
        match &self.inner.backend {
            Backend::Sled(trees) => trees.check_writable(),
            Backend::Postgres(_) => Ok(()),
        }
    }

    /// Flushes everything to disk (also done after every write; a
    /// PostgreSQL commit is durable when it returns).
    pub fn flush(&self) -> Result<()> {
        if let Backend::Sled(trees) = &self.inner.backend {
            trees.sync()?;
        }
        Ok(())
    }

    /// Bytes the database takes on disk.
    pub fn size_on_disk(&self) -> Result<u64> {
        match &self.inner.backend {
            Backend::Sled(trees) => Ok(trees.db.size_on_disk()?),
            Backend::Postgres(pg) => pg::off_runtime(|| pg.size_on_disk()),
        }
    }

    /// Whether this process should run the store-wide background jobs now.
    /// Always for sled, which one process opens; for PostgreSQL, whether
    /// this node holds the database's jobs lease, taking it when no live
    /// node does.
    pub fn leads_jobs(&self) -> Result<bool> {
        match &self.inner.backend {
            Backend::Sled(_) => Ok(true),
            Backend::Postgres(pg) => pg::off_runtime(|| pg.leads_jobs()),
        }
    }

    /// Takes the store-wide turn `name`, waiting up to [`TURN_WAIT`] for
    /// whoever holds it, on this node or (PostgreSQL) any other sharing the
    /// database; [`crate::Error::Overloaded`] after that. The turn lasts
    /// until the guard drops. It is no write transaction: network calls may
    /// happen in it.
    pub fn exclusive_turn(&self, name: TurnName) -> Result<TurnGuard> {
        turns::take(self, name, TURN_WAIT)
    }

    /// Whether this store is kept by PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        matches!(self.inner.backend, Backend::Postgres(_))
    }

    /// Tells every other node sharing this store `message` (text without
    /// NUL, at most [`MAX_NODE_MESSAGE`] bytes, else [`crate::Error::Invalid`]):
    /// each hands it to its [`NodeListener`]s. The messages one caller sends
    /// one after the other arrive in that order; nothing is kept for a node
    /// not listening at the time. A sled store has no other node: nothing is
    /// sent.
    pub fn tell_nodes(&self, message: &str) -> Result<()> {
        match &self.inner.backend {
            Backend::Sled(_) => Ok(()),
            Backend::Postgres(pg) => pg::off_runtime(|| pg.tell_nodes(message)),
        }
    }

    /// Hands `listener` what other nodes tell this one
    /// ([`Store::tell_nodes`]), for as long as it lives (on sled, nothing
    /// ever comes).
    pub fn listen_to_nodes(&self, listener: Weak<dyn NodeListener>) {
        if let Backend::Postgres(pg) = &self.inner.backend {
            pg.listen_to_nodes(listener);
        }
    }
}
