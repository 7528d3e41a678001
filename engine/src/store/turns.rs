//! Store-wide turns ([`Store::exclusive_turn`]): work that must not run at
//! the same time anywhere the store is shared, such as changing a Google
//! grant (a consent code exchanged on the node that served the request, a
//! revocation sent by the jobs leader), holds the turn of its
//! [`TurnName`] while it runs. On sled, which one process opens, the turn
//! is a process-wide lock; on PostgreSQL, a session-level advisory lock of
//! the database (`pg/turns.rs`), so every node sharing it takes turns. A
//! turn is not a write transaction: network calls may happen while it is
//! held (never inside [`Store::write`]). A wait for a turn is bounded
//! ([`TURN_WAIT`]); past it the caller is answered
//! [`crate::Error::Overloaded`] rather than kept waiting.

use std::sync::{Condvar, Mutex, PoisonError};
use std::time::{Duration, Instant};

use droply_models::UserId;

use super::Store;
use super::backend::Backend;
use super::pg;
use crate::{Error, Result};

/// How long [`Store::exclusive_turn`] waits for a turn another holder has:
/// longer than one Google call may take (20 seconds unless configured),
/// the longest a turn is held for.
pub const TURN_WAIT: Duration = Duration::from_secs(30);

/// Seconds a caller answered "busy" is told to wait before trying again.
const RETRY_AFTER_SECS: u64 = 5;

/// The work a turn is for; each name is a turn of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TurnName {
    /// A grant of this expert's changing at Google: a consent code
    /// exchanged and its connection stored, or a revocation of an old grant
    /// sent (one expert's exchange never waits for another's).
    GrantChange(UserId),
}

impl TurnName {
    /// The turn in words (for errors and logs).
    pub fn describe(self) -> &'static str {
        match self {
            TurnName::GrantChange(_) => "a Google grant change",
        }
    }
}

/// A turn held; it ends when the guard drops.
#[must_use = "the turn ends when the guard drops"]
pub struct TurnGuard {
    held: Held,
}

impl std::fmt::Debug for TurnGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (name, backend) = match &self.held {
            Held::Process(name) => (*name, "process"),
            Held::Postgres(turn) => (turn.name(), "postgres"),
        };
        f.debug_struct("TurnGuard")
            .field("name", &name)
            .field("backend", &backend)
            .finish()
    }
}

/// What a guard holds: an entry of this process's turns (sled), or the
/// connection holding the advisory lock (PostgreSQL; released by its own
/// drop).
enum Held {
    Process(TurnName),
    Postgres(Box<pg::turns::PgTurn>),
}

/// The turns this process holds (sled's: one process opens a sled store).
static PROCESS_TURNS: Mutex<Vec<TurnName>> = Mutex::new(Vec::new());
/// Woken when a process turn ends.
static PROCESS_TURN_FREED: Condvar = Condvar::new();

impl Drop for TurnGuard {
    fn drop(&mut self) {
        if let Held::Process(name) = self.held {
            let mut held = PROCESS_TURNS.lock().unwrap_or_else(PoisonError::into_inner);
            held.retain(|other| *other != name);
            drop(held);
            PROCESS_TURN_FREED.notify_all();
        }
    }
}

/// The turn `name` of `store`, waiting at most `wait` for its holder to
/// end it ([`busy`] after that).
pub(super) fn take(store: &Store, name: TurnName, wait: Duration) -> Result<TurnGuard> {
    match &store.inner.backend {
        Backend::Sled(_) => take_in_process(name, wait),
        Backend::Postgres(pg_store) => {
            let turn = pg::off_runtime(|| pg::turns::take(pg_store, name, wait))?;
            Ok(TurnGuard {
                held: Held::Postgres(Box::new(turn)),
            })
        }
    }
}

/// The error of a turn still held by another after the wait.
pub(crate) fn busy(name: TurnName) -> Error {
    Error::Overloaded {
        what: name.describe(),
        retry_after_secs: RETRY_AFTER_SECS,
    }
}

