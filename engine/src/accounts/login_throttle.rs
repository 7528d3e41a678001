//! Slowing down password guessing. Each sign-in attempt is counted against
//! its (client address, email) pair *before* the password is checked, so
//! attempts sent at the same moment cannot all slip past the check; after
//! [`LoginThrottleConfig::max_failures`] attempts within the window, the pair
//! is refused until the oldest leaves the window, and a successful sign-in
//! forgets the pair's attempts. Keying by the client as well as the email
//! means nobody can lock an account's owner out from another address
//! (guessing from many addresses is slowed by the server's per-address rate
//! limit on sign-ins instead). A client is its IPv4 address or its IPv6 /64
//! ([`client_network`], the key of the server's rate limits too), since one
//! host may hold a whole /64 and would otherwise get fresh attempts from
//! each of its addresses.
//!
//! The attempts are kept in the store ([`LoginAttempts`], one row per pair),
//! on sled as on PostgreSQL: every node sharing a PostgreSQL store counts
//! the same attempts (per node, two nodes behind a load balancer gave a
//! guesser twice the attempts), and a restart forgets none. The check and
//! the count are one store write, and the store runs one write at a time
//! across every node, so parallel attempts through several nodes still
//! cannot all slip past. The cost is one write per attempt, small beside
//! the password hash it guards. A row holds no address and no email: it is
//! keyed by an HMAC of the pair under the store's secret key.
//!
//! The rows are bounded: at most [`LoginThrottleConfig::max_tracked`] pairs
//! are kept; a new pair past that makes room by dropping the pairs whose
//! attempts leave the window first (those already expired, then the least
//! recently tried). Expired pairs are removed by [`sweep_login_attempts`],
//! which the engine runs with the session sweep.

mod attempts;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::time::Duration;

use droply_models::Timestamp;

pub use attempts::{LoginAttempts, LoginAttemptsId};

use crate::records::{LAPSE_BATCH, SWEEP_LIMIT, drop_first_lapsing, sweep_lapsed};
use crate::store::{SecretKeyCell, Store, Txn, UniqueName};
use crate::{Error, Result};

/// What the pair hash is for: no hash made for another purpose matches it.
const PAIR_LABEL: &str = "droply sign-in throttle pair v1";

/// The network a client is counted by: its IPv4 address (an IPv4-mapped
/// IPv6 address counts as that), or its IPv6 /64.
pub fn client_network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6((u128::from(v6) & !((1u128 << 64) - 1)).into()),
        },
    }
}

/// How many attempts a (client, email) pair gets, for how long, and how
/// many pairs are remembered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginThrottleConfig {
    /// Failed attempts allowed within the window (at least 1). Default: 5.
    pub max_failures: usize,
    /// How long an attempt counts. Default: 15 minutes.
    pub window: Duration,
    /// Pairs kept at most in the store (at least 1). Default: 100,000.
    pub max_tracked: usize,
}

impl Default for LoginThrottleConfig {
    fn default() -> Self {
        LoginThrottleConfig {
            max_failures: 5,
            window: Duration::from_secs(15 * 60),
            max_tracked: 100_000,
        }
    }
}

/// An attempt counted by [`LoginThrottle::begin`]: hand it back with
/// [`LoginThrottle::succeeded`] or [`LoginThrottle::undo`], or drop it to
/// let it count as a failure.
#[derive(Debug)]
#[must_use = "an attempt counts as a failure unless it is handed back"]
pub struct Attempt {
    /// The pair's keyed hash ([`LoginAttempts::pair_key`]).
    pair: String,
    /// When it began, as recorded in the pair's row.
    at: Timestamp,
}

/// The attempts per (client, email) pair, kept in the store; one per
/// engine, over the engine's store.
#[derive(Debug)]
pub struct LoginThrottle {
    config: LoginThrottleConfig,
    store: Store,
    secret: SecretKeyCell,
}

