//! Micro-batching of concurrent query embeddings.
//!
//! One query is a handful of tokens, and a forward pass over so few rows streams every
//! weight of the model through the cache for little arithmetic. When many searches arrive
//! at once, their queries are better run as one packed batch: one matmul over all their
//! tokens does the same arithmetic at a far higher rate. [`QueryBatcher`] does that
//! without a thread of its own and without adding latency: a caller queues its input,
//! and if no batch is running it runs one itself with everything queued (its own input
//! included); otherwise it waits, and the inputs queued meanwhile go in the next batch,
//! run by whichever waiting caller takes the lead when the running one ends. A lone
//! query runs at once, alone, as before.

use std::collections::HashMap;
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Inputs run together at most; the rest wait for the next batch.
pub(crate) const MAX_BATCH: usize = 64;

/// Runs concurrent callers' inputs in shared batches; see the module docs.
#[derive(Debug)]
pub(crate) struct QueryBatcher<In, Out> {
    state: Mutex<State<In, Out>>,
    finished: Condvar,
}

#[derive(Debug)]
struct State<In, Out> {
    next_ticket: u64,
    queued: Vec<(u64, In)>,
    /// Finished inputs by ticket: `None` when their batch failed.
    done: HashMap<u64, Option<Out>>,
    /// Whether some caller is running a batch now.
    leading: bool,
}

impl<In, Out> QueryBatcher<In, Out> {
    pub(crate) fn new() -> Self {
        QueryBatcher {
            state: Mutex::new(State {
                next_ticket: 0,
                queued: Vec::new(),
                done: HashMap::new(),
                leading: false,
            }),
            finished: Condvar::new(),
        }
    }

    /// `input`'s output, computed by `run` in a batch with other callers' inputs.
    /// `run` gets inputs in queue order and returns one output per input, in that order,
    /// or `None` when the batch failed; then this returns `None`, and the caller runs
    /// its input alone to learn its own error.
    pub(crate) fn run(&self, input: In, run: impl Fn(&[In]) -> Option<Vec<Out>>) -> Option<Out> {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queued.push((ticket, input));
        loop {
            if let Some(out) = state.done.remove(&ticket) {
                return out;
            }
            if state.leading {
                state = self
                    .finished
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
                continue;
            }
            state.leading = true;
            let take = state.queued.len().min(MAX_BATCH);
            let (tickets, inputs): (Vec<u64>, Vec<In>) = state.queued.drain(..take).unzip();
            drop(state);
            // Whatever happens in `run`, even a panic, the lead ends with an answer for
            // every ticket in the batch and the waiters woken: no caller waits for a
            // batch that will never end.
            let mut lead = Lead {
                batcher: self,
                leader: ticket,
                tickets,
                outputs: None,
            };
            lead.outputs = run(&inputs).filter(|outputs| outputs.len() == lead.tickets.len());
            drop(lead);
            state = self.lock();
        }
    }

    fn lock(&self) -> MutexGuard<'_, State<In, Out>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The running batch's lead: dropping it hands each ticket its output (or `None` when
/// the batch failed or panicked), ends the batch and wakes the waiters.
struct Lead<'b, In, Out> {
    batcher: &'b QueryBatcher<In, Out>,
    /// The leading caller's own ticket: nobody collects it when the lead panics.
    leader: u64,
    tickets: Vec<u64>,
    outputs: Option<Vec<Out>>,
}

impl<In, Out> Drop for Lead<'_, In, Out> {
    fn drop(&mut self) {
        let mut state = self.batcher.lock();
        state.leading = false;
        let tickets = std::mem::take(&mut self.tickets);
        match self.outputs.take() {
            Some(outputs) => state
                .done
                .extend(tickets.into_iter().zip(outputs.into_iter().map(Some))),
            None => state
                .done
                .extend(tickets.into_iter().map(|ticket| (ticket, None))),
        }
        if std::thread::panicking() {
            state.done.remove(&self.leader);
        }
        drop(state);
        self.batcher.finished.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn a_lone_input_runs_at_once_in_a_batch_of_one() {
        let batcher = QueryBatcher::new();
        let sizes = Mutex::new(Vec::new());
        let out = batcher.run(7, |inputs: &[i32]| {
            sizes.lock().expect("sizes").push(inputs.len());
            Some(inputs.iter().map(|x| x * 2).collect())
        });
        assert_eq!(out, Some(14));
        assert_eq!(*sizes.lock().expect("sizes"), vec![1]);
    }

    #[test]
    fn concurrent_inputs_share_batches_and_each_gets_its_own_output() {
        let batcher = Arc::new(QueryBatcher::new());
        let batches = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..40)
            .map(|i| {
                let batcher = Arc::clone(&batcher);
                let batches = Arc::clone(&batches);
                std::thread::spawn(move || {
                    batcher.run(i, |inputs: &[i32]| {
                        batches.fetch_add(1, Ordering::SeqCst);
                        // Slow enough that the other threads queue behind this batch.
                        std::thread::sleep(Duration::from_millis(20));
                        Some(inputs.iter().map(|x| x * 10).collect())
                    })
                })
            })
            .collect();
        let outputs: Vec<Option<i32>> = threads
            .into_iter()
            .map(|t| t.join().expect("thread"))
            .collect();
        for (i, out) in outputs.into_iter().enumerate() {
            assert_eq!(out, Some(i as i32 * 10));
        }
        let batches = batches.load(Ordering::SeqCst);
        assert!(
            batches < 40,
            "40 inputs ran in {batches} batches: none was shared"
        );
    }

    #[test]
    fn a_failed_batch_tells_every_caller_in_it_and_the_next_batch_still_runs() {
        let batcher = QueryBatcher::new();
        assert_eq!(batcher.run(1, |_: &[i32]| None::<Vec<i32>>), None);
        // A batch that returns the wrong number of outputs counts as failed.
        assert_eq!(batcher.run(1, |_: &[i32]| Some(vec![1, 2])), None);
        assert_eq!(
            batcher.run(3, |inputs: &[i32]| Some(inputs.to_vec())),
            Some(3)
        );
    }

    #[test]
    fn a_panicking_batch_gives_up_the_lead() {
        let batcher = Arc::new(QueryBatcher::new());
        let panicking = Arc::clone(&batcher);
        let result = std::thread::spawn(move || {
            panicking.run(1, |_: &[i32]| -> Option<Vec<i32>> {
                panic!("kernel failed")
            })
        })
        .join();
        assert!(result.is_err());
        assert_eq!(
            batcher.run(5, |inputs: &[i32]| Some(inputs.to_vec())),
            Some(5)
        );
    }
}
