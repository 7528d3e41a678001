//! Whether a request may take a second core. A hybrid request's two passes (words and
//! vectors) run at once on two threads only while fewer requests are in flight than the
//! machine has cores: alone, a request takes the longer pass instead of their sum; under
//! load, the cores are already full and a second thread would only add a switch.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The requests in flight, against the cores there are.
#[derive(Debug)]
pub(crate) struct SpareCores {
    in_flight: AtomicUsize,
    cores: usize,
}

impl Default for SpareCores {
    fn default() -> Self {
        SpareCores::with_cores(std::thread::available_parallelism().map_or(1, NonZeroUsize::get))
    }
}

impl SpareCores {
    fn with_cores(cores: usize) -> Self {
        SpareCores {
            in_flight: AtomicUsize::new(0),
            cores,
        }
    }

    /// Counts a request in until the returned guard is dropped.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        InFlight {
            owner: self,
            spare_core: now < self.cores,
        }
    }
}

/// One request in flight.
pub(crate) struct InFlight<'a> {
    owner: &'a SpareCores,
    /// Whether a core was idle when it came in.
    pub(crate) spare_core: bool,
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.owner.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_gets_a_spare_core_only_while_fewer_are_in_flight_than_cores() {
        let cores = SpareCores::with_cores(2);
        let first = cores.enter();
        assert!(first.spare_core);
        let second = cores.enter();
        assert!(!second.spare_core, "two requests fill two cores");
        drop(first);
        drop(second);
        assert!(
            cores.enter().spare_core,
            "a request that left gives its core back"
        );
        assert!(!SpareCores::with_cores(1).enter().spare_core);
    }
}
