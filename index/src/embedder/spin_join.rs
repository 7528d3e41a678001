//! [`join`]: two closures run at once, the second on a helper thread that stays awake for
//! [`SPIN`] after each job (yielding to any other thread that is ready), and only then
//! parks.
//!
//! A query's forward pass splits each of its some 30 few-row matmuls between two threads,
//! each half a few tens of microseconds of work. Rayon's idle worker goes to sleep between
//! them, and on a virtual machine the idle vCPU halts: waking it takes about as long as
//! the half it was woken for, so the caller usually ran both halves itself (measured on an
//! 8-token query: two threads were 1.17x one). The helper here stays awake for the length
//! of a query, so only the first join of a query wakes it.
//!
//! The caller never waits for a helper that is not there: when the helper is busy with
//! another caller's job, or has not started this one by the time the caller has finished
//! its own half, the caller runs the second half itself.
#![allow(unsafe_code)]

use std::any::Any;
use std::cell::UnsafeCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

/// How long the helper waits for a next job, yielding its core to any other thread that
/// is ready to run, before it parks.
const SPIN: Duration = Duration::from_micros(500);

/// The job slot is empty: a caller may claim it.
const IDLE: u8 = 0;
/// A caller owns the slot: it is writing a job, or taking one back.
const CLAIMED: u8 = 1;
/// A job waits in the slot.
const POSTED: u8 = 2;
/// The helper runs the job.
const RUNNING: u8 = 3;
/// The helper has finished the job; its caller empties the slot.
const DONE: u8 = 4;

