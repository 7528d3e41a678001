//! The PostgreSQL backend: the store of record when several API nodes share
//! one database. Tables, foreign keys, unique indexes and the no-double-booking
//! exclusion constraint come from versioned SQL files (`migrate.rs`); reads
//! and the staged writes of a transaction go through `trees.rs`.
//!
//! Writes keep sled's rule across every node: one write transaction at a
//! time, by a transaction-scoped advisory lock taken first. Checks a write
//! makes ("is this slot still free") therefore hold until it commits, ids and
//! feed sequence numbers come from one counters row in the same transaction,
//! and the feed commits in sequence order, so a follower reading it never
//! skips an entry that commits late. Each commit notifies `droply_changes`;
//! every node's listener (`listen.rs`) wakes its followers. What lives on
//! one node only (a WebRTC relay's connections) is told to the other nodes
//! on `droply_nodes` (`node_bus.rs`), which the same listener hears.

mod files;
mod lease;
mod listen;
mod migrate;
mod node_bus;
mod pool;
mod session;
pub(crate) mod trees;
pub(crate) mod turns;

use std::cell::RefCell;
use std::collections::BTreeMap;

use droply_models::Timestamp;
use postgres::error::SqlState;

use super::backend::Reader;
use super::change_feed::{Change, ChangeOp};
use super::tree_id::EntityKind;
use super::txn::{ChangedRow, Txn};
use crate::{Error, Result};
use lease::JobsLease;
pub(crate) use listen::spawn_listener;
use node_bus::NodeBus;
pub use node_bus::{MAX_NODE_MESSAGE, NodeListener};
use pool::{Pool, PoolLimits, Pooled};
pub(crate) use pool::{blocking_allowed, off_runtime};
use session::Session;
pub(crate) use session::TxnSession;

/// The advisory lock every write transaction holds.
const WRITE_LOCK: i64 = 0x6472_6f70_6c79_0002;

/// The channel commits notify.
pub(crate) const CHANNEL: &str = "droply_changes";

/// A PostgreSQL database holding a store.
pub(crate) struct PgStore {
    pool: Pool,
    /// The URL without its password, for logs.
    shown: String,
    /// Whether this node runs the store-wide jobs.
    lease: JobsLease,
    /// How rows are written into each entity's table.
    row_writes: trees::RowWrites,
    /// This node's end of the channel between nodes.
    nodes: NodeBus,
}

impl PgStore {
    /// Connects to `url` and brings its schema up to date.
    pub(crate) fn open(url: &str) -> Result<PgStore> {
        let pool = Pool::new(url, PoolLimits::default())?;
        let version = migrate::run(&mut *pool.get()?)?;
        let row_writes = trees::RowWrites::load(&mut pool.get()?)?;
        let shown = without_password(url);
        tracing::debug!(url = %shown, version, "PostgreSQL store opened");
        Ok(PgStore {
            pool,
            shown,
            lease: JobsLease::default(),
            row_writes,
            nodes: NodeBus::new(),
        })
    }

    /// The URL without its password.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Whether this node holds the jobs lease (taking it when free).
    pub(crate) fn leads_jobs(&self) -> Result<bool> {
        self.lease.hold(&self.pool)
    }

