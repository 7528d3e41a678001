//! The fingerprint of an import's input so far: a SHA-256 chain over its
//! rows in order, `h(n) = sha256(h(n-1) || row n)` from 32 zero bytes, where
//! a row is its line as read (a file) or its JSON (rows in memory). Stored
//! with every committed batch, it tells a rerun whether its input begins
//! with exactly the rows the store already holds, wherever the batches
//! happened to end.

use sha2::{Digest, Sha256};

/// The chain over the rows seen so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RowsHash([u8; 32]);

impl RowsHash {
    /// The chain over no rows.
    pub(super) fn new() -> RowsHash {
        RowsHash([0; 32])
    }

    /// Takes in the next row.
    pub(super) fn add(&mut self, row: &[u8]) {
        let mut hasher = Sha256::new();
        hasher.update(self.0);
        hasher.update(row);
        self.0.copy_from_slice(&hasher.finalize());
    }

    /// The chain as 64 lower-case hex characters, as the marker keeps it.
    pub(super) fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::RowsHash;

    fn chain(rows: &[&str]) -> String {
        let mut hash = RowsHash::new();
        rows.iter().for_each(|row| hash.add(row.as_bytes()));
        hash.hex()
    }

    #[test]
    fn the_chain_follows_every_row_and_its_order() {
        assert_eq!(chain(&["a", "b"]), chain(&["a", "b"]));
        assert_ne!(chain(&["a", "b"]), chain(&["b", "a"]));
        assert_ne!(chain(&["ab"]), chain(&["a", "b"]));
        assert_ne!(chain(&["a"]), chain(&["a", ""]));
        assert_eq!(chain(&[]).len(), 64);
    }
}
