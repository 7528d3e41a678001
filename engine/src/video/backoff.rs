//! The retry schedule of room creation: exponential backoff from a first
//! delay, doubled after each failed attempt up to a ceiling, and a number
//! of attempts after which the room is given up (the meeting then uses the
//! WebRTC fallback). Deterministic, so the schedule written on a room's row
//! is the one a person can predict.

use std::time::Duration;

/// When a failed call is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait after the first failure.
    pub first_delay: Duration,
    /// The longest wait between two attempts.
    pub max_delay: Duration,
    /// Attempts in all (the first included) before giving up.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(30 * 60),
            max_attempts: 10,
        }
    }
}

impl RetryPolicy {
    /// The wait after `failed` attempts have failed (1 for the first
    /// failure): `first_delay * 2^(failed - 1)`, at most `max_delay`; `None`
    /// once `failed` reaches `max_attempts` (give up).
    pub fn delay_after(&self, failed: u32) -> Option<Duration> {
        if failed >= self.max_attempts {
            return None;
        }
        let doublings = failed.saturating_sub(1).min(31);
        let delay = self
            .first_delay
            .checked_mul(1u32 << doublings)
            .unwrap_or(self.max_delay);
        Some(delay.min(self.max_delay))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            first_delay: Duration::from_secs(30),
            max_delay: Duration::from_secs(300),
            max_attempts: 6,
        }
    }

    #[test]
    fn the_delay_doubles_from_the_first_then_stays_at_the_ceiling() {
        let delays: Vec<Option<u64>> = (1..=6)
            .map(|failed| policy().delay_after(failed).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            delays,
            [Some(30), Some(60), Some(120), Some(240), Some(300), None]
        );
    }

    #[test]
    fn it_gives_up_after_the_last_attempt_and_never_overflows() {
        let policy = RetryPolicy {
            max_attempts: u32::MAX,
            ..policy()
        };
        assert_eq!(policy.delay_after(200), Some(Duration::from_secs(300)));
        assert_eq!(policy.delay_after(u32::MAX), None);
        let once = RetryPolicy {
            max_attempts: 1,
            ..policy
        };
        assert_eq!(once.delay_after(1), None);
    }
}
