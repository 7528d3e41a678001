//! The jobs lease: of the nodes sharing one database, only the one holding
//! it runs the store-wide background jobs (the session and hold sweeps,
//! payments, video rooms, calendar sync), so that they do not all do the
//! same work at once and contend for the write lock. The lease is a
//! session-level advisory lock on a connection of the node's own: it lasts
//! as long as that connection, so a node that stops, is killed or loses the
//! database gives it up, and the next node to ask takes it over. The leader
//! checks at each ask that its own session still holds the lock (in
//! `pg_locks`, not merely that the connection answers), and a session that
//! no longer does has lost the lease. The connection probes the server
//! with TCP keepalives and gives up on data the server does not
//! acknowledge ([`watched`]), so a half-open connection (the server gone,
//! or the session ended there, without a word reaching this node) fails
//! within a minute instead of leaving this node the leader until the
//! kernel gives up, long after PostgreSQL let another node take the lock.
//! The session asks the server to probe this node the same way
//! ([`session_settings`]), so a leader that vanished loses its session,
//! and the lock with it, within a minute rather than hours, and a standby
//! takes over.
//! A node whose connection breaks mid-run finishes that run, so the jobs
//! stay idempotent by themselves (their writes re-check what they change,
//! and Stripe calls carry idempotency keys); the lease saves work, it does
//! not make them safe.

use std::sync::Mutex;
use std::time::Duration;

use postgres::Client;

use super::off_runtime;
use super::pool::Pool;
use crate::Result;

/// The advisory lock the jobs' leader holds (a different key from writes').
const JOBS_LOCK: i64 = 0x6472_6f70_6c79_0003;

/// How `pg_locks` shows [`JOBS_LOCK`], a `bigint` key: its high half as
/// `classid`, its low half as `objid`, and `objsubid` 1.
const JOBS_LOCK_HIGH: u32 = (JOBS_LOCK >> 32) as u32;
const JOBS_LOCK_LOW: u32 = JOBS_LOCK as u32;

/// Whether this session holds [`JOBS_LOCK`] (`$1`, `$2`: its halves).
const HOLDS_LOCK: &str = "SELECT EXISTS (SELECT 1 FROM pg_locks \
     WHERE locktype = 'advisory' AND pid = pg_backend_pid() \
     AND classid = $1 AND objid = $2 AND objsubid = 1 AND granted)";

/// Idle time on the lease connection before the first keepalive probe.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
/// Time between unanswered keepalive probes.
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
/// Unanswered probes after which the connection is dropped.
const KEEPALIVE_RETRIES: u32 = 3;
/// How long data sent on the lease connection may stay unacknowledged
/// before the connection is dropped (Linux).
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(30);
/// The server's limit on each statement of the lease connection.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(10);

/// The lease connection's settings on top of the pool's: TCP keepalives on,
/// probing after [`KEEPALIVE_IDLE`] every [`KEEPALIVE_INTERVAL`] and giving
/// up after [`KEEPALIVE_RETRIES`], and a [`TCP_USER_TIMEOUT`]; each the
/// tighter of these and what the URL set.
fn watched(config: &mut postgres::Config) {
    let idle = config.get_keepalives_idle().min(KEEPALIVE_IDLE);
    let interval = config
        .get_keepalives_interval()
        .map_or(KEEPALIVE_INTERVAL, |set| set.min(KEEPALIVE_INTERVAL));
    let retries = config
        .get_keepalives_retries()
        .map_or(KEEPALIVE_RETRIES, |set| set.min(KEEPALIVE_RETRIES));
    let user_timeout = config
        .get_tcp_user_timeout()
        .copied()
        .filter(|set| !set.is_zero())
        .map_or(TCP_USER_TIMEOUT, |set| set.min(TCP_USER_TIMEOUT));
    config
        .keepalives(true)
        .keepalives_idle(idle)
        .keepalives_interval(interval)
        .keepalives_retries(retries)
        .tcp_user_timeout(user_timeout);
}

/// The lease session's settings: the [`STATEMENT_TIMEOUT`], and the
/// server's keepalives and TCP user timeout towards this node, the same as
/// this node's towards the server (PostgreSQL 12 or later; ignored over a
/// Unix socket).
fn session_settings() -> String {
    format!(
        "SET statement_timeout = {}; SET tcp_keepalives_idle = {}; \
         SET tcp_keepalives_interval = {}; SET tcp_keepalives_count = {}; \
         SET tcp_user_timeout = {}",
        STATEMENT_TIMEOUT.as_millis(),
        KEEPALIVE_IDLE.as_secs(),
        KEEPALIVE_INTERVAL.as_secs(),
        KEEPALIVE_RETRIES,
        TCP_USER_TIMEOUT.as_millis(),
    )
}

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

impl LeaseConnection {
    /// A new lease connection of `pool`'s database ([`watched`], with the
    /// [`session_settings`]), not leading yet.
    fn open(pool: &Pool) -> Result<LeaseConnection> {
        let mut client = pool.connect_with(watched)?;
        client.batch_execute(&session_settings())?;
        Ok(LeaseConnection {
            client,
            leading: false,
        })
    }
}

