//! The internal ids a filtered graph search may return, as a bitset.

/// The internal ids a search may return, as a bitset.
pub(super) struct AllowedSet {
    bits: Vec<u64>,
}

impl AllowedSet {
    pub(super) fn new(len: usize) -> Self {
        AllowedSet {
            bits: vec![0; len.div_ceil(64)],
        }
    }
    pub(super) fn insert(&mut self, internal: usize) {
        if let Some(word) = self.bits.get_mut(internal / 64) {
            *word |= 1 << (internal % 64);
        }
    }
    pub(super) fn contains(&self, internal: usize) -> bool {
        self.bits
            .get(internal / 64)
            .is_some_and(|word| word & (1 << (internal % 64)) != 0)
    }
}
