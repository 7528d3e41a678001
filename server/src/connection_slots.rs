//! The connection cap: at most `max` connections are served at once, each
//! holding a [`SlotLease`] while it is open. When every slot is taken, a new
//! connection takes the slot of the connection that has done nothing for
//! longest, which is closed: one idle (no request being handled: waiting
//! for, or slowly receiving, its next request's headers) or one stalled (its
//! requests answered, but no frame of a response body taken by hyper for
//! [`STALLED_SEND_LIMIT`]: the client stopped reading). Idle and stalled
//! connections alike are ranked by their last activity (a request starting,
//! a response frame sent, a response ended), oldest first. When every
//! connection is handling a request or sending a response that moves, the
//! new one is closed at once. A request is handled until its response body
//! is sent (the accept loop hands the [`BusyGuard`] to the body), so a
//! download still sending is never the one closed, and a download its
//! client no longer reads cannot hold its slot for good. So connections that
//! never finish their headers, or never read their answer, cannot keep
//! anyone else out (and the header read timeout closes the former anyway).
//! Counts of refused and replaced connections are kept for `/metrics`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use tokio::sync::Notify;

/// How long a response body may go without hyper taking a frame of it
/// before its connection counts as stalled and may be closed to make room
/// (only when every slot is taken). hyper takes the next frame once the
/// previous one is mostly written out, so a download (64 KiB frames) whose
/// client reads less than about a frame a minute, or nothing, counts as
/// stalled; hyper has no write timeout, and the request timeout ends when
/// the handler answers, so without this such a client would hold its slot
/// for as long as it keeps the connection open.
pub const STALLED_SEND_LIMIT: Duration = Duration::from_secs(60);

/// `busy` of a slot that was taken over: no request may start on it.
const EVICTED: usize = usize::MAX / 2;

/// The open connections and the cap on them.
#[derive(Debug)]
pub struct ConnectionSlots {
    max: usize,
    open: Mutex<HashMap<u64, Arc<Slot>>>,
    next_id: AtomicU64,
    epoch: Instant,
    /// [`STALLED_SEND_LIMIT`] (or a test's), in microseconds.
    stall_micros: u64,
    refused: AtomicU64,
    evicted: AtomicU64,
}

/// One open connection's state, shared by the connection and the cap.
#[derive(Debug)]
struct Slot {
    /// Requests being handled, their responses still sending, on the
    /// connection ([`EVICTED`] once replaced).
    busy: AtomicUsize,
    /// Of `busy`, the requests answered whose response body is sending (the
    /// rest are still in their handler, which the request timeout bounds).
    sending: AtomicUsize,
    /// Microseconds after the epoch when a request last started, its
    /// response started or had a frame taken, or its response was sent in
    /// full (or the connection opened).
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

/// Marks a request as being handled on its connection until dropped; held
/// by the response body until it is sent (see `busy_body`).
#[derive(Debug)]
pub struct BusyGuard {
    slot: Arc<Slot>,
    epoch: Instant,
    /// Whether the request was answered and counts in `sending`.
    sending: bool,
}

impl ConnectionSlots {
    /// A cap of `max` connections (at least 1), under which a response body
    /// that moves no frame for [`STALLED_SEND_LIMIT`] no longer keeps its
    /// connection from being replaced.
    pub fn new(max: usize) -> Arc<Self> {
        Self::with_stall_limit(max, STALLED_SEND_LIMIT)
    }

    /// A cap of `max` connections (at least 1) with `stall_limit` instead of
    /// [`STALLED_SEND_LIMIT`] (tests use a short one).
    pub fn with_stall_limit(max: usize, stall_limit: Duration) -> Arc<Self> {
        Arc::new(ConnectionSlots {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(0),
            epoch: Instant::now(),
            stall_micros: u64::try_from(stall_limit.as_micros()).unwrap_or(u64::MAX),
            refused: AtomicU64::new(0),
            evicted: AtomicU64::new(0),
        })
    }