impl LoginThrottle {
    /// A throttle over the attempts kept in `store`.
    pub fn new(config: LoginThrottleConfig, store: Store) -> Self {
        let config = LoginThrottleConfig {
            max_failures: config.max_failures.max(1),
            max_tracked: config.max_tracked.max(1),
            ..config
        };
        LoginThrottle {
            config,
            store,
            secret: SecretKeyCell::default(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> LoginThrottleConfig {
        self.config
    }

    /// Counts an attempt of `client` on `email` (normalised), or refuses it
    /// with [`Error::TooManyAttempts`] when the pair has used up its
    /// attempts. Checked and counted in one store write.
    pub fn begin(&self, client: Option<IpAddr>, email: &str) -> Result<Attempt> {
        self.begin_at(client, email, Timestamp::now())
    }

    /// A successful sign-in: forgets the pair's attempts. A failure to
    /// write that is logged: the attempts then stay until they expire.
    pub fn succeeded(&self, attempt: Attempt) {
        let forgotten = self.store.write(|txn| {
            if let Some(raw) = txn.lookup_unique(UniqueName::LoginPair, attempt.pair.as_bytes())? {
                txn.delete::<LoginAttempts>(LoginAttemptsId::new(raw))?;
            }
            Ok(())
        });
        if let Err(err) = forgotten {
            tracing::warn!(error = %err, "a successful sign-in's attempts could not be forgotten");
        }
    }

    /// An attempt that never reached the password check (e.g. the server was
    /// too busy to hash): it no longer counts. A failure to write that is
    /// logged: the attempt then counts until it expires.
    pub fn undo(&self, attempt: Attempt) {
        let window = time_delta(self.config.window);
        let undone = self.store.write(|txn| {
            let Some(mut row) = pair_row(txn, &attempt.pair)? else {
                return Ok(());
            };
            let Some(at) = row.attempts.iter().position(|at| *at == attempt.at) else {
                return Ok(());
            };
            row.attempts.remove(at);
            match row.attempts.last().copied() {
                None => {
                    txn.delete::<LoginAttempts>(row.id)?;
                }
                Some(last) => {
                    row.expires_at = last.saturating_add(window);
                    txn.update(row)?;
                }
            }
            Ok(())
        });
        if let Err(err) = undone {
            tracing::warn!(error = %err, "an attempt that was never checked could not be undone");
        }
    }

    /// How many pairs are kept now, by every node sharing the store (0,
    /// logged, when the store cannot say).
    pub fn tracked(&self) -> usize {
        self.store.count::<LoginAttempts>()
    }

    /// [`LoginThrottle::begin`] at `now`.
    pub(crate) fn begin_at(
        &self,
        client: Option<IpAddr>,
        email: &str,
        now: Timestamp,
    ) -> Result<Attempt> {
        let pair = self.pair_key(client, email)?;
        self.make_room_for(&pair)?;
        let window = time_delta(self.config.window);
        let max_failures = self.config.max_failures;
        self.store.write(|txn| {
            let (mut row, new) = match pair_row(txn, &pair)? {
                Some(row) => (row, false),
                None => (
                    LoginAttempts {
                        id: LoginAttemptsId::new(0),
                        pair_key: pair.clone(),
                        attempts: Vec::new(),
                        expires_at: now,
                    },
                    true,
                ),
            };
            row.attempts.retain(|at| at.saturating_add(window) > now);
            if row.attempts.len() >= max_failures {
                // Nodes' clocks may differ a little: the oldest is the least.
                let oldest = row.attempts.iter().min().copied().unwrap_or(now);
                let wait = oldest.saturating_add(window).signed_duration_since(now);
                return Err(Error::TooManyAttempts {
                    retry_after_secs: u64::try_from(wait.num_seconds()).unwrap_or(0).max(1),
                });
            }
            row.attempts.push(now);
            row.attempts.sort_unstable();
            row.expires_at = row
                .attempts
                .last()
                .copied()
                .unwrap_or(now)
                .saturating_add(window);
            if new {
                txn.create(row)?;
            } else {
                txn.update(row)?;
            }
            Ok(())
        })?;
        Ok(Attempt { pair, at: now })
    }

    /// The keyed hash of the pair (`client`'s network, `email`): the
    /// network's address bytes (none when the client is unknown), then the
    /// email, under the store's secret key.
    fn pair_key(&self, client: Option<IpAddr>, email: &str) -> Result<String> {
        let network: Vec<u8> = match client.map(client_network) {
            None => Vec::new(),
            Some(IpAddr::V4(v4)) => v4.octets().to_vec(),
            Some(IpAddr::V6(v6)) => v6.octets().to_vec(),
        };
        self.secret
            .get(&self.store)?
            .keyed_hash(PAIR_LABEL, &[&network, email.as_bytes()])
    }

    /// When the store holds `max_tracked` pairs or more and `pair` is not
    /// one of them, drops those whose attempts leave the window first
    /// (expired ones before any other), at most [`LAPSE_BATCH`] at a time.
    fn make_room_for(&self, pair: &str) -> Result<()> {
        let tracked = self.store.try_count::<LoginAttempts>()?;
        if tracked < self.config.max_tracked
            || self
                .store
                .lookup_unique(UniqueName::LoginPair, pair.as_bytes())?
                .is_some()
        {
            return Ok(());
        }
        let surplus = (tracked + 1 - self.config.max_tracked).min(LAPSE_BATCH);
        let dropped = drop_first_lapsing::<LoginAttempts>(&self.store, surplus)?;
        tracing::debug!(dropped, "the sign-in throttle made room for a new pair");
        Ok(())
    }
}

/// The row of the pair keyed `pair`, as `txn` sees it.
fn pair_row(txn: &Txn<'_>, pair: &str) -> Result<Option<LoginAttempts>> {
    match txn.lookup_unique(UniqueName::LoginPair, pair.as_bytes())? {
        Some(raw) => txn.get::<LoginAttempts>(LoginAttemptsId::new(raw)),
        None => Ok(None),
    }
}

/// `duration` as a time delta (the longest one for an absurd duration).
fn time_delta(duration: Duration) -> chrono::TimeDelta {
    chrono::TimeDelta::from_std(duration).unwrap_or(chrono::TimeDelta::MAX)
}

/// Removes the pairs whose attempts have all left the window at `now`, at
/// most 10,000 a run (the rest go on the next); returns how many.
pub fn sweep_login_attempts(store: &Store, now: Timestamp) -> Result<usize> {
    let swept = sweep_lapsed::<LoginAttempts>(store, now, SWEEP_LIMIT)?;
    if swept > 0 {
        tracing::info!(swept, "expired sign-in attempts swept");
    }
    Ok(swept)
}
