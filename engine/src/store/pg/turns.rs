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

/// The class of [`TurnName::GrantChange`]'s advisory locks: the first of
/// the two-key form's keys, the expert's id the second. The two-key form's
/// locks never meet the one-key locks of migrations, writes and the jobs
/// lease (PostgreSQL keeps the two spaces apart).
const GRANT_CHANGE_CLASS: i32 = 0x6472_0004;

/// The advisory lock keys of the turn `name`. An id past 2^32 shares its
/// second key with a smaller one's: those two experts take turns, no more.
fn lock_keys(name: TurnName) -> (i32, i32) {
    match name {
        TurnName::GrantChange(user) => (GRANT_CHANGE_CLASS, user.get() as u32 as i32),
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
    let (class, key) = lock_keys(name);
    let mut client = pg.connect()?;
    // `lock_timeout` 0 would wait for ever: at least a millisecond.
    let wait_ms = wait.as_millis().clamp(1, i32::MAX as u128);
    client.batch_execute(&format!("SET lock_timeout = {wait_ms}"))?;
    match client.execute("SELECT pg_advisory_lock($1, $2)", &[&class, &key]) {
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
        let (class, key) = lock_keys(self.name);
        let turn = self.name.describe();
        off_runtime(move || {
            match client.query_one("SELECT pg_advisory_unlock($1, $2)", &[&class, &key]) {
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
    use droply_models::UserId;

    use super::*;

    #[test]
    fn each_experts_grant_change_has_a_lock_of_its_own() {
        let ann = lock_keys(TurnName::GrantChange(UserId::new(7)));
        let bob = lock_keys(TurnName::GrantChange(UserId::new(8)));
        assert_eq!(ann.0, bob.0, "one class");
        assert_ne!(ann, bob);
    }
}
