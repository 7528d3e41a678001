//! A small pool of PostgreSQL connections: callers take an idle one (or a
//! new one) and give it back when done; a connection that broke is dropped
//! rather than returned. Store calls are synchronous (the engine runs them
//! on blocking threads), so this is the blocking `postgres` client.

use std::ops::{Deref, DerefMut};
use std::sync::Mutex;

use postgres::{Client, NoTls};

use crate::{Error, Result};

/// At most this many idle connections are kept.
const MAX_IDLE: usize = 16;

/// Connections to one database.
pub(crate) struct Pool {
    config: postgres::Config,
    idle: Mutex<Vec<Client>>,
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
        let client = match idle {
            Some(client) if !client.is_closed() => client,
            _ => self.connect()?,
        };
        Ok(Pooled {
            pool: self,
            client: Some(client),
        })
    }
}

/// A connection taken from the pool, given back on drop.
pub(crate) struct Pooled<'p> {
    pool: &'p Pool,
    client: Option<Client>,
}

impl Deref for Pooled<'_> {
    type Target = Client;

    fn deref(&self) -> &Client {
        // Taken only in `drop`.
        #[allow(clippy::expect_used)]
        self.client.as_ref().expect("present until dropped")
    }
}

impl DerefMut for Pooled<'_> {
    fn deref_mut(&mut self) -> &mut Client {
        #[allow(clippy::expect_used)]
        self.client.as_mut().expect("present until dropped")
    }
}

impl Drop for Pooled<'_> {
    fn drop(&mut self) {
        if let Some(client) = self.client.take()
            && !client.is_closed()
        {
            let mut idle = self.pool.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() < MAX_IDLE {
                idle.push(client);
            }
        }
    }
}
