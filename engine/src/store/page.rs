//! Keyset pagination: a page of rows and an opaque cursor that continues after
//! the last row returned, stable under concurrent inserts.

use std::fmt;
use std::str::FromStr;

use crate::Error;

/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: usize = 1000;

/// Where a page continues: the last key read, shown as hex.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor(pub(crate) Vec<u8>);

impl fmt::Display for Cursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in &self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl FromStr for Cursor {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || Error::Invalid(format!("cursor {s:?} is not one this API returned"));
        // Hex digits only: `u8::from_str_radix` also takes a leading `+`,
        // which gave one cursor several spellings.
        if !s.len().is_multiple_of(2) || s.len() > 512 || !s.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(invalid());
        }
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(s.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| invalid())?;
        Ok(Cursor(bytes))
    }
}

/// Which way a list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Order {
    /// Oldest or smallest first.
    #[default]
    Asc,
    /// Newest or largest first.
    Desc,
}

/// What page to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// How many rows at most; capped at [`MAX_PAGE_SIZE`].
    pub limit: usize,
    /// Continue after this cursor.
    pub after: Option<Cursor>,
    /// Direction.
    pub order: Order,
}

impl Default for PageRequest {
    fn default() -> Self {
        PageRequest {
            limit: 50,
            after: None,
            order: Order::Asc,
        }
    }
}

impl PageRequest {
    /// The first `limit` rows in ascending order.
    pub fn first(limit: usize) -> Self {
        PageRequest {
            limit,
            ..PageRequest::default()
        }
    }

    /// The same request in descending order.
    pub fn desc(mut self) -> Self {
        self.order = Order::Desc;
        self
    }

    /// The same request continuing after `cursor`.
    pub fn after(mut self, cursor: Option<Cursor>) -> Self {
        self.after = cursor;
        self
    }

    /// The effective limit.
    pub fn capped_limit(&self) -> usize {
        self.limit.clamp(1, MAX_PAGE_SIZE)
    }
}

/// One page of rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    /// The rows, in the requested order.
    pub items: Vec<T>,
    /// Where the next page starts, when there may be one.
    pub next: Option<Cursor>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_through_text() {
        let cursor = Cursor(vec![0, 1, 0xab, 0xff]);
        assert_eq!(cursor.to_string(), "0001abff");
        assert_eq!("0001abff".parse::<Cursor>().expect("parses"), cursor);
    }

    #[test]
    fn malformed_cursors_are_invalid() {
        assert!("abc".parse::<Cursor>().is_err());
        assert!("zz".parse::<Cursor>().is_err());
        // Regression: `u8::from_str_radix` took "+f" as 0x0f.
        assert!("+f".parse::<Cursor>().is_err());
        assert!("00+f".parse::<Cursor>().is_err());
    }
}
