//! The jobs lease: of the nodes sharing one database, only the one holding
//! it runs the store-wide background jobs (the session and hold sweeps,
//! payments, video rooms, calendar sync), so that they do not all do the
//! same work at once and contend for the write lock. The lease is a
//! session-level advisory lock on a connection of the node's own: it lasts
//! as long as that connection, so a node that stops, is killed or loses the
//! database gives it up, and the next node to ask takes it over. A node
//! whose connection breaks mid-run finishes that run, so the jobs stay
//! idempotent by themselves (their writes re-check what they change, and
//! Stripe calls carry idempotency keys); the lease saves work, it does not
//! make them safe.

use std::sync::Mutex;

use postgres::Client;

use super::off_runtime;
use super::pool::Pool;
use crate::Result;

/// The advisory lock the jobs' leader holds (a different key from writes').
const JOBS_LOCK: i64 = 0x6472_6f70_6c79_0003;

/// This node's connection for the lease, kept between asks (a standby node
/// asks again on the same connection), and whether it holds the lock.
#[derive(Default)]
pub(crate) struct JobsLease {
    held: Mutex<Option<LeaseConnection>>,
}

struct LeaseConnection {
    client: Client,
    leading: bool,
}

impl JobsLease {
    /// Whether this node holds the lease now: checks that the connection
    /// holding it is still alive, or tries to take it when free. A broken
    /// connection is replaced once. It blocks on the database, so callers
    /// run it where that may block ([`off_runtime`]).
    pub(crate) fn hold(&self, pool: &Pool) -> Result<bool> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let mut attempts = 0;
        loop {
            attempts += 1;
            let connection = match held.as_mut() {
                Some(connection) => connection,
                None => held.insert(LeaseConnection {
                    client: pool.connect()?,
                    leading: false,
                }),
            };
            let asked = if connection.leading {
                connection.client.batch_execute("SELECT 1").map(|()| true)
            } else {
                connection
                    .client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&JOBS_LOCK])
                    .map(|row| row.get(0))
            };
            match asked {
                Ok(leading) => {
                    if leading && !connection.leading {
                        tracing::info!(
                            "took the jobs lease: this node runs the store-wide background jobs"
                        );
                    }
                    connection.leading = leading;
                    return Ok(leading);
                }
                Err(err) => {
                    if connection.leading {
                        tracing::warn!("lost the connection holding the jobs lease");
                    }
                    *held = None;
                    if attempts > 1 {
                        return Err(err.into());
                    }
                }
            }
        }
    }
}

impl Drop for JobsLease {
    fn drop(&mut self) {
        let held = self
            .held
            .get_mut()
            .unwrap_or_else(|e| e.into_inner())
            .take()
            .map(|connection| connection.client);
        off_runtime(move || drop(held));
    }
}
