//! Requests the Stripe fakes hold for a test: a [`Release`] that the held
//! requests wait on until the test releases them, and [`wait_for_count`],
//! with which the test waits until the server holds enough of them.

use std::sync::{Condvar, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::watch;

/// Releases held requests: each [`release`](Self::release) lets every
/// request held before it be answered.
#[derive(Debug)]
pub(super) struct Release(watch::Sender<u64>);

impl Release {
    /// A release that no request waits on yet.
    pub(super) fn new() -> Release {
        let (generation, _) = watch::channel(0);
        Release(generation)
    }

    /// Lets every request held so far be answered.
    pub(super) fn release(&self) {
        self.0.send_modify(|generation| *generation += 1);
    }

    /// The hold of a request held now: it ends at the next
    /// [`release`](Self::release).
    pub(super) fn hold(&self) -> Hold {
        let released = self.0.subscribe();
        let generation = *released.borrow();
        Hold {
            released,
            generation,
        }
    }
}

/// One held request's wait for the next [`Release::release`].
#[derive(Debug)]
pub(super) struct Hold {
    released: watch::Receiver<u64>,
    /// The generation it was held in.
    generation: u64,
}

impl Hold {
    /// Returns once the request is released, or once the fake is dropped.
    pub(super) async fn released(mut self) {
        let generation = self.generation;
        // Err only if the sender is gone, i.e. the fake is being dropped.
        let _ = self.released.wait_for(|g| *g != generation).await;
    }
}

/// Waits on `changed`, notified whenever a count under `state`'s lock
/// grows, until `count` of the state is at least `n`, at most `timeout`;
/// whether it was.
pub(super) fn wait_for_count<S>(
    mut state: MutexGuard<'_, S>,
    changed: &Condvar,
    n: usize,
    timeout: Duration,
    count: impl Fn(&S) -> usize,
) -> bool {
    let deadline = Instant::now() + timeout;
    while count(&*state) < n {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        state = changed
            .wait_timeout(state, left)
            .unwrap_or_else(PoisonError::into_inner)
            .0;
    }
    true
}
