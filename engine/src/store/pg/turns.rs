//! Store-wide turns on PostgreSQL (`store/turns.rs`): a turn is a
//! session-level advisory lock of the database, one key per
//! [`TurnName`], so the nodes sharing the database take it in turn. It is
//! held on a connection of its own, outside the pool, for as long as the
//! turn lasts (the work in the turn may call Google meanwhile: it is no
//! write transaction), and released with `pg_advisory_unlock` when the
//! turn ends; the connection is closed then, so a lock that did not
//! release goes with its session and never stays behind on a pooled
//! connection. The wait for the lock is bounded by the session's
//! `lock_timeout`; past it the caller gets [`busy`].

use std::time::Duration;

use postgres::Client;
use postgres::error::SqlState;

use super::{PgStore, off_runtime};
use crate::Result;
use crate::store::turns::{TurnName, busy};

/// The advisory lock of [`TurnName::GrantChange`] (a different key from
/// migrations', writes' and the jobs lease's).
const GRANT_CHANGE_LOCK: i64 = 0x6472_6f70_6c79_0004;

/// The advisory lock key of the turn `name`.
fn lock_key(name: TurnName) -> i64 {
    match name {
        TurnName::GrantChange => GRANT_CHANGE_LOCK,
    }
}

/// A turn held: the connection whose session holds its lock.
pub(crate) struct PgTurn {
    /// Taken when the turn ends.
    client: Option<Client>,
    name: TurnName,
}

impl PgTurn {
    /// The turn held.
    pub(crate) fn name(&self) -> TurnName {
        self.name
    }
}

/// The turn `name`, waiting at most `wait` for the node holding it (then
/// [`busy`]). It blocks on the database, so callers run it where that may
/// block ([`off_runtime`]).
pub(crate) fn take(pg: &PgStore, name: TurnName, wait: Duration) -> Result<PgTurn> {
    let key = lock_key(name);
    let mut client = pg.connect()?;
    // `lock_timeout` 0 would wait for ever: at least a millisecond.
    let wait_ms = wait.as_millis().clamp(1, i32::MAX as u128);
    client.batch_execute(&format!("SET lock_timeout = {wait_ms}"))?;
    match client.execute("SELECT pg_advisory_lock($1)", &[&key]) {
        Ok(_) => {}
        Err(err) if err.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => return Err(busy(name)),
        Err(err) => return Err(err.into()),
    }
    // On error the client drops here, its session with the lock.
    client.batch_execute("SET lock_timeout = 0")?;
    Ok(PgTurn {
        client: Some(client),
        name,
    })
}

impl Drop for PgTurn {
    fn drop(&mut self) {
        let Some(mut client) = self.client.take() else {
            return;
        };
        let key = lock_key(self.name);
        let turn = self.name.describe();
        off_runtime(move || {
            match client.query_one("SELECT pg_advisory_unlock($1)", &[&key]) {
                Ok(row) if row.get::<_, bool>(0) => {}
                Ok(_) => tracing::warn!(turn, "a store-wide turn's lock was gone before its end"),
                Err(err) => tracing::warn!(
                    turn,
                    %err,
                    "a store-wide turn's lock not released; its connection is closed instead"
                ),
            }
            // Closing the session ends whatever lock it still holds.
            drop(client);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turn_keys_differ_from_the_other_advisory_locks() {
        let others = [
            0x6472_6f70_6c79_0001, // migrations
            super::super::WRITE_LOCK,
            0x6472_6f70_6c79_0003, // the jobs lease
        ];
        assert!(!others.contains(&lock_key(TurnName::GrantChange)));
    }
}