/// `(a(), b())`, `b` on the helper thread when it is free (see the module docs). A panic
/// in either is resumed here, after both have stopped.
pub(crate) fn join<RA, RB: Send>(
    a: impl FnOnce() -> RA,
    b: impl FnOnce() -> RB + Send,
) -> (RA, RB) {
    let Some(helper) = Helper::get() else {
        return (a(), b());
    };
    if helper
        .state
        .compare_exchange(IDLE, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
        .is_err()
    {
        return (a(), b());
    }
    let mut b = Some(b);
    let mut out: Option<Result<RB, Box<dyn Any + Send>>> = None;
    let mut task = || {
        if let Some(b) = b.take() {
            out = Some(catch_unwind(AssertUnwindSafe(b)));
        }
    };
    let erased: *mut (dyn FnMut() + Send + '_) = &mut task;
    // SAFETY: only the lifetime changes. The pointer is used only while the job is in the
    // slot, and `Posted` (whose drop runs on return and on unwinding alike) does not let
    // this frame end before the job has been taken back or has finished.
    let erased: *mut (dyn FnMut() + Send + 'static) = unsafe { std::mem::transmute(erased) };
    // SAFETY: this thread owns the slot (state CLAIMED).
    unsafe { *helper.job.get() = Some(Job(erased)) };
    helper.state.store(POSTED, Ordering::SeqCst);
    if helper.parked.load(Ordering::SeqCst) {
        helper.thread.unpark();
    }
    let mut posted = Posted {
        helper,
        settled: false,
    };
    let ra = a();
    if posted.settle() {
        task();
    }
    match out {
        Some(Ok(rb)) => (ra, rb),
        Some(Err(panic)) => resume_unwind(panic),
        None => unreachable!("the second closure ran, here or on the helper"),
    }
}

/// The helper thread and its one-job slot.
struct Helper {
    state: AtomicU8,
    /// Written only by the caller that holds the slot (CLAIMED), read only by the helper
    /// after it took a posted job (RUNNING).
    job: UnsafeCell<Option<Job>>,
    /// Whether the helper is parked, or about to park.
    parked: AtomicBool,
    thread: Thread,
}

/// A posted closure, its lifetime erased (see [`join`]).
struct Job(*mut (dyn FnMut() + Send));

// SAFETY: the slot is only touched under the state protocol above, and the job's closure
// is `Send`.
unsafe impl Sync for Helper {}
// SAFETY: as above: the closure behind the pointer is `Send`.
unsafe impl Send for Job {}

impl Helper {
    /// The helper, started on first use; `None` on a single CPU, or if no thread could be
    /// started.
    fn get() -> Option<&'static Helper> {
        static HELPER: OnceLock<Option<Helper>> = OnceLock::new();
        HELPER
            .get_or_init(|| {
                let cpus = thread::available_parallelism().map_or(1, usize::from);
                if cpus < 2 {
                    return None;
                }
                let handle = thread::Builder::new()
                    .name("droply-matmul-helper".to_owned())
                    .spawn(|| {
                        if let Some(helper) = HELPER.wait() {
                            helper.serve();
                        }
                    })
                    .ok()?;
                Some(Helper {
                    state: AtomicU8::new(IDLE),
                    job: UnsafeCell::new(None),
                    parked: AtomicBool::new(false),
                    thread: handle.thread().clone(),
                })
            })
            .as_ref()
    }

    /// The helper's loop: runs posted jobs, stays awake for [`SPIN`] after each, then parks.
    fn serve(&self) {
        let mut since = Instant::now();
        loop {
            if self.state.load(Ordering::Relaxed) == POSTED
                && self
                    .state
                    .compare_exchange(POSTED, RUNNING, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                // SAFETY: the helper owns the slot (state RUNNING).
                if let Some(Job(task)) = unsafe { (*self.job.get()).take() } {
                    // SAFETY: the caller that posted the job waits for DONE before its
                    // frame, which holds the closure, ends (see `join`).
                    unsafe { (*task)() };
                }
                self.state.store(DONE, Ordering::Release);
                since = Instant::now();
            } else if since.elapsed() < SPIN {
                // Yielding keeps this core awake, yet gives it up to any other thread
                // that is ready to run: the wait only takes time nobody else wants.
                thread::yield_now();
            } else {
                self.parked.store(true, Ordering::SeqCst);
                if self.state.load(Ordering::SeqCst) != POSTED {
                    thread::park();
                }
                self.parked.store(false, Ordering::SeqCst);
                since = Instant::now();
            }
        }
    }
}

/// A posted job: before its caller's frame ends, the job is either taken back (never
/// started) or finished, and the slot is emptied ([`Posted::settle`], run by the drop if
/// not before, on unwinding too).
struct Posted {
    helper: &'static Helper,
    settled: bool,
}

impl Posted {
    /// Takes the job back if the helper has not started it (then the caller must run it:
    /// `true`), else waits for the helper to finish it; either way empties the slot.
    fn settle(&mut self) -> bool {
        self.settled = true;
        let state = &self.helper.state;
        let taken = state
            .compare_exchange(POSTED, CLAIMED, Ordering::Acquire, Ordering::Relaxed)
            .is_ok();
        if taken {
            // SAFETY: this thread owns the slot again (state CLAIMED).
            unsafe { *self.helper.job.get() = None };
        } else {
            let mut spins = 0u32;
            while state.load(Ordering::Acquire) != DONE {
                spins += 1;
                if spins < 1 << 16 {
                    std::hint::spin_loop();
                } else {
                    thread::yield_now();
                }
            }
        }
        state.store(IDLE, Ordering::Release);
        taken
    }
}

impl Drop for Posted {
    fn drop(&mut self) {
        if !self.settled {
            self.settle();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_halves_run_once_and_return_their_values() {
        for n in 0..2000u64 {
            let (mut left, mut right) = (0, 0);
            let (a, b) = join(
                || {
                    left += 1;
                    n * 2
                },
                || {
                    right += 1;
                    n * 3
                },
            );
            assert_eq!((a, b, left, right), (n * 2, n * 3, 1, 1));
        }
    }

    #[test]
    fn the_second_half_runs_on_the_helper_while_the_caller_runs_the_first() {
        let caller = thread::current().id();
        let busy = || {
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(2) {
                std::hint::spin_loop();
            }
        };
        let on_helper = (0..50)
            .filter(|_| join(busy, || thread::current().id()).1 != caller)
            .count();
        if Helper::get().is_some() {
            // Another test's join may hold the helper now and then, not 50 times running.
            assert!(on_helper > 0, "the helper never took the second half");
        } else {
            assert_eq!(on_helper, 0, "one CPU: both halves run on the caller");
        }
    }

    #[test]
    fn concurrent_callers_each_get_their_own_results() {
        thread::scope(|scope| {
            for t in 0..4u64 {
                scope.spawn(move || {
                    for n in 0..500u64 {
                        let data: Vec<u64> = (0..64).map(|i| i * t + n).collect();
                        let (left, right) = data.split_at(32);
                        let (a, b) =
                            join(|| left.iter().sum::<u64>(), || right.iter().sum::<u64>());
                        assert_eq!(a + b, data.iter().sum::<u64>());
                    }
                });
            }
        });
    }

    #[test]
    fn a_panic_in_either_half_reaches_the_caller_and_the_helper_survives() {
        let second = catch_unwind(|| join(|| 1, || -> u32 { panic!("second half") }));
        assert!(second.is_err());
        let first = catch_unwind(|| join(|| -> u32 { panic!("first half") }, || 2));
        assert!(first.is_err());
        assert_eq!(join(|| 3, || 4), (3, 4), "joins work after the panics");
    }
}