    /// A pooled connection.
    pub(crate) fn client(&self) -> Result<Pooled<'_>> {
        self.pool.get()
    }

    /// A connection of its own.
    pub(crate) fn connect(&self) -> Result<postgres::Client> {
        self.pool.connect()
    }

    /// Rows of `kind`.
    pub(crate) fn count(&self, kind: EntityKind) -> Result<usize> {
        row_count(&mut self.client()?, kind)
    }

    /// The last committed feed sequence number.
    pub(crate) fn last_seq(&self) -> Result<u64> {
        let row = self
            .client()?
            .row("SELECT last_seq FROM store_counters", &[])?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }

    /// The id counter: the id the next new row gets.
    pub(crate) fn next_id(&self) -> Result<u64> {
        let row = self
            .client()?
            .row("SELECT next_id FROM store_counters", &[])?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(1))
    }

    /// Raises the id counter to `at_least`, never lowering it, under the
    /// write lock (no write transaction runs meanwhile).
    pub(crate) fn adopt_next_id(&self, at_least: u64) -> Result<()> {
        let at_least = as_bigint(at_least)?;
        let mut conn = self.client()?;
        let mut transaction = conn.transaction()?;
        transaction.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        transaction.execute(
            "UPDATE store_counters SET next_id = GREATEST(next_id, $1)",
            &[&at_least],
        )?;
        transaction.commit()?;
        Ok(())
    }

    /// Runs `body` as the only writer of the database and commits what it
    /// staged; returns its result and the feed's new end, if it wrote.
    pub(crate) fn write<T>(
        &self,
        body: impl FnOnce(&mut Txn<'_>) -> Result<T>,
    ) -> Result<(T, Option<u64>)> {
        let mut conn = self.client()?;
        let (client, statements) = conn.split();
        // Read committed, whatever the server's default: the counters and
        // rows read after the lock must be what the writer before committed
        // (a snapshot taken at the lock statement, as repeatable read takes
        // it, would be older than that).
        let transaction = client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::ReadCommitted)
            .start()?;
        let mut session = TxnSession::new(transaction, statements);
        session.run("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK])?;
        // With the counters, the instant the last commit ran at (any node's:
        // its newest feed entry, found by the key), which this one runs
        // after whatever this node's clock says. Entries carry their
        // commit's instant, never a backdated one, so the newest is the
        // latest; a feed pruned to nothing leaves it unknown (`NULL`).
        let counters = session.row(
            "SELECT next_id, last_seq,
                    (SELECT (extract(epoch FROM at) * 1000000)::bigint
                       FROM changes ORDER BY seq DESC LIMIT 1)
               FROM store_counters",
            &[],
        )?;
        let next_id = u64::try_from(counters.get::<_, i64>(0)).unwrap_or(1);
        let last_seq = u64::try_from(counters.get::<_, i64>(1)).unwrap_or(0);
        let last_commit = counters
            .get::<_, Option<i64>>(2)
            .and_then(|micros| Timestamp::from_micros(micros).ok());
        let mut txn = Txn::new(
            Reader::Postgres(RefCell::new(session)),
            next_id,
            last_commit,
        );
        let out = body(&mut txn)?;
        let committed_at = txn.committed_at();
        let (reader, staged, changes, next_id) = txn.into_parts();
        let Reader::Postgres(session) = reader else {
            return Err(Error::Storage(
                "a PostgreSQL write read elsewhere".to_owned(),
            ));
        };
        let mut session = session.into_inner();
        if staged.is_empty() {
            return Ok((out, None));
        }
        trees::apply(&mut session, &staged, &self.row_writes)?;
        let entries = super::change_feed::entries(last_seq, committed_at, &changes);
        let seq = entries.last().map_or(last_seq, |change| change.seq);
        insert_changes(&mut session, &entries)?;
        move_row_counts(&mut session, &changes)?;
        // The counters move, and followers are told (on commit), in one statement.
        session.run(
            "UPDATE store_counters SET next_id = $1, last_seq = $2::bigint \
             RETURNING pg_notify($3, $2::bigint::text)",
            &[&as_bigint(next_id)?, &as_bigint(seq)?, &CHANNEL],
        )?;
        session.tx.commit()?;
        Ok((out, Some(seq)))
    }

    /// Feed entries after `after`, at most `limit`, in order.
    pub(crate) fn changes_since(&self, after: u64, limit: usize) -> Result<Vec<Change>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows = self.client()?.rows(
            "SELECT seq, (extract(epoch FROM at) * 1000000)::bigint, kind, row_id, op, owner
               FROM changes WHERE seq > $1 ORDER BY seq LIMIT $2",
            &[&as_bigint(after)?, &limit],
        )?;
        rows.into_iter()
            .map(|row| {
                let corrupt = || Error::Corrupt("malformed change-feed entry".to_owned());
                let kind = u8::try_from(row.get::<_, i16>(2)).ok();
                Ok(Change {
                    seq: u64::try_from(row.get::<_, i64>(0)).map_err(|_| corrupt())?,
                    at: Timestamp::from_micros(row.get(1)).map_err(|_| corrupt())?,
                    kind: kind.and_then(EntityKind::from_tag).ok_or_else(corrupt)?,
                    id: u64::try_from(row.get::<_, i64>(3)).map_err(|_| corrupt())?,
                    op: match row.get::<_, i16>(4) {
                        0 => ChangeOp::Put,
                        1 => ChangeOp::Delete,
                        _ => return Err(corrupt()),
                    },
                    owner: row
                        .get::<_, Option<i64>>(5)
                        .map(|owner| u64::try_from(owner).map_err(|_| corrupt()))
                        .transpose()?,
                })
            })
            .collect()
    }

    /// The oldest sequence number still in the feed.
    pub(crate) fn oldest_change(&self) -> Result<Option<u64>> {
        let row = self
            .client()?
            .query_one("SELECT min(seq) FROM changes", &[])?;
        Ok(row
            .get::<_, Option<i64>>(0)
            .and_then(|seq| u64::try_from(seq).ok()))
    }

    /// Drops feed entries up to and including `through`.
    pub(crate) fn truncate_changes(&self, through: u64) -> Result<usize> {
        let removed = self.client()?.execute(
            "DELETE FROM changes WHERE seq <= $1",
            &[&as_bigint(through)?],
        )?;
        Ok(usize::try_from(removed).unwrap_or(0))
    }

    /// The value of a metadata key, setting it to `fresh` first if unset.
    pub(crate) fn meta_or_insert(&self, key: &str, fresh: &[u8]) -> Result<Vec<u8>> {
        let mut client = self.client()?;
        client.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&key, &fresh],
        )?;
        Ok(client
            .query_one("SELECT value FROM meta WHERE key = $1", &[&key])?
            .get(0))
    }

    /// The database's size in bytes.
    pub(crate) fn size_on_disk(&self) -> Result<u64> {
        let row = self
            .client()?
            .query_one("SELECT pg_database_size(current_database())", &[])?;
        Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
    }
}