    /// A slot for a new connection: a free one, or the slot of the
    /// connection idle or stalled longest (which is told to close); `None`
    /// when every connection is handling a request or sending a response
    /// that moves.
    pub fn admit(self: &Arc<Self>) -> Option<SlotLease> {
        let mut open = self.lock();
        if open.len() >= self.max {
            let now = micros_since(self.epoch);
            let Some(victim) = take_idlest(&open, now, self.stall_micros) else {
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
            sending: AtomicUsize::new(0),
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

    /// Idle or stalled connections closed to make room for a new one.
    pub fn evicted(&self) -> u64 {
        self.evicted.load(Ordering::Relaxed)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<u64, Arc<Slot>>> {
        self.open.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The id of the connection to replace, the one whose last activity is
/// oldest among those idle and those stalled (see [`Slot::replaceable`]),
/// marked as taken over so that no request starts on it any more; `None`
/// when there is none. One pass over the slots; another only when a request
/// started or ended on the chosen one meanwhile.
fn take_idlest(open: &HashMap<u64, Arc<Slot>>, now: u64, stall_micros: u64) -> Option<u64> {
    loop {
        let (id, slot, busy, _) = open
            .iter()
            .filter_map(|(id, slot)| {
                let (busy, last_active) = slot.replaceable(now, stall_micros)?;
                Some((id, slot, busy, last_active))
            })
            .min_by_key(|(_, _, _, last_active)| *last_active)?;
        if slot
            .busy
            .compare_exchange(busy, busy + EVICTED, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return Some(*id);
        }
    }
}

impl Slot {
    /// The slot's request count and last activity, when it may be replaced:
    /// idle (no request), or stalled (every request answered, its response
    /// body sending, and nothing moved for `stall_micros` up to `now`). A
    /// request still in its handler is never stalled: the request timeout
    /// bounds it, and an upload may read its body for minutes. `sending` is
    /// read before `last_active`, which is stamped before `sending` grows,
    /// so a response that just started is seen with its fresh stamp.
    fn replaceable(&self, now: u64, stall_micros: u64) -> Option<(usize, u64)> {
        let busy = self.busy.load(Ordering::Acquire);
        let sending = self.sending.load(Ordering::Acquire);
        let last_active = self.last_active.load(Ordering::Acquire);
        let idle = busy == 0;
        let stalled =
            busy < EVICTED && sending == busy && now.saturating_sub(last_active) >= stall_micros;
        (idle || stalled).then_some((busy, last_active))
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

    /// For tests: whether this connection was told to close within 50 ms.
    #[cfg(test)]
    pub(crate) async fn told_to_close(&self) -> bool {
        tokio::time::timeout(Duration::from_millis(50), self.evicted())
            .await
            .is_ok()
    }
}

impl SlotHandle {
    /// Marks a request as being handled on this connection until the guard
    /// is dropped.
    pub fn busy(&self) -> BusyGuard {
        self.slot.busy.fetch_add(1, Ordering::AcqRel);
        self.slot
            .last_active
            .store(micros_since(self.epoch), Ordering::Release);
        BusyGuard {
            slot: Arc::clone(&self.slot),
            epoch: self.epoch,
            sending: false,
        }
    }
}

impl BusyGuard {
    /// Marks the request as answered, its response body now sending: from
    /// here on, a stall limit without [`progressed`](Self::progressed) (and
    /// no other request on the connection) makes its connection stalled,
    /// replaceable when every slot is taken. A second call does nothing.
    pub(crate) fn start_sending(&mut self) {
        if !self.sending {
            self.sending = true;
            self.stamp();
            self.slot.sending.fetch_add(1, Ordering::AcqRel);
        }
    }

    /// Records that the response body moved: hyper took a frame of it.
    pub(crate) fn progressed(&self) {
        self.stamp();
    }

    /// Sets the connection's last activity to now.
    fn stamp(&self) {
        self.slot
            .last_active
            .store(micros_since(self.epoch), Ordering::Release);
    }
}

impl Drop for SlotLease {
    fn drop(&mut self) {
        self.slots.lock().remove(&self.id);
    }
}

impl Drop for BusyGuard {
    fn drop(&mut self) {
        if self.sending {
            self.slot.sending.fetch_sub(1, Ordering::AcqRel);
        }
        self.stamp();
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

    #[test]
    fn a_handler_still_running_is_not_taken_for_a_stalled_download() {
        // An upload's handler may read its body for minutes: only the
        // request timeout ends it, never the stall limit.
        let slots = ConnectionSlots::with_stall_limit(1, Duration::from_millis(1));
        let uploading = slots.admit().expect("first");
        let _handling = uploading.handle().busy();
        std::thread::sleep(Duration::from_millis(10));
        assert!(slots.admit().is_none());
        assert_eq!((slots.refused(), slots.evicted()), (1, 0));
    }

    #[test]
    fn a_stalled_download_goes_before_a_connection_idle_since_later() {
        let slots = ConnectionSlots::with_stall_limit(2, Duration::from_millis(20));
        let stalled = slots.admit().expect("first");
        let mut answer = stalled.handle().busy();
        answer.start_sending();
        std::thread::sleep(Duration::from_millis(30));
        let idle = slots.admit().expect("second");
        // Oldest activity first, idle and stalled alike: the download that
        // has moved nothing for 30 ms goes, the connection idle for less
        // stays.
        let third = slots.admit().expect("third");
        assert!(!slots.lock().contains_key(&stalled.id));
        assert!(slots.lock().contains_key(&idle.id));
        drop(answer);
        // And an idle connection older than a stalled download goes first.
        std::thread::sleep(Duration::from_millis(2));
        let mut later_answer = third.handle().busy();
        later_answer.start_sending();
        std::thread::sleep(Duration::from_millis(30));
        let _fourth = slots.admit().expect("fourth");
        assert!(!slots.lock().contains_key(&idle.id));
        assert!(slots.lock().contains_key(&third.id));
        assert_eq!(slots.evicted(), 2);
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