impl JobsLease {
    /// Whether this node holds the lease now. The leader checks that its
    /// session still holds the lock; one that no longer does has lost the
    /// lease (logged) and asks for it again like a standby node, which
    /// tries to take it when free. A broken connection is replaced once. It
    /// blocks on the database, so callers run it where that may block
    /// ([`off_runtime`]).
    pub(crate) fn hold(&self, pool: &Pool) -> Result<bool> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let mut attempts = 0;
        loop {
            attempts += 1;
            let connection = match held.as_mut() {
                Some(connection) => connection,
                None => held.insert(LeaseConnection::open(pool)?),
            };
            let asked = if connection.leading {
                connection
                    .client
                    .query_one(HOLDS_LOCK, &[&JOBS_LOCK_HIGH, &JOBS_LOCK_LOW])
                    .map(|row| row.get::<_, bool>(0))
            } else {
                connection
                    .client
                    .query_one("SELECT pg_try_advisory_lock($1)", &[&JOBS_LOCK])
                    .map(|row| row.get::<_, bool>(0))
            };
            match asked {
                Ok(true) => {
                    if !connection.leading {
                        tracing::info!(
                            "took the jobs lease: this node runs the store-wide background jobs"
                        );
                    }
                    connection.leading = true;
                    return Ok(true);
                }
                Ok(false) if connection.leading => {
                    // The session is up but its lock is gone: whoever asks
                    // next may have taken it. Ask again as a standby.
                    tracing::warn!(
                        "lost the jobs lease: the connection holding it no longer holds its lock"
                    );
                    connection.leading = false;
                }
                Ok(false) => return Ok(false),
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

#[cfg(test)]
mod tests {
    use super::super::pool::PoolLimits;
    use super::*;

    #[test]
    fn the_lease_connection_probes_the_server_and_keeps_a_tighter_url_setting() {
        let mut plain: postgres::Config = "postgres://droply@127.0.0.1/droply?keepalives=0"
            .parse()
            .expect("url");
        watched(&mut plain);
        assert!(plain.get_keepalives(), "keepalives on");
        assert_eq!(plain.get_keepalives_idle(), KEEPALIVE_IDLE);
        assert_eq!(plain.get_keepalives_interval(), Some(KEEPALIVE_INTERVAL));
        assert_eq!(plain.get_keepalives_retries(), Some(KEEPALIVE_RETRIES));
        assert_eq!(plain.get_tcp_user_timeout(), Some(&TCP_USER_TIMEOUT));

        let mut tight: postgres::Config =
            "postgres://droply@127.0.0.1/droply?keepalives_idle=5&tcp_user_timeout=10"
                .parse()
                .expect("url");
        watched(&mut tight);
        assert_eq!(tight.get_keepalives_idle(), Duration::from_secs(5));
        assert_eq!(tight.get_tcp_user_timeout(), Some(&Duration::from_secs(10)));
    }

    #[test]
    fn the_lock_key_s_halves_are_what_pg_locks_shows() {
        assert_eq!(
            (i64::from(JOBS_LOCK_HIGH) << 32) | i64::from(JOBS_LOCK_LOW),
            JOBS_LOCK
        );
    }

    /// Regression: the leader checked its lease with `SELECT 1`, which a
    /// connection answers whether or not its session still holds the lock,
    /// so a node went on running the jobs while another held the lease.
    #[test]
    fn a_leader_whose_session_no_longer_holds_the_lock_has_lost_the_lease() {
        let url = droply_test_support::postgres::fresh_database();
        let pool = Pool::new(&url, PoolLimits::default()).expect("pool");
        let lease = JobsLease::default();
        assert!(lease.hold(&pool).expect("ask"), "a free lease is taken");
        assert!(lease.hold(&pool).expect("ask again"), "and kept");

        // The lock goes while the session stays up, and another session
        // takes it.
        lease
            .held
            .lock()
            .expect("lease")
            .as_mut()
            .expect("the lease connection")
            .client
            .batch_execute("SELECT pg_advisory_unlock_all()")
            .expect("unlock");
        let mut other = postgres::Client::connect(&url, postgres::NoTls).expect("connect");
        let taken: bool = other
            .query_one("SELECT pg_try_advisory_lock($1)", &[&JOBS_LOCK])
            .expect("take")
            .get(0);
        assert!(taken, "the lock was let go");
        assert!(!lease.hold(&pool).expect("ask"), "the lease is lost");
        assert!(!lease.hold(&pool).expect("ask"), "and not taken back");

        // Once the other session lets go, the same connection takes it.
        other
            .batch_execute("SELECT pg_advisory_unlock_all()")
            .expect("let go");
        assert!(lease.hold(&pool).expect("ask"), "taken again");
        let mut held = lease.held.lock().expect("lease");
        let client = &mut held.as_mut().expect("the lease connection").client;
        // The server probes this node too (over TCP; a Unix socket reads 0).
        let over_tcp: bool = client
            .query_one("SELECT inet_server_addr() IS NOT NULL", &[])
            .expect("address")
            .get(0);
        let count = if over_tcp { "3" } else { "0" };
        for (setting, value) in [
            ("statement_timeout", "10s"),
            ("tcp_keepalives_count", count),
        ] {
            let shown: String = client
                .query_one(&format!("SHOW {setting}"), &[])
                .expect("show")
                .get(0);
            assert_eq!(shown, value, "{setting}");
        }
    }
}
