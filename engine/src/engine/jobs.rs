//! The engine's background jobs: threads that run a task every so often
//! until the engine shuts down: one deletes expired sign-in sessions, one
//! cancels bookings whose unpaid hold lapsed; a failed run is logged and
//! retried at the next tick. A job over the whole store runs only on the
//! node that leads the jobs ([`Store::leads_jobs`]) when several share one.

use std::sync::{Arc, Condvar, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::{Result, Store};

/// A running periodic job; [`Job::stop`] wakes and joins it.
#[derive(Debug)]
pub(crate) struct Job {
    stop: Arc<(Mutex<bool>, Condvar)>,
    thread: Option<JoinHandle<()>>,
    /// Whether it is a job over the whole store ([`Job::store_wide`]).
    store_wide: bool,
}

impl Job {
    /// Runs `task` now and then every `every` on a thread named `name`.
    pub(crate) fn every(
        name: &str,
        every: Duration,
        task: impl Fn() -> Result<()> + Send + 'static,
    ) -> Result<Job> {
        let stop = Arc::new((Mutex::new(false), Condvar::new()));
        let flag = Arc::clone(&stop);
        let job_name = name.to_owned();
        let thread = std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                let (stopped, wake) = &*flag;
                loop {
                    if let Err(err) = task() {
                        tracing::warn!(job = %job_name, %err, "background job failed");
                    }
                    let guard = stopped.lock().unwrap_or_else(PoisonError::into_inner);
                    let (guard, _) = wake
                        .wait_timeout_while(guard, every, |stopped| !*stopped)
                        .unwrap_or_else(PoisonError::into_inner);
                    if *guard {
                        return;
                    }
                }
            })?;
        Ok(Job {
            stop,
            thread: Some(thread),
            store_wide: false,
        })
    }

    /// [`Job::every`] for a job over the whole `store`: each run first asks
    /// whether this node leads the store's jobs, and is skipped when
    /// another node does.
    pub(crate) fn store_wide(
        name: &str,
        every: Duration,
        store: &Store,
        task: impl Fn(&Store) -> Result<()> + Send + 'static,
    ) -> Result<Job> {
        let store = store.clone();
        let mut job = Job::every(name, every, move || {
            if store.leads_jobs()? {
                task(&store)
            } else {
                Ok(())
            }
        })?;
        job.store_wide = true;
        Ok(job)
    }

    /// Whether it is a job over the whole store.
    pub(crate) fn is_store_wide(&self) -> bool {
        self.store_wide
    }

    /// Stops the job and waits for its thread.
    pub(crate) fn stop(&mut self) {
        let (stopped, wake) = &*self.stop;
        *stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        wake.notify_all();
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::warn!("a background job panicked");
        }
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.stop();
    }
}
