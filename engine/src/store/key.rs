//! Building keys that sort: big-endian integers, instants as order-preserving
//! bytes, and composite keys made of several parts.

use droply_models::Timestamp;

/// Builds a composite key part by part; every part sorts the way its value does.
#[derive(Debug, Default, Clone)]
pub struct KeyBuilder(Vec<u8>);

impl KeyBuilder {
    /// An empty key.
    pub fn new() -> Self {
        KeyBuilder(Vec::with_capacity(24))
    }

    /// Appends an unsigned integer (ids, counters), big-endian.
    pub fn u64(mut self, value: u64) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a small unsigned integer, big-endian.
    pub fn u16(mut self, value: u16) -> Self {
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }

    /// Appends a signed integer so that negative values sort first.
    pub fn i64(mut self, value: i64) -> Self {
        self.0.extend_from_slice(&order_i64(value));
        self
    }

    /// Appends an instant, ordered by time.
    pub fn time(self, at: Timestamp) -> Self {
        self.i64(at.as_micros())
    }

    /// Appends raw bytes (only safe as the last variable-length part).
    pub fn bytes(mut self, value: &[u8]) -> Self {
        self.0.extend_from_slice(value);
        self
    }

    /// The finished key.
    pub fn build(self) -> Vec<u8> {
        self.0
    }
}

/// Encodes an i64 so that byte order equals numeric order.
pub fn order_i64(value: i64) -> [u8; 8] {
    ((value as u64) ^ (1 << 63)).to_be_bytes()
}

/// Reads the big-endian u64 at the end of a key (the row id of index keys).
pub fn trailing_u64(key: &[u8]) -> Option<u64> {
    let start = key.len().checked_sub(8)?;
    let bytes: [u8; 8] = key[start..].try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

/// Reads a big-endian u64 value.
pub fn read_u64(value: &[u8]) -> Option<u64> {
    let bytes: [u8; 8] = value.try_into().ok()?;
    Some(u64::from_be_bytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_integers_sort_by_value() {
        let values = [i64::MIN, -5, -1, 0, 1, 7, i64::MAX];
        let keys: Vec<_> = values.iter().map(|v| order_i64(*v)).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
    }

    #[test]
    fn composite_keys_sort_by_parts_in_order() {
        let a = KeyBuilder::new().u64(1).i64(100).u64(9).build();
        let b = KeyBuilder::new().u64(1).i64(200).u64(3).build();
        let c = KeyBuilder::new().u64(2).i64(-50).u64(1).build();
        assert!(a < b && b < c);
        assert_eq!(trailing_u64(&a), Some(9));
    }
}
