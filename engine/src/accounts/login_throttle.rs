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
//! Memory is bounded: at most [`LoginThrottleConfig::max_tracked`] pairs are
//! remembered; when a new pair would pass that, expired pairs are dropped,
//! then the least recently tried half. Kept in memory only: a restart
//! forgets everything, which only ever helps a legitimate user.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use crate::{Error, Result};

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
    /// Pairs remembered at most (at least 1). Default: 100,000.
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

/// Who is trying which account: the client's address (`None` when the
/// caller does not know it) and the normalised email.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct PairKey {
    client: Option<IpAddr>,
    email: String,
}

/// An attempt counted by [`LoginThrottle::begin`]: hand it back with
/// [`LoginThrottle::succeeded`] or [`LoginThrottle::undo`], or drop it to
/// let it count as a failure.
#[derive(Debug)]
#[must_use = "an attempt counts as a failure unless it is handed back"]
pub struct Attempt {
    key: PairKey,
    at: Instant,
}

/// The attempts per (client, email) pair; share one per process.
#[derive(Debug)]
pub struct LoginThrottle {
    config: LoginThrottleConfig,
    /// Each pair's attempts within the window, oldest first (never more
    /// than `max_failures`).
    pairs: Mutex<HashMap<PairKey, Vec<Instant>>>,
}

impl Default for LoginThrottle {
    fn default() -> Self {
        LoginThrottle::new(LoginThrottleConfig::default())
    }
}

impl LoginThrottle {
    /// A throttle that remembers nothing yet.
    pub fn new(config: LoginThrottleConfig) -> Self {
        let config = LoginThrottleConfig {
            max_failures: config.max_failures.max(1),
            max_tracked: config.max_tracked.max(1),
            ..config
        };
        LoginThrottle {
            config,
            pairs: Mutex::new(HashMap::new()),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> LoginThrottleConfig {
        self.config
    }

    /// Counts an attempt of `client` on `email` (normalised), or refuses it
    /// with [`Error::TooManyAttempts`] when the pair has used up its attempts.
    pub fn begin(&self, client: Option<IpAddr>, email: &str) -> Result<Attempt> {
        self.begin_at(client, email, Instant::now())
    }

    /// A successful sign-in: forgets the pair's attempts.
    pub fn succeeded(&self, attempt: Attempt) {
        self.lock().remove(&attempt.key);
    }

    /// An attempt that never reached the password check (e.g. the server was
    /// too busy to hash): it no longer counts.
    pub fn undo(&self, attempt: Attempt) {
        let mut pairs = self.lock();
        if let Some(list) = pairs.get_mut(&attempt.key) {
            if let Some(at) = list.iter().position(|at| *at == attempt.at) {
                list.remove(at);
            }
            if list.is_empty() {
                pairs.remove(&attempt.key);
            }
        }
    }

    /// How many pairs are remembered now.
    pub fn tracked(&self) -> usize {
        self.lock().len()
    }

    fn begin_at(&self, client: Option<IpAddr>, email: &str, now: Instant) -> Result<Attempt> {
        let key = PairKey {
            client: client.map(client_network),
            email: email.to_owned(),
        };
        let window = self.config.window;
        let mut pairs = self.lock();
        if let Some(list) = pairs.get_mut(&key) {
            list.retain(|at| now.saturating_duration_since(*at) < window);
            if list.len() >= self.config.max_failures {
                let oldest = list.first().copied().unwrap_or(now);
                let wait = window.saturating_sub(now.saturating_duration_since(oldest));
                return Err(Error::TooManyAttempts {
                    retry_after_secs: wait.as_secs().max(1),
                });
            }
        } else if pairs.len() >= self.config.max_tracked {
            make_room(&mut pairs, now, window, self.config.max_tracked);
        }
        pairs.entry(key.clone()).or_default().push(now);
        Ok(Attempt { key, at: now })
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<PairKey, Vec<Instant>>> {
        self.pairs.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// Drops the pairs whose attempts all left the window; if that leaves
/// `max_tracked` or more, drops the least recently tried half as well.
fn make_room(
    pairs: &mut HashMap<PairKey, Vec<Instant>>,
    now: Instant,
    window: Duration,
    max_tracked: usize,
) {
    pairs.retain(|_, list| {
        list.last()
            .is_some_and(|at| now.saturating_duration_since(*at) < window)
    });
    if pairs.len() < max_tracked {
        return;
    }
    let mut latest: Vec<Instant> = pairs
        .values()
        .filter_map(|list| list.last().copied())
        .collect();
    let middle = latest.len() / 2;
    let (_, cut, _) = latest.select_nth_unstable(middle);
    let cut = *cut;
    pairs.retain(|_, list| list.last().is_some_and(|at| *at > cut));
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1)));
    const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(198, 51, 100, 7)));

