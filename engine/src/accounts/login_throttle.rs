//! Slowing down password guessing: after [`LoginThrottle::MAX_FAILURES`]
//! failed sign-ins for one email within [`LoginThrottle::WINDOW`], further
//! attempts are refused until the oldest failure leaves the window. Kept in
//! memory: a restart forgets it, which only ever helps a legitimate user.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::{Error, Result};

/// Failure counts per normalised email; share one per process.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginThrottle {
    /// Failures allowed within the window.
    pub const MAX_FAILURES: usize = 5;
    /// How long a failure counts.
    pub const WINDOW: Duration = Duration::from_secs(15 * 60);

    /// A throttle that remembers nothing yet.
    pub fn new() -> Self {
        LoginThrottle::default()
    }

    /// `TooManyAttempts` when `email` has used up its failures.
    pub fn check(&self, email: &str) -> Result<()> {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let Some(list) = map.get_mut(email) else {
            return Ok(());
        };
        list.retain(|at| now.duration_since(*at) < Self::WINDOW);
        if list.len() >= Self::MAX_FAILURES {
            let oldest = list.iter().min().copied().unwrap_or(now);
            let wait = Self::WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(Error::TooManyAttempts {
                retry_after_secs: wait.as_secs().max(1),
            });
        }
        if list.is_empty() {
            map.remove(email);
        }
        Ok(())
    }

    /// Counts a failed sign-in for `email`.
    pub fn record_failure(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.entry(email.to_owned())
            .or_default()
            .push(Instant::now());
    }

    /// Forgets the failures of `email` after a successful sign-in.
    pub fn reset(&self, email: &str) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        map.remove(email);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_the_email_and_success_resets() {
        let throttle = LoginThrottle::new();
        for _ in 0..LoginThrottle::MAX_FAILURES {
            assert!(throttle.check("a@example.com").is_ok());
            throttle.record_failure("a@example.com");
        }
        assert!(matches!(
            throttle.check("a@example.com"),
            Err(Error::TooManyAttempts { .. })
        ));
        assert!(throttle.check("b@example.com").is_ok());
        throttle.reset("a@example.com");
        assert!(throttle.check("a@example.com").is_ok());
    }
}
