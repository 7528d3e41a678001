//! A bounded least-recently-used cache of query embeddings.
//!
//! Search traffic repeats itself, and a cached query costs a hash lookup instead of a
//! forward pass. Entries live in one `Vec` linked into a recency list by index, so a hit
//! or an insert moves no memory, and a full cache evicts its least recently used entry.

use std::collections::HashMap;
use std::sync::Arc;

const NIL: usize = usize::MAX;

/// A cache of at most `capacity` embeddings keyed by query text, evicting the least
/// recently used one when full.
#[derive(Debug)]
pub struct QueryCache {
    capacity: usize,
    index: HashMap<String, usize>,
    slots: Vec<Slot>,
    /// Most recently used slot.
    head: usize,
    /// Least recently used slot.
    tail: usize,
}

#[derive(Debug)]
struct Slot {
    key: String,
    value: Arc<[f32]>,
    prev: usize,
    next: usize,
}

impl QueryCache {
    /// An empty cache holding at most `capacity` entries (0 caches nothing).
    pub fn new(capacity: usize) -> Self {
        QueryCache {
            capacity,
            index: HashMap::with_capacity(capacity.min(1 << 16)),
            slots: Vec::new(),
            head: NIL,
            tail: NIL,
        }
    }

    /// The most entries the cache holds.
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many entries it holds now.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether it holds no entry.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The embedding cached for `key`, which becomes the most recently used entry.
    pub fn get(&mut self, key: &str) -> Option<Arc<[f32]>> {
        let slot = *self.index.get(key)?;
        self.move_to_front(slot);
        Some(Arc::clone(&self.slots[slot].value))
    }

    /// Caches `value` for `key` as the most recently used entry, evicting the least
    /// recently used entry if the cache is full.
    pub fn insert(&mut self, key: String, value: Arc<[f32]>) {
        if self.capacity == 0 {
            return;
        }
        if let Some(&slot) = self.index.get(&key) {
            self.slots[slot].value = value;
            self.move_to_front(slot);
            return;
        }
        let slot = if self.slots.len() < self.capacity {
            self.slots.push(Slot {
                key: key.clone(),
                value,
                prev: NIL,
                next: NIL,
            });
            self.slots.len() - 1
        } else {
            let lru = self.tail;
            self.unlink(lru);
            let old = std::mem::replace(
                &mut self.slots[lru],
                Slot {
                    key: key.clone(),
                    value,
                    prev: NIL,
                    next: NIL,
                },
            );
            self.index.remove(&old.key);
            lru
        };
        self.index.insert(key, slot);
        self.push_front(slot);
    }

    fn move_to_front(&mut self, slot: usize) {
        if self.head != slot {
            self.unlink(slot);
            self.push_front(slot);
        }
    }

    fn unlink(&mut self, slot: usize) {
        let (prev, next) = (self.slots[slot].prev, self.slots[slot].next);
        if prev == NIL {
            self.head = next;
        } else {
            self.slots[prev].next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            self.slots[next].prev = prev;
        }
        self.slots[slot].prev = NIL;
        self.slots[slot].next = NIL;
    }

    fn push_front(&mut self, slot: usize) {
        self.slots[slot].next = self.head;
        if self.head != NIL {
            self.slots[self.head].prev = slot;
        }
        self.head = slot;
        if self.tail == NIL {
            self.tail = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn value(x: f32) -> Arc<[f32]> {
        Arc::from(vec![x])
    }

    fn cached(cache: &mut QueryCache, key: &str) -> Option<f32> {
        cache.get(key).map(|v| v[0])
    }

    #[test]
    fn evicts_the_least_recently_used_entry() {
        let mut cache = QueryCache::new(2);
        cache.insert("a".into(), value(1.0));
        cache.insert("b".into(), value(2.0));
        assert_eq!(cached(&mut cache, "a"), Some(1.0)); // "b" is now the oldest
        cache.insert("c".into(), value(3.0));
        assert_eq!(cached(&mut cache, "b"), None);
        assert_eq!(cached(&mut cache, "a"), Some(1.0));
        assert_eq!(cached(&mut cache, "c"), Some(3.0));
        cache.insert("d".into(), value(4.0)); // "a" is the oldest now
        assert_eq!(cached(&mut cache, "a"), None);
        assert_eq!(cached(&mut cache, "c"), Some(3.0));
        assert_eq!(cached(&mut cache, "d"), Some(4.0));
    }

    #[test]
    fn never_holds_more_than_its_capacity() {
        let mut cache = QueryCache::new(3);
        for i in 0..100 {
            cache.insert(format!("q{i}"), value(i as f32));
            assert!(cache.len() <= 3);
        }
        assert_eq!(cache.len(), 3);
        let kept: Vec<Option<f32>> = (97..100)
            .map(|i| cached(&mut cache, &format!("q{i}")))
            .collect();
        assert_eq!(kept, vec![Some(97.0), Some(98.0), Some(99.0)]);
        assert_eq!(cached(&mut cache, "q96"), None);
    }

    #[test]
    fn reinserting_a_key_refreshes_it() {
        let mut cache = QueryCache::new(2);
        cache.insert("a".into(), value(1.0));
        cache.insert("b".into(), value(2.0));
        cache.insert("a".into(), value(5.0));
        cache.insert("c".into(), value(3.0));
        assert_eq!(cached(&mut cache, "a"), Some(5.0));
        assert_eq!(cached(&mut cache, "b"), None);
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn capacity_zero_caches_nothing() {
        let mut cache = QueryCache::new(0);
        cache.insert("a".into(), value(1.0));
        assert!(cache.is_empty());
        assert_eq!(cached(&mut cache, "a"), None);
    }

    #[test]
    fn capacity_one_keeps_the_last() {
        let mut cache = QueryCache::new(1);
        cache.insert("a".into(), value(1.0));
        cache.insert("b".into(), value(2.0));
        assert_eq!(cached(&mut cache, "a"), None);
        assert_eq!(cached(&mut cache, "b"), Some(2.0));
    }
}