    fn throttle(max_tracked: usize) -> LoginThrottle {
        LoginThrottle::new(LoginThrottleConfig {
            max_tracked,
            ..LoginThrottleConfig::default()
        })
    }

    #[test]
    fn five_attempts_lock_the_pair_and_success_resets() {
        let throttle = throttle(100);
        for _ in 0..5 {
            drop(throttle.begin(HOME, "a@example.com").expect("counted"));
        }
        assert!(matches!(
            throttle.begin(HOME, "a@example.com"),
            Err(Error::TooManyAttempts { .. })
        ));
        assert!(throttle.begin(HOME, "b@example.com").is_ok());
        let from_elsewhere = throttle
            .begin(ELSEWHERE, "a@example.com")
            .expect("other pair");
        throttle.succeeded(from_elsewhere);
        assert!(matches!(
            throttle.begin(HOME, "a@example.com"),
            Err(Error::TooManyAttempts { .. })
        ));
    }

    /// Regression: the lockout was keyed by the whole IPv6 address, so a host
    /// holding a /64 got five fresh attempts from each of its addresses.
    #[test]
    fn the_addresses_of_one_ipv6_64_share_their_attempts() {
        let throttle = throttle(100);
        for host in 1..=5u16 {
            let address = IpAddr::from([0x2001, 0xdb8, 1, 2, 0, 0, 0, host]);
            drop(
                throttle
                    .begin(Some(address), "a@example.com")
                    .expect("counted"),
            );
        }
        let next = IpAddr::from([0x2001, 0xdb8, 1, 2, 0xffff, 0, 0, 6]);
        assert!(matches!(
            throttle.begin(Some(next), "a@example.com"),
            Err(Error::TooManyAttempts { .. })
        ));
        let other_network = IpAddr::from([0x2001, 0xdb8, 1, 3, 0, 0, 0, 1]);
        assert!(throttle.begin(Some(other_network), "a@example.com").is_ok());
    }

    #[test]
    fn attempts_count_before_the_password_is_checked() {
        let throttle = throttle(100);
        // Five attempts in flight at once, none finished: the sixth is refused.
        let in_flight: Vec<Attempt> = (0..5)
            .map(|_| throttle.begin(HOME, "a@example.com").expect("counted"))
            .collect();
        assert!(throttle.begin(HOME, "a@example.com").is_err());
        // One that never got to the check is handed back and no longer counts.
        let mut in_flight = in_flight.into_iter();
        throttle.undo(in_flight.next().expect("one"));
        assert!(throttle.begin(HOME, "a@example.com").is_ok());
    }

    #[test]
    fn attempts_leave_the_window() {
        let throttle = throttle(100);
        let start = Instant::now();
        for _ in 0..5 {
            drop(
                throttle
                    .begin_at(HOME, "a@example.com", start)
                    .expect("counted"),
            );
        }
        let err = throttle
            .begin_at(HOME, "a@example.com", start + Duration::from_secs(60))
            .expect_err("locked");
        assert!(
            matches!(err, Error::TooManyAttempts { retry_after_secs } if retry_after_secs == 14 * 60)
        );
        let later = start + LoginThrottleConfig::default().window;
        assert!(throttle.begin_at(HOME, "a@example.com", later).is_ok());
    }

    #[test]
    fn the_login_throttle_forgets_old_entries() {
        let throttle = throttle(10);
        let start = Instant::now();
        let window = LoginThrottleConfig::default().window;
        for n in 0..10 {
            let email = format!("old{n}@example.com");
            drop(throttle.begin_at(HOME, &email, start).expect("counted"));
        }
        assert_eq!(throttle.tracked(), 10);
        // Once their attempts left the window, a new pair makes them go.
        let later = start + window;
        drop(
            throttle
                .begin_at(HOME, "new@example.com", later)
                .expect("counted"),
        );
        assert_eq!(throttle.tracked(), 1);
        // When every pair is recent, the least recently tried half goes.
        for n in 0..9 {
            let at = later + Duration::from_secs(n + 1);
            drop(
                throttle
                    .begin_at(HOME, &format!("recent{n}@example.com"), at)
                    .expect("counted"),
            );
        }
        assert_eq!(throttle.tracked(), 10);
        let now = later + Duration::from_secs(20);
        drop(
            throttle
                .begin_at(HOME, "newest@example.com", now)
                .expect("counted"),
        );
        assert!(throttle.tracked() <= 6, "{}", throttle.tracked());
        let mut pairs = throttle.lock();
        assert!(pairs.contains_key(&PairKey {
            client: HOME,
            email: "newest@example.com".to_owned()
        }));
        assert!(!pairs.contains_key(&PairKey {
            client: HOME,
            email: "new@example.com".to_owned()
        }));
        pairs.clear();
    }
}