/// The process-wide turn `name`, waiting at most `wait`.
fn take_in_process(name: TurnName, wait: Duration) -> Result<TurnGuard> {
    let deadline = Instant::now() + wait;
    let mut held = PROCESS_TURNS.lock().unwrap_or_else(PoisonError::into_inner);
    while held.contains(&name) {
        let now = Instant::now();
        if now >= deadline {
            return Err(busy(name));
        }
        held = PROCESS_TURN_FREED
            .wait_timeout(held, deadline - now)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    held.push(name);
    Ok(TurnGuard {
        held: Held::Process(name),
    })
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::mpsc;

    use super::*;
    use crate::records::on_both_backends;

    /// A second handle of `store`: for PostgreSQL, another node (a `Store`
    /// opened on the same database); for sled, which one process opens, a
    /// clone.
    fn another_node(store: &Store, url: Option<&str>) -> Store {
        match url {
            Some(url) => Store::open_postgres(url).expect("a second node"),
            None => store.clone(),
        }
    }

    /// Regression: the grant-change turn was a lock of each process, so a
    /// consent exchanged on one node and a revocation sent by the jobs
    /// leader on another ran at once (the revocation could end the new
    /// grant). A turn taken on one node keeps the other waiting until it
    /// ends.
    fn a_turn_held_on_one_node_keeps_another_node_waiting_until_it_ends(
        store: &Store,
        url: Option<&str>,
    ) {
        let other = another_node(store, url);
        let ended = AtomicBool::new(false);
        let (taken_tx, taken_rx) = mpsc::channel::<()>();
        let first = store
            .exclusive_turn(TurnName::GrantChange(UserId::new(7)))
            .expect("the first turn");
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| {
                let turn = other
                    .exclusive_turn(TurnName::GrantChange(UserId::new(7)))
                    .expect("the turn, once the first ends");
                // The first turn had ended when this one began.
                let after_the_first = ended.load(Ordering::SeqCst);
                taken_tx.send(()).expect("tell");
                drop(turn);
                after_the_first
            });
            assert!(
                taken_rx.recv_timeout(Duration::from_millis(500)).is_err(),
                "the other node took the turn while the first held it"
            );
            ended.store(true, Ordering::SeqCst);
            drop(first);
            assert!(
                taken_rx.recv_timeout(TURN_WAIT).is_ok(),
                "the other node takes the turn once the first ends"
            );
            assert!(waiter.join().expect("the waiter"), "the turns overlapped");
        });
        // Ended on both, the turn is free again.
        drop(
            store
                .exclusive_turn(TurnName::GrantChange(UserId::new(7)))
                .expect("free again"),
        );
    }

    /// A wait for a turn another node holds is bounded: past it the caller
    /// is told the server is busy, and the holder keeps its turn.
    fn a_wait_for_a_turn_held_elsewhere_ends_in_a_busy_error(store: &Store, url: Option<&str>) {
        let other = another_node(store, url);
        let first = store
            .exclusive_turn(TurnName::GrantChange(UserId::new(7)))
            .expect("the first turn");
        let wait = Duration::from_millis(300);
        let started = Instant::now();
        let refused = std::thread::scope(|scope| {
            scope
                .spawn(|| take(&other, TurnName::GrantChange(UserId::new(7)), wait))
                .join()
                .expect("the waiter")
        });
        let named = TurnName::GrantChange(UserId::new(7)).describe();
        assert!(
            matches!(refused, Err(Error::Overloaded { what, .. }) if what == named),
            "{refused:?}"
        );
        assert!(started.elapsed() >= wait, "it waited");
        // Another expert's grant change does not wait for this one's.
        drop(
            take(&other, TurnName::GrantChange(UserId::new(8)), wait)
                .expect("another expert's turn, at once"),
        );
        assert!(
            started.elapsed() < TURN_WAIT,
            "it waited its own bound, not the default"
        );
        drop(first);
        // The refused waiter holds nothing: the turn is taken at once.
        drop(
            take(
                &other,
                TurnName::GrantChange(UserId::new(7)),
                Duration::from_secs(5),
            )
            .expect("the turn, once the first ends"),
        );
    }

    on_both_backends!(
        a_turn_held_on_one_node_keeps_another_node_waiting_until_it_ends,
        a_wait_for_a_turn_held_elsewhere_ends_in_a_busy_error,
    );
}
