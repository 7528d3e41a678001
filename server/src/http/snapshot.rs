//! A reading that costs store work and may be a little old: `/ready`'s probe
//! and the `/metrics` gauges. A [`Snapshot`] reads at most once per interval,
//! whatever the number of callers: the first caller to find the last reading
//! older than the interval reads again, and every other caller meanwhile is
//! answered the last reading at once (only the very first reading is waited
//! for). So a burst of unauthenticated probes or scrapes costs one store read
//! per interval, never one per request. A reading answered is at most the
//! interval (plus the read itself) old, or up to three intervals while
//! another caller's reading is under way; past that, callers wait for it.

use std::sync::{Mutex, MutexGuard, TryLockError};
use std::time::{Duration, Instant};

/// How long `/ready`'s answer and the `/metrics` gauges are reused.
pub(crate) const SNAPSHOT_EVERY: Duration = Duration::from_secs(1);

/// How many intervals old a reading may be and still be answered while
/// another caller's reading is under way.
const STALE_AFTER: u32 = 3;

/// A value read at most once per interval; see the module docs.
pub(crate) struct Snapshot<T> {
    every: Duration,
    /// The last reading and when it started.
    last: Mutex<Option<(Instant, T)>>,
    /// Held by the one caller reading now.
    reading: Mutex<()>,
}

