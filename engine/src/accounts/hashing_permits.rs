//! Bounding password hashing. One argon2id hash takes 19 MiB and tens of
//! milliseconds of a core, so sign-ups and sign-ins hash only while holding
//! one of a fixed number of [`HashingPermits`], each owning the memory its
//! hashes run in ([`HashMemory`], allocated on first use and kept). A caller
//! that gets none within a short wait is refused with [`Error::Overloaded`]
//! instead of queuing: a flood of sign-ins can then neither take more than
//! `permits` x 19 MiB nor keep threads waiting for long.

use std::ops::{Deref, DerefMut};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use super::password::HashMemory;
use crate::{Error, Result};

/// How many password hashes may run at once, and how long a caller waits
/// for a turn before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HashingLimits {
    /// Hashes running at once (at least 1). Default: twice the cores.
    pub permits: usize,
    /// The longest wait for a permit before [`Error::Overloaded`]. Default: 1 s.
    pub wait: Duration,
}

impl HashingLimits {
    /// The default number of permits: twice the cores this process may use.
    pub fn default_permits() -> usize {
        std::thread::available_parallelism().map_or(2, |cores| cores.get() * 2)
    }
}

impl Default for HashingLimits {
    fn default() -> Self {
        HashingLimits {
            permits: HashingLimits::default_permits(),
            wait: Duration::from_secs(1),
        }
    }
}

/// A counting semaphore over password hashing, with a bounded wait: the
/// free permits are the hash memories not in use.
#[derive(Debug)]
pub struct HashingPermits {
    limits: HashingLimits,
    free: Mutex<Vec<HashMemory>>,
    freed: Condvar,
}

/// One turn to hash, with the memory to hash in; the permit goes back when
/// this is dropped.
#[derive(Debug)]
pub struct HashingPermit<'a> {
    permits: &'a HashingPermits,
    memory: HashMemory,
}

impl HashingPermits {
    /// Seconds a refused caller is told to wait (`Retry-After`).
    pub const RETRY_AFTER_SECS: u64 = 1;

    /// Permits as `limits` say (at least one).
    pub fn new(limits: HashingLimits) -> Self {
        let limits = HashingLimits {
            permits: limits.permits.max(1),
            ..limits
        };
        HashingPermits {
            free: Mutex::new((0..limits.permits).map(|_| HashMemory::default()).collect()),
            freed: Condvar::new(),
            limits,
        }
    }

    /// The limits in force.
    pub fn limits(&self) -> HashingLimits {
        self.limits
    }

    /// A permit, waiting at most the configured wait; [`Error::Overloaded`]
    /// when none came free in time.
    pub fn acquire(&self) -> Result<HashingPermit<'_>> {
        let deadline = Instant::now() + self.limits.wait;
        let mut free = self.lock();
        loop {
            if let Some(memory) = free.pop() {
                return Ok(HashingPermit {
                    permits: self,
                    memory,
                });
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Overloaded {
                    what: "password hashing",
                    retry_after_secs: Self::RETRY_AFTER_SECS,
                });
            }
            free = self
                .freed
                .wait_timeout(free, left)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    /// Permits free right now.
    pub fn available(&self) -> usize {
        self.lock().len()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<HashMemory>> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Deref for HashingPermit<'_> {
    type Target = HashMemory;

    fn deref(&self) -> &HashMemory {
        &self.memory
    }
}

impl DerefMut for HashingPermit<'_> {
    fn deref_mut(&mut self) -> &mut HashMemory {
        &mut self.memory
    }
}

impl Drop for HashingPermit<'_> {
    fn drop(&mut self) {
        self.permits.lock().push(std::mem::take(&mut self.memory));
        self.permits.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callers_beyond_the_permits_are_refused_after_the_wait() {
        let permits = HashingPermits::new(HashingLimits {
            permits: 2,
            wait: Duration::from_millis(50),
        });
        let first = permits.acquire().expect("first");
        let _second = permits.acquire().expect("second");
        let started = Instant::now();
        assert!(matches!(
            permits.acquire(),
            Err(Error::Overloaded {
                retry_after_secs: 1,
                ..
            })
        ));
        assert!(started.elapsed() >= Duration::from_millis(50));
        drop(first);
        assert_eq!(permits.available(), 1);
        assert!(permits.acquire().is_ok());
    }

    #[test]
    fn a_waiting_caller_gets_the_permit_given_back() {
        let permits = HashingPermits::new(HashingLimits {
            permits: 1,
            wait: Duration::from_secs(5),
        });
        std::thread::scope(|scope| {
            let held = permits.acquire().expect("held");
            let waiter = scope.spawn(|| permits.acquire().map(drop).is_ok());
            std::thread::sleep(Duration::from_millis(20));
            drop(held);
            assert!(waiter.join().expect("waiter"));
        });
        assert_eq!(permits.available(), 1);
    }

    #[test]
    fn zero_permits_mean_one() {
        let permits = HashingPermits::new(HashingLimits {
            permits: 0,
            wait: Duration::ZERO,
        });
        assert_eq!(permits.limits().permits, 1);
        assert!(permits.acquire().is_ok());
    }
}