/// Appends a commit's feed entries in one statement.
fn insert_changes(session: &mut impl Session, entries: &[Change]) -> Result<()> {
    let mut seqs = Vec::with_capacity(entries.len());
    let mut ats = Vec::with_capacity(entries.len());
    let mut kinds = Vec::with_capacity(entries.len());
    let mut ids = Vec::with_capacity(entries.len());
    let mut ops = Vec::with_capacity(entries.len());
    let mut owners = Vec::with_capacity(entries.len());
    for change in entries {
        seqs.push(as_bigint(change.seq)?);
        ats.push(change.at.as_micros());
        kinds.push(i16::from(change.kind as u8));
        ids.push(as_bigint(change.id)?);
        ops.push(match change.op {
            ChangeOp::Put => 0_i16,
            ChangeOp::Delete => 1,
        });
        owners.push(change.owner.map(as_bigint).transpose()?);
    }
    session.run(
        "INSERT INTO changes (seq, at, kind, row_id, op, owner)
         SELECT seq, to_timestamp(at / 1000000.0), kind, row_id, op, owner
           FROM unnest($1::bigint[], $2::bigint[], $3::smallint[], $4::bigint[], $5::smallint[], $6::bigint[])
             AS entry (seq, at, kind, row_id, op, owner)",
        &[&seqs, &ats, &kinds, &ids, &ops, &owners],
    )?;
    Ok(())
}

