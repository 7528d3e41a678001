//! The connection cap: at most `max` connections are served at once, each
//! holding a [`SlotLease`] while it is open. When every slot is taken, a new
//! connection takes the slot of the connection idle longest, one with no
//! request being handled (waiting for, or slowly receiving, its next
//! request's headers), which is closed; when every connection is handling a
//! request, the new one is closed at once. So connections that never finish
//! their headers cannot keep anyone else out, and the header read timeout
//! closes them anyway. Counts of refused and replaced connections are kept
//! for `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use tokio::sync::Notify;

/// `busy` of a slot that was taken over: no request may start on it.
const EVICTED: usize = usize::MAX / 2;

/// The open connections and the cap on them.
#[derive(Debug)]
pub struct ConnectionSlots {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    epoch: Instant,
    refused: AtomicU64,
    evicted: AtomicU64,
}

/// One open connection's state, shared by the connection and the cap.
#[derive(Debug)]
struct Slot {
    /// Requests being handled on the connection ([`EVICTED`] once replaced).
    busy: AtomicUsize,
    /// Microseconds after the epoch when a request last started or ended
    /// (or the connection opened).
    last_active: AtomicU64,
    /// Told when another connection takes this slot.
    evicted: Notify,
}

/// A connection's hold on a slot; dropping it frees the slot.
#[derive(Debug)]
pub struct SlotLease {
    slots: Arc<ConnectionSlots>,
    id: u64,
    slot: Arc<Slot>,
}

/// What a connection's request handling needs of its slot: cheap to clone.
#[derive(Debug, Clone)]
pub struct SlotHandle {
    slot: Arc<Slot>,
    epoch: Instant,
}

/// Marks a request as being handled on its connection until dropped.
#[derive(Debug)]
pub struct BusyGuard {
    slot: Arc<Slot>,
    epoch: Instant,
}

impl ConnectionSlots {
    /// A cap of `max` connections (at least 1).
    pub fn new(max: usize) -> Arc<Self> {
        Arc::new(ConnectionSlots {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
            refused: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        })
    }

    /// A slot for a new connection: a free one, or the slot of the
    /// connection idle longest (which is told to close); `None` when every
    /// connection is handling a request.
    pub fn admit(self: &Arc<Self>) -> Option<SlotLease> {
        let mut open = self.lock();
        if open.len() >= self.max {
            let Some(victim) = take_idlest(&open) else {
                self.refused.fetch_add(1, Ordering::Relaxed);
                return None;
            };
            if let Some(slot) = open.remove(&victim) {
                slot.evicted.notify_one();
            }
            self.evicted.fetch_add(1, Ordering::Relaxed);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let slot = Arc::new(Slot {
            busy: AtomicUsize::new(0),
            last_active: AtomicU64::new(micros_since(self.epoch)),
            evicted: Notify::new(),
        });
        open.insert(id, Arc::clone(&slot));
        Some(SlotLease {
            slots: Arc::clone(self),
            id,
            slot,
        })
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.lock().len()
    }

    /// Connections closed at once because every slot was busy.
    pub fn refused(&self) -> u64 {
        self.refused.load(Ordering::Relaxed)
    }

    /// Idle connections closed to make room for a new one.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The id of the connection idle longest, marked as taken over so that no
/// request starts on it any more; `None` when all are handling requests.
/// One pass over the slots; another only when a request started on the
/// chosen one meanwhile.
fn take_idlest(open: &HashMap<u64, Arc<Slot>>) -> Option<u64> {
    loop {
        let (id, slot) = open
            .iter()
            .filter(|(_, slot)| slot.busy.load(Ordering::Acquire) == 0)
            .min_by_key(|(_, slot)| slot.last_active.load(Ordering::Relaxed))?;
        if slot
            .busy
            .compare_exchange(0, EVICTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Some(*id);
        }
    }
}

fn micros_since(epoch: Instant) -> u64 {
    u64::try_from(epoch.elapsed().as_micros()).unwrap_or(u64::MAX)
}

impl SlotLease {
    /// A handle for marking the connection's requests busy.
    pub fn handle(&self) -> SlotHandle {
        SlotHandle {
            slot: Arc::clone(&self.slot),
            epoch: self.slots.epoch,
        }
    }

    /// Completes when another connection took this one's slot: the
    /// connection should close now.
    pub async fn evicted(&self) {
        self.slot.evicted.notified().await;
    }
}

impl SlotHandle {
    /// Marks a request as being handled on this connection until the guard
    /// is dropped.
    pub fn busy(&self) -> BusyGuard {
        self.slot.busy.fetch_add(1, Ordering::AcqRel);
        self.slot
            .last_active
            .store(micros_since(self.epoch), Ordering::Relaxed);
        BusyGuard {
            slot: Arc::clone(&self.slot),
            epoch: self.epoch,
        }
    }
}

impl Drop for SlotLease {
    fn drop(&mut self) {
        self.slots.lock().remove(&self.id);
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        self.slot
            .last_active
            .store(micros_since(self.epoch), Ordering::Relaxed);
        self.slot.busy.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_cap_replaces_the_idlest_connection() {
        let slots = ConnectionSlots::new(2);
        let first = slots.admit().expect("first");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let second = slots.admit().expect("second");
        assert_eq!(slots.open(), 2);
        // Both idle: the third takes the slot of the first, idle longest.
        let third = slots.admit().expect("third");
        assert_eq!((slots.open(), slots.evicted()), (2, 1));
        assert!(!slots.lock().contains_key(&first.id));
        drop(first);
        assert_eq!(slots.open(), 2);
        // Both busy: the fourth is refused.
        let _busy = (second.handle().busy(), third.handle().busy());
        assert!(slots.admit().is_none());
        assert_eq!(slots.refused(), 1);
        drop(second);
        assert!(slots.admit().is_some());
    }

    #[tokio::test]
    async fn a_replaced_connection_is_told() {
        let slots = ConnectionSlots::new(1);
        let first = slots.admit().expect("first");
        let _second = slots.admit().expect("second");
        tokio::time::timeout(std::time::Duration::from_secs(1), first.evicted())
            .await
            .expect("told to close");
    }
}
