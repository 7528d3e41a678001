//! The one id sequence of a generated marketplace: users take `1..=N`,
//! every other row continues from there, so no two rows in a file share
//! an id.

/// Hands out increasing raw ids.
#[derive(Debug, Clone)]
pub(crate) struct IdCounter {
    next: u64,
}

impl IdCounter {
    /// A counter whose first id is `first` (at least 1).
    pub fn starting_at(first: u64) -> Self {
        Self { next: first.max(1) }
    }

    /// The next raw id.
    pub fn next(&mut self) -> u64 {
        let id = self.next;
        self.next += 1;
        id
    }
}
