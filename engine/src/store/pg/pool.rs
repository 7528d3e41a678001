//! A small pool of PostgreSQL connections: callers take an idle one (or a
//! new one) and give it back when done; a connection that broke is dropped
//! rather than returned. Store calls are synchronous (the engine runs them
//! on blocking threads), so this is the blocking `postgres` client, which
//! drives a small runtime of its own: [`off_runtime`] lets it do so even when
//! a caller (a metrics gauge, a handle dropped in a request) is on one.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use postgres::{Client, NoTls};

use super::session::{Runner, Session, Statements};
use crate::{Error, Result};

/// At most this many idle connections are kept.
const MAX_IDLE: usize = 16;

/// Connections to one database.
pub(crate) struct Pool {
    config: postgres::Config,
    idle: Mutex<Vec<Conn>>,
}

/// A connection and the statements prepared on it.
struct Conn {
    client: Client,
    statements: Statements,
}

impl Pool {
    /// A pool for the database `url` names; connects once to check it.
    pub(crate) fn new(url: &str) -> Result<Pool> {
        let config: postgres::Config = url
            .parse()
            .map_err(|_| Error::Config("the PostgreSQL URL does not parse".to_owned()))?;
        let pool = Pool {
            config,
            idle: Mutex::new(Vec::new()),
        };
        drop(pool.get()?);
        Ok(pool)
    }

    /// A new connection of its own (the feed listener keeps one).
    pub(crate) fn connect(&self) -> Result<Client> {
        Ok(self.config.connect(NoTls)?)
    }

    /// An idle connection, or a new one.
    pub(crate) fn get(&self) -> Result<Pooled<'_>> {
        let idle = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let conn = match idle {
            Some(conn) if !conn.client.is_closed() => conn,
            _ => Conn {
                client: self.connect()?,
                statements: Statements::default(),
            },
        };
        Ok(Pooled {
            pool: self,
            conn: Some(conn),
        })
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
            return;
        }
        let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < MAX_IDLE {
            idle.push(conn);
        } else {
            drop(idle);
            off_runtime(move || drop(conn));
        }
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        let idle = std::mem::take(self.idle.get_mut().unwrap_or_else(|e| e.into_inner()));
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
