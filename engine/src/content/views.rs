//! Counting views of content, once per viewer per UTC day: a viewer is a
//! signed-in user or, for anonymous callers, a keyed hash of their address
//! (the address itself is never kept). Who was seen today is held in
//! memory, bounded: past the bound, views are not counted rather than
//! counted twice, and a restart forgets the day (a viewer may then count
//! once more). The counter itself is the content row's `views`.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::{Mutex, PoisonError};

use droply_models::{ContentId, Timestamp, UserId};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Who viewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewer {
    /// A signed-in user.
    User(UserId),
    /// An anonymous caller from this address.
    Address(IpAddr),
}

/// The viewers seen today.
#[derive(Debug)]
pub struct ViewCounter {
    key: [u8; 32],
    capacity: usize,
    seen: Mutex<Day>,
}

#[derive(Debug, Default)]
struct Day {
    day: i64,
    seen: HashSet<[u8; 16]>,
}

impl ViewCounter {
    /// Remembers at most `capacity` (content, viewer) pairs a day.
    pub fn new(capacity: usize) -> ViewCounter {
        let mut key = [0u8; 32];
        rand::rng().fill_bytes(&mut key);
        ViewCounter {
            key,
            capacity,
            seen: Mutex::new(Day::default()),
        }
    }

    /// Whether this view of `content` by `viewer` at `now` is the first of
    /// its day (and so counts).
    pub fn first_today(&self, content: ContentId, viewer: Viewer, now: Timestamp) -> bool {
        let day = now.as_micros().div_euclid(86_400_000_000);
        let mut hasher = Sha256::new();
        hasher.update(self.key);
        hasher.update(content.get().to_be_bytes());
        match viewer {
            Viewer::User(user) => {
                hasher.update(b"u");
                hasher.update(user.get().to_be_bytes());
            }
            Viewer::Address(address) => {
                hasher.update(b"a");
                hasher.update(address.to_string().as_bytes());
            }
        }
        let digest = hasher.finalize();
        let mut short = [0u8; 16];
        short.copy_from_slice(&digest[..16]);
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        if seen.day != day {
            seen.day = day;
            seen.seen.clear();
        }
        if seen.seen.len() >= self.capacity {
            return false;
        }
        seen.seen.insert(short)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_viewer_counts_once_a_day() {
        let counter = ViewCounter::new(3);
        let now = Timestamp::parse_rfc3339("2026-11-30T10:00:00Z").expect("time");
        let ann = Viewer::User(UserId::new(1));
        let anon = Viewer::Address("127.0.0.1".parse().expect("ip"));
        let one = ContentId::new(1);
        assert!(counter.first_today(one, ann, now));
        assert!(!counter.first_today(one, ann, now.plus_minutes(60)));
        assert!(counter.first_today(one, anon, now));
        assert!(counter.first_today(ContentId::new(2), ann, now));
        assert!(
            !counter.first_today(ContentId::new(3), ann, now),
            "over the bound: not counted"
        );
        assert!(counter.first_today(one, ann, now.plus_days(1)), "a new day");
    }
}
