//! The id map of the vector index: external ids (a `UserId`, a [`DocNumber`]) to the
//! dense internal ids the HNSW graph works with, and back. The graph never removes a
//! point (its neighbours' links would be left pointing nowhere), so an update gives the
//! id a new internal slot and leaves the old one as a tombstone, which searches skip
//! until a compaction renumbers the live points.
//!
//! [`DocNumber`]: crate::DocNumber

mod keys;

use self::keys::Keys;
use crate::ExternalId;

/// One internal slot: whose vector it holds, which version, and whether it is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Slot<K> {
    /// The external id the slot belongs (or belonged) to.
    pub key: K,
    /// The caller's version of the document the vector was made from.
    pub version: u64,
    /// False once the slot was replaced or deleted (a tombstone).
    pub live: bool,
}

/// External ids to internal slots and back; internal ids are slot positions.
#[derive(Debug, Clone, Default)]
pub(crate) struct IdMap<K: ExternalId> {
    slots: Vec<Slot<K>>,
    by_key: Keys<K>,
}

impl<K: ExternalId> IdMap<K> {
    /// An empty map.
    pub fn new() -> Self {
        IdMap {
            slots: Vec::new(),
            by_key: Keys::default(),
        }
    }

    /// Rebuilds the map from saved slots (live ones are reachable by key again).
    pub fn from_slots(slots: Vec<Slot<K>>) -> Self {
        let mut by_key = Keys::default();
        for (internal, slot) in slots.iter().enumerate() {
            if slot.live {
                by_key.insert(slot.key, internal as u32);
            }
        }
        IdMap { slots, by_key }
    }

    /// Every slot, tombstones included, in internal-id order.
    pub fn slots(&self) -> &[Slot<K>] {
        &self.slots
    }

    /// The number of slots (the next internal id).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// The number of live ids.
    pub fn live(&self) -> usize {
        self.by_key.len()
    }

    /// The number of tombstones.
    pub fn tombstones(&self) -> usize {
        self.slots.len() - self.by_key.len()
    }

    /// The live internal id of `key`.
    pub fn internal(&self, key: K) -> Option<usize> {
        self.by_key.get(key).map(|i| i as usize)
    }

    /// The slot at `internal`, when it is live.
    pub fn live_slot(&self, internal: usize) -> Option<&Slot<K>> {
        self.slots.get(internal).filter(|slot| slot.live)
    }

    /// Whether `internal` is a live slot.
    pub fn is_live(&self, internal: usize) -> bool {
        self.slots.get(internal).is_some_and(|slot| slot.live)
    }

    /// Adds a slot that is not live yet (its vector is being inserted); returns its id.
    pub fn reserve(&mut self, key: K, version: u64) -> usize {
        self.slots.push(Slot {
            key,
            version,
            live: false,
        });
        self.slots.len() - 1
    }

    /// Makes a reserved slot the live one for its key, tombstoning the previous one.
    pub fn publish(&mut self, internal: usize) {
        let Some(slot) = self.slots.get_mut(internal) else {
            return;
        };
        slot.live = true;
        let key = slot.key;
        if let Some(previous) = self.by_key.insert(key, internal as u32)
            && previous as usize != internal
        {
            self.slots[previous as usize].live = false;
        }
    }

    /// Tombstones the live slot of `key`; returns whether there was one.
    pub fn remove(&mut self, key: K) -> bool {
        match self.by_key.remove(key) {
            Some(internal) => {
                self.slots[internal as usize].live = false;
                true
            }
            None => false,
        }
    }

    /// The version of `key`'s live vector.
    pub fn version(&self, key: K) -> Option<u64> {
        self.internal(key).map(|i| self.slots[i].version)
    }

    /// Live ids with their versions, in internal-id order.
    pub fn live_entries(&self) -> impl Iterator<Item = (usize, K, u64)> + '_ {
        self.slots
            .iter()
            .enumerate()
            .filter(|(_, slot)| slot.live)
            .map(|(i, slot)| (i, slot.key, slot.version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocNumber;

    #[test]
    fn an_update_tombstones_the_previous_slot() {
        let mut map = IdMap::new();
        let first = map.reserve(DocNumber(7), 1);
        map.publish(first);
        let second = map.reserve(DocNumber(7), 2);
        assert_eq!(map.internal(DocNumber(7)), Some(first));
        map.publish(second);
        assert_eq!(map.internal(DocNumber(7)), Some(second));
        assert!(!map.is_live(first));
        assert_eq!((map.live(), map.tombstones()), (1, 1));
        assert!(map.remove(DocNumber(7)));
        assert_eq!((map.live(), map.tombstones()), (0, 2));
        let rebuilt = IdMap::from_slots(map.slots().to_vec());
        assert_eq!(rebuilt.live(), 0);
    }
}