/// Rows of `kind` as `session` sees them: a write transaction's session,
/// holding the write lock, sees every commit before it.
pub(crate) fn row_count(session: &mut impl Session, kind: EntityKind) -> Result<usize> {
    let row = session.row_opt(
        "SELECT row_count FROM entity_rows WHERE kind = $1",
        &[&kind.name()],
    )?;
    Ok(row.map_or(0, |row| usize::try_from(row.get::<_, i64>(0)).unwrap_or(0)))
}

/// Moves each entity's row count by what the commit added and removed, in
/// one statement.
fn move_row_counts(session: &mut impl Session, changes: &[ChangedRow]) -> Result<()> {
    let mut moved: BTreeMap<EntityKind, i64> = BTreeMap::new();
    for row in changes {
        *moved.entry(row.kind).or_default() += row.rows_added;
    }
    moved.retain(|_, delta| *delta != 0);
    if moved.is_empty() {
        return Ok(());
    }
    let kinds: Vec<&str> = moved.keys().map(|kind| kind.name()).collect();
    let deltas: Vec<i64> = moved.into_values().collect();
    session.run(
        "UPDATE entity_rows SET row_count = row_count + moved.delta
           FROM unnest($1::text[], $2::bigint[]) AS moved (kind, delta)
          WHERE entity_rows.kind = moved.kind",
        &[&kinds, &deltas],
    )?;
    Ok(())
}

/// A counter or id as a bigint.
fn as_bigint(value: u64) -> Result<i64> {
    i64::try_from(value).map_err(|_| Error::Storage(format!("{value} is past bigint")))
}

/// `url` with any password replaced, for logs.
fn without_password(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        // Not a URL we can take apart: show none of it.
        return "postgres://…".to_owned();
    };
    if parsed.password().is_some() && parsed.set_password(Some("***")).is_err() {
        return "postgres://…".to_owned();
    }
    let secret =
        |key: &str| key.eq_ignore_ascii_case("password") || key.eq_ignore_ascii_case("sslpassword");
    if parsed.query_pairs().any(|(key, _)| secret(&key)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(key, value)| {
                let value = if secret(&key) {
                    "***".to_owned()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.into()
}

/// The engine's error for a database error: the constraints the database
/// enforces become the errors the engine's own checks give.
pub(crate) fn error_of(err: &postgres::Error) -> Error {
    let Some(db) = err.as_db_error() else {
        return Error::Storage(format!("PostgreSQL: {err}"));
    };
    let code = db.code();
    if *code == SqlState::EXCLUSION_VIOLATION {
        Error::SlotUnavailable
    } else if *code == SqlState::UNIQUE_VIOLATION {
        Error::Conflict {
            field: constraint_field(db.constraint().unwrap_or_default()),
            value: String::new(),
        }
    } else {
        // The message names the constraint, never the values (those are in
        // the detail, which is not kept).
        Error::Storage(format!("PostgreSQL {}: {}", code.code(), db.message()))
    }
}

/// The field a unique constraint of the schema guards.
fn constraint_field(constraint: &str) -> &'static str {
    match constraint {
        "user_username_key" => "username",
        "user_email_key" => "email",
        "user_referral_code_key" => "referral_code",
        "dropin_session_session_code_key" => "session_code",
        "favorite_pair_key" => "favorite",
        "booking_idempotency_key" => "idempotency_key",
        "payment_intent_id_key" => "payment_intent",
        "stripe_event_event_id_key" => "stripe_event",
        "daily_event_event_id_key" => "daily_event",
        _ => "key",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_never_reach_the_logs() {
        assert_eq!(
            without_password("postgres://droply:s3cret@127.0.0.1:5432/droply"),
            "postgres://droply:***@127.0.0.1:5432/droply"
        );
        assert_eq!(
            without_password("postgres://droply@localhost/droply"),
            "postgres://droply@localhost/droply"
        );
        // Regression: a password given as a query parameter was shown whole.
        assert_eq!(
            without_password("postgres://h/db?user=u&password=s3cret&sslmode=require"),
            "postgres://h/db?user=u&password=***&sslmode=require"
        );
        assert_eq!(without_password("host=db password=s3cret"), "postgres://…");
    }
}
