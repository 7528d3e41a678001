//! [`Keys`]: the live external ids of an [`super::IdMap`], each with its internal id.
//!
//! A filtered search turns thousands of allowed ids into internal ids, one lookup each.
//! Store ids are dense (one counter numbers the rows), so ids below a small multiple of
//! the number of keys live in a table indexed by the raw id: a lookup is one read, with
//! no hashing. Ids beyond it (a sparse numbering) go in a hash map. Every id below the
//! table's length is in the table, never in the map.

use std::collections::HashMap;

use crate::ExternalId;

/// A table entry with no key.
const NONE: u32 = u32::MAX;
/// The table may cover raw ids up to this many times the number of keys...
const SPREAD: u64 = 16;
/// ...plus this many.
const SLACK: u64 = 1 << 16;

/// Live keys and their internal ids.
#[derive(Debug, Clone)]
pub(crate) struct Keys<K> {
    table: Vec<u32>,
    others: HashMap<K, u32>,
    len: usize,
}

impl<K: ExternalId> Default for Keys<K> {
    fn default() -> Self {
        Keys {
            table: Vec::new(),
            others: HashMap::new(),
            len: 0,
        }
    }
}

impl<K: ExternalId> Keys<K> {
    /// The number of keys.
    pub fn len(&self) -> usize {
        self.len
    }

    /// `key`'s internal id.
    #[inline]
    pub fn get(&self, key: K) -> Option<u32> {
        match self.entry(key.to_raw()) {
            Some(&internal) => (internal != NONE).then_some(internal),
            None => self.others.get(&key).copied(),
        }
    }

    /// Sets `key`'s internal id; returns the one it had.
    pub fn insert(&mut self, key: K, internal: u32) -> Option<u32> {
        let raw = key.to_raw();
        if raw >= self.table.len() as u64 && raw < self.limit() {
            self.grow(raw + 1);
        }
        let previous = match self.entry_mut(raw) {
            Some(entry) => Some(std::mem::replace(entry, internal)).filter(|&p| p != NONE),
            None => self.others.insert(key, internal),
        };
        if previous.is_none() {
            self.len += 1;
        }
        previous
    }

    /// Removes `key`; returns its internal id.
    pub fn remove(&mut self, key: K) -> Option<u32> {
        let previous = match self.entry_mut(key.to_raw()) {
            Some(entry) => Some(std::mem::replace(entry, NONE)).filter(|&p| p != NONE),
            None => self.others.remove(&key),
        };
        if previous.is_some() {
            self.len -= 1;
        }
        previous
    }

    #[inline]
    fn entry(&self, raw: u64) -> Option<&u32> {
        usize::try_from(raw)
            .ok()
            .and_then(|raw| self.table.get(raw))
    }

    fn entry_mut(&mut self, raw: u64) -> Option<&mut u32> {
        usize::try_from(raw)
            .ok()
            .and_then(|raw| self.table.get_mut(raw))
    }

    /// Raw ids below this may join the table.
    fn limit(&self) -> u64 {
        (self.len as u64 + 1) * SPREAD + SLACK
    }

    /// Lengthens the table to at least `wanted` entries (doubling, within the limit) and
    /// moves the keys it now covers out of the map.
    fn grow(&mut self, wanted: u64) {
        let length = wanted
            .max(self.table.len() as u64 * 2)
            .min(self.limit().max(wanted));
        let Ok(length) = usize::try_from(length) else {
            return;
        };
        self.table.resize(length, NONE);
        let covered: Vec<K> = self
            .others
            .keys()
            .filter(|key| key.to_raw() < length as u64)
            .copied()
            .collect();
        for key in covered {
            if let (Some(internal), Ok(raw)) =
                (self.others.remove(&key), usize::try_from(key.to_raw()))
            {
                self.table[raw] = internal;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DocNumber;

    #[test]
    fn keys_behave_as_a_hash_map_however_they_are_spread() {
        let mut keys = Keys::<DocNumber>::default();
        let mut reference: HashMap<DocNumber, u32> = HashMap::new();
        let mut state = 11u64;
        for step in 0..20_000u32 {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            let roll = state >> 33;
            // Mostly dense ids, some far beyond any table, some at the edge of u32.
            let raw = match roll % 10 {
                0 => roll % 100_000_000_000,
                1 => u64::from(u32::MAX) + roll % 7,
                _ => roll % 30_000,
            };
            let key = DocNumber(raw);
            if roll.is_multiple_of(4) {
                assert_eq!(keys.remove(key), reference.remove(&key), "step {step}");
            } else {
                assert_eq!(
                    keys.insert(key, step),
                    reference.insert(key, step),
                    "step {step}"
                );
            }
            assert_eq!(keys.len(), reference.len());
        }
        for (key, internal) in &reference {
            assert_eq!(keys.get(*key), Some(*internal));
        }
        assert_eq!(keys.get(DocNumber(u64::MAX)), None);
        assert!(
            keys.table.len() as u64 <= keys.limit(),
            "the table stays within its limit"
        );
    }

    #[test]
    fn a_key_kept_in_the_map_moves_into_the_table_when_it_grows() {
        let mut keys = Keys::<DocNumber>::default();
        let far = SLACK + SPREAD * 3;
        assert_eq!(keys.insert(DocNumber(far), 1), None);
        assert!(
            keys.others.contains_key(&DocNumber(far)),
            "beyond the limit at first"
        );
        for raw in 0..SPREAD * 4 {
            keys.insert(DocNumber(raw), 2);
        }
        keys.insert(DocNumber(far + 1), 3);
        assert!(keys.others.is_empty(), "both now within the table");
        assert_eq!(keys.get(DocNumber(far)), Some(1));
        assert_eq!(keys.get(DocNumber(far + 1)), Some(3));
        assert_eq!(keys.len(), SPREAD as usize * 4 + 2);
    }
}