impl<T> std::fmt::Debug for Snapshot<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Snapshot")
            .field("every", &self.every)
            .finish_non_exhaustive()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl<T: Clone> Snapshot<T> {
    /// A snapshot read again once its reading is older than `every`.
    pub(crate) fn new(every: Duration) -> Self {
        Snapshot {
            every,
            last: Mutex::new(None),
            reading: Mutex::new(()),
        }
    }

    /// The last reading if it is younger than the interval. Never waits on a
    /// reading in progress, so an async handler may call it.
    pub(crate) fn fresh(&self) -> Option<T> {
        match &*lock(&self.last) {
            Some((at, value)) if at.elapsed() < self.every => Some(value.clone()),
            _ => None,
        }
    }

    /// The last reading while it is younger than [`STALE_AFTER`] intervals.
    fn latest(&self) -> Option<T> {
        match &*lock(&self.last) {
            Some((at, value)) if at.elapsed() < self.every * STALE_AFTER => Some(value.clone()),
            _ => None,
        }
    }

    /// The value: the last reading while it is younger than the interval;
    /// else `read()` run by this caller, unless another caller is reading
    /// already, when this one is answered the last reading while that is
    /// younger than [`STALE_AFTER`] intervals, and otherwise waits for the
    /// reading under way (before the first reading too). So a reading that
    /// hangs (a store that stopped answering) is not hidden behind an old
    /// "ready" for long: past that age, callers wait as the reader does, and
    /// a probe's own timeout reports it. `read` may block.
    pub(crate) fn get(&self, read: impl FnOnce() -> T) -> T {
        if let Some(value) = self.fresh() {
            return value;
        }
        let _reading = match self.reading.try_lock() {
            Ok(guard) => guard,
            Err(TryLockError::Poisoned(poisoned)) => poisoned.into_inner(),
            Err(TryLockError::WouldBlock) => {
                if let Some(value) = self.latest() {
                    return value;
                }
                lock(&self.reading)
            }
        };
        // Another caller may have read while this one waited for the lock.
        if let Some(value) = self.fresh() {
            return value;
        }
        let started = Instant::now();
        let value = read();
        *lock(&self.last) = Some((started, value.clone()));
        value
    }

    /// Forgets the last reading, so the next call reads (e.g. once what is
    /// read has changed).
    pub(crate) fn clear(&self) {
        *lock(&self.last) = None;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier, mpsc};

    use super::*;

    #[test]
    fn a_burst_of_ready_probes_reads_the_store_once_per_interval() {
        let snapshot = Arc::new(Snapshot::new(Duration::from_secs(60)));
        let reads = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(16));
        let callers: Vec<_> = (0..16)
            .map(|_| {
                let (snapshot, reads, start) = (
                    Arc::clone(&snapshot),
                    Arc::clone(&reads),
                    Arc::clone(&start),
                );
                std::thread::spawn(move || {
                    start.wait();
                    snapshot.get(|| {
                        std::thread::sleep(Duration::from_millis(20));
                        reads.fetch_add(1, Ordering::SeqCst) + 1
                    })
                })
            })
            .collect();
        for caller in callers {
            assert_eq!(
                caller.join().expect("caller"),
                1,
                "every caller saw the one reading"
            );
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_reading_older_than_the_interval_is_read_again() {
        let snapshot = Snapshot::new(Duration::from_millis(20));
        assert_eq!(snapshot.get(|| "ready"), "ready");
        assert_eq!(snapshot.get(|| "unwritable"), "ready", "still fresh");
        std::thread::sleep(Duration::from_millis(30));
        assert!(snapshot.fresh().is_none());
        assert_eq!(snapshot.get(|| "unwritable"), "unwritable");
        snapshot.clear();
        assert_eq!(snapshot.get(|| "ready again"), "ready again");
    }

    #[test]
    fn callers_do_not_wait_for_a_slow_reading_once_there_is_one() {
        // Older than the interval, younger than three.
        let snapshot = Arc::new(Snapshot::new(Duration::from_millis(200)));
        assert_eq!(snapshot.get(|| 1), 1);
        std::thread::sleep(Duration::from_millis(250));
        let (entered, in_read) = mpsc::channel();
        let (release, may_finish) = mpsc::channel::<()>();
        let slow = {
            let snapshot = Arc::clone(&snapshot);
            std::thread::spawn(move || {
                snapshot.get(|| {
                    entered.send(()).expect("send");
                    may_finish.recv().expect("released");
                    2
                })
            })
        };
        in_read.recv().expect("the slow reading started");
        // The reading in progress holds the lock: this caller is answered
        // the last reading without reading (its closure would say 3).
        assert_eq!(snapshot.get(|| 3), 1);
        release.send(()).expect("release");
        assert_eq!(slow.join().expect("slow"), 2);
    }

    /// Regression (found by the review): while a reading hung (a store
    /// that stopped answering), every probe was answered the last "ready"
    /// however old, so the load balancer never saw the node go.
    #[test]
    fn a_reading_that_hangs_is_not_hidden_behind_an_old_answer_for_long() {
        let snapshot = Arc::new(Snapshot::new(Duration::from_millis(20)));
        assert_eq!(snapshot.get(|| 1), 1);
        std::thread::sleep(Duration::from_millis(25));
        let (entered, in_read) = mpsc::channel();
        let (release, may_finish) = mpsc::channel::<()>();
        let hung = {
            let snapshot = Arc::clone(&snapshot);
            std::thread::spawn(move || {
                snapshot.get(|| {
                    entered.send(()).expect("send");
                    may_finish.recv().expect("released");
                    2
                })
            })
        };
        in_read.recv().expect("the reading started");
        // Past three intervals, a caller waits for the reading under way.
        std::thread::sleep(Duration::from_millis(80));
        let (answered, answer) = mpsc::channel();
        let probe = {
            let snapshot = Arc::clone(&snapshot);
            std::thread::spawn(move || answered.send(snapshot.get(|| 3)).expect("send"))
        };
        assert!(
            answer.recv_timeout(Duration::from_millis(200)).is_err(),
            "a probe was answered the old reading while the store hung"
        );
        release.send(()).expect("release");
        assert_eq!(hung.join().expect("reader"), 2);
        // Then it is answered a new reading (the hung one's, or its own, as
        // the hung one started more than an interval ago), never the old.
        let answered = answer.recv().expect("answered");
        assert!(answered == 2 || answered == 3, "{answered}");
        probe.join().expect("probe");
    }
}
