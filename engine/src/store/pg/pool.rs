//! A small pool of PostgreSQL connections: callers take an idle one (or a
//! new one) and give it back when done; a connection that broke is dropped
//! rather than returned. At most [`PoolLimits::max_open`] are open at once
//! (writers wait on the store's advisory lock holding one, so without a bound
//! a burst of writes would open connections until the server refuses them);
//! a caller finding them all taken waits up to [`PoolLimits::wait`], then is
//! answered `Overloaded`. Connecting gives up after ten seconds unless the
//! URL says otherwise. Store calls are synchronous (the engine runs them
//! on blocking threads), so this is the blocking `postgres` client, which
//! drives a small runtime of its own: [`off_runtime`] lets it do so even when
//! a caller (a metrics gauge, a handle dropped in a request) is on one.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use postgres::{Client, NoTls};

use super::session::{Runner, Session, Statements};
use crate::{Error, Result};

/// At most this many idle connections are kept.
const MAX_IDLE: usize = 16;

/// How many connections a pool opens and how long a caller waits for one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PoolLimits {
    /// Connections open at once, idle or in use.
    pub max_open: usize,
    /// How long a caller waits for one when all are in use.
    pub wait: Duration,
}

impl Default for PoolLimits {
    fn default() -> Self {
        PoolLimits {
            max_open: 32,
            wait: Duration::from_secs(10),
        }
    }
}

/// Connections to one database.
pub(crate) struct Pool {
    config: postgres::Config,
    limits: PoolLimits,
    state: Mutex<PoolState>,
    freed: Condvar,
}

/// The idle connections and how many are open in all.
struct PoolState {
    idle: Vec<Conn>,
    open: usize,
}

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: Statements,
}

impl Pool {
    /// A pool for the database `url` names; connects once to check it.
    pub(crate) fn new(url: &str, limits: PoolLimits) -> Result<Pool> {
        let mut config: postgres::Config = url
            .parse()
            .map_err(|_| Error::Config("the PostgreSQL URL does not parse".to_owned()))?;
        if config.get_connect_timeout().is_none() {
            config.connect_timeout(Duration::from_secs(10));
        }
        let pool = Pool {
            config,
            limits: PoolLimits {
                max_open: limits.max_open.max(1),
                ..limits
            },
            state: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        };
        drop(pool.get()?);
        Ok(pool)
    }

    /// A new connection of its own (the feed listener keeps one), outside
    /// the pool's count.
    pub(crate) fn connect(&self) -> Result<Client> {
        Ok(self.config.connect(NoTls)?)
    }

    /// [`Pool::connect`] with `tune` applied to a copy of the pool's
    /// settings first (the jobs lease's keepalives and timeouts).
    pub(crate) fn connect_with(&self, tune: impl FnOnce(&mut postgres::Config)) -> Result<Client> {
        let mut config = self.config.clone();
        tune(&mut config);
        Ok(config.connect(NoTls)?)
    }

    /// An idle connection, or a new one while fewer than the limit are
    /// open, or one given back within the wait; `Overloaded` after it.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let deadline = Instant::now() + self.limits.wait;
        let mut state = self.state();
        loop {
            while let Some(conn) = state.idle.pop() {
                if !conn.client.is_closed() {
                    return Ok(Pooled {
                        pool: self,
                        conn: Some(conn),
                    });
                }
                state.open = state.open.saturating_sub(1);
            }
            if state.open < self.limits.max_open {
                state.open += 1;
                drop(state);
                return match self.connect() {
                    Ok(client) => Ok(Pooled {
                        pool: self,
                        conn: Some(Conn {
                            client,
                            statements: Statements::default(),
                        }),
                    }),
                    Err(err) => {
                        self.closed_one();
                        Err(err)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(Error::Overloaded {
                    what: "database connections",
                    retry_after_secs: 1,
                });
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Counts a connection that closed, and wakes a waiter to open another.
    fn closed_one(&self) {
        let mut state = self.state();
        state.open = state.open.saturating_sub(1);
        drop(state);
        self.freed.notify_one();
    }

    fn state(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A connection taken from the pool, given back on drop.
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    conn: Option<Conn>,
}

impl Pooled<'_> {
    fn conn(&mut self) -> &mut Conn {
        // Taken only in `drop`.
        #[allow(clippy::expect_used)]
        self.conn.as_mut().expect("present until dropped")
    }

    /// The client and the statements prepared on it, apart: for a
    /// transaction that borrows the one and caches in the other.
    pub(crate) fn split(&mut self) -> (&mut Client, &mut Statements) {
        let conn = self.conn();
        (&mut conn.client, &mut conn.statements)
    }
}

impl Session for Pooled<'_> {
    fn parts(&mut self) -> (&mut dyn Runner, &mut Statements) {
        let conn = self.conn();
        (&mut conn.client, &mut conn.statements)
    }
}

impl Deref for Pooled<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        #[allow(clippy::expect_used)]
        &self.conn.as_ref().expect("present until dropped").client
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        &mut self.conn().client
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        let Some(conn) = self.conn.take() else {
            return;
        };
        if conn.client.is_closed() {
            self.pool.closed_one();
            return;
        }
        let mut state = self.pool.state();
        if state.idle.len() < MAX_IDLE {
            state.idle.push(conn);
            drop(state);
            self.pool.freed.notify_one();
        } else {
            drop(state);
            off_runtime(move || drop(conn));
            self.pool.closed_one();
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        let idle = std::mem::take(&mut state.idle);
        off_runtime(move || drop(idle));
    }
}

/// [`off_runtime`] for work that cannot move to another thread (a write
/// transaction's body): under a single-threaded runtime it runs in place.
pub(crate) fn blocking_allowed<T>(work: impl FnOnce() -> T) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Runs `work`, which blocks on the `postgres` client's own runtime, where
/// that may block: directly on a plain thread (or one of tokio's blocking
/// threads), in `block_in_place` on a worker of a multi-threaded runtime,
/// and on a thread of its own under a single-threaded one.
pub(crate) fn off_runtime<T: Send>(work: impl FnOnce() -> T + Send) -> T {
    use tokio::runtime::{Handle, RuntimeFlavor};
    match Handle::try_current().map(|handle| handle.runtime_flavor()) {
        Err(_) => work(),
        Ok(RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        Ok(_) => std::thread::scope(|scope| match scope.spawn(work).join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: the pool opened a connection for every caller that found
    /// none idle, without bound, until PostgreSQL refused new clients (a 500).
    #[test]
    fn callers_past_the_limit_wait_for_a_connection_then_are_told_to_come_back() {
        let url = droply_test_support::postgres::fresh_database();
        let pool = Pool::new(
            &url,
            PoolLimits {
                max_open: 2,
                wait: Duration::from_millis(200),
            },
        )
        .expect("pool");
        let first = pool.get().expect("first");
        let second = pool.get().expect("second");
        let started = Instant::now();
        let third = pool.get();
        assert!(
            matches!(third, Err(Error::Overloaded { .. })),
            "a third connection while two are in use"
        );
        assert!(started.elapsed() >= Duration::from_millis(200), "it waited");
        // One given back while a caller waits: the caller gets it.
        std::thread::scope(|scope| {
            let waiter = scope.spawn(|| pool.get().map(drop));
            std::thread::sleep(Duration::from_millis(50));
            drop(first);
            assert!(waiter.join().expect("waiter").is_ok());
        });
        drop(second);
        assert_eq!(pool.state().open, 2);
        assert!(pool.state().idle.len() <= 2);
    }
}
